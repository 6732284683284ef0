/**
 * The flexible (KIP-482) versions of the data-path APIs — Produce v9, Fetch
 * v12, Metadata v9-v12, ListOffsets v6-v7 — checked against bytes laid out by
 * hand from Kafka's message schemas (clients/src/main/resources/common/message/
 * *Request.json, *Response.json): compact strings, bytes and arrays (length + 1
 * as an unsigned varint), a tagged-field section closing every struct, request
 * header v2 and response header v1. kafkajs 2.2.4 speaks none of these versions.
 * Every request body must be read to its last byte.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import { zeroUuid } from '../../../src/protocol/binary/schema.js';
import type { KafkaApi, NativeResult } from '../../../src/protocol/kafka/api.js';
import { fetchApi } from '../../../src/protocol/kafka/apis/fetch.js';
import { listOffsetsApi } from '../../../src/protocol/kafka/apis/list-offsets.js';
import { metadataApi } from '../../../src/protocol/kafka/apis/metadata.js';
import { produceApi } from '../../../src/protocol/kafka/apis/produce.js';
import { decodeKafkaRequest, encodeKafkaResponse } from '../../../src/protocol/kafka/codec.js';
import { kafkaEnv } from '../../../src/protocol/kafka/registry.js';
import { kafkaCodec } from '../../../src/server/kafka-codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const clean = (s: string): string => s.replace(/\s+/g, '');
/** A classic string: int16 length, UTF-8 bytes. */
const s = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  return b.length.toString(16).padStart(4, '0') + b.toString('hex');
};
/** A compact string: unsigned varint length + 1 (one byte for these short ones), UTF-8 bytes. */
const cs = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  return (b.length + 1).toString(16).padStart(2, '0') + b.toString('hex');
};
/** A topic id: 16 bytes, here 00 01 02 … 0f; and its Kafka string form. */
const idHex = '000102030405060708090a0b0c0d0e0f';
const id = hex(idHex).toString('base64url');

function readRequest<Req, Res>(api: KafkaApi<Req, Res>, version: number, body: Buffer): Req {
  const r = new KafkaReader(body);
  const req = api.request.read(r, { version, flexible: version >= api.flexibleFrom });
  expect(r.remaining).toBe(0);
  return req;
}

function writeResponse<Req, Res>(api: KafkaApi<Req, Res>, version: number, native: NativeResult, req: Req): string {
  const w = new KafkaWriter();
  api.response.write(w, api.fromNative(native, req, version, kafkaEnv), {
    version,
    flexible: version >= api.flexibleFrom,
  });
  return w.toBuffer().toString('hex');
}

describe('topic ids (uuid)', () => {
  it('reads and writes 16 bytes as 22 characters of base64url; anything else is written as the zero UUID', () => {
    expect(id).toHaveLength(22);
    expect(new KafkaReader(hex(idHex)).uuid()).toBe(id);
    expect(new KafkaWriter().uuid(id).toBuffer().toString('hex')).toBe(idHex);
    expect(new KafkaWriter().uuid('').toBuffer().toString('hex')).toBe('00'.repeat(16));
    expect(new KafkaReader(Buffer.alloc(16)).uuid()).toBe(zeroUuid);
  });
});

describe('Produce v9', () => {
  const native = {
    errorCode: 0,
    topics: [
      {
        name: 't',
        partitions: [{ partition: 2, errorCode: 0, baseOffset: 42, logAppendTimeMs: -1, logStartOffset: 7 }],
      },
    ],
  };

  it('reads a flexible request and answers a flexible response', () => {
    // transactional id null, acks 1, timeout 1500, [t: [2: records 010203]]; a tagged field closes each struct
    const req = readRequest(produceApi, 9, hex(`00 0001 000005dc 02 ${cs('t')} 02 00000002 04 010203 00 00 00`));
    expect(req).toEqual({
      transactionalId: null,
      acks: 1,
      timeoutMs: 1500,
      topics: [{ name: 't', partitions: [{ index: 2, records: hex('010203') }] }],
    });
    expect(writeResponse(produceApi, 9, native, req)).toBe(
      clean(`
        02 ${cs('t')}
          02 00000002 0000 000000000000002a ffffffffffffffff 0000000000000007 01 00 00
          00
        00000000 00`),
    );
  });
});

