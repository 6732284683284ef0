/**
 * Group requests on the Kafka listener, written by kafkajs's own encoders,
 * against a real standalone broker process: an OffsetCommit naming a topic
 * the cluster does not know, or a partition past the topic's count, is
 * answered UNKNOWN_TOPIC_OR_PARTITION for that partition and the others are
 * committed (Apache Kafka 3.x's answer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsRequest, kafkajsResponse } from '../helpers/kafkajs-protocol.js';
import { RawClient } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

interface KafkajsOffsetCommitResponse {
  responses: { topic: string; partitions: { partition: number; errorCode: number }[] }[];
}

let broker: BrokerProcess;
let raw: RawClient;
let kafka: KafkaRawClient;

beforeAll(async () => {
  broker = await BrokerProcess.start();
  raw = await RawClient.connect(broker.port);
  kafka = await KafkaRawClient.connect(broker.kafkaPort);
  const r = await raw.call<Body>(ApiKey.CreateTopics, { topics: [{ name: 'known', numPartitions: 2 }] });
  expect(r.topics[0].errorCode).toBe(0);
});

afterAll(async () => {
  raw?.close();
  kafka?.close();
  await broker?.destroy();
});

describe('Kafka OffsetCommit', () => {
  it('answers UNKNOWN_TOPIC_OR_PARTITION for an unknown topic or partition and commits the others', async () => {
    const request = await kafkajsRequest('offsetCommit', 5, {
      groupId: 'commit-unknown',
      groupGenerationId: -1,
      memberId: '',
      topics: [
        { topic: 'missing', partitions: [{ partition: 0, offset: '3' }] },
        {
          topic: 'known',
          partitions: [
            { partition: 2, offset: '4' },
            { partition: 1, offset: '5' },
          ],
        },
      ],
    });
    const { decoded } = await kafkajsResponse<KafkajsOffsetCommitResponse>(
      'offsetCommit',
      5,
      await kafka.call(request),
    );
    expect(decoded.responses.map((r) => [r.topic, r.partitions.map((p) => [p.partition, p.errorCode])])).toEqual([
      ['missing', [[0, WireError.UNKNOWN_TOPIC_OR_PARTITION]]],
      [
        'known',
        [
          [2, WireError.UNKNOWN_TOPIC_OR_PARTITION],
          [1, 0],
        ],
      ],
    ]);
    const fetched = await raw.call<Body>(ApiKey.OffsetFetch, {
      groupId: 'commit-unknown',
      topics: null,
    });
    expect(fetched.topics).toEqual([
      { name: 'known', partitions: [{ partition: 1, errorCode: 0, offset: 5, metadata: '' }] },
    ]);
  });
});
