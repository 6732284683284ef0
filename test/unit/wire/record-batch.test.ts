/**
 * RecordBatch v2 layout: header accessors, offset rewriting, and every refusal
 * of validateBatch with its typed code. Corrupted batches get their CRC
 * recomputed (reseal) whenever the test means a structural defect, so the CRC
 * check cannot be what rejects them.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { batchBytesMax, batchRecordsMax } from '../../../src/shared/limits.js';
import { readInt64, writeInt64 } from '../../../src/wire/int64.js';
import type { RecordInput } from '../../../src/wire/record.js';
import {
  attributesOf,
  baseOffsetOf,
  baseTimestampOf,
  batchSizeOf,
  Compression,
  checkFraming,
  compressionOf,
  crcMatches,
  currentMagic,
  Field,
  lastOffsetDeltaOf,
  lastOffsetOf,
  logOverheadBytes,
  maxTimestampOf,
  recordsCountOf,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateBatch,
} from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { kafkajsCrcAccepts, kafkajsEncodeBatch } from '../../helpers/kafkajs-wire.js';
import { At, copy, expectSluiceError, loadFixture, reseal } from '../../helpers/wire-bytes.js';

const { CorruptRecord: CORRUPT, InvalidRecord: INVALID, UnsupportedCompression: UNSUPPORTED } = ErrorCode;

const T = 1_700_000_000_000;

/** Three records with fixed content; record 0 is `0c 00 00 00 04 6b30 04 7630 00` and so on. */
const threeRecords: RecordInput[] = [
  { key: Buffer.from('k0'), value: Buffer.from('v0'), timestamp: T },
  { key: null, value: Buffer.from('value-1'), timestamp: T + 5, headers: [{ key: 'h', value: Buffer.from('x') }] },
  { key: Buffer.from('k2'), value: Buffer.from('v2'), timestamp: T + 2 },
];

function batch(): Buffer {
  return encodeRecordBatch(threeRecords, { baseOffset: 100 });
}

function validate(buf: Buffer, pos = 0, end = buf.length): number {
  return validateBatch(buf, pos, end);
}

interface SaramaFixture {
  batches: Record<'emptyRecord' | 'controlBatch' | 'uncompressed' | 'gzip' | 'snappy' | 'lz4', string>;
}
const sarama = loadFixture<SaramaFixture>('wire/sarama-record-batches.json');
const saramaBatch = (name: keyof SaramaFixture['batches']): Buffer => Buffer.from(sarama.batches[name], 'hex');

describe('layout constants', () => {
  it("match Kafka's RecordBatch v2 field offsets", () => {
    expect(Field).toEqual(At);
    expect(logOverheadBytes).toBe(12);
    expect(currentMagic).toBe(2);
    expect(Compression).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
  });
});

describe('int64', () => {
  it('reads and writes big-endian int64 as numbers, negative ones included', () => {
    const values = [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53) + 1, T, -T];
    for (const v of values) {
      const buf = Buffer.alloc(11, 0xee);
      writeInt64(buf, 2, v);
      expect(buf.readBigInt64BE(2), `write ${v}`).toBe(BigInt(v));
      expect(buf[1]).toBe(0xee);
      expect(buf[10]).toBe(0xee);
      const ref = Buffer.alloc(8);
      ref.writeBigInt64BE(BigInt(v));
      expect(readInt64(ref, 0), `read ${v}`).toBe(v);
    }
  });
});

describe('header accessors', () => {
  it('read the fields of a batch encoded by kafkajs', async () => {
    const buf = await kafkajsEncodeBatch({
      firstOffset: 2 ** 40 + 5,
      firstTimestamp: T,
      maxTimestamp: T + 99,
      partitionLeaderEpoch: 7,
      producerId: 2 ** 35 + 3,
      producerEpoch: 4,
      firstSequence: 17,
      transactional: true,
      records: [0, 1, 2, 3].map((i) => ({
        offsetDelta: i,
        timestampDelta: i * 33,
        key: null,
        value: Buffer.from(`v${i}`),
      })),
    });
    expect(baseOffsetOf(buf)).toBe(2 ** 40 + 5);
    expect(batchSizeOf(buf)).toBe(buf.length);
    expect(lastOffsetDeltaOf(buf)).toBe(3);
    expect(lastOffsetOf(buf)).toBe(2 ** 40 + 8);
    expect(recordsCountOf(buf)).toBe(4);
    expect(baseTimestampOf(buf)).toBe(T);
    expect(maxTimestampOf(buf)).toBe(T + 99);
    expect(attributesOf(buf)).toBe(0x10); // transactional, no compression
    expect(compressionOf(buf)).toBe(Compression.none);
    expect(validate(buf)).toBe(buf.length);
  });

  it('read at a non-zero position', () => {
    const one = batch();
    const buf = Buffer.concat([Buffer.alloc(13, 0xee), one, Buffer.alloc(5, 0xee)]);
    expect(baseOffsetOf(buf, 13)).toBe(100);
    expect(batchSizeOf(buf, 13)).toBe(one.length);
    expect(lastOffsetOf(buf, 13)).toBe(102);
    expect(recordsCountOf(buf, 13)).toBe(3);
    expect(baseTimestampOf(buf, 13)).toBe(T);
    expect(maxTimestampOf(buf, 13)).toBe(T + 5);
    expect(validate(buf, 13, 13 + one.length)).toBe(one.length);
    expect(validate(buf, 13)).toBe(one.length); // trailing bytes beyond the batch are not its business
  });

  it('read negative 64-bit fields (producerId -1) and compression bits', () => {
    const buf = encodeRecordBatch(threeRecords, { compression: Compression.gzip });
    expect(buf.readBigInt64BE(At.producerId)).toBe(-1n);
    expect(compressionOf(buf)).toBe(Compression.gzip);
    expect(attributesOf(buf) & 0x07).toBe(1);
  });
});

