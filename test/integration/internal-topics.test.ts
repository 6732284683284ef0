/**
 * Internal topics (__consumer_offsets, __transaction_state, __queue.*) are
 * written, created and deleted only by the broker itself: Produce,
 * CreateTopics, DeleteTopics and auto-creation refuse them with
 * INVALID_TOPIC_EXCEPTION on both listeners and store nothing, while reading
 * them stays allowed (as in Kafka). A record produced into a queue's log
 * would otherwise be delivered as a queue message. Against a real standalone
 * broker process, through bare requests, kafkajs-encoded requests and the CLI.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { isInternalTopic } from '../../src/shared/internal-topics.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsRequest, kafkajsResponse } from '../helpers/kafkajs-protocol.js';
import { RawClient } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

const offsets = '__consumer_offsets';
const jobs = '__queue.jobs';

let broker: BrokerProcess;
let raw: RawClient;
let kafka: KafkaRawClient;
let sluice: Sluice;
const cli = new CliRunner();

beforeAll(async () => {
  broker = await BrokerProcess.start();
  raw = await RawClient.connect(broker.port);
  kafka = await KafkaRawClient.connect(broker.kafkaPort);
  sluice = new Sluice({ brokers: broker.address, clientId: 'internal-topics' });
  // the first FindCoordinator creates __consumer_offsets; the first send creates the queue's topic
  expect((await raw.call<Body>(ApiKey.FindCoordinator, { key: 'g' })).errorCode).toBe(0);
  await sluice.queue('jobs').send('real');
  const created = await raw.call<Body>(ApiKey.CreateTopics, { topics: [{ name: 'plain', numPartitions: 1 }] });
  expect(created.topics[0].errorCode).toBe(0);
});

afterEach(() => {
  cli.killAll();
});

afterAll(async () => {
  await sluice?.close().catch(() => undefined);
  raw?.close();
  kafka?.close();
  await broker?.destroy();
});

function batch(value: string): Buffer {
  return encodeRecordBatch([{ key: null, value: Buffer.from(value), timestamp: Date.now() }]);
}

/** The partition's log end offset (ListOffsets latest), read with a bare request. */
async function logEnd(topic: string, partition = 0): Promise<number> {
  const r = await raw.call<Body>(ApiKey.ListOffsets, {
    topics: [{ name: topic, partitions: [{ partition, timestamp: -1 }] }],
  });
  const p = r.topics[0].partitions[0];
  expect(p.errorCode).toBe(0);
  return p.offset;
}

async function metadataError(topic: string, allowAutoTopicCreation: boolean): Promise<number> {
  const r = await raw.call<Body>(ApiKey.Metadata, { topics: [topic], allowAutoTopicCreation });
  return r.topics[0].errorCode;
}

describe('the reserved names', () => {
  it('are the offsets and transaction logs and every queue topic, and nothing else', () => {
    for (const name of [offsets, '__transaction_state', jobs, '__queue.jobs.DLQ', '__queue.'])
      expect(isInternalTopic(name)).toBe(true);
    for (const name of ['plain', '__consumer_offsets2', '_queue.jobs', 'queue.jobs', '__other'])
      expect(isInternalTopic(name)).toBe(false);
  });
});

