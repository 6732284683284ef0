/**
 * Partition reassignment (KIP-455) in a real three-broker cluster with
 * min.insync.replicas=2: a topic with replication factor 2 on brokers 1,2 is
 * moved to 2,3 while a native producer sends with acks=-1 without pause.
 * Every acknowledged record is read back afterwards, from the new leader and
 * from broker 3's own log on disk; broker 1 no longer leads, follows or
 * keeps the partition's directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sluice } from '../../src/index.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, overrides: ['min.insync.replicas=2'], label: 'reassign' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** Reassigns and waits until the controller reports nothing left and the metadata shows `replicas` with a full ISR. */
async function reassignAndWait(
  c: TestCluster,
  sluice: Sluice,
  topic: string,
  partition: number,
  replicas: number[],
): Promise<void> {
  await sluice.admin().reassignPartitions({ partitions: [{ topic, partition, replicas }] });
  await c.poll(`${topic}-${partition} reassigned to ${replicas.join(',')}`, 60_000, async () => {
    const ongoing = await sluice.admin().listPartitionReassignments();
    if (ongoing.some((r) => r.topic === topic && r.partition === partition)) return undefined;
    const p = (await c.describe(topic)).partitions.find((x) => x.partition === partition);
    return p &&
      p.replicas.join() === replicas.join() &&
      [...p.isr].sort().join() === [...replicas].sort().join() &&
      replicas.includes(p.leader)
      ? p
      : undefined;
  });
}

describe('partition reassignment', () => {
  it('moves a partition from brokers 1,2 to 2,3 under acks=-1 load without losing an acknowledged record', async () => {
    const topic = 'moving';
    const sluice = cluster.client({ retries: 20, retryBackoffMs: 100 });
    await sluice.admin().createTopic({ topic, partitions: 1, replicationFactor: 2 });
    // start from replicas [1,2] (the assignment is random): itself a reassignment, maybe an order change only
    await reassignAndWait(cluster, sluice, topic, 0, [1, 2]);
    // broker 1, the preferred replica, leads (preferred leader election every 2 s here)
    await cluster.poll('broker 1 to lead', 30_000, async () =>
      (await cluster.describe(topic)).partitions[0]?.leader === 1 ? true : undefined,
    );

    const producer = sluice.producer({ acks: -1, retries: 20, retryBackoffMs: 100, timeoutMs: 10_000 });
    const acked = new Map<number, string>();
    let failures = 0;
    let stop = false;
    let sent = 0;
    const load = (async () => {
      while (!stop) {
        const value = `v-${sent++}`;
        try {
          const [r] = await producer.send({ topic, messages: [{ value, partition: 0 }] });
          if (r) acked.set(r.offset, value);
        } catch {
          failures++; // not acknowledged: may or may not be in the log, never counted as acknowledged
        }
      }
    })();
    const until = (n: number) =>
      cluster.poll(`${n} acknowledged records`, 60_000, async () => (acked.size >= n ? true : undefined));
    try {
      await until(100);
      await sluice.admin().reassignPartitions({ partitions: [{ topic, partition: 0, replicas: [2, 3] }] });
      // while under way, the controller lists it with broker 3 being added and broker 1 being removed
      // (unless it was already done: broker 3 can catch up 100 records fast)
      const ongoing = await sluice.admin().listPartitionReassignments();
      for (const r of ongoing) {
        expect(r).toEqual({ topic, partition: 0, replicas: [2, 3, 1], addingReplicas: [3], removingReplicas: [1] });
      }
      await cluster.poll('the reassignment to finish', 60_000, async () => {
        if ((await sluice.admin().listPartitionReassignments()).length > 0) return undefined;
        const p = (await cluster.describe(topic)).partitions[0];
        return p && p.replicas.join() === '2,3' && [...p.isr].sort().join() === '2,3' ? p : undefined;
      });
      const moved = acked.size;
      await until(moved + 100);
    } finally {
      stop = true;
      await load;
    }
    await producer.close();

    const p = (await cluster.describe(topic)).partitions[0];
    expect(p).toMatchObject({ replicas: [2, 3] });
    expect(p?.leader === 2 || p?.leader === 3).toBe(true);
    expect([...(p?.isr ?? [])].sort()).toEqual([2, 3]);

    const read = await cluster.readPartition(topic, 0);
    const byOffset = new Map(read.map((r) => [r.offset, r.value?.toString()]));
    const lost = [...acked].filter(([offset, value]) => byOffset.get(offset) !== value);
    expect(lost, `acknowledged records missing or changed (of ${acked.size}, ${failures} sends failed)`).toEqual([]);

    // broker 3's own copy holds every acknowledged record once it has caught up to the high watermark
    const highWatermark = p?.highWatermark ?? 0;
    await cluster.poll('broker 3 to have the whole log', 30_000, async () =>
      cluster.storedRecords(3, topic, 0).length >= highWatermark ? true : undefined,
    );
    const onThree = new Map(cluster.storedRecords(3, topic, 0).map((r) => [r.offset, r.value]));
    expect([...acked].filter(([offset, value]) => onThree.get(offset) !== value)).toEqual([]);

    // broker 1 stopped its replica and deleted the partition's directory
    const oldDir = path.join(cluster.broker(1).dataDir, `${topic}-0`);
    await cluster.poll('broker 1 to delete its copy', 30_000, async () => (fs.existsSync(oldDir) ? undefined : true));
    expect(fs.existsSync(path.join(cluster.broker(2).dataDir, `${topic}-0`))).toBe(true);
  }, 240_000);
});