describe('Fetch v12', () => {
  it('reads a flexible request with the last fetched epoch, skipping an unknown tagged field', () => {
    const req = readRequest(
      fetchApi,
      12,
      hex(`
        ffffffff 000001f4 00000001 00010000 01 00000000 ffffffff
        02 ${cs('t')}
          02 00000001 00000004 0000000000000005 00000003 ffffffffffffffff 00001000 00
          00
        02 ${cs('old')} 03 00000000 00000003 00
        ${cs('r1')}
        01 00 02 02${Buffer.from('A').toString('hex')}`),
    );
    expect(req).toEqual({
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
              currentLeaderEpoch: 4,
              fetchOffset: 5,
              lastFetchedEpoch: 3,
              logStartOffset: -1,
              partitionMaxBytes: 4096,
            },
          ],
        },
      ],
      forgottenTopicsData: [{ topic: 'old', topicId: zeroUuid, partitions: [0, 3] }],
      rackId: 'r1',
    });
    expect(fetchApi.toNative?.(req, 12)).toEqual({
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 65536,
      zstdReadable: true,
      // the request's isolation_level 1 (read_committed) reaches the handler (KIP-98)
      isolationLevel: 1,
      topics: [{ name: 't', partitions: [{ partition: 1, fetchOffset: 5, partitionMaxBytes: 4096 }] }],
    });
  });

  it('answers with compact records and no tagged fields', () => {
    const req = readRequest(
      fetchApi,
      12,
      hex(`ffffffff 00000000 00000001 00010000 00 00000000 ffffffff
        02 ${cs('t')} 02 00000001 ffffffff 0000000000000005 ffffffff ffffffffffffffff 00001000 00 00 01 01 00`),
    );
    const native = {
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [{ partition: 1, errorCode: 0, highWatermark: 6, logStartOffset: 0, records: hex('abcdef') }],
        },
      ],
    };
    expect(writeResponse(fetchApi, 12, native, req)).toBe(
      clean(`
        00000000 0000 00000000
        02 ${cs('t')}
          02 00000001 0000 0000000000000006 0000000000000006 0000000000000000 01 ffffffff 04 abcdef 00
          00
        00`),
    );
    expect(writeResponse(fetchApi, 12, { errorCode: 22 }, req)).toBe(
      clean(`
        00000000 0016 00000000
        02 ${cs('t')}
          02 00000001 0016 ffffffffffffffff ffffffffffffffff ffffffffffffffff 00 ffffffff 00 00
          00
        00`),
    );
  });
});