describe('native listener', () => {
  it('Produce to an internal topic is refused per partition and stores nothing; other partitions are appended', async () => {
    const before = { offsets: await logEnd(offsets), jobs: await logEnd(jobs) };
    const r = await raw.call<Body>(ApiKey.Produce, {
      acks: -1,
      timeoutMs: 5000,
      topics: [
        { name: offsets, partitions: [{ partition: 0, records: batch('x') }] },
        { name: jobs, partitions: [{ partition: 0, records: batch('garbage') }] },
        { name: 'plain', partitions: [{ partition: 0, records: batch('fine') }] },
      ],
    });
    expect(r.errorCode).toBe(0);
    expect(r.topics.map((t: Body) => [t.name, t.partitions[0].errorCode])).toEqual([
      [offsets, WireError.INVALID_TOPIC_EXCEPTION],
      [jobs, WireError.INVALID_TOPIC_EXCEPTION],
      ['plain', 0],
    ]);
    expect(r.topics[1].partitions[0].errorMessage).toMatch(/internal topic/);
    expect({ offsets: await logEnd(offsets), jobs: await logEnd(jobs) }).toEqual(before);
    expect(await logEnd('plain')).toBe(1);
  });

  it('Produce and auto-creation never create a missing internal topic', async () => {
    const r = await raw.call<Body>(ApiKey.Produce, {
      acks: 1,
      timeoutMs: 5000,
      topics: [{ name: '__queue.nope', partitions: [{ partition: 0, records: batch('x') }] }],
    });
    expect(r.topics[0].partitions[0].errorCode).toBe(WireError.INVALID_TOPIC_EXCEPTION);
    expect(await metadataError('__queue.nope', true)).toBe(WireError.INVALID_TOPIC_EXCEPTION);
    expect(await metadataError('__transaction_state', true)).toBe(WireError.INVALID_TOPIC_EXCEPTION);
    expect(await metadataError('__queue.nope', false)).toBe(WireError.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('CreateTopics of a reserved name and DeleteTopics of an internal topic are refused; the topics stay', async () => {
    const created = await raw.call<Body>(ApiKey.CreateTopics, {
      topics: [
        { name: offsets, numPartitions: 1 },
        { name: '__transaction_state', numPartitions: 1 },
        { name: '__queue.made-up', numPartitions: 1 },
        { name: 'plain-2', numPartitions: 1 },
      ],
    });
    expect(created.topics.map((t: Body) => [t.name, t.errorCode])).toEqual([
      [offsets, WireError.INVALID_TOPIC_EXCEPTION],
      ['__transaction_state', WireError.INVALID_TOPIC_EXCEPTION],
      ['__queue.made-up', WireError.INVALID_TOPIC_EXCEPTION],
      ['plain-2', 0],
    ]);
    expect(await metadataError('__queue.made-up', false)).toBe(WireError.UNKNOWN_TOPIC_OR_PARTITION);

    const deleted = await raw.call<Body>(ApiKey.DeleteTopics, { topics: [offsets, jobs, 'plain-2'] });
    expect(deleted.topics.map((t: Body) => [t.name, t.errorCode])).toEqual([
      [offsets, WireError.INVALID_TOPIC_EXCEPTION],
      [jobs, WireError.INVALID_TOPIC_EXCEPTION],
      ['plain-2', 0],
    ]);
    expect(await metadataError(offsets, false)).toBe(0);
    expect(await metadataError(jobs, false)).toBe(0);
  });

  it('reading an internal topic stays allowed', async () => {
    const r = await raw.call<Body>(ApiKey.Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [{ name: jobs, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    expect(r.topics[0].partitions[0].errorCode).toBe(0);
    expect(r.topics[0].partitions[0].records.length).toBeGreaterThan(0);
  });
});

describe('Kafka listener (requests written by kafkajs)', () => {
  it('Produce, CreateTopics and DeleteTopics of internal topics answer INVALID_TOPIC_EXCEPTION', async () => {
    const before = { offsets: await logEnd(offsets), jobs: await logEnd(jobs) };
    const produce = await kafkajsRequest('produce', 7, {
      acks: -1,
      timeout: 5000,
      topicData: [
        { topic: offsets, partitions: [{ partition: 0, messages: [{ key: null, value: 'x' }] }] },
        { topic: jobs, partitions: [{ partition: 0, messages: [{ key: null, value: 'garbage' }] }] },
      ],
    });
    const produced = await kafkajsResponse<{
      topics: { topicName: string; partitions: { errorCode: number }[] }[];
    }>('produce', 7, await kafka.call(produce));
    expect(produced.decoded.topics.map((t) => [t.topicName, t.partitions[0]?.errorCode])).toEqual([
      [offsets, WireError.INVALID_TOPIC_EXCEPTION],
      [jobs, WireError.INVALID_TOPIC_EXCEPTION],
    ]);
    expect({ offsets: await logEnd(offsets), jobs: await logEnd(jobs) }).toEqual(before);

    const create = await kafkajsRequest('createTopics', 3, {
      topics: [
        { topic: '__transaction_state', numPartitions: 1, replicationFactor: 1 },
        { topic: '__queue.k', numPartitions: 1, replicationFactor: 1 },
      ],
      timeout: 5000,
    });
    const created = await kafkajsResponse<{ topicErrors: { topic: string; errorCode: number }[] }>(
      'createTopics',
      3,
      await kafka.call(create),
    );
    expect(created.decoded.topicErrors.map((t) => [t.topic, t.errorCode])).toEqual([
      ['__queue.k', WireError.INVALID_TOPIC_EXCEPTION],
      ['__transaction_state', WireError.INVALID_TOPIC_EXCEPTION],
    ]);

    const del = await kafkajsRequest('deleteTopics', 1, { topics: [offsets], timeout: 5000 });
    const deleted = await kafkajsResponse<{ topicErrors: { topic: string; errorCode: number }[] }>(
      'deleteTopics',
      1,
      await kafka.call(del),
    );
    expect(deleted.decoded.topicErrors).toEqual([{ topic: offsets, errorCode: WireError.INVALID_TOPIC_EXCEPTION }]);
    expect(await metadataError(offsets, false)).toBe(0);
  });
});

describe('the CLI', () => {
  it('sluice produce to an internal topic exits 1 with one line; the queue delivers only what was sent to it', async () => {
    const run = (args: string[], input = '') => cli.run(args, { brokers: broker.address, input, timeoutMs: 30_000 });
    const [toOffsets, toQueue, deleted, created] = await Promise.all([
      run(['produce', offsets], 'x\n'),
      run(['produce', jobs], 'garbage\n'),
      run(['topic', 'delete', offsets]),
      run(['topic', 'create', '__queue.cli']),
    ]);
    expectOneLineError(toOffsets, /INVALID_TOPIC_EXCEPTION.*internal topic/);
    expectOneLineError(toQueue, /INVALID_TOPIC_EXCEPTION.*internal topic/);
    expectOneLineError(deleted, /internal topic/);
    expectOneLineError(created, /internal topic/);

    const receiver = sluice.queue('jobs').receiver({ prefetch: 1 });
    try {
      const first = await receiver.receive(10_000);
      expect(first?.value?.toString()).toBe('real');
      expect(await receiver.receive(500)).toBeNull();
    } finally {
      await receiver.close();
    }
  });
});
