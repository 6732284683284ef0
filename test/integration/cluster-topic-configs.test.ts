/**
 * Topic configs altered at runtime in a real three-broker cluster (a real
 * ZooKeeper): an IncrementalAlterConfigs sent to one broker's Kafka listener
 * (hand-laid bytes, v0) is stored in /config/topics/<t> with a
 * /config/changes notification, and every other broker applies it —
 * min.insync.replicas at the partition's leader (acks=-1 refused, then
 * accepted again), retention.bytes on the leader's and the followers' logs;
 * and unclean.leader.election.enable switched on for a topic whose only
 * in-sync replica is dead makes the controller elect the live out-of-ISR
 * replica at once.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/index.js';
import { TestCluster } from '../helpers/cluster.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { segmentFiles } from '../helpers/storage.js';

let cluster: TestCluster;
const raws: KafkaRawClient[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start({
    brokers: 3,
    overrides: ['log.retention.check.interval.ms=200', 'min.insync.replicas=1'],
    label: 'topic-configs',
  });
}, 90_000);

afterAll(async () => {
  for (const raw of raws) raw.socket.destroy();
  await cluster?.stop();
}, 60_000);

const str = (text: string): Buffer => {
  const b = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  return Buffer.concat([len, b]);
};

/** IncrementalAlterConfigs v0 of one topic (Kafka's IncrementalAlterConfigsRequest.json); SET, or DELETE for null. */
async function alterAt(brokerId: number, topic: string, changes: Record<string, string | null>): Promise<void> {
  const raw = await KafkaRawClient.connect(cluster.broker(brokerId).kafkaPort);
  raws.push(raw);
  const entries = Object.entries(changes);
  const count = Buffer.alloc(4);
  count.writeInt32BE(entries.length);
  const body = Buffer.concat([
    Buffer.from([0, 0, 0, 1, 2]),
    str(topic),
    count,
    ...entries.flatMap(([name, value]) =>
      value === null ? [str(name), Buffer.from([1, 0xff, 0xff])] : [str(name), Buffer.from([0]), str(value)],
    ),
    Buffer.from([0]),
  ]);
  const answer = await raw.call({ apiKey: 44, apiVersion: 0, body });
  const code = answer.readInt16BE(8);
  expect(code, answer.subarray(12).toString()).toBe(0);
  raw.socket.destroy();
}

describe('topic configs altered in a cluster', () => {
  it('min.insync.replicas set through one broker is enforced by the leader elsewhere; retention.bytes trims every replica', async () => {
    const topic = 'alter-everywhere';
    const sluice = cluster.client({ retries: 2, retryBackoffMs: 100 });
    await sluice
      .admin()
      .createTopic({ topic, partitions: 1, replicationFactor: 3, config: { 'segment.bytes': '1024' } });
    await cluster.waitForIsr(topic, 0, 3);
    const leader = await cluster.leaderOf(topic, 0);
    const [via, other] = cluster.ids.filter((id) => id !== leader) as [number, number];

    await alterAt(via, topic, { 'min.insync.replicas': '3' });
    // every broker's topic configs show it (DescribeConfigs at each)
    for (const id of cluster.ids) {
      const configs = await cluster
        .client({ brokers: cluster.broker(id).address })
        .admin()
        .describeTopicConfigs(topic);
      expect(configs.find((c) => c.name === 'min.insync.replicas')).toMatchObject({
        value: '3',
        source: 'DYNAMIC_TOPIC_CONFIG',
      });
    }
    const producer = sluice.producer({ acks: -1, retries: 1, retryBackoffMs: 100, timeoutMs: 10_000 });
    await producer.send({ topic, messages: [{ value: 'all three in sync' }] });
    await cluster.kill(other);
    await cluster.waitForIsr(topic, 0, 2, 30_000);
    await expect(producer.send({ topic, messages: [{ value: 'refused' }] })).rejects.toMatchObject({
      code: ErrorCode.NotEnoughReplicas,
    });
    await alterAt(via, topic, { 'min.insync.replicas': null });
    for (let i = 0; i < 20; i++) await producer.send({ topic, messages: [{ value: `r${i}-${'x'.repeat(300)}` }] });
    await producer.close();

    await alterAt(via, topic, { 'retention.bytes': '1024' });
    // the leader's and the live follower's own logs both drop their oldest segments
    for (const id of [leader, via]) {
      const dir = path.join(cluster.broker(id).dataDir, `${topic}-0`);
      await cluster.poll(`broker ${id} to apply retention.bytes`, 30_000, async () =>
        (segmentFiles(dir)[0] ?? 0) > 0 ? true : undefined,
      );
    }
    await cluster.restart(other);
  }, 180_000);

  it('unclean.leader.election.enable switched on makes the controller elect the live out-of-ISR replica', async () => {
    const topic = 'unclean-later';
    const sluice = cluster.client({ retries: 2, retryBackoffMs: 100 });
    await sluice.admin().createTopic({ topic, partitions: 1, replicationFactor: 2 });
    await cluster.waitForIsr(topic, 0, 2);
    const leader = await cluster.leaderOf(topic, 0);
    const description = await sluice.admin().describeTopic(topic);
    const follower = description.partitions[0]?.replicas.find((id) => id !== leader) as number;
    const bystander = cluster.ids.find((id) => id !== leader && id !== follower) as number;

    await cluster.kill(follower);
    await cluster.waitForIsr(topic, 0, 1, 30_000);
    await cluster.kill(leader);
    await cluster.restart(follower);
    // the only in-sync replica is dead: offline, the out-of-ISR follower does not lead (clean election)
    await cluster.poll('the partition to be offline with the follower back', 30_000, async () => {
      const p = (await cluster.client().admin().describeTopic(topic)).partitions[0];
      return p && p.leader < 0 ? true : undefined;
    });
    await alterAt(bystander, topic, { 'unclean.leader.election.enable': 'true' });
    expect(await cluster.leaderOf(topic, 0, { timeoutMs: 30_000 })).toBe(follower);
    await cluster.restart(leader);
  }, 180_000);
});
