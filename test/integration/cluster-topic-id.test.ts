/**
 * Topic ids against a real two-broker cluster (ZooKeeper, broker processes):
 * every partition directory records its topic's id (partition.metadata, as
 * Kafka's), and a broker that was down while its topic was deleted and
 * created again drops the old directory at start instead of serving the old
 * records as the new topic's.
 *
 * Without the id, that broker came back with the old log (20 records at
 * leader epoch 0), the new leader's log was at epoch 0 too, so the follower
 * truncated only to the new leader's end (5) and kept old records 0-4 below
 * it, then served them as the new topic's once it led again (this test
 * failed so before the fix).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 2, label: 'topic-id' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const topic = 'phoenix';

async function topicZnode(): Promise<{ topic_id?: string; partitions: Record<string, number[]> }> {
  const node = await (await cluster.zk()).get(`/brokers/topics/${topic}`);
  if (!node) throw new Error(`no znode for ${topic}`);
  return JSON.parse(node.data) as { topic_id?: string; partitions: Record<string, number[]> };
}

function partitionMetadata(id: number): string | undefined {
  const file = path.join(cluster.broker(id).dataDir, `${topic}-0`, 'partition.metadata');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

/** One batch per record: a follower truncates whole batches, so small ones keep what lies below the cut. */
async function produce(prefix: string, count: number, acks: -1 | 1): Promise<void> {
  const producer = cluster.client({ retries: 10 }).producer({ acks });
  for (let i = 0; i < count; i++) {
    await producer.send({ topic, messages: [{ key: prefix, value: `${prefix}-${i}`, partition: 0 }] });
  }
  await producer.close();
}

it('a broker away while its topic was deleted and created again serves the new topic, not its old records', async () => {
  const admin = cluster.client().admin();
  await admin.createTopic({ topic, partitions: 1, replicationFactor: 2 });
  await cluster.waitForIsr(topic, 0, 2);
  await produce('old', 20, -1);
  const firstId = (await topicZnode()).topic_id;
  expect(firstId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  for (const id of cluster.ids) {
    await cluster.poll(`broker ${id}'s partition.metadata`, 15_000, async () => partitionMetadata(id));
    expect(partitionMetadata(id)).toBe(`version: 0\ntopic_id: ${firstId}\n`);
    expect(cluster.storedRecords(id, topic, 0)).toHaveLength(20);
  }

  // the broker away: stopped by PID; the other deletes the topic and creates it again with the away
  // broker as its preferred leader (an assignment naming an offline broker, as Kafka's tools allow;
  // written as a topic from before topic ids, so the controller gives it its id)
  const away = 2;
  const staying = 1;
  await cluster.shutdown(away);
  await admin.deleteTopic(topic);
  const zk = await cluster.zk();
  await zk.create(`/config/topics/${topic}`, JSON.stringify({ version: 1, config: {} }), 'persistent');
  await zk.create(
    `/brokers/topics/${topic}`,
    JSON.stringify({ version: 2, partitions: { '0': [away, staying] } }),
    'persistent',
  );
  const secondId = await cluster.poll('the controller to give the new topic an id', 15_000, async () => {
    const id = (await topicZnode()).topic_id;
    return id && id !== firstId ? id : undefined;
  });
  expect(await cluster.leaderOf(topic, 0)).toBe(staying);
  await produce('new', 5, 1);

  await cluster.restart(away);
  await cluster.waitForIsr(topic, 0, 2);
  const copy = await cluster.poll(`broker ${away}'s copy of the new ${topic}-0`, 15_000, async () => {
    const records = cluster.storedRecords(away, topic, 0);
    return records.length >= 5 ? records : undefined;
  });
  expect(copy.map((r) => [r.offset, r.value])).toEqual([0, 1, 2, 3, 4].map((i) => [i, `new-${i}`]));
  expect(partitionMetadata(away)).toBe(`version: 0\ntopic_id: ${secondId}\n`);
  expect(cluster.output(away)).toContain('belongs to an earlier topic of this name');
  // the away broker is the preferred replica: it leads again and serves only the new records
  await cluster.poll(`broker ${away} to lead ${topic}-0 again`, 30_000, async () =>
    (await cluster.describe(topic)).partitions[0]?.leader === away ? true : undefined,
  );
  const read = await cluster.readPartition(topic, 0);
  expect(read.map((r) => r.value?.toString())).toEqual([0, 1, 2, 3, 4].map((i) => `new-${i}`));
}, 180_000);
