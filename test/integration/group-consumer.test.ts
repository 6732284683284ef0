/**
 * Group consumers of the client library against a real broker (a child
 * process): members of one group share a topic's partitions without overlap
 * and together see every record once; another group sees everything; close()
 * hands a member's partitions to the others (after committing what it
 * processed); commit() and autoOffsetReset 'none' behave as documented.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConsumerRecord, ErrorCode, Sluice } from '../../src/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { collect, produceNumbered, waitFor } from '../helpers/group-consumers.js';

let broker: BrokerProcess;
const clients: Sluice[] = [];

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['http.port=0', 'group.initial.rebalance.delay.ms=0'] });
});

afterAll(async () => {
  await broker?.destroy();
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

function client(): Sluice {
  const c = new Sluice({ brokers: broker.address, clientId: 'group-it' });
  clients.push(c);
  return c;
}

const groupOptions = {
  autoOffsetReset: 'earliest' as const,
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 300,
  rebalanceTimeoutMs: 10_000,
  maxWaitMs: 100,
};

const idOf = (r: ConsumerRecord): string => `${r.partition}:${r.offset}`;

describe('group consumer', () => {
  it('splits partitions between members, another group sees everything, close() hands partitions over', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'orders', partitions: 4 });
    const c1 = sluice.consumer({ groupId: 'g', ...groupOptions });
    const c2 = client().consumer({ groupId: 'g', ...groupOptions });
    const got1: ConsumerRecord[] = [];
    const got2: ConsumerRecord[] = [];
    await c1.subscribe({ topics: ['orders'] });
    await c2.subscribe({ topics: ['orders'] });
    const run1 = collect(c1, got1);
    const run2 = collect(c2, got2);
    await waitFor(
      'both members assigned',
      () =>
        c1.assignment().length > 0 &&
        c2.assignment().length > 0 &&
        c1.assignment().length + c2.assignment().length === 4 &&
        c1.groupGeneration()?.generationId === c2.groupGeneration()?.generationId,
    );
    const a1 = c1.assignment().map((tp) => tp.partition);
    const a2 = c2.assignment().map((tp) => tp.partition);
    expect([...a1, ...a2].sort()).toEqual([0, 1, 2, 3]);
    expect(a1.length).toBe(2);
    expect([c1.groupGeneration()?.isLeader, c2.groupGeneration()?.isLeader].filter(Boolean).length).toBe(1);

    await produceNumbered(sluice, 'orders', 4, 200);
    await waitFor('every record', () => got1.length + got2.length >= 200);
    const ids = [...got1, ...got2].map(idOf);
    expect(new Set(ids).size).toBe(200);
    expect(ids.length).toBe(200);
    for (const r of got1) expect(a1).toContain(r.partition);
    for (const r of got2) expect(a2).toContain(r.partition);
    // in order per partition
    for (const list of [got1, got2]) {
      for (const p of [0, 1, 2, 3]) {
        const offsets = list.filter((r) => r.partition === p).map((r) => r.offset);
        expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
      }
    }

    // another group sees everything
    const other = client().consumer({ groupId: 'other', ...groupOptions });
    const gotOther: ConsumerRecord[] = [];
    await other.subscribe({ topics: ['orders'] });
    const runOther = collect(other, gotOther);
    await waitFor('the other group', () => gotOther.length >= 200);
    expect(new Set(gotOther.map(idOf)).size).toBe(200);
    await other.close();
    await runOther;

    // close() of c1: c2 takes all four, starting where c1's commits left off
    await c1.close();
    await run1;
    await waitFor('c2 owns every partition', () => c2.assignment().length === 4);
    await produceNumbered(sluice, 'orders', 4, 100, 200);
    await waitFor('the rest', () => got1.length + got2.length >= 300);
    await new Promise((r) => setTimeout(r, 500));
    const all = [...got1, ...got2].map(idOf);
    expect(new Set(all).size).toBe(300);
    expect(all.length).toBe(300);
    await c2.close();
    await run2;
  });

  it('commit() stores last processed + 1; a new member resumes there; autoCommit commits only processed records', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'c', partitions: 1 });
    await produceNumbered(sluice, 'c', 1, 20);
    const first = sluice.consumer({ groupId: 'gc', ...groupOptions, autoCommit: false });
    await first.subscribe({ topics: ['c'] });
    const seen: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const running = first.run({
      eachMessage: async ({ message }) => {
        if (seen.length >= 10) await gate; // the 11th record is still being handled at commit() time
        seen.push(message.offset);
      },
    });
    await waitFor('ten records', () => seen.length >= 10);
    await new Promise((r) => setTimeout(r, 200));
    await first.commit();
    const closing = first.close(); // autoCommit false: close() commits nothing more
    release();
    await closing;
    await running;
    const second = client().consumer({ groupId: 'gc', ...groupOptions });
    const got: number[] = [];
    await second.subscribe({ topics: ['c'] });
    const run2 = second.run({
      eachMessage: async ({ message }) => {
        got.push(message.offset);
      },
    });
    await waitFor('the rest', () => got.length >= 10);
    expect(got[0]).toBe(10);
    // autoCommit: close() commits what was processed
    await second.close();
    await run2;
    const third = client().consumer({ groupId: 'gc', ...groupOptions, autoOffsetReset: 'none' });
    await third.subscribe({ topics: ['c'] });
    await produceNumbered(sluice, 'c', 1, 1, 20);
    const got3: number[] = [];
    const run3 = third.run({ eachMessage: ({ message }) => void got3.push(message.offset) });
    await waitFor('the new record', () => got3.length >= 1);
    expect(got3).toEqual([20]);
    await third.close();
    await run3;
  });

  it("a new group with 'smallest' starts at the beginning, with 'largest' at the end", async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'reset-policy', partitions: 2 });
    await produceNumbered(sluice, 'reset-policy', 2, 20);
    const smallest = sluice.consumer({ groupId: 'new-smallest', ...groupOptions, autoOffsetReset: 'smallest' });
    const largest = client().consumer({ groupId: 'new-largest', ...groupOptions, autoOffsetReset: 'largest' });
    const gotSmallest: ConsumerRecord[] = [];
    const gotLargest: ConsumerRecord[] = [];
    await smallest.subscribe({ topics: ['reset-policy'] });
    await largest.subscribe({ topics: ['reset-policy'] });
    const runs = [collect(smallest, gotSmallest), collect(largest, gotLargest)];
    await waitFor(
      'both members assigned',
      () => smallest.assignment().length === 2 && largest.assignment().length === 2,
    );
    await waitFor('the old records for smallest', () => gotSmallest.length >= 20);
    // give 'largest' time to have read anything old, if it (wrongly) would
    await new Promise((r) => setTimeout(r, 500));
    expect(gotLargest).toEqual([]);
    await produceNumbered(sluice, 'reset-policy', 2, 10, 20);
    await waitFor('the new records for both', () => gotSmallest.length >= 30 && gotLargest.length >= 10);
    expect(gotLargest.map((r) => r.value?.toString()).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `v${20 + i}`).sort(),
    );
    await smallest.close();
    await largest.close();
    await Promise.all(runs);
  });

  it("autoOffsetReset 'none' without a committed offset fails run() with a clear error", async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'n', partitions: 1 });
    const c = sluice.consumer({ groupId: 'gn', ...groupOptions, autoOffsetReset: 'none' });
    await c.subscribe({ topics: ['n'] });
    const err = await c.run({ eachMessage: () => undefined }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.OffsetOutOfRange });
    expect(String((err as Error).message)).toMatch(/no committed offset in group 'gn'.*'none'/);
    await c.close();
  });

  it('subscribes by regular expression, delivers eachBatch, and pauses and resumes', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 're-a', partitions: 2 });
    await sluice.admin().createTopic({ topic: 're-b', partitions: 1 });
    await produceNumbered(sluice, 're-a', 2, 10);
    await produceNumbered(sluice, 're-b', 1, 5);
    const c = sluice.consumer({ groupId: 'gr', ...groupOptions, partitionsConsumedConcurrently: 3 });
    await c.subscribe({ topics: [/^re-/] });
    c.pause([{ topic: 're-b' }]);
    const got: ConsumerRecord[] = [];
    const running = c.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) got.push({ topic: batch.topic, partition: batch.partition, ...m });
      },
    });
    await waitFor('re-a', () => got.length >= 10);
    await new Promise((r) => setTimeout(r, 500));
    expect(got.filter((r) => r.topic === 're-b')).toEqual([]);
    expect(c.assignment().length).toBe(3);
    c.resume([{ topic: 're-b' }]);
    await waitFor('re-b', () => got.length >= 15);
    expect(got.filter((r) => r.topic === 're-b').map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    await c.close();
    await running;
  });
});