describe('setBaseOffset / setPartitionLeaderEpoch', () => {
  it('rewrite fields the CRC does not cover: the batch stays valid', () => {
    const buf = batch();
    const crc = buf.readUInt32BE(At.crc);
    setBaseOffset(buf, 0, 2 ** 45 + 12345);
    setPartitionLeaderEpoch(buf, 0, 99);
    expect(buf.readUInt32BE(At.crc)).toBe(crc);
    expect(baseOffsetOf(buf)).toBe(2 ** 45 + 12345);
    expect(buf.readBigInt64BE(At.baseOffset)).toBe(2n ** 45n + 12345n);
    expect(buf.readInt32BE(At.partitionLeaderEpoch)).toBe(99);
    expect(lastOffsetOf(buf)).toBe(2 ** 45 + 12347);
    expect(crcMatches(buf, 0, buf.length)).toBe(true);
    expect(kafkajsCrcAccepts(buf)).toBe(true);
    expect(validate(buf)).toBe(buf.length);
    expect(decodeBatchRecords(buf).map((r) => r.offset)).toEqual([2 ** 45 + 12345, 2 ** 45 + 12346, 2 ** 45 + 12347]);
  });

  it('write at a position inside a larger buffer without touching neighbours', () => {
    const a = batch();
    const b = batch();
    const buf = Buffer.concat([a, b]);
    setBaseOffset(buf, a.length, 500);
    expect(baseOffsetOf(buf, 0)).toBe(100);
    expect(baseOffsetOf(buf, a.length)).toBe(500);
    expect(buf.subarray(0, a.length).equals(a)).toBe(true);
    expect(validate(buf, 0)).toBe(a.length);
    expect(validate(buf, a.length)).toBe(b.length);
  });
});

describe('validateBatch accepts', () => {
  it('a well-formed batch and returns its size', () => {
    const buf = batch();
    expect(validate(buf)).toBe(buf.length);
    expect(checkFraming(buf, 0, buf.length)).toBe(buf.length);
  });

  it("an independent client's batches (sarama, Go): uncompressed, gzip, snappy and lz4", () => {
    for (const name of ['uncompressed', 'gzip', 'snappy', 'lz4'] as const) {
      const buf = saramaBatch(name);
      expect(validate(buf), name).toBe(buf.length);
    }
  });
});

