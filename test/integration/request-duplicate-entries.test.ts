/**
 * A request must not name one thing twice, since its answers are keyed by name:
 *  - a Produce request that names one topic-partition twice is refused for
 *    that partition (INVALID_REQUEST on every entry of it, nothing of it
 *    appended), while its other partitions are appended as usual: two batches
 *    of one partition could not be told apart (Kafka's rule: one batch per
 *    partition per request);
 *  - CreateTopics / DeleteTopics naming a topic twice: INVALID_REQUEST for
 *    each entry of it, nothing created or deleted (as Kafka does).
 * On both listeners, against a real standalone broker process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { decodeRecords } from '../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsRequest, kafkajsResponse } from '../helpers/kafkajs-protocol.js';
import { RawClient } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

interface KafkajsProduceResponse {
  topics: { topicName: string; partitions: { partition: number; errorCode: number; baseOffset: string }[] }[];
}

let broker: BrokerProcess;
let raw: RawClient;
let kafka: KafkaRawClient;

beforeAll(async () => {
  broker = await BrokerProcess.start();
  raw = await RawClient.connect(broker.port);
  kafka = await KafkaRawClient.connect(broker.kafkaPort);
  for (const name of ['dup-native', 'dup-kafka']) {
    const r = await raw.call<Body>(ApiKey.CreateTopics, { topics: [{ name, numPartitions: 2 }] });
    expect(r.topics[0].errorCode).toBe(0);
  }
});

afterAll(async () => {
  raw?.close();
  kafka?.close();
  await broker?.destroy();
});

function batch(value: string): Buffer {
  return encodeRecordBatch([{ key: null, value: Buffer.from(value), timestamp: Date.now() }]);
}

/** The values stored in a partition, read with one bare fetch. */
async function storedValues(topic: string, partition: number): Promise<string[]> {
  const r = await raw.call<Body>(ApiKey.Fetch, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [{ name: topic, partitions: [{ partition, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
  });
  const p = r.topics[0].partitions[0];
  expect(p.errorCode).toBe(0);
  return decodeRecords(p.records ?? Buffer.alloc(0)).map((rec) => rec.value?.toString() ?? '');
}

describe('a Produce request naming one partition twice', () => {
  it('native listener: INVALID_REQUEST for each entry of that partition, the other partition appended', async () => {
    for (const acks of [1, -1]) {
      const r = await raw.call<Body>(ApiKey.Produce, {
        acks,
        timeoutMs: 5000,
        topics: [
          {
            name: 'dup-native',
            partitions: [
              { partition: 0, records: batch(`a${acks}`) },
              { partition: 1, records: batch(`ok${acks}`) },
              { partition: 0, records: batch(`b${acks}`) },
            ],
          },
          // the same partition again under a second entry of the topic
          { name: 'dup-native', partitions: [{ partition: 0, records: batch(`c${acks}`) }] },
        ],
      });
      expect(r.errorCode).toBe(0);
      const answers = r.topics.flatMap((t: Body) =>
        t.partitions.map((p: Body) => ({ partition: p.partition, errorCode: p.errorCode })),
      );
      expect(answers).toEqual([
        { partition: 0, errorCode: WireError.INVALID_REQUEST },
        { partition: 1, errorCode: 0 },
        { partition: 0, errorCode: WireError.INVALID_REQUEST },
        { partition: 0, errorCode: WireError.INVALID_REQUEST },
      ]);
      expect(r.topics[0].partitions[0].baseOffset).toBe(-1);
      expect(r.topics[0].partitions[0].errorMessage).toMatch(/names dup-native-0 3 times/);
    }
    expect(await storedValues('dup-native', 0)).toEqual([]);
    expect(await storedValues('dup-native', 1)).toEqual(['ok1', 'ok-1']);
  });

  it('Kafka listener (request written by kafkajs): the same refusal, the same appends', async () => {
    const messages = (v: string) => [{ key: null, value: v }];
    const request = await kafkajsRequest('produce', 7, {
      acks: 1,
      timeout: 5000,
      topicData: [
        {
          topic: 'dup-kafka',
          partitions: [
            { partition: 0, messages: messages('a') },
            { partition: 0, messages: messages('b') },
            { partition: 1, messages: messages('ok') },
          ],
        },
      ],
    });
    const { decoded } = await kafkajsResponse<KafkajsProduceResponse>('produce', 7, await kafka.call(request));
    expect(
      decoded.topics.flatMap((t) => t.partitions.map((p) => ({ partition: p.partition, errorCode: p.errorCode }))),
    ).toEqual([
      { partition: 0, errorCode: WireError.INVALID_REQUEST },
      { partition: 0, errorCode: WireError.INVALID_REQUEST },
      { partition: 1, errorCode: 0 },
    ]);
    expect(await storedValues('dup-kafka', 0)).toEqual([]);
    expect(await storedValues('dup-kafka', 1)).toEqual(['ok']);
  });

  it('a well-formed request (each partition once) is still appended in full afterwards', async () => {
    const r = await raw.call<Body>(ApiKey.Produce, {
      acks: 1,
      timeoutMs: 5000,
      topics: [{ name: 'dup-native', partitions: [{ partition: 0, records: batch('single') }] }],
    });
    expect(r.topics[0].partitions[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await storedValues('dup-native', 0)).toEqual(['single']);
  });
});

describe('CreateTopics and DeleteTopics naming a topic twice', () => {
  async function exists(topic: string): Promise<boolean> {
    const r = await raw.call<Body>(ApiKey.Metadata, { topics: [topic], allowAutoTopicCreation: false });
    return r.topics[0].errorCode === 0;
  }

  it('native listener: INVALID_REQUEST for each entry of it, nothing created or deleted; the others proceed', async () => {
    const created = await raw.call<Body>(ApiKey.CreateTopics, {
      topics: [
        { name: 'twice', numPartitions: 1 },
        { name: 'once', numPartitions: 1 },
        { name: 'twice', numPartitions: 2 },
      ],
    });
    expect(created.topics.map((t: Body) => [t.name, t.errorCode])).toEqual([
      ['twice', WireError.INVALID_REQUEST],
      ['once', 0],
      ['twice', WireError.INVALID_REQUEST],
    ]);
    expect(await exists('twice')).toBe(false);
    const deleted = await raw.call<Body>(ApiKey.DeleteTopics, { topics: ['once', 'dup-native', 'once'] });
    expect(deleted.topics.map((t: Body) => [t.name, t.errorCode])).toEqual([
      ['once', WireError.INVALID_REQUEST],
      ['dup-native', 0],
      ['once', WireError.INVALID_REQUEST],
    ]);
    expect(await exists('once')).toBe(true);
    expect(await exists('dup-native')).toBe(false);
  });

  it('Kafka listener (request written by kafkajs): the same refusal', async () => {
    const request = await kafkajsRequest('createTopics', 3, {
      topics: [
        { topic: 'twice-k', numPartitions: 1, replicationFactor: 1 },
        { topic: 'twice-k', numPartitions: 1, replicationFactor: 1 },
      ],
      timeout: 5000,
    });
    const { decoded } = await kafkajsResponse<{ topicErrors: { topic: string; errorCode: number }[] }>(
      'createTopics',
      3,
      await kafka.call(request),
    );
    expect(decoded.topicErrors.map((t) => t.errorCode)).toEqual([WireError.INVALID_REQUEST, WireError.INVALID_REQUEST]);
    expect(await exists('twice-k')).toBe(false);
  });
});
