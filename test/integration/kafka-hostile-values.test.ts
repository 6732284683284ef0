/**
 * Well-formed Kafka requests with hostile values, for every API and version
 * the Kafka listener speaks: negative and huge numbers where counts, sizes,
 * timeouts, partitions and offsets belong, empty and over-long names, nulls
 * where Kafka's schema allows them, unknown members and resource types.
 * Kafka's decoding takes them all, so they reach the adapters and the native
 * handlers: each must be answered (or, for acks 0, not) with a typed error or
 * a result, never an unexpected server error, and the broker must log no
 * "request failed" and keep its data.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import { KafkaReader, KafkaWriter } from '../../src/protocol/binary/primitives.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { kafkaKeyOf } from '../../src/protocol/kafka/api.js';
import { kafkaApis } from '../../src/protocol/kafka/registry.js';
import { BrokerProcess } from '../helpers/broker-process.js';

let broker: BrokerProcess;
let client: Sluice;

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['group.initial.rebalance.delay.ms=0'] });
  client = new Sluice({ brokers: [broker.address] });
  await client.admin().createTopic({ topic: 'hostile', partitions: 2 });
  const producer = client.producer({ acks: 1 });
  await producer.send({ topic: 'hostile', messages: [{ partition: 0, value: 'kept' }] });
  await producer.close();
}, 60_000);

afterAll(async () => {
  await client?.close();
  await broker?.destroy();
});

const int32Max = 0x7fffffff;
const unsafe = 2 ** 62;
const long = 'x'.repeat(300);

/** Per API key: partial request values (Kafka's field names); missing fields are written with their defaults. */
const hostile: Record<number, Record<string, unknown>[]> = {
  // Produce
  0: [
    { acks: 5, topics: [{ name: 'hostile', partitions: [{ index: 0, records: Buffer.from('x') }] }] },
    { acks: 1, topics: [{ name: 'hostile', partitions: [{ index: -1, records: Buffer.from('x') }] }] },
    { acks: 1, topics: [{ name: 'hostile', partitions: [{ index: int32Max, records: null }] }] },
    { acks: 1, topics: [{ name: '', partitions: [{ index: 0, records: Buffer.alloc(100) }] }] },
    { acks: -1, timeoutMs: -1, topics: [{ name: long, partitions: [{ index: 0, records: Buffer.alloc(61) }] }] },
  ],
  // Fetch
  1: [
    { maxWaitMs: -1, minBytes: -1, maxBytes: -1, topics: [{ topic: 'hostile', partitions: [{ partition: -1 }] }] },
    {
      maxWaitMs: 10,
      topics: [{ topic: 'hostile', partitions: [{ partition: 0, fetchOffset: -5, partitionMaxBytes: -1 }] }],
    },
    { maxWaitMs: 10, topics: [{ topic: 'hostile', partitions: [{ partition: 0, fetchOffset: unsafe }] }] },
    { maxWaitMs: int32Max, minBytes: 0, topics: [{ topic: '', partitions: [{ partition: int32Max }] }] },
    {
      replicaId: 5,
      maxWaitMs: 10,
      topics: [{ topic: 'hostile', partitions: [{ partition: 0, currentLeaderEpoch: 99 }] }],
    },
  ],
  // ListOffsets
  2: [
    { topics: [{ name: 'hostile', partitions: [{ partitionIndex: -1, timestamp: -3 }] }] },
    { topics: [{ name: 'hostile', partitions: [{ partitionIndex: 0, timestamp: unsafe }] }] },
    { topics: [{ name: '', partitions: [{ partitionIndex: 0, timestamp: -3 }] }] },
  ],
  // Metadata
  3: [
    { topics: [{ name: '' }] },
    { topics: [{ name: long }], allowAutoTopicCreation: true },
    { topics: [{ name: '..' }, { name: '__consumer_offsets' }], allowAutoTopicCreation: true },
    { topics: [] },
  ],
  // OffsetCommit
  8: [
    { groupId: '', topics: [{ name: 'hostile', partitions: [{ partitionIndex: 0, committedOffset: 1 }] }] },
    { groupId: 'g', topics: [{ name: 'hostile', partitions: [{ partitionIndex: -1, committedOffset: -5 }] }] },
    { groupId: 'g', topics: [{ name: 'hostile', partitions: [{ partitionIndex: 0, committedOffset: unsafe }] }] },
    {
      groupId: 'g',
      topics: [
        {
          name: 'hostile',
          partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: 'm'.repeat(5000) }],
        },
      ],
    },
    {
      groupId: 'g',
      generationId: 99,
      memberId: 'nobody',
      topics: [{ name: '', partitions: [{ partitionIndex: int32Max }] }],
    },
  ],
  // OffsetFetch
  9: [
    { groupId: '', topics: [{ name: 'hostile', partitionIndexes: [-1, int32Max] }] },
    { groupId: 'g', topics: null },
  ],
  // FindCoordinator
  10: [{ key: '' }, { key: 'g', keyType: 1 }, { key: long, keyType: -1 }],
  // JoinGroup
  11: [
    { groupId: 'hostile-join', sessionTimeoutMs: -1, rebalanceTimeoutMs: -1, protocolType: 'consumer', protocols: [] },
    { groupId: 'hostile-join', sessionTimeoutMs: int32Max, rebalanceTimeoutMs: int32Max, memberId: 'unknown' },
    { groupId: '', sessionTimeoutMs: 0, protocolType: '', protocols: [{ name: '', metadata: Buffer.alloc(0) }] },
  ],
  // Heartbeat
  12: [
    { groupId: '', generationId: -1 },
    { groupId: 'hostile-join', generationId: int32Max, memberId: long },
  ],
  // LeaveGroup
  13: [{ groupId: '' }, { groupId: 'hostile-join', memberId: 'nobody' }],
  // SyncGroup
  14: [
    { groupId: '', generationId: -5 },
    {
      groupId: 'hostile-join',
      generationId: 1,
      memberId: 'nobody',
      assignments: [{ memberId: 'a' }, { memberId: 'a' }],
    },
  ],
  // DescribeGroups
  15: [{ groups: ['', 'nonexistent', long] }],
  // ListGroups
  16: [{}],
  // CreateTopics
  19: [
    { topics: [{ name: 'hostile-a', numPartitions: -5, replicationFactor: -5 }] },
    { topics: [{ name: 'hostile-b', numPartitions: 0, replicationFactor: 0 }] },
    { topics: [{ name: 'hostile-c', numPartitions: int32Max, replicationFactor: 32767 }], validateOnly: true },
    { topics: [{ name: 'hostile-d', numPartitions: 1, replicationFactor: 32767 }] },
    {
      topics: [
        {
          name: 'hostile-e',
          numPartitions: 1,
          configs: [
            { name: 'retention.ms', value: 'abc' },
            { name: '__proto__', value: 'x' },
            { name: '', value: null },
          ],
        },
      ],
    },
    {
      topics: [
        { name: '' },
        { name: long },
        { name: 'hostile-f', assignments: [{ partitionIndex: -1, brokerIds: [-1] }] },
      ],
    },
  ],
  // DeleteTopics
  20: [{ topicNames: ['', 'nonexistent', long] }],
  // InitProducerId
  22: [{ transactionTimeoutMs: -1 }, { transactionalId: 'tx', transactionTimeoutMs: int32Max }],
  // DescribeCluster (endpoint type 2, controllers: refused; -1 and 127: no such type)
  60: [{ includeClusterAuthorizedOperations: true, endpointType: 2 }, { endpointType: -1 }, { endpointType: 127 }],
  // AlterConfigs: unknown types, names twice, hostile keys and values (nothing valid is left applied)
  33: [
    { resources: [{ resourceType: 99, resourceName: 'x', configs: [] }] },
    {
      resources: [{ resourceType: 2, resourceName: long, configs: [{ name: long, value: null }] }],
      validateOnly: true,
    },
    {
      resources: [
        {
          resourceType: 2,
          resourceName: 'hostile',
          configs: [
            { name: 'retention.ms', value: '-5' },
            { name: 'retention.ms', value: '1' },
          ],
        },
      ],
    },
    { resources: [{ resourceType: 4, resourceName: '', configs: [{ name: '', value: '' }] }] },
  ],
  // IncrementalAlterConfigs: unknown operations, null values, a list emptied
  44: [
    {
      resources: [
        {
          resourceType: 2,
          resourceName: 'hostile',
          configs: [{ name: 'cleanup.policy', configOperation: -1, value: null }],
        },
      ],
    },
    {
      resources: [
        {
          resourceType: 2,
          resourceName: 'hostile',
          configs: [{ name: 'retention.ms', configOperation: 127, value: long }],
        },
      ],
    },
    {
      resources: [
        {
          resourceType: 2,
          resourceName: 'hostile',
          configs: [{ name: 'cleanup.policy', configOperation: 3, value: 'delete,compact' }],
        },
      ],
    },
    {
      resources: [
        {
          resourceType: 2,
          resourceName: 'hostile',
          configs: [{ name: 'cleanup.policy', configOperation: 2, value: null }],
        },
      ],
    },
  ],
  // DescribeConfigs
  32: [
    { resources: [{ resourceType: 99, resourceName: 'x' }] },
    { resources: [{ resourceType: 4, resourceName: 'abc', configurationKeys: ['nope'] }] },
    {
      resources: [
        { resourceType: 2, resourceName: '' },
        { resourceType: -1, resourceName: long },
      ],
    },
  ],
};

