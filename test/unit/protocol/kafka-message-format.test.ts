/**
 * Produce v2 and Fetch v2-v3 (message format v0/v1) through the Kafka
 * adapters, against kafkajs 2.2.4's own encoders and decoders: kafkajs writes
 * Produce v2 as magic-1 message sets (plain, or one gzip wrapper), which the
 * adapter hands to the native handler as one RecordBatch v2; the adapter's
 * Fetch v2/v3 answers (stored v2 batches down-converted) are read back by
 * kafkajs's message set decoder, every byte consumed.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import type { KafkaApi, NativeResult } from '../../../src/protocol/kafka/api.js';
import { fetchApi } from '../../../src/protocol/kafka/apis/fetch.js';
import { listOffsetsApi } from '../../../src/protocol/kafka/apis/list-offsets.js';
import { produceApi } from '../../../src/protocol/kafka/apis/produce.js';
import { kafkaEnv } from '../../../src/protocol/kafka/registry.js';
import { Compression, compressionOf } from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { kafkajsRequest, kafkajsResponse } from '../../helpers/kafkajs-protocol.js';

const ctx = <Req, Res>(api: KafkaApi<Req, Res>, version: number) => ({
  version,
  flexible: version >= api.flexibleFrom,
});

async function fromKafkajs<Req, Res>(api: KafkaApi<Req, Res>, name: string, version: number, args: object) {
  const { apiVersion, body } = await kafkajsRequest(name, version, args);
  expect(apiVersion).toBe(version);
  const r = new KafkaReader(body);
  const req = api.request.read(r, ctx(api, version));
  expect(r.remaining).toBe(0);
  return req;
}

async function toKafkajs<Req, Res>(
  api: KafkaApi<Req, Res>,
  name: string,
  version: number,
  native: NativeResult,
  req: Req,
): Promise<Record<string, unknown>> {
  const w = new KafkaWriter();
  api.response.write(w, api.fromNative(native, req, version, kafkaEnv), ctx(api, version));
  const body = w.toBuffer();
  const { decoded, consumed } = await kafkajsResponse(name, version, body);
  expect(consumed).toBe(body.length);
  return decoded;
}

const t0 = 1_700_000_000_000;

describe('Produce v2 (message format v1)', () => {
  const messages = [
    { key: 'k1', value: 'one', timestamp: t0 },
    { key: null, value: 'two'.repeat(20), timestamp: t0 + 7 },
  ];

  for (const [label, compression] of [
    ['plain', 0],
    ['gzip', 1],
  ] as const) {
    it(`converts kafkajs's ${label} message set to one RecordBatch v2 for the native handler`, async () => {
      const req = await fromKafkajs(produceApi, 'produce', 2, {
        acks: -1,
        timeout: 1500,
        compression,
        topicData: [{ topic: 't', partitions: [{ partition: 3, messages }] }],
      });
      expect(req.transactionalId).toBeNull();
      const native = produceApi.toNative?.(req, 2);
      const batch = native?.topics[0]?.partitions[0]?.records as Buffer;
      expect(native).toMatchObject({
        acks: -1,
        timeoutMs: 1500,
        topics: [{ name: 't', partitions: [{ partition: 3 }] }],
      });
      expect(batch[16]).toBe(2);
      expect(compressionOf(batch, 0)).toBe(compression === 1 ? Compression.gzip : Compression.none);
      expect(
        decodeBatchRecords(batch).map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString()]),
      ).toEqual([
        [0, t0, 'k1', 'one'],
        [1, t0 + 7, null, 'two'.repeat(20)],
      ]);
    });
  }

  it("converts kafkajs's v0 and v1 requests (magic 0), and answers them as kafkajs reads them", async () => {
    const answer = {
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [{ partition: 3, errorCode: 0, baseOffset: 9, logAppendTimeMs: -1, logStartOffset: 0 }],
        },
      ],
    };
    for (const v of [0, 1]) {
      const req = await fromKafkajs(produceApi, 'produce', v, {
        acks: 1,
        timeout: 1500,
        topicData: [{ topic: 't', partitions: [{ partition: 3, messages }] }],
      });
      const batch = produceApi.toNative?.(req, v)?.topics[0]?.partitions[0]?.records as Buffer;
      expect(
        decodeBatchRecords(batch).map((r) => [r.timestamp, r.key?.toString() ?? null, r.value?.toString()]),
      ).toEqual([
        // kafkajs writes magic 0 in both: no timestamps (-1, as Kafka stores them)
        [-1, 'k1', 'one'],
        [-1, null, 'two'.repeat(20)],
      ]);
      const decoded = await toKafkajs(produceApi, 'produce', v, answer, req);
      expect(decoded).toMatchObject({
        topics: [{ topicName: 't', partitions: [{ partition: 3, errorCode: 0, offset: '9' }] }],
      });
      if (v === 1) expect(decoded).toMatchObject({ throttleTime: 0 });
    }
  });

  it('answers v2 as kafkajs reads it, with a partition whose messages do not convert refused alone', async () => {
    const req = await fromKafkajs(produceApi, 'produce', 2, {
      acks: 1,
      timeout: 1500,
      topicData: [
        {
          topic: 't',
          partitions: [
            { partition: 0, messages },
            { partition: 1, messages },
          ],
        },
        { topic: 'u', partitions: [{ partition: 0, messages }] },
      ],
    });
    // partition t-1's last byte flipped: its CRC no longer matches
    const bad = req.topics[0]?.partitions[1]?.records as Buffer;
    const corrupted = Buffer.from(bad);
    corrupted.writeUInt8(corrupted.readUInt8(corrupted.length - 1) ^ 1, corrupted.length - 1);
    (req.topics[0]?.partitions[1] as { records: Buffer }).records = corrupted;
    // topic u's only partition: a v2 batch where a message set belongs
    (req.topics[1]?.partitions[0] as { records: Buffer }).records = encodeRecordBatch([{ value: Buffer.from('x') }]);
    const native = produceApi.toNative?.(req, 2);
    expect(native?.topics.map((t) => [t.name, t.partitions.map((p) => p.partition)])).toEqual([['t', [0]]]);
    const answer = {
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [{ partition: 0, errorCode: 0, baseOffset: 42, logAppendTimeMs: -1, logStartOffset: 0 }],
        },
      ],
    };
    expect(await toKafkajs(produceApi, 'produce', 2, answer, req)).toEqual({
      topics: [
        {
          topicName: 't',
          partitions: [
            { partition: 0, errorCode: 0, offset: '42', timestamp: '-1' },
            { partition: 1, errorCode: WireError.CORRUPT_MESSAGE, offset: '-1', timestamp: '-1' },
          ],
        },
        {
          topicName: 'u',
          partitions: [{ partition: 0, errorCode: WireError.INVALID_RECORD, offset: '-1', timestamp: '-1' }],
        },
      ],
      throttleTime: 0,
    });
  });
});

describe('Fetch v2 and v3 (message format v1)', () => {
  const plain = encodeRecordBatch(
    [
      {
        key: Buffer.from('k'),
        value: Buffer.from('p0'),
        timestamp: t0,
        headers: [{ key: 'h', value: Buffer.from('x') }],
      },
      { value: Buffer.from('p1'), timestamp: t0 + 1 },
    ],
    { baseOffset: 5 },
  );
  const gzipped = encodeRecordBatch(
    [
      { value: Buffer.from('g0'), timestamp: t0 + 2 },
      { value: Buffer.from('g1'), timestamp: t0 + 3 },
    ],
    { baseOffset: 7, compression: Compression.gzip },
  );
  const native = {
    errorCode: 0,
    topics: [
      {
        name: 't',
        partitions: [
          { partition: 0, errorCode: 0, highWatermark: 9, logStartOffset: 0, records: Buffer.concat([plain, gzipped]) },
          {
            partition: 1,
            errorCode: WireError.NOT_LEADER_OR_FOLLOWER,
            highWatermark: -1,
            logStartOffset: -1,
            records: Buffer.alloc(0),
          },
        ],
      },
    ],
  };

  it('reads kafkajs v2 and v3 requests', async () => {
    const topics = [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '6', maxBytes: 4096 }] }];
    const v2 = await fromKafkajs(fetchApi, 'fetch', 2, { replicaId: -1, maxWaitTime: 100, minBytes: 1, topics });
    expect(v2).toMatchObject({
      maxWaitMs: 100,
      maxBytes: 0x7fffffff,
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 6 }] }],
    });
    const v3 = await fromKafkajs(fetchApi, 'fetch', 3, {
      replicaId: -1,
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: 999,
      topics,
    });
    expect(fetchApi.toNative?.(v3, 3)).toEqual({
      replicaId: -1,
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 999,
      // KIP-110: a fetch below v10 cannot read a topic stored in zstd
      zstdReadable: false,
      topics: [{ name: 't', partitions: [{ partition: 0, fetchOffset: 6, partitionMaxBytes: 4096 }] }],
    });
  });

  it('answers with magic 1 message sets kafkajs decodes: records from the fetch offset, gzip wrapper offsets resolved', async () => {
    for (const v of [2, 3]) {
      const req = await fromKafkajs(fetchApi, 'fetch', v, {
        replicaId: -1,
        maxWaitTime: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [
          {
            topic: 't',
            partitions: [
              { partition: 0, fetchOffset: '6', maxBytes: 1 << 20 },
              { partition: 1, fetchOffset: '0', maxBytes: 100 },
            ],
          },
        ],
      });
      const decoded = (await toKafkajs(fetchApi, 'fetch', v, native, req)) as {
        responses: { partitions: { partition: number; errorCode: number; messages: Record<string, unknown>[] }[] }[];
      };
      const [p0, p1] = decoded.responses[0]?.partitions ?? [];
      expect(p0?.errorCode).toBe(0);
      expect(p0?.messages.map((m) => [m.offset, m.magicByte, String(m.timestamp), m.value?.toString()])).toEqual([
        ['6', 1, String(t0 + 1), 'p1'],
        ['7', 1, String(t0 + 2), 'g0'],
        ['8', 1, String(t0 + 3), 'g1'],
      ]);
      expect(p1).toMatchObject({ partition: 1, errorCode: WireError.NOT_LEADER_OR_FOLLOWER, messages: [] });
    }
  });

  it("keeps v3's request max bytes: the first batch always, then only what fits", async () => {
    const req = await fromKafkajs(fetchApi, 'fetch', 3, {
      replicaId: -1,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 10,
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '5', maxBytes: 1 << 20 }] }],
    });
    const decoded = (await toKafkajs(fetchApi, 'fetch', 3, native, req)) as {
      responses: { partitions: { messages: { offset: string }[] }[] }[];
    };
    expect(decoded.responses[0]?.partitions[0]?.messages.map((m) => m.offset)).toEqual(['5', '6']);
  });
});

describe('Fetch v0 and v1 (message format v0) and ListOffsets v0', () => {
  const stored = Buffer.concat([
    encodeRecordBatch(
      [
        { key: Buffer.from('k'), value: Buffer.from('a'), timestamp: t0 },
        { value: Buffer.from('b'), timestamp: t0 + 1 },
      ],
      { baseOffset: 0 },
    ),
    encodeRecordBatch(
      [
        { value: Buffer.from('c'), timestamp: t0 + 2 },
        { value: Buffer.from('d'), timestamp: t0 + 3 },
      ],
      { baseOffset: 2, compression: Compression.gzip },
    ),
  ]);
  const native = {
    errorCode: 0,
    topics: [
      { name: 't', partitions: [{ partition: 0, errorCode: 0, highWatermark: 4, logStartOffset: 0, records: stored }] },
    ],
  };

  it('answers magic 0 messages (no timestamps; absolute inner offsets in a gzip wrapper) that kafkajs decodes', async () => {
    for (const v of [0, 1]) {
      const req = await fromKafkajs(fetchApi, 'fetch', v, {
        replicaId: -1,
        maxWaitTime: 0,
        minBytes: 1,
        topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '1', maxBytes: 1 << 20 }] }],
      });
      const decoded = (await toKafkajs(fetchApi, 'fetch', v, native, req)) as {
        responses: { partitions: { messages: Record<string, unknown>[] }[] }[];
      };
      expect(
        decoded.responses[0]?.partitions[0]?.messages.map((m) => [m.offset, m.magicByte, m.value?.toString()]),
      ).toEqual([
        ['1', 0, 'b'],
        ['2', 0, 'c'],
        ['3', 0, 'd'],
      ]);
    }
  });

  it('reads a kafkajs v0 ListOffsets request and answers the offset found as a one-element list', async () => {
    const req = await fromKafkajs(listOffsetsApi, 'listOffsets', 0, {
      replicaId: -1,
      topics: [
        {
          topic: 't',
          partitions: [
            { partition: 0, timestamp: -1 },
            { partition: 1, timestamp: 42 },
          ],
        },
      ],
    });
    expect(req.topics[0]?.partitions.map((p) => [p.partitionIndex, p.timestamp, p.maxNumOffsets])).toEqual([
      [0, -1, 1],
      [1, 42, 1],
    ]);
    const answer = {
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partition: 0, errorCode: 0, timestamp: -1, offset: 17 },
            // nothing at or after the time
            { partition: 1, errorCode: 0, timestamp: -1, offset: 17 },
          ],
        },
      ],
    };
    expect(await toKafkajs(listOffsetsApi, 'listOffsets', 0, answer, req)).toEqual({
      responses: [
        {
          topic: 't',
          partitions: [
            { partition: 0, errorCode: 0, offsets: ['17'] },
            { partition: 1, errorCode: 0, offsets: [] },
          ],
        },
      ],
    });
    expect(await toKafkajs(listOffsetsApi, 'listOffsets', 0, { errorCode: 3 }, req)).toMatchObject({
      responses: [
        {
          topic: 't',
          partitions: [
            { partition: 0, errorCode: 3, offsets: [] },
            { partition: 1, errorCode: 3, offsets: [] },
          ],
        },
      ],
    });
  });
});
