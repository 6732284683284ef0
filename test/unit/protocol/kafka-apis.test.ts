/**
 * The Kafka listener's API modules checked against recorded bytes: each
 * request, as kafkajs 2.2.4's own encoder writes it, is read by our schema
 * (every byte consumed); each response, built by our adapter from a native
 * answer and written by our schema, is read by kafkajs's own decoder (every
 * byte consumed). Versions kafkajs does not speak are checked against bytes
 * laid out by hand from Kafka's protocol guide.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import { zeroUuid } from '../../../src/protocol/binary/schema.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import type { KafkaApi, NativeResult } from '../../../src/protocol/kafka/api.js';
import { addOffsetsToTxnApi } from '../../../src/protocol/kafka/apis/add-offsets-to-txn.js';
import { addPartitionsToTxnApi } from '../../../src/protocol/kafka/apis/add-partitions-to-txn.js';
import { apiVersionsApi } from '../../../src/protocol/kafka/apis/api-versions.js';
import { createTopicsApi } from '../../../src/protocol/kafka/apis/create-topics.js';
import { deleteTopicsApi } from '../../../src/protocol/kafka/apis/delete-topics.js';
import { describeClusterApi } from '../../../src/protocol/kafka/apis/describe-cluster.js';
import { describeConfigsApi } from '../../../src/protocol/kafka/apis/describe-configs.js';
import { describeGroupsApi } from '../../../src/protocol/kafka/apis/describe-groups.js';
import { describeTransactionsApi } from '../../../src/protocol/kafka/apis/describe-transactions.js';
import { endTxnApi } from '../../../src/protocol/kafka/apis/end-txn.js';
import { fetchApi } from '../../../src/protocol/kafka/apis/fetch.js';
import { findCoordinatorApi } from '../../../src/protocol/kafka/apis/find-coordinator.js';
import { heartbeatApi } from '../../../src/protocol/kafka/apis/heartbeat.js';
import { initProducerIdApi } from '../../../src/protocol/kafka/apis/init-producer-id.js';
import { joinGroupApi } from '../../../src/protocol/kafka/apis/join-group.js';
import { leaveGroupApi } from '../../../src/protocol/kafka/apis/leave-group.js';
import { listGroupsApi } from '../../../src/protocol/kafka/apis/list-groups.js';
import { listOffsetsApi } from '../../../src/protocol/kafka/apis/list-offsets.js';
import { listTransactionsApi } from '../../../src/protocol/kafka/apis/list-transactions.js';
import { metadataApi } from '../../../src/protocol/kafka/apis/metadata.js';
import { offsetCommitApi } from '../../../src/protocol/kafka/apis/offset-commit.js';
import { offsetFetchApi } from '../../../src/protocol/kafka/apis/offset-fetch.js';
import { produceApi } from '../../../src/protocol/kafka/apis/produce.js';
import { syncGroupApi } from '../../../src/protocol/kafka/apis/sync-group.js';
import { kafkaApis, kafkaEnv } from '../../../src/protocol/kafka/registry.js';
import { kafkajsRequest, kafkajsResponse } from '../../helpers/kafkajs-protocol.js';
import { kafkajsEncodeBatch } from '../../helpers/kafkajs-wire.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** A classic string as hex: int16 length, UTF-8 bytes. */
const s = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  return b.length.toString(16).padStart(4, '0') + b.toString('hex');
};
const flexibleAt = <Req, Res>(api: KafkaApi<Req, Res>, version: number) => ({
  version,
  flexible: version >= api.flexibleFrom,
});

/** Reads a request body with our schema; every byte must be consumed. */
function readRequest<Req, Res>(api: KafkaApi<Req, Res>, version: number, body: Buffer): Req {
  const r = new KafkaReader(body);
  const req = api.request.read(r, flexibleAt(api, version));
  expect(r.remaining).toBe(0);
  return req;
}

/** A request body as kafkajs's encoder writes it, read by our schema. */
async function fromKafkajs<Req, Res>(api: KafkaApi<Req, Res>, name: string, version: number, args: object) {
  const { apiKey, apiVersion, body } = await kafkajsRequest(name, version, args);
  expect(apiKey).toBe(api.apiKey);
  expect(apiVersion).toBe(version);
  return readRequest(api, version, body);
}

/** Our response to `req` from the native answer: the adapter, then the schema. */
function writeResponse<Req, Res>(api: KafkaApi<Req, Res>, version: number, native: NativeResult, req: Req): Buffer {
  const w = new KafkaWriter();
  api.response.write(w, api.fromNative(native, req, version, kafkaEnv), flexibleAt(api, version));
  return w.toBuffer();
}

/** Our response as kafkajs's decoder reads it; kafkajs must read every byte. */
async function toKafkajs<Req, Res>(
  api: KafkaApi<Req, Res>,
  name: string,
  version: number,
  native: NativeResult,
  req: Req,
): Promise<Record<string, unknown>> {
  const body = writeResponse(api, version, native, req);
  const { decoded, consumed } = await kafkajsResponse(name, version, body);
  expect(consumed).toBe(body.length);
  return decoded;
}

describe('the registry', () => {
  it('serves each API over a version range, flexible (KIP-482) from a version within it or past it', () => {
    for (const api of kafkaApis.values()) {
      expect(api.minVersion).toBeLessThanOrEqual(api.maxVersion);
      expect(api.flexibleFrom).toBeGreaterThanOrEqual(api.minVersion);
    }
    expect(kafkaEnv.supported.map((a) => [a.apiKey, a.minVersion, a.maxVersion])).toEqual([
      [0, 0, 9],
      [1, 0, 13],
      [2, 0, 7],
      [3, 0, 12],
      [8, 2, 8],
      [9, 1, 8],
      [10, 0, 4],
      [11, 0, 7],
      [12, 0, 4],
      [13, 0, 4],
      [14, 0, 5],
      [15, 0, 5],
      [16, 0, 4],
      [17, 0, 1],
      [18, 0, 3],
      [19, 0, 4],
      [20, 0, 3],
      [21, 0, 2],
      [22, 0, 4],
      [24, 0, 3],
      [25, 0, 3],
      [26, 0, 3],
      [28, 0, 3],
      [29, 0, 3],
      [30, 0, 3],
      [31, 0, 3],
      [32, 0, 4],
      [33, 0, 2],
      [35, 0, 4],
      [36, 0, 2],
      [37, 0, 3],
      [42, 0, 2],
      [44, 0, 1],
      [45, 0, 0],
      [46, 0, 0],
      [48, 0, 1],
      [49, 0, 1],
      [50, 0, 0],
      [51, 0, 0],
      [60, 0, 1],
      [65, 0, 0],
      [66, 0, 0],
    ]);
  });
});

describe('ApiVersions (18)', () => {
  it('reads v0 and v2 requests (empty bodies)', async () => {
    for (const v of [0, 2]) {
      expect(await fromKafkajs(apiVersionsApi, 'apiVersions', v, {})).toEqual({
        clientSoftwareName: '',
        clientSoftwareVersion: '',
      });
    }
  });

  it('answers v0 and v2 with every API this listener speaks', async () => {
    const req = readRequest(apiVersionsApi, 0, Buffer.alloc(0));
    const v0 = await toKafkajs(apiVersionsApi, 'apiVersions', 0, {}, req);
    expect(v0).toEqual({ errorCode: 0, apiVersions: kafkaEnv.supported });
    const v2 = await toKafkajs(apiVersionsApi, 'apiVersions', 2, {}, req);
    expect(v2).toMatchObject({ errorCode: 0, apiVersions: kafkaEnv.supported, clientSideThrottleTime: 0 });
  });
});

