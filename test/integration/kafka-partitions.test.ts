/**
 * CreatePartitions, DeleteRecords and topic ids on a real standalone broker
 * process, through independent Kafka clients (kafkajs 2.2.4, Debian's kcat /
 * librdkafka), Sluice's own client and the CLI:
 * - kafkajs admin.createPartitions grows a topic; a kafkajs producer writes
 *   to a new partition, kcat -L lists the new count; validate_only and a
 *   shrink (INVALID_PARTITIONS) change nothing;
 * - kafkajs admin.deleteTopicRecords moves the log start; a consumer from
 *   earliest starts there; a read below it is OFFSET_OUT_OF_RANGE; the log
 *   start survives a broker restart;
 * - the native client: admin.createPartitions / deleteRecords, its producer's
 *   partitioner and a group consumer pick the new partitions up, Metadata
 *   carries the topic id;
 * - `sluice topic alter --partitions` and `sluice topic delete-records`.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import type { MetadataResponse } from '../../src/protocol/native/messages.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { CliRunner } from '../helpers/cli-runner.js';
import { kafkajsClients } from '../helpers/kafkajs.js';
import { ensureKcat, Kcat } from '../helpers/kcat.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: BrokerProcess;
const cli = new CliRunner();
const kcat = new Kcat();
const clients = kafkajsClients({ clientId: 'sluice-partitions-it', brokers: () => broker.kafkaBrokers, retries: 5 });
const { kafka, admin: kafkajsAdmin } = clients;
const sluices: Sluice[] = [];

beforeAll(async () => {
  ensureKcat();
  broker = await BrokerProcess.start({
    overrides: ['default.replication.factor=1', 'group.initial.rebalance.delay.ms=0', 'num.partitions=1'],
  });
}, 60_000);

afterEach(async () => {
  await clients.disconnectAll();
  await Promise.allSettled(sluices.splice(0).map((s) => s.close()));
  cli.killAll();
  await kcat.stopAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await broker?.destroy();
}, 30_000);

function sluice(): Sluice {
  const s = new Sluice({ brokers: broker.address, clientId: 'partitions-it' });
  sluices.push(s);
  return s;
}

/** kcat -L's partition count of `topic` (librdkafka's metadata). */
async function kcatPartitionCount(topic: string): Promise<number> {
  const r = await kcat.run(['-b', broker.kafkaBrokers, '-L', '-t', topic, '-m', '5']);
  expect(r.code, r.stderr).toBe(0);
  const m = /topic "([^"]+)" with (\d+) partitions/.exec(r.stdout);
  expect(m?.[1]).toBe(topic);
  return Number(m?.[2]);
}

it('kafkajs createPartitions grows a topic: a producer writes to a new partition, kcat -L sees the count; shrinking and validate_only change nothing', async () => {
  const topic = 'grow-kafkajs';
  const admin = await kafkajsAdmin();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  expect(await kcatPartitionCount(topic)).toBe(2);

  await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }], validateOnly: true });
  expect((await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions).toHaveLength(2);
  await expect(admin.createPartitions({ topicPartitions: [{ topic, count: 1 }] })).rejects.toMatchObject({
    type: 'INVALID_PARTITIONS',
  });
  await expect(admin.createPartitions({ topicPartitions: [{ topic, count: 2 }] })).rejects.toMatchObject({
    type: 'INVALID_PARTITIONS',
  });
  await expect(
    admin.createPartitions({ topicPartitions: [{ topic: 'no-such-topic', count: 3 }] }),
  ).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  await expect(
    admin.createPartitions({ topicPartitions: [{ topic, count: 4, assignments: [[1], [1]] }] }),
  ).rejects.toMatchObject({ type: 'INVALID_REQUEST' });

  await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
  const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [];
  const leader = partitions[0]?.leader ?? -1;
  expect(leader).toBeGreaterThanOrEqual(0);
  expect(partitions.map((p) => [p.partitionId, p.leader]).sort()).toEqual([0, 1, 2, 3, 4].map((p) => [p, leader]));
  expect(await kcatPartitionCount(topic)).toBe(5);

  const producer = await clients.producer();
  const [sent] = await producer.send({ topic, acks: -1, messages: [{ value: 'in-new', partition: 4 }] });
  expect(sent).toMatchObject({ partition: 4, errorCode: 0, baseOffset: '0' });
  const r = await kcat.run(['-b', broker.kafkaBrokers, '-C', '-t', topic, '-p', '4', '-o', 'beginning', '-e', '-q']);
  expect(r.stdout.trim()).toBe('in-new');
}, 60_000);

