/**
 * CreatePartitions and DeleteRecords in a real three-broker cluster
 * (ZooKeeper, broker processes): new partitions are placed as Kafka places
 * them (replicated on the replication factor's brokers, leaders spread),
 * elected by the controller and fully replicated, and written to by a Kafka
 * client (kafkajs); DeleteRecords moves the leader's log start and every
 * follower's follows it exactly; a follower restarted afterwards keeps it.
 * The answer waits for every live replica (Kafka's DelayedDeleteRecords): a
 * frozen follower holds it until the request's timeout (REQUEST_TIMED_OUT).
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import type { DeleteRecordsResponse } from '../../src/protocol/native/partition-messages.js';
import { pollPatiently, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

let cluster: TestCluster;

beforeAll(async () => {
  // liveness by the ZooKeeper session alone: a follower frozen for less than its session stays live and
  // counts (with the controller's probes it would be fenced after 500 ms and not waited for — the
  // probes have their own tests, cluster-fast-failover)
  cluster = await TestCluster.start({
    brokers: 3,
    label: 'partitions',
    overrides: ['controller.broker.fencing.enable=false'],
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

function kafka(): Kafka {
  return new Kafka({
    clientId: 'sluice-cluster-partitions-it',
    brokers: cluster.kafkaBootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

it('new partitions are replicated on three brokers with leaders spread, and a Kafka client writes to them', async () => {
  const topic = 'grown';
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] });
    await cluster.waitForIsr(topic, 0, 3);
    await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
    const zk = await cluster.zk();
    const znode = JSON.parse((await zk.get(`/brokers/topics/${topic}`))?.data ?? '{}') as {
      partitions: Record<string, number[]>;
      topic_id: string;
    };
    expect(Object.keys(znode.partitions).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    for (const replicas of Object.values(znode.partitions)) expect([...replicas].sort()).toEqual([1, 2, 3]);
    // preferred leaders spread: each broker leads two of the six partitions
    const firsts = Object.values(znode.partitions).map((r) => r[0]);
    expect([1, 2, 3].map((id) => firsts.filter((f) => f === id).length)).toEqual([2, 2, 2]);
    for (let p = 0; p < 6; p++) {
      const d = await cluster.waitForIsr(topic, p, 3);
      expect(d.leader).toBe(znode.partitions[String(p)]?.[0]);
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(6);

    const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (let p = 1; p < 6; p++) {
        const [r] = await producer.send({ topic, acks: -1, messages: [{ value: `to-${p}`, partition: p }] });
        expect(r).toMatchObject({ partition: p, errorCode: 0, baseOffset: '0' });
      }
    } finally {
      await producer.disconnect();
    }
    for (let p = 1; p < 6; p++) {
      for (const id of cluster.ids) {
        const copy = await cluster.poll(`broker ${id}'s copy of ${topic}-${p}`, 15_000, async () => {
          const records = cluster.storedRecords(id, topic, p);
          return records.length > 0 ? records : undefined;
        });
        expect(copy.map((r) => r.value)).toEqual([`to-${p}`]);
      }
    }
  } finally {
    await admin.disconnect();
  }
}, 180_000);

// Once a known defect (issue 16): right after a failover onto the follower that had been restarted, the
// new leader answered log start 0 and high watermark 0. DeleteRecords answered before the followers had
// followed (the restarted one had not), and a restarted replica's high watermark began at its log start.
it("DeleteRecords moves the leader's log start and every follower follows it exactly, across a restart", async () => {
  const topic = 'trimmed';
  const sluice = cluster.client({ retries: 10 });
  const admin = sluice.admin();
  await admin.createTopic({ topic, partitions: 1, replicationFactor: 3 });
  await cluster.waitForIsr(topic, 0, 3);
  const producer = sluice.producer({ acks: -1 });
  for (let i = 0; i < 12; i++) await producer.send({ topic, messages: [{ value: `v${i}`, partition: 0 }] });
  await producer.close();

  // Kafka's DelayedDeleteRecords: the answer comes once every live replica's log start is 7
  const [done] = await admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: 7 }] });
  expect(done).toEqual({ partition: 0, lowWatermark: 7 });
  const described = await cluster.describe(topic);
  expect(described.partitions[0]).toMatchObject({ logStartOffset: 7, highWatermark: 12 });
  const leader = described.partitions[0]?.leader as number;
  // the follower the controller elects next (the first live in-sync replica in assignment order)
  const follower = described.partitions[0]?.replicas.find((id) => id !== leader) as number;
  // it restarts at once (no waiting for it to follow: the answer above already waited), then the leader
  // is killed: the restarted follower leads, and answers from its own log, which must start at 7 too
  // (without following, its log start stays at 0: its first segment holds offsets 0-11), with the high
  // watermark it recorded before the restart (12), not its log start
  await cluster.restart(follower);
  await cluster.waitForIsr(topic, 0, 3);
  await cluster.kill(leader);
  const next = await cluster.leaderOf(topic, 0, { exclude: [leader] });
  expect(next).toBe(follower);
  const d = await cluster.poll(`the new leader ${next} to answer ${topic}-0's offsets`, 30_000, async () => {
    const now = await cluster.describe(topic);
    return now.partitions[0]?.leader === next ? now : undefined;
  });
  expect(d.partitions[0]).toMatchObject({ logStartOffset: 7, highWatermark: 12 });
  const reader = cluster.client({ retries: 10 });
  const consumer = reader.consumer({ maxWaitMs: 200 });
  try {
    consumer.assign([{ topic, partition: 0, offset: 7 }]);
    const read: [number, string | undefined][] = [];
    while (read.length < 5) for (const r of await pollPatiently(consumer)) read.push([r.offset, r.value?.toString()]);
    expect(read).toEqual([7, 8, 9, 10, 11].map((o) => [o, `v${o}`]));
  } finally {
    await consumer.close();
  }
  await cluster.restart(leader);
}, 180_000);

it("DeleteRecords waits for every live replica's log start: a frozen follower holds the answer until the request's timeout (REQUEST_TIMED_OUT)", async () => {
  const topic = 'trim-waits';
  const sluice = cluster.client({ retries: 10 });
  const admin = sluice.admin();
  await admin.createTopic({ topic, partitions: 1, replicationFactor: 3 });
  await cluster.waitForIsr(topic, 0, 3);
  const producer = sluice.producer({ acks: -1 });
  for (let i = 0; i < 4; i++) await producer.send({ topic, messages: [{ value: `w${i}`, partition: 0 }] });
  await producer.close();
  const leader = await cluster.leaderOf(topic, 0);
  const frozen = cluster.ids.find((id) => id !== leader) as number;
  // SIGSTOP for less than the ZooKeeper session: the frozen broker stays registered (alive), so it counts
  cluster.pause(frozen);
  try {
    const raw = await RawClient.connect(cluster.broker(leader).port);
    try {
      const res = await raw.call<DeleteRecordsResponse>(
        ApiKey.DeleteRecords,
        { topics: [{ name: topic, partitions: [{ partition: 0, offset: 3 }] }], timeoutMs: 1000 },
        10_000,
      );
      // the low watermark so far: the frozen follower never learnt the new start, its log starts at 0
      expect(res.topics[0]?.partitions[0]).toMatchObject({
        partition: 0,
        errorCode: WireError.REQUEST_TIMED_OUT,
        lowWatermark: 0,
      });
    } finally {
      raw.close();
    }
  } finally {
    cluster.resume(frozen);
  }
  // fetching again, it follows (and reports it); the same request then completes with the low watermark
  const [done] = await admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: 3 }] });
  expect(done).toEqual({ partition: 0, lowWatermark: 3 });
}, 120_000);