describe('Metadata (3)', () => {
  const native = {
    errorCode: 0,
    brokers: [
      { nodeId: 1, host: 'h1', port: 9001, kafkaPort: 19001 },
      // no Kafka listener: a Kafka client could not reach it
      { nodeId: 2, host: 'h2', port: 9002 },
    ],
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: 't',
        partitions: [{ errorCode: 0, partition: 0, leader: 1, leaderEpoch: 3, replicas: [1, 2], isr: [1] }],
      },
      { errorCode: 3, name: 'gone', partitions: [] },
    ],
  };

  it('reads v0 (empty list: every topic) and v6 requests', async () => {
    const v0 = await fromKafkajs(metadataApi, 'metadata', 0, { topics: [] });
    expect(v0.topics).toEqual([]);
    expect(metadataApi.toNative?.(v0, 0)).toEqual({ topics: null, allowAutoTopicCreation: true });
    const v6 = await fromKafkajs(metadataApi, 'metadata', 6, { topics: ['a', 'b'], allowAutoTopicCreation: false });
    expect(v6).toMatchObject({ topics: [{ name: 'a' }, { name: 'b' }], allowAutoTopicCreation: false });
    expect(metadataApi.toNative?.(v6, 6)).toEqual({ topics: ['a', 'b'], allowAutoTopicCreation: false });
  });

  it('answers v0 and v6 with Kafka listeners only', async () => {
    const req = await fromKafkajs(metadataApi, 'metadata', 0, { topics: ['t', 'gone'] });
    expect(await toKafkajs(metadataApi, 'metadata', 0, native, req)).toEqual({
      brokers: [{ nodeId: 1, host: 'h1', port: 19001 }],
      topicMetadata: [
        {
          topicErrorCode: 0,
          topic: 't',
          partitionMetadata: [{ partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1, 2], isr: [1] }],
        },
        { topicErrorCode: 3, topic: 'gone', partitionMetadata: [] },
      ],
    });
    expect(await toKafkajs(metadataApi, 'metadata', 6, native, req)).toMatchObject({
      clientSideThrottleTime: 0,
      brokers: [{ nodeId: 1, host: 'h1', port: 19001, rack: null }],
      clusterId: null,
      controllerId: 1,
      topicMetadata: [
        {
          topic: 't',
          isInternal: false,
          partitionMetadata: [{ partitionId: 0, leader: 1, replicas: [1, 2], isr: [1], offlineReplicas: [] }],
        },
        { topicErrorCode: 3, topic: 'gone' },
      ],
    });
  });

  it('lays out v8 as the protocol guide says', () => {
    const req = readRequest(metadataApi, 8, hex(`00000001 ${s('t')} 01 00 00`));
    expect(req).toEqual({
      topics: [{ topicId: zeroUuid, name: 't' }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const body = writeResponse(metadataApi, 8, { ...native, topics: native.topics.slice(0, 1) }, req);
    expect(body.toString('hex')).toBe(
      hex(`
        00000000
        00000001 00000001 ${s('h1')} 00004a39 ffff
        ffff
        00000001
        00000001 0000 ${s('t')} 00
          00000001 0000 00000000 00000001 00000003 00000002 00000001 00000002 00000001 00000001 00000000
          80000000
        80000000`).toString('hex'),
    );
  });

  it('answers the cluster id from v2 on (v6 through kafkajs, v2 as the protocol guide lays it out)', async () => {
    const clusterId = 'c2x1aWNlLXRlc3QtY2x1cw';
    const req = await fromKafkajs(metadataApi, 'metadata', 6, { topics: [] });
    expect(await toKafkajs(metadataApi, 'metadata', 6, { ...native, clusterId, topics: [] }, req)).toMatchObject({
      clusterId,
      controllerId: 1,
    });
    const body = writeResponse(metadataApi, 2, { ...native, clusterId, topics: [] }, req);
    expect(body.toString('hex')).toBe(
      hex(`00000001 00000001 ${s('h1')} 00004a39 ffff ${s(clusterId)} 00000001 00000000`).toString('hex'),
    );
  });

  it('puts a request-level error on every requested topic', async () => {
    const req = await fromKafkajs(metadataApi, 'metadata', 6, { topics: ['t'] });
    const decoded = await toKafkajs(metadataApi, 'metadata', 6, { errorCode: 42, errorMessage: 'bad' }, req);
    expect(decoded).toMatchObject({ brokers: [], topicMetadata: [{ topicErrorCode: 42, topic: 't' }] });
  });
});

describe('Produce (0)', () => {
  const topicData = [{ topic: 't', partitions: [{ partition: 2, messages: [{ key: 'k', value: 'v' }] }] }];

  it('reads v3 and v7 requests with their record batches unchanged', async () => {
    for (const v of [3, 7]) {
      const req = await fromKafkajs(produceApi, 'produce', v, { acks: -1, timeout: 1500, topicData });
      expect(req).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 1500 });
      const records = req.topics[0]?.partitions[0]?.records as Buffer;
      expect(req.topics[0]?.partitions[0]?.index).toBe(2);
      // a RecordBatch v2: magic 2 at byte 16, the whole batch after the 12-byte offset/length
      expect(records[16]).toBe(2);
      expect(records.readInt32BE(8)).toBe(records.length - 12);
      expect(produceApi.toNative?.(req, v)).toEqual({
        acks: -1,
        timeoutMs: 1500,
        topics: [{ name: 't', partitions: [{ partition: 2, records }] }],
      });
    }
  });

  const native = {
    errorCode: 0,
    topics: [
      {
        name: 't',
        partitions: [{ partition: 2, errorCode: 0, baseOffset: 42, logAppendTimeMs: -1, logStartOffset: 7 }],
      },
    ],
  };

  it('answers v3 and v7', async () => {
    const req = await fromKafkajs(produceApi, 'produce', 3, { acks: 1, timeout: 1500, topicData });
    expect(await toKafkajs(produceApi, 'produce', 3, native, req)).toEqual({
      topics: [{ topicName: 't', partitions: [{ partition: 2, errorCode: 0, baseOffset: '42', logAppendTime: '-1' }] }],
      throttleTime: 0,
    });
    expect(await toKafkajs(produceApi, 'produce', 7, native, req)).toMatchObject({
      topics: [{ topicName: 't', partitions: [{ partition: 2, baseOffset: '42', logStartOffset: '7' }] }],
    });
  });

  it('lays out v8 as the protocol guide says', () => {
    const req = readRequest(
      produceApi,
      8,
      hex(`ffff 0001 000005dc 00000001 ${s('t')} 00000001 00000002 00000003 010203`),
    );
    expect(req).toEqual({
      transactionalId: null,
      acks: 1,
      timeoutMs: 1500,
      topics: [{ name: 't', partitions: [{ index: 2, records: hex('010203') }] }],
    });
    expect(writeResponse(produceApi, 8, native, req).toString('hex')).toBe(
      hex(`
        00000001 ${s('t')}
          00000001 00000002 0000 000000000000002a ffffffffffffffff 0000000000000007 00000000 ffff
        00000000`).toString('hex'),
    );
  });

  it('passes a transactional produce on with its id, and spreads a request-level error', async () => {
    const tx = await fromKafkajs(produceApi, 'produce', 7, { acks: -1, timeout: 10, transactionalId: 'tx', topicData });
    expect(tx.transactionalId).toBe('tx');
    expect(produceApi.toNative?.(tx, 7)).toMatchObject({ transactionalId: 'tx', topics: [{ name: 't' }] });
    // a refusal of the whole request (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53) reaches every partition
    expect(await toKafkajs(produceApi, 'produce', 7, { errorCode: 53, errorMessage: 'denied' }, tx)).toMatchObject({
      topics: [{ topicName: 't', partitions: [{ partition: 2, errorCode: 53 }] }],
    });
    const plain = await fromKafkajs(produceApi, 'produce', 7, { acks: -1, timeout: 10, topicData });
    expect(await toKafkajs(produceApi, 'produce', 7, { errorCode: 87, errorMessage: 'corrupt' }, plain)).toMatchObject({
      topics: [{ topicName: 't', partitions: [{ partition: 2, errorCode: 87, baseOffset: '-1' }] }],
    });
  });
});