describe('Metadata v9-v12', () => {
  const native = {
    errorCode: 0,
    brokers: [{ nodeId: 1, host: 'h1', port: 9001, kafkaPort: 19001 }],
    controllerId: 1,
    clusterId: 'c2x1aWNlLXRlc3QtY2x1cw',
    topics: [
      {
        errorCode: 0,
        name: 't',
        topicId: id,
        partitions: [{ errorCode: 0, partition: 0, leader: 1, leaderEpoch: 3, replicas: [1, 2], isr: [1] }],
      },
      {
        errorCode: 0,
        name: 'no-id',
        partitions: [],
      },
    ],
  };
  const brokers = `02 00000001 ${cs('h1')} 00004a39 00 00`;
  const topicT = `0000 ${cs('t')} ${idHex} 00
    02 0000 00000000 00000001 00000003 03 00000001 00000002 02 00000001 01 00
    80000000 00`;
  const topicNoId = `0000 ${cs('no-id')} ${'00'.repeat(16)} 00 01 80000000 00`;

  it('v9: compact strings and arrays, no topic ids', () => {
    const req = readRequest(metadataApi, 9, hex(`02 ${cs('t')} 00 01 00 00 00`));
    expect(req).toMatchObject({ topics: [{ name: 't', topicId: zeroUuid }], allowAutoTopicCreation: true });
    expect(metadataApi.toNative?.(req, 9)).toEqual({ topics: ['t'], allowAutoTopicCreation: true });
    expect(writeResponse(metadataApi, 9, { ...native, topics: native.topics.slice(0, 1) }, req)).toBe(
      clean(`00000000 ${brokers} ${cs(native.clusterId)} 00000001
        02 0000 ${cs('t')} 00
          02 0000 00000000 00000001 00000003 03 00000001 00000002 02 00000001 01 00
          80000000 00
        80000000 00`),
    );
  });

  it('v10: topic ids in the request and the response (the zero UUID for a topic without one)', () => {
    const req = readRequest(
      metadataApi,
      10,
      hex(`03 ${'00'.repeat(16)} ${cs('t')} 00 ${'00'.repeat(16)} ${cs('no-id')} 00 01 00 00 00`),
    );
    expect(metadataApi.toNative?.(req, 10)).toEqual({ topics: ['t', 'no-id'], allowAutoTopicCreation: true });
    expect(writeResponse(metadataApi, 10, native, req)).toBe(
      clean(`00000000 ${brokers} ${cs(native.clusterId)} 00000001 03 ${topicT} ${topicNoId} 80000000 00`),
    );
  });

  it('v11 and v12: no cluster authorized operations; every topic (null) asked for', () => {
    for (const v of [11, 12]) {
      const req = readRequest(metadataApi, v, hex(`00 00 00 00`));
      expect(req.topics).toBeNull();
      expect(metadataApi.toNative?.(req, v)).toEqual({ topics: null, allowAutoTopicCreation: false });
      expect(writeResponse(metadataApi, v, native, req)).toBe(
        clean(`00000000 ${brokers} ${cs(native.clusterId)} 00000001 03 ${topicT} ${topicNoId} 00`),
      );
    }
  });

  it('v12: topics asked for by id (null name); an unknown id answers UNKNOWN_TOPIC_ID with a null name', () => {
    const other = 'ffeeddccbbaa99887766554433221100';
    const req = readRequest(metadataApi, 12, hex(`03 ${idHex} 00 00 ${other} 00 00 00 00 00`));
    // every topic is asked for, none created; the ids are matched in the answer
    expect(metadataApi.toNative?.(req, 12)).toEqual({ topics: null, allowAutoTopicCreation: false });
    expect(writeResponse(metadataApi, 12, native, req)).toBe(
      clean(`00000000 ${brokers} ${cs(native.clusterId)} 00000001
        03 ${topicT} 0064 00 ${other} 00 01 80000000 00
        00`),
    );
  });

  it('v10 and v11 refuse a topic named by id (null name) with INVALID_REQUEST, as Kafka does', () => {
    const req = readRequest(metadataApi, 11, hex(`02 ${idHex} 00 00 01 00 00`));
    expect(metadataApi.toNative?.(req, 11)).toEqual({ topics: [], allowAutoTopicCreation: false });
    expect(writeResponse(metadataApi, 11, { ...native, topics: [] }, req)).toBe(
      clean(`00000000 ${brokers} ${cs(native.clusterId)} 00000001 02 002a ${cs('')} ${idHex} 00 01 80000000 00 00`),
    );
  });
});

