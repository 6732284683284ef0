/**
 * Message format v0/v1 (src/wire/message-set.ts) against messages laid out by
 * hand from Kafka's protocol guide ("Messagesets", pre-0.11 message format):
 * offset, size, CRC-32 (IEEE) over magic..value, magic, attributes,
 * timestamp (magic 1), key, value; compressed wrappers with relative inner
 * offsets (magic 1). Conversion to RecordBatch v2 on produce and back on fetch.
 */
import { crc32, gzipSync } from 'node:zlib';
import { compress as snappyCompress } from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../../src/shared/errors.js';
import { legacyMessagesMax } from '../../../src/shared/limits.js';
import { lz4EncodeFrame } from '../../../src/wire/lz4.js';
import { batchesToMessageSet, decodeMessageSet, magicOf, messageSetToBatch } from '../../../src/wire/message-set.js';
import { Compression, compressionOf, Field, producerIdOf } from '../../../src/wire/record-batch.js';
import { decodeBatchRecords, decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { xxhash32 } from '../../../src/wire/xxhash32.js';
import { initZstd, zstdCompress } from '../../../src/wire/zstd.js';

const int64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const bytes = (b: Buffer | null): Buffer => (b === null ? int32(-1) : Buffer.concat([int32(b.length), b]));

/** One message as the protocol guide lays it out. */
function message(
  offset: number,
  magic: 0 | 1,
  attributes: number,
  timestamp: number,
  key: Buffer | null,
  value: Buffer | null,
): Buffer {
  const body = Buffer.concat([
    Buffer.from([magic, attributes]),
    magic === 1 ? int64(timestamp) : Buffer.alloc(0),
    bytes(key),
    bytes(value),
  ]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([int64(offset), int32(4 + body.length), crc, body]);
}

const t0 = 1_700_000_000_000;
const b = (s: string) => Buffer.from(s);

function refusal(f: () => unknown, code: string): string {
  try {
    f();
  } catch (err) {
    if (isSluiceError(err, code as never)) return (err as Error).message;
    throw err;
  }
  throw new Error('not refused');
}

describe('produce: message sets to RecordBatch v2', () => {
  it('converts plain magic 1 messages: keys, null values, timestamps; producer id -1, uncompressed', () => {
    const set = Buffer.concat([
      message(0, 1, 0, t0, b('k1'), b('v1')),
      message(1, 1, 0, t0 + 5, null, null),
      message(7, 1, 0, t0 - 3, b(''), b('v3')),
    ]);
    expect(magicOf(set)).toBe(1);
    const { batch, sourceCodec, storedCodec } = messageSetToBatch(set);
    expect([sourceCodec, storedCodec]).toEqual([Compression.none, Compression.none]);
    expect(magicOf(batch)).toBe(2);
    expect(producerIdOf(batch, 0)).toBe(-1);
    expect(decodeBatchRecords(batch)).toEqual([
      { offset: 0, timestamp: t0, key: b('k1'), value: b('v1'), headers: [] },
      { offset: 1, timestamp: t0 + 5, key: null, value: null, headers: [] },
      { offset: 2, timestamp: t0 - 3, key: b(''), value: b('v3'), headers: [] },
    ]);
  });

  it('converts magic 0 messages (no timestamp: -1, as Kafka stores them)', () => {
    const { batch } = messageSetToBatch(
      Buffer.concat([message(0, 0, 0, 0, null, b('a')), message(0, 0, 0, 0, b('k'), b('b'))]),
    );
    expect(decodeBatchRecords(batch).map((r) => [r.timestamp, r.key?.toString() ?? null, r.value?.toString()])).toEqual(
      [
        [-1, null, 'a'],
        [-1, 'k', 'b'],
      ],
    );
  });

  it('opens gzip wrappers (relative inner offsets) and stores a gzip batch', () => {
    const inner = Buffer.concat([
      message(0, 1, 0, t0, null, b('x'.repeat(50))),
      message(1, 1, 0, t0 + 1, b('k'), b('y')),
    ]);
    const set = Buffer.concat([
      message(1, 1, Compression.gzip, t0 + 1, null, gzipSync(inner)),
      message(0, 1, 0, t0 + 2, null, b('z')),
    ]);
    const { batch, sourceCodec, storedCodec } = messageSetToBatch(set);
    expect([sourceCodec, storedCodec]).toEqual([Compression.gzip, Compression.gzip]);
    expect(compressionOf(batch, 0)).toBe(Compression.gzip);
    expect(decodeBatchRecords(batch).map((r) => [r.offset, r.timestamp, r.value?.toString()])).toEqual([
      [0, t0, 'x'.repeat(50)],
      [1, t0 + 1, 'y'],
      [2, t0 + 2, 'z'],
    ]);
  });

  it('opens snappy wrappers; the batch is stored with snappy when the compression module writes it, else uncompressed', () => {
    const inner = Buffer.concat([message(0, 1, 0, t0, null, b('s1')), message(1, 1, 0, t0, null, b('s2'))]);
    const { batch, sourceCodec, storedCodec } = messageSetToBatch(
      message(1, 1, Compression.snappy, t0, null, Buffer.from(snappyCompress(inner))),
    );
    expect(sourceCodec).toBe(Compression.snappy);
    expect([Compression.snappy, Compression.none]).toContain(storedCodec);
    expect(compressionOf(batch, 0)).toBe(storedCodec);
    expect(decodeBatchRecords(batch).map((r) => r.value?.toString())).toEqual(['s1', 's2']);
  });

  it("opens a magic 0 lz4 wrapper whose frame has Kafka's old header checksum (KAFKA-3160); magic 1 needs the right one", () => {
    const inner = Buffer.concat([message(0, 0, 0, 0, b('k'), b('v0')), message(1, 0, 0, 0, null, b('v1'))]);
    const frame = lz4EncodeFrame(inner);
    // no content size: the descriptor is bytes 4-5 and its checksum byte 6; the old one hashed the magic too
    const legacy = Buffer.from(frame);
    legacy[6] = (xxhash32(legacy.subarray(0, 6)) >>> 8) & 0xff;
    expect(legacy[6]).not.toBe(frame[6]);
    const { messages } = decodeMessageSet(message(1, 0, Compression.lz4, 0, null, legacy));
    expect(messages.map((m) => m.value?.toString())).toEqual(['v0', 'v1']);
    const innerV1 = Buffer.concat([message(0, 1, 0, t0, null, b('v0'))]);
    const legacyV1 = Buffer.from(lz4EncodeFrame(innerV1));
    legacyV1[6] = (xxhash32(legacyV1.subarray(0, 6)) >>> 8) & 0xff;
    refusal(() => decodeMessageSet(message(0, 1, Compression.lz4, t0, null, legacyV1)), 'SLUICE_ERR_CORRUPT_RECORD');
  });

  it("refuses a zstd wrapper with INVALID_RECORD, as Kafka's legacy record iterator does (zstd needs message format v2)", async () => {
    await initZstd();
    for (const magic of [0, 1] as const) {
      const inner = message(0, magic, 0, t0, null, b('z'));
      const wrapper = message(0, magic, Compression.zstd, t0, null, zstdCompress(inner));
      expect(refusal(() => messageSetToBatch(wrapper), 'SLUICE_ERR_INVALID_RECORD')).toMatch(/zstd/);
    }
  });

  it('a LogAppendTime wrapper gives its time to every inner message', () => {
    const inner = Buffer.concat([message(0, 1, 0, 5, null, b('a')), message(1, 1, 0, 6, null, b('b'))]);
    const { messages } = decodeMessageSet(message(1, 1, Compression.gzip | 0x08, t0, null, gzipSync(inner)));
    expect(messages.map((m) => m.timestamp)).toEqual([t0, t0]);
  });

  it('refuses bad bytes with CORRUPT_MESSAGE: CRC, truncation, nesting, impossible sizes', () => {
    const good = message(0, 1, 0, t0, null, b('v'));
    const flipped = Buffer.from(good);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
    expect(refusal(() => messageSetToBatch(flipped), 'SLUICE_ERR_CORRUPT_RECORD')).toMatch(/CRC-32/);
    expect(refusal(() => messageSetToBatch(good.subarray(0, good.length - 1)), 'SLUICE_ERR_CORRUPT_RECORD')).toMatch(
      /size/,
    );
    expect(
      refusal(() => messageSetToBatch(Buffer.concat([good, Buffer.alloc(5)])), 'SLUICE_ERR_CORRUPT_RECORD'),
    ).toMatch(/stray/);
    const nested = message(
      0,
      1,
      Compression.gzip,
      t0,
      null,
      gzipSync(message(0, 1, Compression.gzip, t0, null, gzipSync(good))),
    );
    expect(refusal(() => messageSetToBatch(nested), 'SLUICE_ERR_CORRUPT_RECORD')).toMatch(/inside a compressed/);
    const tiny = Buffer.concat([int64(0), int32(3), Buffer.alloc(3)]);
    expect(refusal(() => messageSetToBatch(tiny), 'SLUICE_ERR_CORRUPT_RECORD')).toMatch(/size 3/);
    // a key whose length runs past its message
    const body = Buffer.concat([Buffer.from([1, 0]), int64(t0), int32(1000), int32(-1)]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    const longKey = Buffer.concat([int64(0), int32(4 + body.length), crc, body]);
    expect(refusal(() => messageSetToBatch(longKey), 'SLUICE_ERR_CORRUPT_RECORD')).toMatch(/key/);
    expect(
      refusal(() => messageSetToBatch(message(0, 1, 5, t0, null, b('?'))), 'SLUICE_ERR_UNSUPPORTED_COMPRESSION'),
    ).toMatch(/5/);
  });
});

describe('fetch: RecordBatch v2 down to magic 1 message sets', () => {
  const plain = encodeRecordBatch(
    [
      { key: b('k0'), value: b('v0'), timestamp: t0, headers: [{ key: 'h', value: b('dropped') }] },
      { key: null, value: b('v1'), timestamp: t0 + 1 },
      { key: null, value: null, timestamp: t0 + 2 },
    ],
    { baseOffset: 10 },
  );
  const gzipped = encodeRecordBatch(
    [
      { value: b('g0'), timestamp: t0 + 10 },
      { value: b('g1'), timestamp: t0 + 30 },
      { value: b('g2'), timestamp: t0 + 20 },
    ],
    { baseOffset: 13, compression: Compression.gzip },
  );
  const stored = Buffer.concat([plain, gzipped]);

  it('lays out plain records as magic 1 messages with absolute offsets, headers dropped', () => {
    const set = batchesToMessageSet(plain, 10, 1 << 20);
    expect(set.toString('hex')).toBe(
      Buffer.concat([
        message(10, 1, 0, t0, b('k0'), b('v0')),
        message(11, 1, 0, t0 + 1, null, b('v1')),
        message(12, 1, 0, t0 + 2, null, null),
      ]).toString('hex'),
    );
  });

  it('makes a compressed batch one wrapper of its codec: relative inner offsets, the last absolute offset, the largest time', () => {
    const set = batchesToMessageSet(gzipped, 0, 1 << 20);
    // wrapper: offset 15 (the last inner), gzip, timestamp t0 + 30, null key
    expect(set.readBigInt64BE(0)).toBe(15n);
    expect(set.readInt8(16)).toBe(1);
    expect(set.readInt8(17)).toBe(Compression.gzip);
    expect(Number(set.readBigInt64BE(18))).toBe(t0 + 30);
    const { messages, codec } = decodeMessageSet(set);
    expect(codec).toBe(Compression.gzip);
    expect(messages.map((m) => [m.timestamp, m.value?.toString()])).toEqual([
      [t0 + 10, 'g0'],
      [t0 + 30, 'g1'],
      [t0 + 20, 'g2'],
    ]);
  });

  it('leaves out records before the fetch offset, and in a wrapper numbers inner offsets from the first kept', () => {
    const fromMiddle = batchesToMessageSet(stored, 11, 1 << 20);
    const { messages } = decodeMessageSet(fromMiddle);
    expect(messages.map((m) => m.value?.toString() ?? null)).toEqual(['v1', null, 'g0', 'g1', 'g2']);
    const inWrapper = batchesToMessageSet(gzipped, 14, 1 << 20);
    expect(inWrapper.readBigInt64BE(0)).toBe(15n);
    expect(decodeMessageSet(inWrapper).messages.map((m) => m.value?.toString())).toEqual(['g1', 'g2']);
  });

  it('stops at maxBytes on a batch boundary, but always gives the first batch (unless told not to)', () => {
    const first = batchesToMessageSet(plain, 10, 1 << 20);
    expect(batchesToMessageSet(stored, 10, first.length + 1).toString('hex')).toBe(first.toString('hex'));
    expect(batchesToMessageSet(stored, 10, 1).toString('hex')).toBe(first.toString('hex'));
    expect(batchesToMessageSet(stored, 10, 1, false)).toHaveLength(0);
  });

  it('round-trips: a down-converted set converted again holds the same records', () => {
    const again = messageSetToBatch(batchesToMessageSet(stored, 0, 1 << 20)).batch;
    const strip = (rs: ReturnType<typeof decodeRecords>) => rs.map((r) => [r.timestamp, r.key, r.value]);
    expect(strip(decodeRecords(again))).toEqual(strip(decodeRecords(stored)));
  });

  it('refuses zstd first (a message set cannot carry it) and stops before it otherwise', () => {
    const zstdBatch = Buffer.from(plain);
    // the codec bits set by hand: the codec is looked at before any record is read
    zstdBatch.writeInt16BE(Compression.zstd, Field.attributes);
    expect(refusal(() => batchesToMessageSet(zstdBatch, 0, 1 << 20), 'SLUICE_ERR_UNSUPPORTED_COMPRESSION')).toMatch(
      /zstd/,
    );
    const before = batchesToMessageSet(plain, 0, 1 << 20);
    expect(batchesToMessageSet(Buffer.concat([plain, zstdBatch]), 0, 1 << 20).toString('hex')).toBe(
      before.toString('hex'),
    );
  });
});

describe('bounds', () => {
  it('refuses a small gzip wrapper that inflates to more messages than legacyMessagesMax, without building them all', () => {
    const one = message(0, 1, 0, t0, null, null);
    const inner = Buffer.alloc(one.length * (legacyMessagesMax + 1));
    for (let i = 0; i <= legacyMessagesMax; i++) one.copy(inner, i * one.length);
    const wrapper = message(0, 1, Compression.gzip, t0, null, gzipSync(inner));
    expect(wrapper.length).toBeLessThan(inner.length / 50);
    expect(refusal(() => messageSetToBatch(wrapper), 'SLUICE_ERR_INVALID_RECORD')).toMatch(/more than/);
  });

  it('bounds what the wrappers of one set inflate to together, not each alone (their messages keep them all alive)', () => {
    // three gzip wrappers, each of one message with a 30,000-byte value, each alone within a 64 KiB bound
    const wrapper = (i: number) =>
      message(i, 1, Compression.gzip, t0, null, gzipSync(message(0, 1, 0, t0, null, Buffer.alloc(30_000, i))));
    const set = Buffer.concat([wrapper(0), wrapper(1), wrapper(2)]);
    expect(set.length).toBeLessThan(2_000);
    expect(decodeMessageSet(set, 100_000).messages.map((m) => m.value?.length)).toEqual([30_000, 30_000, 30_000]);
    expect(refusal(() => decodeMessageSet(set, 64 * 1024), 'SLUICE_ERR_CORRUPT_RECORD')).toMatch(
      /do not inflate|more than 65536/,
    );
    // the default bound is decompressedBytesMax for the whole set
    expect(decodeMessageSet(set).messages).toHaveLength(3);
  });
});