describe('Fetch (1)', () => {
  const topics = [{ topic: 't', partitions: [{ partition: 1, fetchOffset: 5, maxBytes: 4096 }] }];

  it('reads v4 and v11 requests', async () => {
    const v4 = await fromKafkajs(fetchApi, 'fetch', 4, {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 65536,
      topics,
      isolationLevel: 1,
    });
    expect(v4).toEqual({
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 65536,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 't',
          topicId: zeroUuid,
          partitions: [
            {
              partition: 1,
              currentLeaderEpoch: -1,
              fetchOffset: 5,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: 4096,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const v11 = await fromKafkajs(fetchApi, 'fetch', 11, {
      replicaId: -1,
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: 1000,
      topics: [{ topic: 't', partitions: [{ partition: 1, currentLeaderEpoch: 4, fetchOffset: 5, maxBytes: 10 }] }],
      rackId: 'r1',
      sessionId: 9,
      sessionEpoch: 2,
      forgottenTopics: [{ topic: 'old', partitions: [0, 3] }],
    });
    expect(v11).toMatchObject({
      sessionId: 9,
      sessionEpoch: 2,
      topics: [{ topic: 't', partitions: [{ partition: 1, currentLeaderEpoch: 4, fetchOffset: 5 }] }],
      forgottenTopicsData: [{ topic: 'old', partitions: [0, 3] }],
      rackId: 'r1',
    });
    // kafkajs reads committed by default: read_committed reaches the native fetch (KIP-98)
    expect(fetchApi.toNative?.(v11, 11)).toEqual({
      replicaId: -1,
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1000,
      zstdReadable: true,
      isolationLevel: 1,
      topics: [{ name: 't', partitions: [{ partition: 1, fetchOffset: 5, partitionMaxBytes: 10 }] }],
    });
  });

  it('answers v4 and v11 with the batches kafkajs reads back', async () => {
    const batch = await kafkajsEncodeBatch({
      records: [{ key: null, value: Buffer.from('hello'), timestampDelta: 0, offsetDelta: 0 }],
      firstOffset: 5,
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_000,
    });
    const native = {
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [{ partition: 1, errorCode: 0, highWatermark: 6, logStartOffset: 0, records: batch }],
        },
      ],
    };
    const req = await fromKafkajs(fetchApi, 'fetch', 4, {
      replicaId: -1,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 1000,
      topics,
    });
    const v4 = await toKafkajs(fetchApi, 'fetch', 4, native, req);
    expect(v4).toMatchObject({
      throttleTime: 0,
      responses: [
        {
          topicName: 't',
          partitions: [
            {
              partition: 1,
              errorCode: 0,
              highWatermark: '6',
              lastStableOffset: '6',
              abortedTransactions: [],
              messages: [{ offset: '5', value: Buffer.from('hello') }],
            },
          ],
        },
      ],
    });
    const v11 = await toKafkajs(fetchApi, 'fetch', 11, native, req);
    expect(v11).toMatchObject({
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topicName: 't',
          partitions: [{ partition: 1, lastStartOffset: '0', preferredReadReplica: -1, messages: [{ offset: '5' }] }],
        },
      ],
    });
  });

  it('answers read_committed with the last stable offset and the aborted transactions (KIP-98)', async () => {
    const batch = await kafkajsEncodeBatch({
      records: [{ key: null, value: Buffer.from('t'), timestampDelta: 0, offsetDelta: 0 }],
      firstOffset: 5,
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_000,
    });
    const native = {
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [
            {
              partition: 1,
              errorCode: 0,
              highWatermark: 9,
              lastStableOffset: 6,
              abortedTransactions: [{ producerId: 42, firstOffset: 3 }],
              logStartOffset: 0,
              records: batch,
            },
          ],
        },
      ],
    };
    const req = await fromKafkajs(fetchApi, 'fetch', 4, {
      replicaId: -1,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 1000,
      topics,
    });
    expect(await toKafkajs(fetchApi, 'fetch', 4, native, req)).toMatchObject({
      responses: [
        {
          topicName: 't',
          partitions: [
            {
              highWatermark: '9',
              lastStableOffset: '6',
              abortedTransactions: [{ producerId: '42', firstOffset: '3' }],
            },
          ],
        },
      ],
    });
  });

  it('spreads a request-level error over every partition, and at the top from v7', async () => {
    const req = await fromKafkajs(fetchApi, 'fetch', 11, {
      replicaId: -1,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 1000,
      topics,
    });
    expect(await toKafkajs(fetchApi, 'fetch', 11, { errorCode: 22 }, req)).toMatchObject({
      errorCode: 22,
      responses: [{ topicName: 't', partitions: [{ partition: 1, errorCode: 22, highWatermark: '-1', messages: [] }] }],
    });
  });
});

describe('ListOffsets (2)', () => {
  const topics = [{ topic: 't', partitions: [{ partition: 0, timestamp: -2 }] }];
  const native = {
    errorCode: 0,
    topics: [{ name: 't', partitions: [{ partition: 0, errorCode: 0, timestamp: -1, offset: 42 }] }],
  };

  it('reads v1 and v3 requests', async () => {
    const v1 = await fromKafkajs(listOffsetsApi, 'listOffsets', 1, { replicaId: -1, topics });
    expect(v1).toEqual({
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2, maxNumOffsets: 1 }] },
      ],
    });
    const v3 = await fromKafkajs(listOffsetsApi, 'listOffsets', 3, { replicaId: -1, isolationLevel: 1, topics });
    expect(v3.isolationLevel).toBe(1);
    expect(listOffsetsApi.toNative?.(v3, 3)).toEqual({
      isolationLevel: 1,
      topics: [{ name: 't', partitions: [{ partition: 0, timestamp: -2 }] }],
    });
  });

  it('answers v1 and v3', async () => {
    const req = await fromKafkajs(listOffsetsApi, 'listOffsets', 1, { replicaId: -1, topics });
    const expected = {
      responses: [{ topic: 't', partitions: [{ partition: 0, errorCode: 0, timestamp: '-1', offset: '42' }] }],
    };
    expect(await toKafkajs(listOffsetsApi, 'listOffsets', 1, native, req)).toEqual(expected);
    expect(await toKafkajs(listOffsetsApi, 'listOffsets', 3, native, req)).toMatchObject(expected);
    expect(await toKafkajs(listOffsetsApi, 'listOffsets', 3, { errorCode: 42 }, req)).toMatchObject({
      responses: [{ topic: 't', partitions: [{ partition: 0, errorCode: 42, offset: '-1' }] }],
    });
  });

  it('lays out v5 as the protocol guide says', () => {
    const req = readRequest(
      listOffsetsApi,
      5,
      hex(`ffffffff 01 00000001 ${s('t')} 00000001 00000000 00000007 fffffffffffffffe`),
    );
    expect(req).toEqual({
      replicaId: -1,
      isolationLevel: 1,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 7, timestamp: -2, maxNumOffsets: 1 }] },
      ],
    });
    expect(writeResponse(listOffsetsApi, 5, native, req).toString('hex')).toBe(
      hex(`00000000 00000001 ${s('t')} 00000001 00000000 0000 ffffffffffffffff 000000000000002a ffffffff`).toString(
        'hex',
      ),
    );
  });
});

