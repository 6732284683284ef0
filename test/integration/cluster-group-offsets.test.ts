/**
 * Committed consumer-group offsets in a real cluster survive the loss of the
 * group's coordinator: __consumer_offsets is replicated
 * (offsets.topic.replication.factor 3), so after kill -9 of the coordinator
 * (the broker FindCoordinator names: the leader of the group's
 * __consumer_offsets partition) another broker takes over and a new
 * consumer of the group resumes at the committed offsets, not at 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerRecord } from '../../src/index.js';
import { pollPatiently, TestCluster } from '../helpers/cluster.js';
import { produceNumbered } from '../helpers/group-consumers.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, overrides: ['min.insync.replicas=2'], label: 'group-offsets' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const groupOptions = {
  autoCommit: false,
  autoOffsetReset: 'earliest' as const,
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 300,
  rebalanceTimeoutMs: 10_000,
  maxWaitMs: 100,
};

describe('cluster group offsets', () => {
  it('a new consumer resumes from the committed offsets after kill -9 of the group coordinator', async () => {
    const topic = 'payments';
    const group = 'billing';
    const sluice = cluster.client({ retries: 20 });
    await sluice.admin().createTopic({ topic, partitions: 3, replicationFactor: 3 });
    for (let p = 0; p < 3; p++) await cluster.waitForIsr(topic, p, 3);
    await produceNumbered(sluice, topic, 3, 90); // 30 records per partition

    const first = sluice.consumer({ groupId: group, ...groupOptions });
    await first.subscribe({ topics: [topic] });
    const seen: ConsumerRecord[] = [];
    const deadline = Date.now() + 40_000;
    while (seen.length < 90) {
      if (Date.now() > deadline) throw new Error(`the first consumer read ${seen.length} of 90 records`);
      seen.push(...(await pollPatiently(first)));
    }
    await first.commit([0, 1, 2].map((partition) => ({ topic, partition, offset: 20 })));
    await first.close();

    const offsets = (await sluice.admin().describeGroup(group)).offsets;
    expect(offsets.map((o) => [o.partition, o.committed]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [0, 20],
      [1, 20],
      [2, 20],
    ]);
    const internal = await sluice.admin().describeTopic('__consumer_offsets');
    expect(internal.partitions.every((p) => p.replicas.length === 3)).toBe(true);

    const coordinator = await cluster.coordinatorOf(group);
    const killedAt = await cluster.kill(coordinator);
    const next = await cluster.coordinatorOf(group, { exclude: [coordinator] });
    console.log(`coordinator failover ms: ${Date.now() - killedAt} (coordinator ${coordinator} killed, now ${next})`);

    // the topic's own leaders too (the coordinator may have led one of its partitions)
    for (let p = 0; p < 3; p++) await cluster.leaderOf(topic, p, { exclude: [coordinator] });
    const second = cluster.client({ retries: 20 }).consumer({ groupId: group, ...groupOptions });
    await second.subscribe({ topics: [topic] });
    const resumed: ConsumerRecord[] = [];
    const until = Date.now() + 40_000;
    while (resumed.length < 30) {
      if (Date.now() > until) {
        const perPartition = [0, 1, 2].map((p) => resumed.filter((r) => r.partition === p).length);
        const leaders = (await cluster.describe(topic)).partitions.map((p) => p.leader);
        throw new Error(
          `the second consumer read ${resumed.length} of 30 records (per partition ${perPartition.join('/')}; ` +
            `leaders now ${leaders.join('/')}; broker ${coordinator} was killed)`,
        );
      }
      resumed.push(...(await pollPatiently(second)));
    }
    // a moment longer: nothing before the committed offsets may follow
    const extraUntil = Date.now() + 1000;
    while (Date.now() < extraUntil) resumed.push(...(await pollPatiently(second)));
    await second.close();

    for (let p = 0; p < 3; p++) {
      const offsetsOf = resumed.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsetsOf, `partition ${p}`).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    }
    expect(resumed.map((r) => r.value?.toString()).sort()).toEqual(
      seen
        .filter((r) => r.offset >= 20)
        .map((r) => r.value?.toString())
        .sort(),
    );
  }, 120_000);
});