/** A size-prefixed request with a v1 (or, flexible, v2) header. */
function frame(apiKey: number, version: number, correlationId: number, value: Record<string, unknown>): Buffer {
  const api = kafkaApis.get(apiKey);
  if (!api) throw new Error(`no Kafka API ${apiKey}`);
  const flexible = version >= api.flexibleFrom;
  const w = new KafkaWriter();
  w.int32(0).int16(apiKey).int16(version).int32(correlationId).nullableString('hostile');
  if (flexible) w.emptyTaggedFields();
  api.request.write(w, value, { version, flexible });
  w.patchInt32(0, w.length - 4);
  return w.toBuffer();
}

/** Sends one request on its own connection: the response frame, 'closed', or 'waiting' after `waitMs`. */
function exchange(bytes: Buffer, waitMs: number): Promise<Buffer | 'closed' | 'waiting'> {
  return new Promise((resolve) => {
    const socket = net.connect(broker.kafkaPort, '127.0.0.1', () => socket.write(bytes));
    let received = Buffer.alloc(0);
    const done = (outcome: Buffer | 'closed' | 'waiting') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('waiting'), waitMs);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) done(received.subarray(4));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => done('closed'));
  });
}

describe('Kafka listener with hostile values', () => {
  it('answers every API and version with typed errors, logs no unexpected failure, keeps the data', async () => {
    const outcomes: string[] = [];
    let correlationId = 1;
    for (const [key, values] of Object.entries(hostile)) {
      const api = kafkaApis.get(Number(key));
      if (!api) throw new Error(`no Kafka API ${key}`);
      for (let version = api.minVersion; version <= api.maxVersion; version++) {
        for (const value of values) {
          const id = correlationId++;
          const outcome = await exchange(frame(kafkaKeyOf(api), version, id, value), 1500);
          const what = `${api.name} v${version} ${JSON.stringify(value).slice(0, 80)}`;
          if (outcome === 'closed') outcomes.push(`${what}: closed`);
          else if (outcome !== 'waiting') {
            expect(outcome.readInt32BE(0), what).toBe(id);
            // an unexpected server error in the answer means a handler or adapter failed on a value
            const r = new KafkaReader(outcome.subarray(4));
            const flexible = version >= api.flexibleFrom;
            if (flexible && kafkaKeyOf(api) !== 18) r.skipTaggedFields();
            const codes = errorCodes(api.response.read(r, { version, flexible }));
            outcomes.push(
              `${what}: ${codes.includes(WireError.UNKNOWN_SERVER_ERROR) ? 'unknown server error' : 'answered'}`,
            );
          }
        }
      }
    }
    expect(outcomes.filter((o) => !o.endsWith(': answered'))).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(100);
    expect(broker.recentOutput).not.toMatch(/"msg":"request failed"/);
    expect(broker.recentOutput).not.toMatch(/TypeError|RangeError/);
    expect(broker.running).toBe(true);

    // the data is whole and a normal client works
    const consumer = client.consumer({ maxWaitMs: 200 });
    try {
      consumer.assign([{ topic: 'hostile', partition: 0, offset: 'earliest' }]);
      const records = await consumer.poll({ maxRecords: 10 });
      expect(records.map((r) => r.value?.toString())).toEqual(['kept']);
    } finally {
      await consumer.close();
    }
    const topics = await client.admin().listTopics();
    expect(topics.filter((t) => t.startsWith('hostile'))).toEqual(['hostile']);
  }, 300_000);
});

/** Every errorCode anywhere in a decoded response. */
function errorCodes(value: unknown): number[] {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap(errorCodes);
  return Object.entries(value).flatMap(([k, v]) => (k === 'errorCode' && typeof v === 'number' ? [v] : errorCodes(v)));
}