describe('FindCoordinator (10)', () => {
  const native = { errorCode: 0, nodeId: 2, host: 'h2', port: 9002, kafkaPort: 19002 };

  it('reads v0 and v2 requests', async () => {
    expect(await fromKafkajs(findCoordinatorApi, 'findCoordinator', 0, { groupId: 'g' })).toEqual({
      key: 'g',
      keyType: 0,
      coordinatorKeys: [],
    });
    const v2 = await fromKafkajs(findCoordinatorApi, 'findCoordinator', 2, { coordinatorKey: 'g', coordinatorType: 0 });
    expect(v2).toEqual({ key: 'g', keyType: 0, coordinatorKeys: [] });
    expect(findCoordinatorApi.toNative?.(v2, 2)).toEqual({ key: 'g' });
  });

  it("answers with the coordinator's Kafka port, not its native one", async () => {
    const req = { key: 'g', keyType: 0 };
    expect(await toKafkajs(findCoordinatorApi, 'findCoordinator', 0, native, req)).toEqual({
      errorCode: 0,
      coordinator: { nodeId: 2, host: 'h2', port: 19002 },
    });
    expect(await toKafkajs(findCoordinatorApi, 'findCoordinator', 2, native, req)).toMatchObject({
      errorCode: 0,
      errorMessage: null,
      clientSideThrottleTime: 0,
      coordinator: { nodeId: 2, host: 'h2', port: 19002 },
    });
  });

  it('answers COORDINATOR_NOT_AVAILABLE without a Kafka listener, finds transaction coordinators, and passes errors on', async () => {
    const req = { key: 'g', keyType: 0 };
    for (const kafkaPort of [undefined, -1]) {
      expect(await toKafkajs(findCoordinatorApi, 'findCoordinator', 2, { ...native, kafkaPort }, req)).toMatchObject({
        errorCode: 15,
        coordinator: { nodeId: -1, port: -1 },
      });
    }
    // key type 1: the transactional id's coordinator, asked of the native handler with its key type
    const txReq = await fromKafkajs(findCoordinatorApi, 'findCoordinator', 1, {
      coordinatorKey: 'tx',
      coordinatorType: 1,
    });
    expect(txReq).toEqual({ key: 'tx', keyType: 1, coordinatorKeys: [] });
    expect(findCoordinatorApi.toNative?.(txReq, 1)).toEqual({ key: 'tx', keyType: 1 });
    expect(await toKafkajs(findCoordinatorApi, 'findCoordinator', 1, native, txReq)).toMatchObject({
      errorCode: 0,
      coordinator: { nodeId: 2, host: 'h2', port: 19002 },
    });
    expect(await toKafkajs(findCoordinatorApi, 'findCoordinator', 1, native, { ...txReq, keyType: 2 })).toMatchObject({
      errorCode: 42,
    });
    const moved = { errorCode: 15, errorMessage: 'no leader', nodeId: -1, host: '', port: -1 };
    expect(await toKafkajs(findCoordinatorApi, 'findCoordinator', 1, moved, req)).toMatchObject({
      errorCode: 15,
      errorMessage: 'no leader',
    });
    expect(await toKafkajs(findCoordinatorApi, 'findCoordinator', 0, { errorCode: 42 }, req)).toMatchObject({
      errorCode: 42,
    });
  });
});

describe('JoinGroup (11)', () => {
  const protocols = [{ name: 'range', metadata: Buffer.from([0, 1, 2]) }];
  const native = {
    errorCode: 0,
    generationId: 3,
    protocolName: 'range',
    leader: 'm1',
    memberId: 'm1',
    members: [{ memberId: 'm1', metadata: Buffer.from([9]) }],
  };

  it('reads v0 (the session timeout stands in for the rebalance timeout) and v5 requests', async () => {
    const v0 = await fromKafkajs(joinGroupApi, 'joinGroup', 0, {
      groupId: 'g',
      sessionTimeout: 10_000,
      memberId: '',
      protocolType: 'consumer',
      groupProtocols: protocols,
    });
    expect(v0).toEqual({
      groupId: 'g',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: -1,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols,
    });
    expect(joinGroupApi.toNative?.(v0, 0)).toEqual({
      groupId: 'g',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: '',
      groupInstanceId: null,
      requireKnownMemberId: false,
      protocolType: 'consumer',
      protocols,
    });
    const v5 = await fromKafkajs(joinGroupApi, 'joinGroup', 5, {
      groupId: 'g',
      sessionTimeout: 10_000,
      rebalanceTimeout: 60_000,
      memberId: 'm1',
      groupInstanceId: 'i1',
      protocolType: 'consumer',
      groupProtocols: protocols,
    });
    expect(v5).toMatchObject({ rebalanceTimeoutMs: 60_000, memberId: 'm1', groupInstanceId: 'i1' });
    // KIP-394 from v4: a member without an id must join again with the one it is given
    expect(joinGroupApi.toNative?.(v5, 5)).toMatchObject({
      rebalanceTimeoutMs: 60_000,
      memberId: 'm1',
      requireKnownMemberId: true,
    });
  });

  it('answers v0 and v5', async () => {
    const req = readRequest(joinGroupApi, 0, hex(`${s('g')} 00002710 ${s('')} ${s('consumer')} 00000000`));
    expect(await toKafkajs(joinGroupApi, 'joinGroup', 0, native, req)).toEqual({
      errorCode: 0,
      generationId: 3,
      groupProtocol: 'range',
      leaderId: 'm1',
      memberId: 'm1',
      members: [{ memberId: 'm1', memberMetadata: Buffer.from([9]) }],
    });
    expect(await toKafkajs(joinGroupApi, 'joinGroup', 5, native, req)).toMatchObject({
      clientSideThrottleTime: 0,
      generationId: 3,
      members: [{ memberId: 'm1', groupInstanceId: null, memberMetadata: Buffer.from([9]) }],
    });
    expect(await toKafkajs(joinGroupApi, 'joinGroup', 5, { errorCode: 42 }, req)).toMatchObject({
      errorCode: 42,
      generationId: -1,
      members: [],
    });
  });
});

describe('SyncGroup (14)', () => {
  const groupAssignment = [{ memberId: 'm1', memberAssignment: Buffer.from([1, 2]) }];

  it('reads v0 and v3 requests', async () => {
    const v0 = await fromKafkajs(syncGroupApi, 'syncGroup', 0, {
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupAssignment,
    });
    expect(v0).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: 'm1', assignment: Buffer.from([1, 2]) }],
    });
    const v3 = await fromKafkajs(syncGroupApi, 'syncGroup', 3, {
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: 'i1',
      groupAssignment: [],
    });
    expect(v3).toMatchObject({ groupInstanceId: 'i1', assignments: [] });
    expect(syncGroupApi.toNative?.(v0, 0)).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: 'm1', assignment: Buffer.from([1, 2]) }],
    });
  });

  it('answers v0 and v3', async () => {
    const req = readRequest(syncGroupApi, 0, hex(`${s('g')} 00000003 ${s('m1')} 00000000`));
    const native = { errorCode: 0, assignment: Buffer.from([7, 7]) };
    expect(await toKafkajs(syncGroupApi, 'syncGroup', 0, native, req)).toEqual({
      errorCode: 0,
      memberAssignment: Buffer.from([7, 7]),
    });
    expect(await toKafkajs(syncGroupApi, 'syncGroup', 3, native, req)).toMatchObject({
      clientSideThrottleTime: 0,
      errorCode: 0,
      memberAssignment: Buffer.from([7, 7]),
    });
    expect(await toKafkajs(syncGroupApi, 'syncGroup', 3, { errorCode: 27 }, req)).toMatchObject({
      errorCode: 27,
      memberAssignment: Buffer.alloc(0),
    });
  });
});

describe('Heartbeat (12) and LeaveGroup (13)', () => {
  it('reads v0 and v3 heartbeats and answers them', async () => {
    const v0 = await fromKafkajs(heartbeatApi, 'heartbeat', 0, { groupId: 'g', groupGenerationId: 3, memberId: 'm1' });
    expect(v0).toEqual({ groupId: 'g', generationId: 3, memberId: 'm1', groupInstanceId: null });
    const v3 = await fromKafkajs(heartbeatApi, 'heartbeat', 3, {
      groupId: 'g',
      groupGenerationId: 3,
      memberId: 'm1',
      groupInstanceId: 'i1',
    });
    expect(v3.groupInstanceId).toBe('i1');
    expect(heartbeatApi.toNative?.(v3, 3)).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: 'i1',
    });
    expect(await toKafkajs(heartbeatApi, 'heartbeat', 0, { errorCode: 27 }, v0)).toEqual({ errorCode: 27 });
    expect(await toKafkajs(heartbeatApi, 'heartbeat', 3, { errorCode: 0 }, v3)).toMatchObject({
      errorCode: 0,
      clientSideThrottleTime: 0,
    });
  });

  it('reads v0 and v2 leaves and answers them', async () => {
    for (const v of [0, 2]) {
      const req = await fromKafkajs(leaveGroupApi, 'leaveGroup', v, { groupId: 'g', memberId: 'm1' });
      expect(req).toEqual({ groupId: 'g', memberId: 'm1', members: [] });
      expect(leaveGroupApi.toNative?.(req, v)).toEqual({ groupId: 'g', memberId: 'm1' });
      expect(await toKafkajs(leaveGroupApi, 'leaveGroup', v, { errorCode: 25 }, req)).toMatchObject({
        errorCode: 25,
      });
    }
  });
});

