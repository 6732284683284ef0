/**
 * Group requests on the Kafka listener, written by kafkajs's own encoders,
 * against a real standalone broker process: an OffsetCommit naming a topic
 * the cluster does not know, or a partition past the topic's count, is
 * answered UNKNOWN_TOPIC_OR_PARTITION for that partition and the others are
 * committed (Apache Kafka 3.x's answer); a JoinGroup v4+ without a member
 * id is answered MEMBER_ID_REQUIRED with an id (KIP-394), so a client that
 * gives up there leaves no member for the next rebalance to wait for.
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

interface KafkajsJoinGroupResponse {
  errorCode: number;
  generationId: number;
  memberId: string;
  members: { memberId: string }[];
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
      { name: 'known', partitions: [{ partition: 1, errorCode: 0, offset: 5, metadata: '', leaderEpoch: -1 }] },
    ]);
  });
});

describe('Kafka JoinGroup v4', () => {
  const join = (memberId: string) =>
    kafkajsRequest('joinGroup', 4, {
      groupId: 'abandoned-join',
      // long enough that waiting for a ghost member would show
      sessionTimeout: 30_000,
      rebalanceTimeout: 30_000,
      memberId,
      protocolType: 'consumer',
      groupProtocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
  const decode = async (body: Buffer) =>
    (await kafkajsResponse<KafkajsJoinGroupResponse>('joinGroup', 4, body)).decoded;

  it('answers MEMBER_ID_REQUIRED to a member without an id; an abandoned join holds no rebalance', async () => {
    const ghost = await KafkaRawClient.connect(broker.kafkaPort);
    const given = await decode(await ghost.call(await join('')));
    expect(given.errorCode).toBe(WireError.MEMBER_ID_REQUIRED);
    expect(given.memberId).not.toBe('');
    ghost.close();
    // a second member joins in two steps; the ghost's id is pending, not a member to wait for
    const started = Date.now();
    const first = await decode(await kafka.call(await join('')));
    expect(first.errorCode).toBe(WireError.MEMBER_ID_REQUIRED);
    const joined = await decode(await kafka.call(await join(first.memberId), 20_000));
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, memberId: first.memberId });
    expect(joined.members.map((m) => m.memberId)).toEqual([first.memberId]);
    // the new group's initial rebalance delay (3 s), not the ghost's 30 s rebalance timeout
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 40_000);
});