describe('ListOffsets v6 and v7', () => {
  it('reads flexible requests, with the max-timestamp sentinel (-3), and answers them', () => {
    for (const v of [6, 7]) {
      const req = readRequest(
        listOffsetsApi,
        v,
        hex(
          `ffffffff 00 02 ${cs('t')} 03 00000000 ffffffff fffffffffffffffd 00 00000001 00000005 0000018bcfe56800 00 00 00`,
        ),
      );
      expect(req).toEqual({
        replicaId: -1,
        isolationLevel: 0,
        topics: [
          {
            name: 't',
            partitions: [
              { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3, maxNumOffsets: 1 },
              { partitionIndex: 1, currentLeaderEpoch: 5, timestamp: 1_700_000_000_000, maxNumOffsets: 1 },
            ],
          },
        ],
      });
      expect(listOffsetsApi.toNative?.(req, v)).toEqual({
        topics: [
          {
            name: 't',
            partitions: [
              { partition: 0, timestamp: -3 },
              { partition: 1, timestamp: 1_700_000_000_000 },
            ],
          },
        ],
      });
      const found = {
        errorCode: 0,
        topics: [
          {
            name: 't',
            partitions: [
              { partition: 0, errorCode: 0, timestamp: 1_700_000_000_000, offset: 42 },
              { partition: 1, errorCode: 0, timestamp: 1_700_000_000_000, offset: 7 },
            ],
          },
        ],
      };
      expect(writeResponse(listOffsetsApi, v, found, req)).toBe(
        clean(`00000000 02 ${cs('t')} 03
          00000000 0000 0000018bcfe56800 000000000000002a ffffffff 00
          00000001 0000 0000018bcfe56800 0000000000000007 ffffffff 00
          00 00`),
      );
      // nothing readable: the handler answers timestamp -1 and the log end; Kafka answers offset -1
      const none = {
        errorCode: 0,
        topics: [
          {
            name: 't',
            partitions: [
              { partition: 0, errorCode: 0, timestamp: -1, offset: 9 },
              { partition: 1, errorCode: 0, timestamp: -1, offset: 9 },
            ],
          },
        ],
      };
      expect(writeResponse(listOffsetsApi, v, none, req)).toBe(
        clean(`00000000 02 ${cs('t')} 03
          00000000 0000 ffffffffffffffff ffffffffffffffff ffffffff 00
          00000001 0000 ffffffffffffffff ffffffffffffffff ffffffff 00
          00 00`),
      );
    }
  });
});

describe('request header v2 and response header v1', () => {
  it('decodes a Metadata v12 request frame and answers with a tagged-field section after the correlation id', () => {
    // header v2: key 3, version 12, correlation id 5, client id (a classic string even here), tagged fields
    const request = decodeKafkaRequest(
      hex(`0003 000c 00000005 ${s('rdkafka')} 00 02 ${'00'.repeat(16)} ${cs('t')} 00 01 00 00`),
    );
    expect(request.api).toBe(metadataApi);
    expect(request.header).toEqual({ apiKey: 3, apiVersion: 12, correlationId: 5, clientId: 'rdkafka' });
    expect(kafkaCodec().route(request)).toEqual({ apiKey: 3, body: { topics: ['t'], allowAutoTopicCreation: true } });
    const frame = Buffer.concat(
      encodeKafkaResponse(request, { errorCode: 0, brokers: [], controllerId: -1, topics: [] }) ?? [],
    );
    const body = clean(`00000005 00 00000000 01 00 ffffffff 01 00`);
    expect(frame.toString('hex')).toBe((body.length / 2).toString(16).padStart(8, '0') + body);
  });

  it('decodes a Produce v9 and a Fetch v12 request frame with their flexible headers', () => {
    const produce = decodeKafkaRequest(
      hex(`0000 0009 00000001 ffff 00 00 ffff 000005dc 02 ${cs('t')} 02 00000000 04 010203 00 00 00`),
    );
    expect(produce.api).toBe(produceApi);
    expect(produce.body).toMatchObject({ acks: -1, topics: [{ name: 't' }] });
    const fetch = decodeKafkaRequest(
      hex(`0001 000c 00000002 ffff 00 ffffffff 00000000 00000001 00010000 00 00000000 ffffffff 01 01 01 00`),
    );
    expect(fetch.api).toBe(fetchApi);
    expect(fetch.body).toMatchObject({ topics: [], rackId: '' });
  });
});