describe('OffsetCommit (8)', () => {
  const topics = [
    {
      topic: 't',
      partitions: [
        { partition: 0, offset: '10' },
        { partition: 1, offset: '20', metadata: 'x' },
      ],
    },
  ];

  it('reads v2 and v5 requests', async () => {
    const v2 = await fromKafkajs(offsetCommitApi, 'offsetCommit', 2, {
      groupId: 'g',
      groupGenerationId: 3,
      memberId: 'm1',
      retentionTime: 86_400_000,
      topics,
    });
    expect(v2).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: null,
      retentionTimeMs: 86_400_000,
      topics: [
        {
          name: 't',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 10,
              committedLeaderEpoch: -1,
              commitTimestamp: -1,
              committedMetadata: null,
            },
            {
              partitionIndex: 1,
              committedOffset: 20,
              committedLeaderEpoch: -1,
              commitTimestamp: -1,
              committedMetadata: 'x',
            },
          ],
        },
      ],
    });
    const v5 = await fromKafkajs(offsetCommitApi, 'offsetCommit', 5, {
      groupId: 'g',
      groupGenerationId: 3,
      memberId: 'm1',
      topics,
    });
    expect(v5.retentionTimeMs).toBe(-1);
    expect(offsetCommitApi.toNative?.(v5, 5)).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: null,
      topics: [
        {
          name: 't',
          partitions: [
            // before v6 the epoch is unknown (KIP-320)
            { partition: 0, offset: 10, metadata: '', leaderEpoch: -1 },
            { partition: 1, offset: 20, metadata: 'x', leaderEpoch: -1 },
          ],
        },
      ],
    });
  });

  it('answers v2 and v5, with a request-level error on every partition', async () => {
    const req = await fromKafkajs(offsetCommitApi, 'offsetCommit', 5, {
      groupId: 'g',
      groupGenerationId: 3,
      memberId: 'm1',
      topics,
    });
    const native = {
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: 22 },
          ],
        },
      ],
    };
    const expected = {
      responses: [
        {
          topic: 't',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: 22 },
          ],
        },
      ],
    };
    expect(await toKafkajs(offsetCommitApi, 'offsetCommit', 2, native, req)).toEqual(expected);
    expect(await toKafkajs(offsetCommitApi, 'offsetCommit', 5, native, req)).toMatchObject({
      ...expected,
      clientSideThrottleTime: 0,
    });
    const refused = { errorCode: 42, errorMessage: 'offset -1 is negative' };
    expect(await toKafkajs(offsetCommitApi, 'offsetCommit', 5, refused, req)).toMatchObject({
      responses: [
        {
          topic: 't',
          partitions: [
            { partition: 0, errorCode: 42 },
            { partition: 1, errorCode: 42 },
          ],
        },
      ],
    });
  });

  it('lays out v6 and v7 as the protocol guide says', () => {
    const partition = '00000001 00000000 000000000000000a 00000005 ffff';
    const v6 = readRequest(offsetCommitApi, 6, hex(`${s('g')} 00000003 ${s('m1')} 00000001 ${s('t')} ${partition}`));
    const v7 = readRequest(
      offsetCommitApi,
      7,
      hex(`${s('g')} 00000003 ${s('m1')} ${s('i1')} 00000001 ${s('t')} ${partition}`),
    );
    const topicsRead = [
      {
        name: 't',
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 10,
            committedLeaderEpoch: 5,
            commitTimestamp: -1,
            committedMetadata: null,
          },
        ],
      },
    ];
    expect(v6).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: topicsRead,
    });
    expect(v7).toMatchObject({ groupInstanceId: 'i1', topics: topicsRead });
    const native = { errorCode: 0, topics: [{ name: 't', partitions: [{ partition: 0, errorCode: 0 }] }] };
    expect(writeResponse(offsetCommitApi, 7, native, v7).toString('hex')).toBe(
      hex(`00000000 00000001 ${s('t')} 00000001 00000000 0000`).toString('hex'),
    );
  });
});

describe('OffsetFetch (9)', () => {
  it('reads v1 and v4 requests (v4 with no topics: every committed partition)', async () => {
    const v1 = await fromKafkajs(offsetFetchApi, 'offsetFetch', 1, {
      groupId: 'g',
      topics: [{ topic: 't', partitions: [{ partition: 0 }, { partition: 1 }] }],
    });
    expect(v1).toEqual({
      groupId: 'g',
      topics: [{ name: 't', partitionIndexes: [0, 1] }],
      groups: [],
      requireStable: false,
    });
    expect(offsetFetchApi.toNative?.(v1, 1)).toEqual({ groupId: 'g', topics: [{ name: 't', partitions: [0, 1] }] });
    const v4 = await fromKafkajs(offsetFetchApi, 'offsetFetch', 4, { groupId: 'g', topics: [] });
    expect(v4).toEqual({ groupId: 'g', topics: null, groups: [], requireStable: false });
    expect(offsetFetchApi.toNative?.(v4, 4)).toEqual({ groupId: 'g', topics: null });
  });

  const native = {
    errorCode: 0,
    topics: [
      {
        name: 't',
        partitions: [
          { partition: 0, errorCode: 0, offset: 10, metadata: 'x' },
          { partition: 1, errorCode: 0, offset: -1, metadata: '' },
        ],
      },
    ],
  };

  it('answers v1 and v4', async () => {
    const req = { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }], groups: [], requireStable: false };
    const responses = [
      {
        topic: 't',
        partitions: [
          { partition: 0, offset: '10', metadata: 'x', errorCode: 0 },
          { partition: 1, offset: '-1', metadata: '', errorCode: 0 },
        ],
      },
    ];
    expect(await toKafkajs(offsetFetchApi, 'offsetFetch', 1, native, req)).toEqual({ responses });
    expect(await toKafkajs(offsetFetchApi, 'offsetFetch', 4, native, req)).toMatchObject({
      responses,
      errorCode: 0,
      clientSideThrottleTime: 0,
    });
  });

  it('puts a refusal on every requested partition (v1) and at the top (v2+)', async () => {
    const req = { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }], groups: [], requireStable: false };
    const notCoordinator = { errorCode: 16, errorMessage: 'elsewhere', topics: [] };
    const partitions = [
      { partition: 0, offset: '-1', errorCode: 16 },
      { partition: 1, offset: '-1', errorCode: 16 },
    ];
    expect(await toKafkajs(offsetFetchApi, 'offsetFetch', 1, notCoordinator, req)).toMatchObject({
      responses: [{ topic: 't', partitions }],
    });
    expect(await toKafkajs(offsetFetchApi, 'offsetFetch', 4, notCoordinator, req)).toMatchObject({
      responses: [{ topic: 't', partitions }],
      errorCode: 16,
    });
    expect(
      await toKafkajs(
        offsetFetchApi,
        'offsetFetch',
        4,
        { errorCode: 42 },
        { groupId: 'g', topics: null, groups: [], requireStable: false },
      ),
    ).toMatchObject({ responses: [], errorCode: 42 });
  });

  it('lays out v5 as the protocol guide says', () => {
    const req = readRequest(offsetFetchApi, 5, hex(`${s('g')} ffffffff`));
    expect(req).toEqual({ groupId: 'g', topics: null, groups: [], requireStable: false });
    expect(writeResponse(offsetFetchApi, 5, native, req).toString('hex')).toBe(
      hex(`
        00000000
        00000001 ${s('t')} 00000002
          00000000 000000000000000a ffffffff ${s('x')} 0000
          00000001 ffffffffffffffff ffffffff ${s('')} 0000
        0000`).toString('hex'),
    );
  });
});

