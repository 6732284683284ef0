/**
 * The consumer's parts (subscription state, fetcher, runner, offset
 * committer) together against a scripted two-broker cluster on loopback
 * sockets (test/helpers/fake-consumer-cluster.ts): rebalance mid-batch,
 * commit on close, the auto-commit interval, seek during run(), pause and
 * resume, OFFSET_OUT_OF_RANGE with smallest / largest, a leader change.
 */
import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../../src/client/consumer.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { fakeClusterFixture } from '../../helpers/fake-consumer-cluster.js';

const { setup, defer } = fakeClusterFixture({
  clientId: 'consumer-unit',
  connectTimeoutMs: 2000,
  requestTimeoutMs: 2000,
  retries: 5,
});

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Polls until `n` records arrived (or fails after a bound). */
async function pollN(consumer: Consumer, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 200 && out.length < n; i++) {
    for (const r of await consumer.poll({ maxWaitMs: 20 })) out.push(`${r.partition}:${r.offset}`);
  }
  return out;
}

const range = (from: number, to: number, p = 0): string[] =>
  Array.from({ length: to - from }, (_, i) => `${p}:${from + i}`);

describe('consumer against a fake cluster', () => {
  it('OFFSET_OUT_OF_RANGE resets to the log start with smallest', async () => {
    const { fake, sluice } = await setup();
    fake.fill(0, 10, 3);
    fake.logStart[0] = 0;
    const consumer = sluice.consumer({ autoOffsetReset: 'smallest', maxWaitMs: 20 });
    consumer.assign([{ topic: 't', partition: 0, offset: 1000 }]);
    expect(await pollN(consumer, 10)).toEqual(range(0, 10));
    // the fetch at 1000 was answered OFFSET_OUT_OF_RANGE, then ListOffsets asked for the earliest (-2)
    expect(fake.fetchesOf()[0]?.topics[0].partitions[0].fetchOffset).toBe(1000);
    const list = fake.requests.filter((r) => r.apiKey === ApiKey.ListOffsets);
    expect(list.map((r) => r.body.topics[0].partitions[0].timestamp)).toEqual([-2]);
    await consumer.close();
  });

  it('OFFSET_OUT_OF_RANGE resets to the log end with largest: only later records arrive', async () => {
    const { fake, sluice } = await setup();
    fake.fill(0, 10, 5);
    const consumer = sluice.consumer({ autoOffsetReset: 'largest', maxWaitMs: 20 });
    consumer.assign([{ topic: 't', partition: 0, offset: 1000 }]);
    expect(await consumer.poll({ maxWaitMs: 20 })).toEqual([]);
    await waitFor('reset to the end', () => consumer.position('t', 0) === 10);
    fake.fill(0, 3);
    expect(await pollN(consumer, 3)).toEqual(range(10, 13));
    const list = fake.requests.filter((r) => r.apiKey === ApiKey.ListOffsets);
    expect(list.map((r) => r.body.topics[0].partitions[0].timestamp)).toEqual([-1]);
    await consumer.close();
  });

  it('follows a leader change: NOT_LEADER_OR_FOLLOWER → metadata again → the new leader, nothing lost or doubled', async () => {
    const { fake, sluice } = await setup();
    fake.fill(0, 5);
    const consumer = sluice.consumer({ maxWaitMs: 20 });
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const got: string[] = [];
    const running = consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push(`${partition}:${message.offset}`);
      },
    });
    await waitFor('five records', () => got.length === 5);
    fake.moveLeader(0, 1);
    fake.fill(0, 5);
    await waitFor('ten records', () => got.length >= 10);
    await consumer.close();
    await running;
    expect(got).toEqual(range(0, 10));
    // broker 0 answered NOT_LEADER_OR_FOLLOWER once at least, then the metadata named broker 1
    const notLeader = fake.fetchesOf(0).filter((f) => f.topics[0].partitions[0].fetchOffset === 5);
    expect(notLeader.length).toBeGreaterThan(0);
    expect(fake.fetchesOf(1).length).toBeGreaterThan(0);
    await consumer.close();
  });

  it('seek() from inside eachMessage: the rest of the fetched records are dropped, delivery restarts there', async () => {
    const { fake, sluice } = await setup();
    fake.fill(0, 10, 10);
    const consumer = sluice.consumer({ maxWaitMs: 20 });
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const seen: number[] = [];
    let sought = false;
    const running = consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.offset);
        if (message.offset === 5 && !sought) {
          sought = true;
          consumer.seek({ topic: 't', partition: 0, offset: 2 });
        }
      },
    });
    await waitFor('the end after the seek', () => seen.length >= 14);
    await consumer.close();
    await running;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('eachMessage gets the contract shape { offset, key, value, headers, timestamp }; eachBatch the records', async () => {
    const { fake, sluice } = await setup();
    fake.append(0, [{ key: 'k', value: 'v', headers: [{ key: 'h', value: Buffer.from('x') }] }, { value: 'w' }]);
    const consumer = sluice.consumer({ maxWaitMs: 20 });
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const messages: unknown[] = [];
    const running = consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        messages.push({ topic, partition, keys: Object.keys(message).sort(), message });
      },
    });
    await waitFor('two messages', () => messages.length === 2);
    await consumer.close();
    await running;
    expect(messages[0]).toMatchObject({
      topic: 't',
      partition: 0,
      keys: ['headers', 'key', 'offset', 'timestamp', 'value'],
      message: { offset: 0, key: Buffer.from('k'), value: Buffer.from('v'), headers: { h: Buffer.from('x') } },
    });
    expect(messages[1]).toMatchObject({ message: { offset: 1, key: null, value: Buffer.from('w'), headers: {} } });

    const batches: unknown[] = [];
    const again = sluice.consumer({ maxWaitMs: 20 });
    again.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const batchRun = again.run({
      eachBatch: async ({ batch }) => {
        batches.push({
          topic: batch.topic,
          partition: batch.partition,
          offsets: batch.messages.map((m) => m.offset),
          first: batch.firstOffset(),
          last: batch.lastOffset(),
          spread: Object.keys({ ...batch }).includes('messages') && { ...batch }.messages === batch.messages,
        });
      },
    });
    await waitFor('a batch', () => batches.length > 0);
    await again.close();
    await batchRun;
    expect(batches[0]).toEqual({
      topic: 't',
      partition: 0,
      offsets: [0, 1],
      first: 0,
      last: 1,
      spread: true,
    });
  });

  it('fetches no round ahead while 4 MiB of fetched records wait to be taken, however few records they are', async () => {
    const { fake, sluice } = await setup();
    // 20 records of 512 KiB: 10 MiB in the first answer (this fake answers the whole log), far fewer
    // records than the 50,000 the record bound allows
    const big = 'x'.repeat(512 * 1024);
    for (let i = 0; i < 20; i++) fake.append(0, [{ value: big }]);
    const consumer = sluice.consumer({ maxWaitMs: 20 });
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    defer(() => consumer.close());
    const first = await consumer.poll({ maxRecords: 1, maxWaitMs: 2000 });
    expect(first.map((r) => r.offset)).toEqual([0]);
    // more to fetch, and polls that each could start a round ahead: none does while ≥ 4 MiB wait
    fake.append(0, [{ value: 'later' }]);
    const taken: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (const r of await consumer.poll({ maxRecords: 1 })) taken.push(r.offset);
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(taken).toEqual([1, 2, 3, 4, 5]);
    // the first round, and at most the round fetched ahead from its answer (before it was buffered)
    const offsets = fake.fetchesOf().map((f) => f.topics[0].partitions[0].fetchOffset);
    expect(offsets.length).toBeLessThanOrEqual(2);
    expect(offsets[0]).toBe(0);
  });

  it('pause() stops fetching and delivering a partition; resume() delivers it from where it stopped', async () => {
    const { fake, sluice } = await setup(2);
    fake.fill(0, 4);
    fake.fill(1, 4);
    const consumer = sluice.consumer({ maxWaitMs: 20 });
    consumer.assign([
      { topic: 't', partition: 0, offset: 0 },
      { topic: 't', partition: 1, offset: 0 },
    ]);
    consumer.pause([{ topic: 't', partitions: [1] }]);
    expect(consumer.paused()).toEqual([{ topic: 't', partition: 1 }]);
    const seen: string[] = [];
    const running = consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push(`${partition}:${message.offset}`);
      },
    });
    await waitFor('partition 0', () => seen.length >= 4);
    const fetchesWhilePaused = fake.fetchesOf().length;
    await waitFor('more fetch rounds', () => fake.fetchesOf().length >= fetchesWhilePaused + 2);
    expect(seen).toEqual(range(0, 4, 0));
    // no fetch named the paused partition
    for (const f of fake.fetchesOf())
      expect(
        f.topics.flatMap((t: { partitions: { partition: number }[] }) => t.partitions.map((p) => p.partition)),
      ).toEqual([0]);
    consumer.resume([{ topic: 't', partitions: [1] }]);
    await waitFor('partition 1', () => seen.length >= 8);
    await consumer.close();
    await running;
    expect(seen).toEqual([...range(0, 4, 0), ...range(0, 4, 1)]);
  });

  it('commits what was processed on close(), before leaving the group', async () => {
    const { fake, sluice } = await setup();
    fake.fill(0, 6, 2);
    const consumer = sluice.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoCommitIntervalMs: 3_600_000 });
    await consumer.subscribe({ topics: ['t'] });
    let seen = 0;
    const running = consumer.run({
      eachMessage: async () => {
        seen++;
      },
    });
    await waitFor('six records', () => seen === 6);
    expect(fake.commits).toEqual([]);
    await consumer.close();
    await running;
    expect(fake.commits).toEqual([{ generation: 1, partition: 0, offset: 6 }]);
    const keys = fake.requests.map((r) => r.apiKey);
    expect(keys.lastIndexOf(ApiKey.OffsetCommit)).toBeLessThan(keys.lastIndexOf(ApiKey.LeaveGroup));
  });

  it('auto-commits processed offsets every autoCommitIntervalMs without commit() or close()', async () => {
    const { fake, sluice } = await setup();
    fake.fill(0, 3);
    const consumer = sluice.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoCommitIntervalMs: 20 });
    await consumer.subscribe({ topics: ['t'] });
    const running = consumer.run({ eachMessage: async () => undefined });
    await waitFor('auto commit of 3', () => fake.committed.get(0) === 3);
    fake.fill(0, 2);
    await waitFor('auto commit of 5', () => fake.committed.get(0) === 5);
    // nothing committed past what was processed, and each offset once (unchanged offsets are not recommitted)
    const offsets = fake.commits.map((c) => c.offset);
    expect(offsets.every((o) => o <= 5)).toBe(true);
    expect(new Set(offsets).size).toBe(offsets.length);
    await consumer.close();
    await running;
  });

  it('rebalance mid-batch: the revoked partition is committed only up to what was processed, never after', async () => {
    const { fake, sluice } = await setup(2);
    fake.fill(0, 4, 4);
    fake.fill(1, 4, 4);
    const consumer = sluice.consumer({
      groupId: 'g',
      autoOffsetReset: 'earliest',
      autoCommitIntervalMs: 10,
      // the revocation waits this long for a running handler, then gives the partitions up anyway
      rebalanceTimeoutMs: 100,
      heartbeatIntervalMs: 10,
    });
    await consumer.subscribe({ topics: ['t'] });
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((r) => {
      release = r;
    });
    defer(() => release());
    const seen: string[] = [];
    const running = consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push(`${partition}:${message.offset}`);
        if (partition === 1 && message.offset === 2) {
          // a rebalance starts while this handler runs; in the next generation partition 1 is another member's
          fake.otherMembers = ['zz-other'];
          fake.rebalanceNext = true;
          await blocked;
        }
      },
    });
    await waitFor(
      'generation 2 assigned',
      () => consumer.groupGeneration()?.generationId === 2 && consumer.assignment().length > 0,
    );
    expect(consumer.assignment()).toEqual([{ topic: 't', partition: 0 }]);
    // the handler of 1:2 resolves only now, after its partition was revoked
    release();
    fake.fill(0, 2);
    await waitFor('partition 0 goes on', () => seen.includes('0:5'));
    await consumer.close();
    await running;
    // partition 1: committed at the revocation up to the record before the blocked one, and never again
    const p1 = fake.commits.filter((c) => c.partition === 1);
    expect(p1.map((c) => c.offset)).toEqual([2]);
    expect(p1.every((c) => c.generation === 1)).toBe(true);
    expect(fake.committed.get(1)).toBe(2);
    // the records after the blocked one were never delivered
    expect(seen.filter((s) => s.startsWith('1:'))).toEqual(['1:0', '1:1', '1:2']);
    expect(fake.committed.get(0)).toBe(6);
  });

  it('read_committed: the group offsets are fetched with requireStable and UNSTABLE_OFFSET_COMMIT is waited out (KIP-447)', async () => {
    const { fake, sluice } = await setup();
    fake.fill(0, 8);
    // offset 3 is the group's; a committed transaction's offsets (5) are still pending at the coordinator
    fake.committed.set(0, 3);
    let unstable = 2;
    fake.intercept = (_node, apiKey, body) => {
      if (apiKey !== ApiKey.OffsetFetch || body.requireStable !== true) return undefined;
      if (unstable-- > 0) {
        return {
          errorCode: 0,
          topics: [{ name: 't', partitions: [{ partition: 0, offset: -1, metadata: '', errorCode: 88 }] }],
        };
      }
      fake.committed.set(0, 5); // the transaction's marker landed
      return undefined;
    };
    const consumer = sluice.consumer({ groupId: 'g', isolationLevel: 'read_committed', autoCommit: false });
    defer(() => consumer.close());
    await consumer.subscribe({ topics: ['t'] });
    // from 5: reading from 3 would hand out again the input of a committed transaction
    expect(await pollN(consumer, 3)).toEqual(range(5, 8));
    const fetches = fake.requests.filter((r) => r.apiKey === ApiKey.OffsetFetch);
    expect(fetches.map((r) => r.body.requireStable)).toEqual([true, true, true]);
  });
});