it('kafkajs deleteTopicRecords moves the log start: a consumer from earliest starts there, reads below are out of range, and it survives a restart', async () => {
  const topic = 'trim-kafkajs';
  const admin = await kafkajsAdmin();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  const producer = await clients.producer();
  // one batch per record: the log start then falls between batches and inside one below
  for (let i = 0; i < 10; i++) await producer.send({ topic, acks: -1, messages: [{ value: `v${i}`, partition: 0 }] });

  // kafkajs looks the leader up in the metadata it already has: load the topic's first
  await admin.fetchTopicMetadata({ topics: [topic] });
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '6' }] });
  expect(await admin.fetchTopicOffsets(topic)).toEqual([
    expect.objectContaining({ partition: 0, low: '6', high: '10', offset: '10' }),
  ]);
  const fromEarliest = await kcat.run([
    '-b',
    broker.kafkaBrokers,
    '-C',
    '-t',
    topic,
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%o %s\\n',
  ]);
  expect(fromEarliest.stdout.trim().split('\n')).toEqual(['6 v6', '7 v7', '8 v8', '9 v9']);
  // below the log start: Fetch answers OFFSET_OUT_OF_RANGE (kcat reports it and exits with an error)
  const below = await kcat.run([
    '-b',
    broker.kafkaBrokers,
    '-C',
    '-t',
    topic,
    '-o',
    '2',
    '-e',
    '-q',
    '-X',
    'auto.offset.reset=error',
  ]);
  expect(`${below.stdout}${below.stderr}`).toMatch(/out of range|Offset out of range|OFFSET_OUT_OF_RANGE/i);

  // a kafkajs group consumer from earliest starts at the new log start
  const consumer = kafka().consumer({ groupId: 'trim-group', heartbeatInterval: 500, maxWaitTimeInMs: 200 });
  clients.track(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.push(`${message.offset} ${message.value?.toString()}`);
          if (seen.length === 4) resolve();
        },
      })
      .catch(reject);
  });
  expect(seen).toEqual(['6 v6', '7 v7', '8 v8', '9 v9']);
  await consumer.disconnect();

  // -1: up to the high watermark; a deletion above it is refused
  const refused = await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '11' }] }).then(
    () => undefined,
    (err: { cause?: { partitions?: { partition: number; error: { type: string } }[] } }) => err,
  );
  // kafkajs wraps the partition's error (KafkaJSDeleteTopicRecordsError) in a non-retriable one
  expect(refused?.cause?.partitions?.map((p) => [p.partition, p.error.type])).toEqual([[0, 'OFFSET_OUT_OF_RANGE']]);
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '-1' }] });
  expect((await admin.fetchTopicOffsets(topic))[0]).toMatchObject({ low: '10', high: '10' });
  await admin.disconnect();

  await broker.restart();
  const after = await sluice().admin().describeTopic(topic);
  expect(after.partitions[0]).toMatchObject({ logStartOffset: 10, highWatermark: 10 });
}, 90_000);