describe('ListGroups (16) and DescribeGroups (15)', () => {
  it('lists groups with v0 and v2', async () => {
    const native = { errorCode: 0, groups: [{ groupId: 'g', protocolType: 'consumer', state: 'Stable' }] };
    for (const v of [0, 2]) {
      const req = await fromKafkajs(listGroupsApi, 'listGroups', v, {});
      expect(req).toEqual({ statesFilter: [] });
      expect(listGroupsApi.toNative?.(req, v)).toEqual({ statesFilter: [] });
      expect(await toKafkajs(listGroupsApi, 'listGroups', v, native, req)).toMatchObject({
        errorCode: 0,
        groups: [{ groupId: 'g', protocolType: 'consumer' }],
      });
    }
    expect(await toKafkajs(listGroupsApi, 'listGroups', 1, { errorCode: -1 }, { statesFilter: [] })).toMatchObject({
      errorCode: -1,
      groups: [],
    });
  });

  const native = {
    errorCode: 0,
    groups: [
      {
        groupId: 'g',
        errorCode: 0,
        state: 'Stable',
        protocolType: 'consumer',
        protocol: 'range',
        members: [
          {
            memberId: 'm1',
            clientId: 'c',
            clientHost: '/127.0.0.1',
            metadata: Buffer.from([1]),
            assignment: Buffer.from([2]),
          },
        ],
      },
      { groupId: 'h', errorCode: 16, state: 'Dead', protocolType: '', protocol: '', members: [] },
    ],
  };

  it('describes groups with v0 and v2', async () => {
    for (const v of [0, 2]) {
      const req = await fromKafkajs(describeGroupsApi, 'describeGroups', v, { groupIds: ['g', 'h'] });
      expect(req).toEqual({ groups: ['g', 'h'], includeAuthorizedOperations: false });
      expect(describeGroupsApi.toNative?.(req, v)).toEqual({ groups: ['g', 'h'] });
      expect(await toKafkajs(describeGroupsApi, 'describeGroups', v, native, req)).toMatchObject({
        groups: [
          {
            errorCode: 0,
            groupId: 'g',
            state: 'Stable',
            protocolType: 'consumer',
            protocol: 'range',
            members: [
              {
                memberId: 'm1',
                clientId: 'c',
                clientHost: '/127.0.0.1',
                memberMetadata: Buffer.from([1]),
                memberAssignment: Buffer.from([2]),
              },
            ],
          },
          { errorCode: 16, groupId: 'h', state: 'Dead', members: [] },
        ],
      });
    }
    const req = { groups: ['g'], includeAuthorizedOperations: false };
    expect(await toKafkajs(describeGroupsApi, 'describeGroups', 1, { errorCode: -1 }, req)).toMatchObject({
      groups: [{ errorCode: -1, groupId: 'g', members: [] }],
    });
  });

  it('lays out DescribeGroups v4 as the protocol guide says', () => {
    const req = readRequest(describeGroupsApi, 4, hex(`00000001 ${s('g')} 01`));
    expect(req).toEqual({ groups: ['g'], includeAuthorizedOperations: true });
    const one = { ...native, groups: native.groups.slice(0, 1) };
    expect(writeResponse(describeGroupsApi, 4, one, req).toString('hex')).toBe(
      hex(`
        00000000
        00000001 0000 ${s('g')} ${s('Stable')} ${s('consumer')} ${s('range')}
          00000001 ${s('m1')} ffff ${s('c')} ${s('/127.0.0.1')} 00000001 01 00000001 02
          80000000`).toString('hex'),
    );
  });
});

