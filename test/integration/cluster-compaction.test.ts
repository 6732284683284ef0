/**
 * A follower replicating from a compacted leader: the follower was down while
 * its leader took writes and its cleaner compacted them, so what it fetches
 * back has offset gaps and rewritten batches. It catches up and rejoins the
 * ISR; every record it holds is the leader's record at that offset, its log
 * ends where the leader's does, every key's latest value is there; after a
 * restart (recovery over the gaps) it can lead and serve the latest values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    brokers: 2,
    overrides: ['min.insync.replicas=1', 'log.cleaner.backoff.ms=200'],
    label: 'compaction',
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('replication from a compacted leader', () => {
  it('the follower catches up across the gaps, matches the leader, and can lead', async () => {
    const topic = 'compacted-replicated';
    const sluice = cluster.client({ retries: 10, retryBackoffMs: 100 });
    await sluice.admin().createTopic({
      topic,
      partitions: 1,
      replicationFactor: 2,
      config: { 'cleanup.policy': 'compact', 'segment.bytes': 2048, 'min.cleanable.dirty.ratio': 0.1 },
    });
    await cluster.waitForIsr(topic, 0, 2);
    const leader = await cluster.leaderOf(topic, 0);
    const follower = cluster.ids.find((id) => id !== leader) as number;
    await cluster.kill(follower);

    const producer = sluice.producer({ acks: 1, lingerMs: 0 });
    const latest = new Map<string, string>();
    const writes = 600;
    for (let i = 0; i < writes; i += 10) {
      const messages = Array.from({ length: 10 }, (_, j) => {
        const key = `key-${(i + j) % 20}`;
        const value = `value-${i + j}-${'x'.repeat(40)}`;
        latest.set(key, value);
        return { key, value };
      });
      await producer.send({ topic, messages });
    }
    await cluster.poll('the leader to compact', 60_000, async () =>
      cluster.storedRecords(leader, topic, 0).length < writes / 3 ? true : undefined,
    );
    const leaderRecords = cluster.storedRecords(leader, topic, 0);
    expect(leaderRecords.at(-1)?.offset).toBe(writes - 1);

    await cluster.restart(follower);
    await cluster.waitForIsr(topic, 0, 2, 60_000);
    const followerRecords = await cluster.poll('the follower to reach the log end', 30_000, async () => {
      const r = cluster.storedRecords(follower, topic, 0);
      return r.at(-1)?.offset === writes - 1 ? r : undefined;
    });
    // the follower has gaps too, and each record it has is the leader's record at that offset
    expect(followerRecords.length).toBeLessThan(writes);
    const leaderNow = new Map(cluster.storedRecords(leader, topic, 0).map((r) => [r.offset, r]));
    const byOffset = new Map(leaderRecords.map((r) => [r.offset, r]));
    for (const r of followerRecords) expect(r).toEqual(byOffset.get(r.offset) ?? leaderNow.get(r.offset));
    const lastOf = (records: typeof followerRecords): Map<string, string> =>
      new Map(records.map((r) => [r.key as string, r.value as string]));
    expect(lastOf(followerRecords)).toEqual(latest);

    // after a restart (recovery over the gaps) the follower leads and serves every key's latest value
    await cluster.restart(follower);
    await cluster.waitForIsr(topic, 0, 2, 60_000);
    await cluster.kill(leader);
    expect(await cluster.leaderOf(topic, 0, { exclude: [leader], timeoutMs: 30_000 })).toBe(follower);
    const consumer = sluice.consumer({ maxWaitMs: 200 });
    consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const read = new Map<string, string>();
    let lastOffset = -1;
    const deadline = Date.now() + 30_000;
    while (lastOffset < writes - 1 && Date.now() < deadline) {
      for (const r of await consumer.poll({ maxRecords: 5000 })) {
        read.set(r.key?.toString() ?? '', r.value?.toString() ?? '');
        lastOffset = r.offset;
      }
    }
    await consumer.close();
    expect(read).toEqual(latest);
    await producer.close();
  }, 240_000);
});
