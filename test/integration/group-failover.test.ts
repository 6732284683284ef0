/**
 * Group membership under failure, with real processes: a member killed with
 * SIGKILL loses its partitions to the survivor once its session times out,
 * and between what the dead member processed and what the survivor reads,
 * every record is seen (at-least-once: nothing committed is lost, nothing is
 * skipped). A member beyond the partition count waits idle without errors.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConsumerRecord, Sluice } from '../../src/index.js';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { killAndWait } from '../helpers/child-process.js';
import { collect, produceNumbered, waitFor } from '../helpers/group-consumers.js';

let broker: BrokerProcess;
const clients: Sluice[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['group.initial.rebalance.delay.ms=200'] });
});

afterAll(async () => {
  await broker?.destroy();
});

afterEach(async () => {
  for (const child of children.splice(0)) await killAndWait(child);
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

function client(): Sluice {
  const c = new Sluice({ brokers: broker.address, clientId: 'failover-it' });
  clients.push(c);
  return c;
}

const memberOptions = {
  autoOffsetReset: 'smallest' as const,
  sessionTimeoutMs: 3000,
  heartbeatIntervalMs: 300,
  autoCommitIntervalMs: 100,
  maxWaitMs: 100,
};

describe('group failover', () => {
  it('moves a killed member’s partitions to the survivor within the session timeout, losing nothing', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'jobs', partitions: 4 });
    await produceNumbered(sluice, 'jobs', 4, 200, 0);

    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(repoRoot, 'test/integration/fixtures/group-member.ts'),
        broker.address,
        'jobs',
        'workers',
        '3000',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    const childSeen = new Set<string>();
    let childAssigned: unknown[] = [];
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const msg = JSON.parse(line) as { partition?: number; offset?: number; assigned?: unknown[] };
        if (msg.assigned) childAssigned = msg.assigned;
        else childSeen.add(`${msg.partition}:${msg.offset}`);
      }
    });

    const survivor = sluice.consumer({ groupId: 'workers', ...memberOptions });
    await survivor.subscribe({ topics: ['jobs'] });
    const got: ConsumerRecord[] = [];
    const running = collect(survivor, got);
    await waitFor(
      'both members to hold partitions',
      () => childAssigned.length > 0 && survivor.assignment().length === 2,
    );
    await waitFor('the first 200 records to be processed', () => childSeen.size + got.length >= 200);

    await killAndWait(child);
    const killedAt = Date.now();
    await waitFor('the survivor to take all 4 partitions', () => survivor.assignment().length === 4, 20_000);
    // the session is 3 s; allow for the heartbeat that notices and the rejoin
    expect(Date.now() - killedAt).toBeLessThan(10_000);

    await produceNumbered(sluice, 'jobs', 4, 100, 200);
    const seen = () => new Set([...childSeen, ...got.map((r) => `${r.partition}:${r.offset}`)]);
    await waitFor('every record to be seen by someone', () => seen().size === 300, 20_000);
    expect(seen().size).toBe(300);
    await survivor.close();
    await running;
  });

  it('a third member on a 2-partition topic stays idle without errors while the others consume', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'pair', partitions: 2 });
    const consumers = [0, 1, 2].map(() => client().consumer({ groupId: 'trio', ...memberOptions }));
    const got: ConsumerRecord[][] = [[], [], []];
    for (const c of consumers) await c.subscribe({ topics: ['pair'] });
    const runs = consumers.map((c, i) => collect(c, got[i] as ConsumerRecord[]));
    await waitFor(
      'two members to hold one partition each',
      () => consumers.filter((c) => c.assignment().length === 1).length === 2,
    );
    expect(consumers.filter((c) => c.assignment().length === 0)).toHaveLength(1);
    await produceNumbered(sluice, 'pair', 2, 100, 0);
    await waitFor('all 100 records', () => got.flat().length >= 100);
    const ids = got.flat().map((r) => `${r.partition}:${r.offset}`);
    expect(new Set(ids).size).toBe(100);
    expect(ids).toHaveLength(100);
    const idle = consumers.findIndex((c) => c.assignment().length === 0);
    expect(got[idle]).toEqual([]);
    for (const c of consumers) await c.close();
    await Promise.all(runs);
  });
});