it("the native client: admin.createPartitions, the producer's partitioner and a group consumer pick the new partitions up; Metadata carries the topic id", async () => {
  const topic = 'grow-native';
  const s = sluice();
  const admin = s.admin();
  await admin.createTopic({ topic, partitions: 1 });
  const raw = await RawClient.connect(broker.port);
  type Meta = MetadataResponse;
  const before = await raw.call<Meta>(ApiKey.Metadata, { topics: [topic] });
  const topicId = before.topics[0]?.topicId;
  expect(topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);

  const received = new Set<number>();
  const consumer = s.consumer({ groupId: 'grow-group', autoOffsetReset: 'earliest' });
  await consumer.subscribe({ topics: [topic] });
  void consumer.run({
    eachMessage: async ({ partition }) => {
      received.add(partition);
    },
  });

  // the group is stable on the one partition before the topic grows (its first record was read)
  const first = s.producer({ acks: -1 });
  await first.send({ topic, messages: [{ value: 'before' }] });
  const joined = Date.now() + 30_000;
  while (!received.has(0) && Date.now() < joined) await new Promise((r) => setTimeout(r, 100));
  expect([...received]).toEqual([0]);

  await admin.createPartitions({ topic, count: 4 });
  await expect(admin.createPartitions({ topic, count: 3 })).rejects.toThrow(/INVALID_PARTITIONS|never decreases/);
  const after = await raw.call<Meta>(ApiKey.Metadata, { topics: [topic] });
  raw.close();
  expect(after.topics[0]?.partitions).toHaveLength(4);
  expect(after.topics[0]?.topicId).toBe(topicId);

  // the producer of the client that grew the topic sees the new count at once (others within their
  // metadata max age, 5 minutes as Kafka's metadata.max.age.ms); keys spread over all four partitions,
  // and the group's leader notices the new count and rebalances, so the consumer reads from each
  const producer = first;
  const sent = await producer.send({
    topic,
    messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
  });
  expect(new Set(sent.map((m) => m.partition))).toEqual(new Set([0, 1, 2, 3]));
  await producer.close();
  const deadline = Date.now() + 30_000;
  while (received.size < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect([...received].sort()).toEqual([0, 1, 2, 3]);
  await consumer.close();

  const [done] = await admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: -1 }] });
  const hw = (await admin.describeTopic(topic)).partitions[0]?.highWatermark;
  expect(done).toEqual({ partition: 0, lowWatermark: hw });
}, 90_000);

it('sluice topic alter --partitions and topic delete-records', async () => {
  const topic = 'grow-cli';
  await sluice().admin().createTopic({ topic, partitions: 1 });
  const altered = await cli.run(['topic', 'alter', topic, '--partitions', '3'], { brokers: broker.address });
  expect(altered.code, altered.stderr).toBe(0);
  expect(altered.stdout).toContain(`Topic ${topic} now has 3 partitions.`);
  const shrink = await cli.run(['topic', 'alter', topic, '--partitions', '2'], { brokers: broker.address });
  expect(shrink.code).toBe(1);
  expect(shrink.stderr.trim().split('\n')).toHaveLength(1);
  expect(shrink.stderr).toMatch(/INVALID_PARTITIONS|never decreases/);
  const nothing = await cli.run(['topic', 'alter', topic], { brokers: broker.address });
  expect(nothing.code).toBe(2);

  const input = Array.from({ length: 5 }, (_, i) => `r${i}`).join('\n');
  const produced = await cli.run(['produce', topic, '--partition', '2'], { brokers: broker.address, input });
  expect(produced.code, produced.stderr).toBe(0);
  const deleted = await cli.run(['topic', 'delete-records', topic, '--partition', '2', '--offset', '3'], {
    brokers: broker.address,
  });
  expect(deleted.code, deleted.stderr).toBe(0);
  expect(deleted.stdout).toContain(`partition: ${topic}-2\tlow_watermark: 3`);
  const described = await cli.run(['topic', 'describe', topic, '--json'], { brokers: broker.address });
  const json = JSON.parse(described.stdout) as { partitions: { partition: number; logStartOffset: number }[] };
  expect(json.partitions.map((p) => [p.partition, p.logStartOffset])).toEqual([
    [0, 0],
    [1, 0],
    [2, 3],
  ]);
}, 90_000);
