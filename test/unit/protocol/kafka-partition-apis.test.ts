/**
 * CreatePartitions (37, v0-v3) and DeleteRecords (21, v0-v2) on the Kafka
 * listener: the classic versions against kafkajs 2.2.4's encoders and
 * decoders (an independent implementation), the flexible ones (KIP-482,
 * which kafkajs lacks) against bytes laid out by hand from the protocol
 * guide's schemas (CreatePartitionsRequest/Response v2+, DeleteRecords v2).
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import type { KafkaApi, NativeResult } from '../../../src/protocol/kafka/api.js';
import { createPartitionsApi } from '../../../src/protocol/kafka/apis/create-partitions.js';
import { deleteRecordsApi } from '../../../src/protocol/kafka/apis/delete-records.js';
import { kafkaApis, kafkaEnv } from '../../../src/protocol/kafka/registry.js';
import { kafkajsRequest, kafkajsResponse } from '../../helpers/kafkajs-protocol.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const at = <Req, Res>(api: KafkaApi<Req, Res>, version: number) => ({ version, flexible: version >= api.flexibleFrom });

function readRequest<Req, Res>(api: KafkaApi<Req, Res>, version: number, body: Buffer): Req {
  const r = new KafkaReader(body);
  const req = api.request.read(r, at(api, version));
  expect(r.remaining).toBe(0);
  return req;
}

function writeResponse<Req, Res>(api: KafkaApi<Req, Res>, version: number, native: NativeResult, req: Req): Buffer {
  const w = new KafkaWriter();
  api.response.write(w, api.fromNative(native, req, version, kafkaEnv), at(api, version));
  return w.toBuffer();
}

describe('CreatePartitions (37)', () => {
  it('is advertised as v0-v3, flexible from v2', () => {
    expect(kafkaApis.get(37)).toBe(createPartitionsApi);
    expect([createPartitionsApi.minVersion, createPartitionsApi.maxVersion, createPartitionsApi.flexibleFrom]).toEqual([
      0, 3, 2,
    ]);
  });

  for (const version of [0, 1]) {
    it(`v${version}: reads kafkajs's request and writes a response kafkajs reads to its end`, async () => {
      const { apiKey, apiVersion, body } = await kafkajsRequest('createPartitions', version, {
        topicPartitions: [
          { topic: 'grow', count: 6 },
          { topic: 'manual', count: 3, assignments: [[1, 2]] },
        ],
        validateOnly: true,
        timeout: 1234,
      });
      expect([apiKey, apiVersion]).toEqual([37, version]);
      const req = readRequest(createPartitionsApi, version, body);
      expect(req.topics.map((t) => [t.name, t.count, t.assignments])).toEqual([
        ['grow', 6, null],
        ['manual', 3, [{ brokerIds: [1, 2] }]],
      ]);
      // a manual assignment is refused, not passed on
      expect(createPartitionsApi.toNative?.(req, version)).toEqual({
        topics: [{ name: 'grow', count: 6 }],
        timeoutMs: 1234,
        validateOnly: true,
      });
      const native = {
        errorCode: 0,
        topics: [{ name: 'grow', errorCode: WireError.INVALID_PARTITIONS, errorMessage: 'no' }],
      };
      const out = writeResponse(createPartitionsApi, version, native, req);
      const { decoded, consumed } = await kafkajsResponse<{ topicErrors: { topic: string; errorCode: number }[] }>(
        'createPartitions',
        version,
        out,
      );
      expect(consumed).toBe(out.length);
      expect(decoded.topicErrors.map((t) => [t.topic, t.errorCode])).toEqual([
        ['grow', WireError.INVALID_PARTITIONS],
        ['manual', WireError.INVALID_REQUEST],
      ]);
      const r = new KafkaReader(out);
      const res = createPartitionsApi.response.read(r, at(createPartitionsApi, version));
      expect(r.remaining).toBe(0);
      expect(res.results.map((t) => [t.name, t.errorCode])).toEqual([
        ['grow', WireError.INVALID_PARTITIONS],
        ['manual', WireError.INVALID_REQUEST],
      ]);
    });
  }

  it('v0: a success is what kafkajs decodes as no topic errors', async () => {
    const req = readRequest(createPartitionsApi, 0, hex('00000001 0001 74 00000003 ffffffff 000003e8 00'));
    const out = writeResponse(createPartitionsApi, 0, { errorCode: 0, topics: [{ name: 't', errorCode: 0 }] }, req);
    expect(out.toString('hex')).toBe(hex('00000000 00000001 000174 0000 ffff').toString('hex'));
    const { decoded, consumed } = await kafkajsResponse<{ topicErrors: { errorCode: number }[] }>(
      'createPartitions',
      0,
      out,
    );
    expect(consumed).toBe(out.length);
    expect(decoded.topicErrors).toEqual([expect.objectContaining({ topic: 't', errorCode: 0 })]);
  });

  for (const version of [2, 3]) {
    it(`v${version} (flexible): compact strings and arrays, a null assignments array, tagged fields`, () => {
      // topics [ "t" count 3 assignments null {} ] timeout 1000 validateOnly true {}
      const req = readRequest(createPartitionsApi, version, hex('02 0274 00000003 00 00 000003e8 01 00'));
      expect(req).toEqual({
        topics: [{ name: 't', count: 3, assignments: null }],
        timeoutMs: 1000,
        validateOnly: true,
      });
      const manual = readRequest(
        createPartitionsApi,
        version,
        hex('02 0275 00000002 02 03 00000001 00000002 00 00 000003e8 00 00'),
      );
      expect(manual.topics[0]?.assignments).toEqual([{ brokerIds: [1, 2] }]);
      const native = {
        errorCode: 0,
        topics: [{ name: 't', errorCode: WireError.INVALID_PARTITIONS, errorMessage: 'm' }],
      };
      // throttle 0, results [ "t" error 37 message "m" {} ] {}
      expect(writeResponse(createPartitionsApi, version, native, req).toString('hex')).toBe(
        hex('00000000 02 0274 0025 026d 00 00').toString('hex'),
      );
      expect(
        writeResponse(
          createPartitionsApi,
          version,
          { errorCode: 0, topics: [{ name: 't', errorCode: 0 }] },
          req,
        ).toString('hex'),
      ).toBe(hex('00000000 02 0274 0000 00 00 00').toString('hex'));
    });
  }

  it('answers every topic when the request failed as a whole', () => {
    const req = readRequest(createPartitionsApi, 2, hex('02 0274 00000003 00 00 000003e8 00 00'));
    expect(
      createPartitionsApi.fromNative({ errorCode: WireError.INVALID_REQUEST, errorMessage: 'bad' }, req, 2, kafkaEnv),
    ).toEqual({
      throttleTimeMs: 0,
      results: [{ name: 't', errorCode: WireError.INVALID_REQUEST, errorMessage: 'bad' }],
    });
  });
});

describe('DeleteRecords (21)', () => {
  it('is advertised as v0-v2, flexible from v2', () => {
    expect(kafkaApis.get(21)).toBe(deleteRecordsApi);
    expect([deleteRecordsApi.minVersion, deleteRecordsApi.maxVersion, deleteRecordsApi.flexibleFrom]).toEqual([
      0, 2, 2,
    ]);
  });

  for (const version of [0, 1]) {
    it(`v${version}: reads kafkajs's request and writes a response kafkajs reads to its end`, async () => {
      const args = {
        topics: [
          {
            topic: 'trim',
            partitions: [
              { partition: 0, offset: '7' },
              { partition: 2, offset: '-1' },
            ],
          },
        ],
        timeout: 999,
      };
      const { apiKey, apiVersion, body } = await kafkajsRequest('deleteRecords', version, args);
      expect([apiKey, apiVersion]).toEqual([21, version]);
      const req = readRequest(deleteRecordsApi, version, body);
      expect(deleteRecordsApi.toNative?.(req, version)).toEqual({
        topics: [
          {
            name: 'trim',
            partitions: [
              { partition: 0, offset: 7 },
              { partition: 2, offset: -1 },
            ],
          },
        ],
        timeoutMs: 999,
      });
      const native = {
        errorCode: 0,
        topics: [
          {
            name: 'trim',
            partitions: [
              { partition: 0, errorCode: 0, lowWatermark: 7 },
              { partition: 2, errorCode: 0, lowWatermark: 12 },
            ],
          },
        ],
      };
      const out = writeResponse(deleteRecordsApi, version, native, req);
      const { decoded, consumed } = await kafkajsResponse<{ topics: { partitions: unknown[] }[] }>(
        'deleteRecords',
        version,
        out,
        args,
      );
      expect(consumed).toBe(out.length);
      expect(decoded.topics[0]?.partitions).toEqual([
        expect.objectContaining({ partition: 0, lowWatermark: 7n, errorCode: 0 }),
        expect.objectContaining({ partition: 2, lowWatermark: 12n, errorCode: 0 }),
      ]);
    });
  }

  it('v2 (flexible): compact strings and arrays, tagged fields at every level', () => {
    // topics [ "t" partitions [ 0 offset 5 {} ] {} ] timeout 1000 {}
    const req = readRequest(deleteRecordsApi, 2, hex('02 0274 02 00000000 0000000000000005 00 00 000003e8 00'));
    expect(req).toEqual({ topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 5 }] }], timeoutMs: 1000 });
    const native = {
      errorCode: 0,
      topics: [{ name: 't', partitions: [{ partition: 0, errorCode: 0, lowWatermark: 5 }] }],
    };
    // throttle 0, topics [ "t" partitions [ 0 lowWatermark 5 error 0 {} ] {} ] {}
    expect(writeResponse(deleteRecordsApi, 2, native, req).toString('hex')).toBe(
      hex('00000000 02 0274 02 00000000 0000000000000005 0000 00 00 00').toString('hex'),
    );
  });

  it('spreads a request-level failure over every partition, with low watermark -1', () => {
    const req = readRequest(deleteRecordsApi, 2, hex('02 0274 02 00000000 0000000000000005 00 00 000003e8 00'));
    expect(deleteRecordsApi.fromNative({ errorCode: WireError.INVALID_REQUEST }, req, 2, kafkaEnv)).toEqual({
      throttleTimeMs: 0,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, lowWatermark: -1, errorCode: WireError.INVALID_REQUEST }] },
      ],
    });
  });
});