describe('validateBatch refuses', () => {
  it('a flipped byte in the records area: CRC mismatch → CORRUPT_RECORD', () => {
    const good = batch();
    for (const at of [At.records, At.records + 5, good.length - 1]) {
      const buf = copy(good);
      buf[at] = (buf[at] as number) ^ 0x01;
      expect(crcMatches(buf, 0, buf.length)).toBe(false);
      expectSluiceError(() => validate(buf), CORRUPT);
    }
  });

  it('a changed CRC-covered header field or a changed CRC → CORRUPT_RECORD', () => {
    const good = batch();
    for (const at of [At.crc, At.attributes + 1, At.baseTimestamp + 7, At.maxTimestamp + 7, At.producerId + 7]) {
      const buf = copy(good);
      buf[at] = (buf[at] as number) ^ 0x40;
      expectSluiceError(() => validate(buf), CORRUPT);
    }
  });

  it('a magic other than 2 → INVALID_RECORD', () => {
    for (const magic of [0, 1, 3, 0xff]) {
      const buf = batch();
      buf[At.magic] = magic;
      expectSluiceError(() => validate(buf), INVALID);
    }
  });

  it('a batchLength below the header size, or negative → CORRUPT_RECORD', () => {
    for (const length of [48, 0, -1, -(2 ** 31)]) {
      const buf = batch();
      buf.writeInt32BE(length, At.batchLength);
      expectSluiceError(() => validate(buf), CORRUPT);
      expectSluiceError(() => checkFraming(buf, 0, buf.length), CORRUPT); // refused by framing, not only by the CRC
    }
  });

  it('a batchLength larger than the buffer (by one byte, or absurdly) → CORRUPT_RECORD', () => {
    const good = batch();
    for (const length of [good.length - 12 + 1, batchBytesMax, 2 ** 31 - 1]) {
      const buf = copy(good);
      buf.writeInt32BE(length, At.batchLength);
      expectSluiceError(() => validate(buf), CORRUPT);
      expectSluiceError(() => checkFraming(buf, 0, buf.length), CORRUPT);
    }
    // a correct length that runs past `end`
    expectSluiceError(() => validate(good, 0, good.length - 1), CORRUPT);
  });

  it('a batchLength that cuts the records short → CORRUPT_RECORD', () => {
    const buf = batch();
    buf.writeInt32BE(buf.readInt32BE(At.batchLength) - 3, At.batchLength);
    expectSluiceError(() => validate(buf), CORRUPT);
    reseal(buf); // even with a CRC over the shorter batch, the last record is truncated
    expectSluiceError(() => validate(buf), CORRUPT);
  });

  it('fewer bytes than a batch header → CORRUPT_RECORD', () => {
    const good = batch();
    expectSluiceError(() => validate(good.subarray(0, 60)), CORRUPT);
    expectSluiceError(() => validate(Buffer.alloc(0)), CORRUPT);
    expectSluiceError(() => validate(good, good.length - 10, good.length), CORRUPT);
  });

  it('recordsCount 0 → INVALID_RECORD (also sarama’s genuine empty batch)', () => {
    const buf = batch();
    buf.writeInt32BE(0, At.recordsCount);
    buf.writeInt32BE(-1, At.lastOffsetDelta);
    reseal(buf);
    expectSluiceError(() => validate(buf), INVALID);

    const empty = saramaBatch('emptyRecord');
    expect(kafkajsCrcAccepts(empty)).toBe(true);
    expectSluiceError(() => validate(empty), INVALID);
    expectSluiceError(() => validate(saramaBatch('controlBatch')), INVALID);
  });

  it('recordsCount above the limit, or negative → INVALID_RECORD', () => {
    for (const count of [batchRecordsMax + 1, -1]) {
      const buf = batch();
      buf.writeInt32BE(count, At.recordsCount);
      buf.writeInt32BE(count - 1, At.lastOffsetDelta);
      reseal(buf);
      expectSluiceError(() => validate(buf), INVALID);
    }
  });

  it('a lastOffsetDelta that does not match recordsCount → INVALID_RECORD', () => {
    for (const delta of [0, 1, 3, 100, -1]) {
      const buf = batch();
      buf.writeInt32BE(delta, At.lastOffsetDelta);
      reseal(buf);
      expectSluiceError(() => validate(buf), INVALID);
    }
  });

  it('a recordsCount (and matching lastOffsetDelta) that disagrees with the records present → CORRUPT_RECORD', () => {
    // claims 4, holds 3: the walk runs out of bytes
    const more = batch();
    more.writeInt32BE(4, At.recordsCount);
    more.writeInt32BE(3, At.lastOffsetDelta);
    reseal(more);
    expectSluiceError(() => validate(more), CORRUPT);
    // claims 2, holds 3: bytes are left after the last record
    const fewer = batch();
    fewer.writeInt32BE(2, At.recordsCount);
    fewer.writeInt32BE(1, At.lastOffsetDelta);
    reseal(fewer);
    expectSluiceError(() => validate(fewer), CORRUPT);
  });

  it('junk after the last record (batchLength and CRC cover it) → CORRUPT_RECORD', () => {
    const good = batch();
    const buf = Buffer.concat([good, Buffer.from([0x00, 0x00])]);
    buf.writeInt32BE(buf.length - 12, At.batchLength);
    reseal(buf);
    expectSluiceError(() => validate(buf), CORRUPT);
  });

  it('a record whose length disagrees with its fields → CORRUPT_RECORD', () => {
    const good = batch();
    // record 0 starts at byte 61 with its length varint: 1+1+1+(1+2)+(1+2)+1 = 10 bytes → zig-zag 20
    expect(good[At.records]).toBe(20);
    for (const wrong of [18, 22, 2]) {
      // 9 bytes, 11 bytes, and 1 byte (below the 6-byte minimum)
      const buf = copy(good);
      buf[At.records] = wrong;
      reseal(buf);
      expectSluiceError(() => validate(buf), CORRUPT);
      expectSluiceError(() => decodeBatchRecords(buf), CORRUPT);
    }
    // a record length that runs past the batch
    const buf = copy(good);
    buf[At.records] = 0xfe;
    buf[At.records + 1] = 0x01; // no longer a one-byte varint: everything after shifts, and the length is 127
    reseal(buf);
    expectSluiceError(() => validate(buf), CORRUPT);
  });

  it('a negative key length below -1 → CORRUPT_RECORD', () => {
    const good = batch();
    // record 0: length, attributes, tsDelta, offsetDelta, then key length (2 → zig-zag 4)
    const keyLengthAt = At.records + 4;
    expect(good[keyLengthAt]).toBe(4);
    const buf = copy(good);
    buf[keyLengthAt] = 3; // -2
    reseal(buf);
    expectSluiceError(() => validate(buf), CORRUPT);
  });

  it('negative field lengths below -1 (header key below 0) in an otherwise consistent record → CORRUPT_RECORD', () => {
    // one record: length, attributes, tsDelta, offsetDelta, key -1, value -1, 1 header: key "" (0), value -1
    const good = encodeRecordBatch([{ key: null, value: null, headers: [{ key: '', value: null }], timestamp: T }]);
    expect(good.subarray(At.records).toString('hex')).toBe('100000000101020001');
    expect(validate(good)).toBe(good.length);
    const cases: [string, number, number][] = [
      ['key length -2', 4, 0x03],
      ['value length -2', 5, 0x03],
      ['header key length -1', 7, 0x01],
      ['header value length -2', 8, 0x03],
    ];
    for (const [name, at, byte] of cases) {
      const buf = copy(good);
      buf[At.records + at] = byte;
      reseal(buf);
      expect(() => validate(buf), name).toThrow();
      expectSluiceError(() => validate(buf), CORRUPT);
    }
  });

  it('a header key length of -1 even when the bytes after it would line up → CORRUPT_RECORD', () => {
    // record bytes: length 8, attributes, tsDelta, offsetDelta, key -1, value -1, 1 header, header key -1;
    // a walker that took -1 as "step back one byte" would read that byte again as a null header value
    // and land exactly on the record's end
    const good = encodeRecordBatch([{ key: null, value: null, headers: [{ key: '', value: null }], timestamp: T }]);
    const buf = Buffer.concat([good.subarray(0, At.records), Buffer.from('0e00000001010201', 'hex')]);
    buf.writeInt32BE(buf.length - 12, At.batchLength);
    reseal(buf);
    expectSluiceError(() => validate(buf), CORRUPT);
  });

  it('an offset delta out of sequence → INVALID_RECORD', () => {
    const good = batch();
    const offsetDeltaAt = At.records + 3; // record 0's offset delta (0)
    expect(good[offsetDeltaAt]).toBe(0);
    const buf = copy(good);
    buf[offsetDeltaAt] = 2; // 1
    reseal(buf);
    expectSluiceError(() => validate(buf), INVALID);
  });

  it('undefined codec bits → UNSUPPORTED_COMPRESSION; snappy, lz4 and zstd bits over bytes that are not → CORRUPT_RECORD', () => {
    for (const codec of [2, 3, 4]) {
      const buf = batch();
      buf.writeInt16BE(codec, At.attributes);
      reseal(buf);
      expectSluiceError(() => validate(buf), CORRUPT);
    }
    for (const codec of [5, 6, 7]) {
      const buf = batch();
      buf.writeInt16BE(codec, At.attributes);
      reseal(buf);
      expect(compressionOf(buf)).toBe(codec);
      expectSluiceError(() => validate(buf), UNSUPPORTED);
    }
  });

  it("an independent client's lz4 batch (sarama, genuine CRC) decodes to the same record as its uncompressed one", () => {
    const buf = saramaBatch('lz4');
    expect(kafkajsCrcAccepts(buf)).toBe(true);
    expect(compressionOf(buf)).toBe(3);
    expect(decodeBatchRecords(buf)).toEqual(decodeBatchRecords(saramaBatch('uncompressed')));
  });

  it('checks the CRC before the record count and the codec', () => {
    const buf = batch();
    buf.writeInt32BE(0, At.recordsCount);
    buf.writeInt16BE(2, At.attributes);
    // not resealed: the CRC mismatch wins
    expectSluiceError(() => validate(buf), CORRUPT);
  });
});

describe('validateBatch over several concatenated batches', () => {
  it('validates each at its position and returns each size', () => {
    const a = encodeRecordBatch(threeRecords);
    const b = encodeRecordBatch([{ value: Buffer.from('only') }], { compression: Compression.gzip });
    const c = encodeRecordBatch(threeRecords.slice(0, 2));
    const buf = Buffer.concat([a, b, c]);
    const sizes: number[] = [];
    for (let pos = 0; pos < buf.length; ) {
      const size = validate(buf, pos);
      sizes.push(size);
      pos += size;
    }
    expect(sizes).toEqual([a.length, b.length, c.length]);
  });
});