describe('CreateTopics (19) and DeleteTopics (20)', () => {
  it('reads v0 and v3 CreateTopics requests; manual assignments never reach the native handler', async () => {
    const v0 = await fromKafkajs(createTopicsApi, 'createTopics', 0, {
      topics: [
        {
          topic: 't',
          numPartitions: 3,
          replicationFactor: 2,
          configEntries: [
            { name: 'retention.ms', value: '1000' },
            { name: 'segment.bytes', value: null },
          ],
        },
      ],
      timeout: 5000,
    });
    expect(v0).toEqual({
      topics: [
        {
          name: 't',
          numPartitions: 3,
          replicationFactor: 2,
          assignments: [],
          configs: [
            { name: 'retention.ms', value: '1000' },
            { name: 'segment.bytes', value: null },
          ],
        },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(createTopicsApi.toNative?.(v0, 0)).toEqual({
      topics: [{ name: 't', numPartitions: 3, replicationFactor: 2, configs: { 'retention.ms': '1000' } }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    const v3 = await fromKafkajs(createTopicsApi, 'createTopics', 3, {
      topics: [{ topic: 'a' }, { topic: 'm', replicaAssignment: [{ partition: 0, replicas: [1, 2] }] }],
      validateOnly: true,
      timeout: 100,
    });
    expect(v3.topics[0]).toMatchObject({ name: 'a', numPartitions: -1, replicationFactor: -1 });
    expect(v3.topics[1]?.assignments).toEqual([{ partitionIndex: 0, brokerIds: [1, 2] }]);
    expect(createTopicsApi.toNative?.(v3, 3)).toEqual({
      topics: [{ name: 'a', numPartitions: -1, replicationFactor: -1, configs: {} }],
      timeoutMs: 100,
      validateOnly: true,
    });
  });

  it('answers v0 and v3 CreateTopics', async () => {
    const req = await fromKafkajs(createTopicsApi, 'createTopics', 3, {
      topics: [{ topic: 'a' }, { topic: 'b' }, { topic: 'm', replicaAssignment: [{ partition: 0, replicas: [1] }] }],
    });
    const native = {
      errorCode: 0,
      topics: [
        { name: 'a', errorCode: 0 },
        { name: 'b', errorCode: 36, errorMessage: 'topic b already exists' },
      ],
    };
    expect(await toKafkajs(createTopicsApi, 'createTopics', 0, native, req)).toEqual({
      topicErrors: [
        { topic: 'a', errorCode: 0 },
        { topic: 'b', errorCode: 36 },
        { topic: 'm', errorCode: 42 },
      ],
    });
    expect(await toKafkajs(createTopicsApi, 'createTopics', 3, native, req)).toMatchObject({
      clientSideThrottleTime: 0,
      topicErrors: [
        { topic: 'a', errorCode: 0, errorMessage: null },
        { topic: 'b', errorCode: 36, errorMessage: 'topic b already exists' },
        { topic: 'm', errorCode: 42, errorMessage: expect.stringContaining('assignments are not supported') },
      ],
    });
    expect(
      await toKafkajs(createTopicsApi, 'createTopics', 3, { errorCode: 41, errorMessage: 'not controller' }, req),
    ).toMatchObject({
      topicErrors: [
        { topic: 'a', errorCode: 41, errorMessage: 'not controller' },
        { topic: 'b', errorCode: 41 },
        { topic: 'm', errorCode: 42 },
      ],
    });
  });

  it('lays out CreateTopics v4 as the protocol guide says', () => {
    const req = readRequest(
      createTopicsApi,
      4,
      hex(`00000001 ${s('t')} ffffffff ffff 00000000 00000001 ${s('k')} ${s('v')} 00007530 00`),
    );
    expect(req).toEqual({
      topics: [
        { name: 't', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [{ name: 'k', value: 'v' }] },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const native = { errorCode: 0, topics: [{ name: 't', errorCode: 0 }] };
    expect(writeResponse(createTopicsApi, 4, native, req).toString('hex')).toBe(
      hex(`00000000 00000001 ${s('t')} 0000 ffff`).toString('hex'),
    );
  });

  it('reads and answers v0 and v1 DeleteTopics', async () => {
    for (const v of [0, 1]) {
      const req = await fromKafkajs(deleteTopicsApi, 'deleteTopics', v, { topics: ['a', 'b'], timeout: 2000 });
      expect(req).toEqual({ topicNames: ['a', 'b'], timeoutMs: 2000 });
      expect(deleteTopicsApi.toNative?.(req, v)).toEqual({ topics: ['a', 'b'], timeoutMs: 2000 });
      const native = {
        errorCode: 0,
        topics: [
          { name: 'a', errorCode: 0 },
          { name: 'b', errorCode: 3 },
        ],
      };
      expect(await toKafkajs(deleteTopicsApi, 'deleteTopics', v, native, req)).toMatchObject({
        topicErrors: [
          { topic: 'a', errorCode: 0 },
          { topic: 'b', errorCode: 3 },
        ],
      });
      expect(await toKafkajs(deleteTopicsApi, 'deleteTopics', v, { errorCode: 42 }, req)).toMatchObject({
        topicErrors: [
          { topic: 'a', errorCode: 42 },
          { topic: 'b', errorCode: 42 },
        ],
      });
    }
  });

  it('lays out DeleteTopics v3 as the protocol guide says', () => {
    const req = readRequest(deleteTopicsApi, 3, hex(`00000001 ${s('t')} 00007530`));
    expect(req).toEqual({ topicNames: ['t'], timeoutMs: 30_000 });
    const native = { errorCode: 0, topics: [{ name: 't', errorCode: 0 }] };
    expect(writeResponse(deleteTopicsApi, 3, native, req).toString('hex')).toBe(
      hex(`00000000 00000001 ${s('t')} 0000`).toString('hex'),
    );
  });
});

describe('InitProducerId (22)', () => {
  it('reads and answers v0 and v1', async () => {
    for (const v of [0, 1]) {
      const req = await fromKafkajs(initProducerIdApi, 'initProducerId', v, {
        transactionalId: null,
        transactionTimeout: 30_000,
      });
      // KIP-360's fields are v3+: absent before, their defaults (-1) read, and not passed on
      expect(req).toEqual({ transactionalId: null, transactionTimeoutMs: 30_000, producerId: -1, producerEpoch: -1 });
      expect(initProducerIdApi.toNative?.(req, v)).toEqual({ transactionalId: null, transactionTimeoutMs: 30_000 });
      const native = { errorCode: 0, producerId: 2 ** 40 + 7, producerEpoch: 0 };
      expect(await toKafkajs(initProducerIdApi, 'initProducerId', v, native, req)).toMatchObject({
        errorCode: 0,
        producerId: String(2 ** 40 + 7),
        producerEpoch: 0,
      });
    }
    const tx = await fromKafkajs(initProducerIdApi, 'initProducerId', 1, {
      transactionalId: 'tx',
      transactionTimeout: 1,
    });
    expect(tx.transactionalId).toBe('tx');
    const refused = { errorCode: 42, errorMessage: 'no transactions', producerId: -1, producerEpoch: -1 };
    expect(await toKafkajs(initProducerIdApi, 'initProducerId', 1, refused, tx)).toMatchObject({
      errorCode: 42,
      producerId: '-1',
      producerEpoch: -1,
    });
  });
});

describe('DescribeConfigs (32)', () => {
  const native = {
    errorCode: 0,
    results: [
      {
        errorCode: 0,
        resourceType: 2,
        resourceName: 't',
        configs: [
          { name: 'retention.ms', value: '1000', readOnly: false, isDefault: false, source: 1, isSensitive: false },
          { name: 'segment.bytes', value: '1024', readOnly: false, isDefault: true, source: 5, isSensitive: false },
        ],
      },
      {
        errorCode: 0,
        resourceType: 4,
        resourceName: '0',
        configs: [
          { name: 'ssl.password', value: null, readOnly: true, isDefault: false, source: 4, isSensitive: true },
        ],
      },
      { errorCode: 3, errorMessage: 'topic gone does not exist', resourceType: 2, resourceName: 'gone', configs: [] },
    ],
  };

  it('reads v0 and v2 requests (kafkajs writes "every key" as null)', async () => {
    const v0 = await fromKafkajs(describeConfigsApi, 'describeConfigs', 0, {
      resources: [
        { type: 2, name: 't', configNames: ['retention.ms'] },
        { type: 4, name: '0' },
      ],
    });
    expect(v0).toEqual({
      resources: [
        { resourceType: 2, resourceName: 't', configurationKeys: ['retention.ms'] },
        { resourceType: 4, resourceName: '0', configurationKeys: null },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expect(describeConfigsApi.toNative?.(v0, 0)).toEqual({
      resources: [
        { resourceType: 2, resourceName: 't', configurationKeys: ['retention.ms'] },
        { resourceType: 4, resourceName: '0', configurationKeys: null },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const v2 = await fromKafkajs(describeConfigsApi, 'describeConfigs', 2, {
      resources: [{ type: 2, name: 't' }],
      includeSynonyms: true,
    });
    expect(v2).toEqual({
      resources: [{ resourceType: 2, resourceName: 't', configurationKeys: null }],
      includeSynonyms: true,
      includeDocumentation: false,
    });
  });

  it('answers v0 (is_default) and v1/v2 (config_source, synonyms)', async () => {
    const req = { resources: [], includeSynonyms: false, includeDocumentation: false };
    const v0 = await toKafkajs(describeConfigsApi, 'describeConfigs', 0, native, req);
    expect(v0).toEqual({
      throttleTime: 0,
      resources: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 't',
          configEntries: [
            {
              configName: 'retention.ms',
              configValue: '1000',
              readOnly: false,
              isDefault: false,
              configSource: 1,
              isSensitive: false,
            },
            {
              configName: 'segment.bytes',
              configValue: '1024',
              readOnly: false,
              isDefault: true,
              configSource: 5,
              isSensitive: false,
            },
          ],
        },
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 4,
          resourceName: '0',
          configEntries: [
            {
              configName: 'ssl.password',
              configValue: null,
              readOnly: true,
              isDefault: false,
              configSource: 4,
              isSensitive: true,
            },
          ],
        },
        {
          errorCode: 3,
          errorMessage: 'topic gone does not exist',
          resourceType: 2,
          resourceName: 'gone',
          configEntries: [],
        },
      ],
    });
    for (const v of [1, 2]) {
      const decoded = await toKafkajs(describeConfigsApi, 'describeConfigs', v, native, req);
      expect(decoded).toMatchObject({
        resources: [
          {
            resourceName: 't',
            configEntries: [
              { configName: 'retention.ms', configSource: 1, isDefault: false, configSynonyms: [] },
              { configName: 'segment.bytes', configSource: 5, isDefault: true, configSynonyms: [] },
            ],
          },
          { resourceName: '0', configEntries: [{ configName: 'ssl.password', configValue: null, configSource: 4 }] },
          { errorCode: 3, resourceName: 'gone' },
        ],
      });
    }
  });

  it('puts a request-level error on every resource', async () => {
    const req = {
      resources: [
        { resourceType: 2, resourceName: 't', configurationKeys: null },
        { resourceType: 4, resourceName: '1', configurationKeys: null },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    };
    const decoded = await toKafkajs(
      describeConfigsApi,
      'describeConfigs',
      2,
      { errorCode: 42, errorMessage: 'no' },
      req,
    );
    expect(decoded).toMatchObject({
      resources: [
        { errorCode: 42, errorMessage: 'no', resourceType: 2, resourceName: 't', configEntries: [] },
        { errorCode: 42, errorMessage: 'no', resourceType: 4, resourceName: '1', configEntries: [] },
      ],
    });
  });
});

describe('DescribeCluster (60)', () => {
  const clusterId = 'c2x1aWNlLXRlc3QtY2x1cw';
  const native = {
    errorCode: 0,
    brokers: [
      { nodeId: 1, host: 'h1', port: 9001, kafkaPort: 19001 },
      // no Kafka listener: left out, as in Metadata
      { nodeId: 2, host: 'h2', port: 9002 },
    ],
    controllerId: 1,
    clusterId,
    topics: [],
  };
  /** A compact string as hex: unsigned varint length + 1 (all short here), UTF-8 bytes. */
  const cs = (text: string): string => {
    const b = Buffer.from(text, 'utf8');
    return (b.length + 1).toString(16).padStart(2, '0') + b.toString('hex');
  };

  it('is advertised under Kafka key 60 and asks native Metadata for no topics', () => {
    expect(kafkaApis.get(60)).toBe(describeClusterApi);
    expect(describeClusterApi.apiKey).toBe(3);
    const req = readRequest(describeClusterApi, 0, hex('00 00'));
    expect(req).toEqual({ includeClusterAuthorizedOperations: false, endpointType: 1 });
    expect(describeClusterApi.toNative?.(req, 0)).toEqual({ topics: [], allowAutoTopicCreation: false });
  });

  it('lays out v0 and v1 as the protocol guide says (flexible: compact strings and arrays, tagged fields)', () => {
    const v0 = readRequest(describeClusterApi, 0, hex('01 00'));
    expect(v0).toEqual({ includeClusterAuthorizedOperations: true, endpointType: 1 });
    const broker = `00000001 ${cs('h1')} 00004a39 00 00`;
    expect(writeResponse(describeClusterApi, 0, native, v0).toString('hex')).toBe(
      hex(`00000000 0000 00 ${cs(clusterId)} 00000001 02 ${broker} 80000000 00`).toString('hex'),
    );
    const v1 = readRequest(describeClusterApi, 1, hex('00 01 00'));
    expect(v1).toEqual({ includeClusterAuthorizedOperations: false, endpointType: 1 });
    expect(writeResponse(describeClusterApi, 1, native, v1).toString('hex')).toBe(
      hex(`00000000 0000 00 01 ${cs(clusterId)} 00000001 02 ${broker} 80000000 00`).toString('hex'),
    );
  });

  it('refuses controller endpoints (v1 type 2) and passes a request-level error on', () => {
    const controllers = readRequest(describeClusterApi, 1, hex('00 02 00'));
    expect(describeClusterApi.fromNative(native, controllers, 1, kafkaEnv)).toMatchObject({
      errorCode: WireError.UNSUPPORTED_VERSION,
      endpointType: 2,
      brokers: [],
    });
    const req = readRequest(describeClusterApi, 0, hex('00 00'));
    expect(describeClusterApi.fromNative({ errorCode: 42, errorMessage: 'bad' }, req, 0, kafkaEnv)).toMatchObject({
      errorCode: 42,
      errorMessage: 'bad',
      clusterId: '',
      brokers: [],
    });
  });
});

describe('transaction APIs (24-26, 65, 66)', () => {
  it('reads kafkajs AddPartitionsToTxn v0/v1 and answers partition by partition, INVALID_PRODUCER_EPOCH for PRODUCER_FENCED before v2', async () => {
    for (const v of [0, 1]) {
      const req = await fromKafkajs(addPartitionsToTxnApi, 'addPartitionsToTxn', v, {
        transactionalId: 'tx',
        producerId: 7,
        producerEpoch: 3,
        topics: [{ topic: 't', partitions: [0, 2] }],
      });
      expect(req).toEqual({
        transactionalId: 'tx',
        producerId: 7,
        producerEpoch: 3,
        topics: [{ name: 't', partitions: [0, 2] }],
      });
      expect(addPartitionsToTxnApi.toNative?.(req, v)).toEqual(req);
      const ok = {
        errorCode: 0,
        results: [
          {
            name: 't',
            partitions: [
              { partition: 0, errorCode: 0 },
              { partition: 2, errorCode: 0 },
            ],
          },
        ],
      };
      expect(await toKafkajs(addPartitionsToTxnApi, 'addPartitionsToTxn', v, ok, req)).toMatchObject({
        errors: [
          {
            topic: 't',
            partitionErrors: [
              { partition: 0, errorCode: 0 },
              { partition: 2, errorCode: 0 },
            ],
          },
        ],
      });
      const fenced = addPartitionsToTxnApi.fromNative({ errorCode: WireError.PRODUCER_FENCED }, req, v, kafkaEnv);
      expect(fenced.results[0]?.results.map((r) => r.partitionErrorCode)).toEqual([47, 47]);
    }
    const req = { transactionalId: 'tx', producerId: 7, producerEpoch: 3, topics: [{ name: 't', partitions: [0] }] };
    const v3 = addPartitionsToTxnApi.fromNative({ errorCode: WireError.PRODUCER_FENCED }, req, 3, kafkaEnv);
    expect(v3.results[0]?.results[0]?.partitionErrorCode).toBe(WireError.PRODUCER_FENCED);
  });

  it('reads kafkajs AddOffsetsToTxn and EndTxn v0/v1 and maps PRODUCER_FENCED by version', async () => {
    for (const v of [0, 1]) {
      const add = await fromKafkajs(addOffsetsToTxnApi, 'addOffsetsToTxn', v, {
        transactionalId: 'tx',
        producerId: 7,
        producerEpoch: 3,
        groupId: 'g',
      });
      expect(add).toEqual({ transactionalId: 'tx', producerId: 7, producerEpoch: 3, groupId: 'g' });
      expect(await toKafkajs(addOffsetsToTxnApi, 'addOffsetsToTxn', v, { errorCode: 0 }, add)).toMatchObject({
        errorCode: 0,
      });
      const end = await fromKafkajs(endTxnApi, 'endTxn', v, {
        transactionalId: 'tx',
        producerId: 7,
        producerEpoch: 3,
        transactionResult: true,
      });
      expect(end).toEqual({ transactionalId: 'tx', producerId: 7, producerEpoch: 3, committed: true });
      expect(await toKafkajs(endTxnApi, 'endTxn', v, { errorCode: 0 }, end)).toMatchObject({ errorCode: 0 });
      expect(endTxnApi.fromNative({ errorCode: WireError.PRODUCER_FENCED }, end, v, kafkaEnv).errorCode).toBe(47);
    }
    const end = { transactionalId: 'tx', producerId: 7, producerEpoch: 3, committed: false };
    expect(endTxnApi.fromNative({ errorCode: WireError.PRODUCER_FENCED }, end, 2, kafkaEnv).errorCode).toBe(90);
    expect(
      initProducerIdApi.fromNative(
        { errorCode: WireError.PRODUCER_FENCED },
        { transactionalId: 'tx', transactionTimeoutMs: 1, producerId: 1, producerEpoch: 0 },
        3,
        kafkaEnv,
      ).errorCode,
    ).toBe(47);
    expect(
      initProducerIdApi.fromNative(
        { errorCode: WireError.PRODUCER_FENCED },
        { transactionalId: 'tx', transactionTimeoutMs: 1, producerId: 1, producerEpoch: 0 },
        4,
        kafkaEnv,
      ).errorCode,
    ).toBe(90);
  });

  it('passes KIP-360 producer id and epoch on from InitProducerId v3+', () => {
    const req = { transactionalId: 'tx', transactionTimeoutMs: 1000, producerId: 5, producerEpoch: 2 };
    expect(initProducerIdApi.toNative?.(req, 3)).toEqual(req);
    expect(initProducerIdApi.toNative?.(req, 2)).toEqual({ transactionalId: 'tx', transactionTimeoutMs: 1000 });
  });

  it('answers DescribeTransactions and ListTransactions, spreading a request-level error over every id', () => {
    const req = { transactionalIds: ['a', 'b'] };
    const described = describeTransactionsApi.fromNative(
      {
        errorCode: 0,
        transactionStates: [
          {
            errorCode: 0,
            transactionalId: 'a',
            transactionState: 'Ongoing',
            transactionTimeoutMs: 60_000,
            transactionStartTimeMs: 1234,
            producerId: 9,
            producerEpoch: 1,
            topics: [{ name: 't', partitions: [0, 1] }],
          },
        ],
      },
      req,
      0,
      kafkaEnv,
    );
    expect(described.transactionStates[0]).toMatchObject({
      transactionalId: 'a',
      topics: [{ topic: 't', partitions: [0, 1] }],
    });
    const refused = describeTransactionsApi.fromNative({ errorCode: 42 }, req, 0, kafkaEnv);
    expect(refused.transactionStates.map((s) => [s.transactionalId, s.errorCode])).toEqual([
      ['a', 42],
      ['b', 42],
    ]);
    const listed = listTransactionsApi.fromNative(
      { errorCode: 16 },
      { stateFilters: [], producerIdFilters: [] },
      0,
      kafkaEnv,
    );
    expect(listed).toEqual({ throttleTimeMs: 0, errorCode: 16, unknownStateFilters: [], transactionStates: [] });
  });
});
