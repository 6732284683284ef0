/**
 * recompressBatches: what a leader does for a topic whose compression.type
 * names a codec. Every batch not in that codec is rewritten in it with its
 * offsets, timestamps and producer fields unchanged; control batches and
 * batches already in the codec are kept byte for byte; a corrupt batch is
 * refused, never resealed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { codecOfCompressionType, recompressBatches } from '../../../src/wire/recompress.js';
import type { RecordInput } from '../../../src/wire/record.js';
import { batchSizeOf, Compression, compressionOf, Field, validateBatch } from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { initZstd } from '../../../src/wire/zstd.js';
import { copy, expectSluiceError, reseal } from '../../helpers/wire-bytes.js';

const records: RecordInput[] = Array.from({ length: 30 }, (_, i) => ({
  key: Buffer.from(`k${i % 4}`),
  value: Buffer.from(`{"i":${i},"text":"${'lorem ipsum '.repeat(8)}"}`),
  timestamp: 1_700_000_000_000 + i,
  headers: i % 3 ? [] : [{ key: 'h', value: Buffer.from('v') }],
}));
const producerFields = { producerId: 4242, producerEpoch: 3, baseSequence: 17, baseOffset: 0 };

beforeAll(() => initZstd());

function split(set: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < set.length; pos += batchSizeOf(set, pos))
    out.push(set.subarray(pos, pos + batchSizeOf(set, pos)));
  return out;
}

describe('codecOfCompressionType', () => {
  it("maps Kafka's values (and 'none') to codecs, producer to none, and refuses unknown values", () => {
    expect(codecOfCompressionType('producer')).toBeUndefined();
    expect(codecOfCompressionType('uncompressed')).toBe(Compression.none);
    expect(codecOfCompressionType('none')).toBe(Compression.none);
    expect(codecOfCompressionType('gzip')).toBe(Compression.gzip);
    expect(codecOfCompressionType('snappy')).toBe(Compression.snappy);
    expect(codecOfCompressionType('lz4')).toBe(Compression.lz4);
    expect(codecOfCompressionType('zstd')).toBe(Compression.zstd);
    for (const v of ['brotli', 'ZSTD']) expectSluiceError(() => codecOfCompressionType(v), ErrorCode.InvalidConfig);
  });
});

describe('recompressBatches', () => {
  const codecs = [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd] as const;

  it('rewrites every batch from each codec to each other one, keeping offsets, timestamps and producer fields', () => {
    for (const from of codecs) {
      const original = encodeRecordBatch(records, { ...producerFields, compression: from });
      for (const to of codecs) {
        const out = recompressBatches(original, to);
        expect(compressionOf(out), `${from} → ${to}`).toBe(to);
        expect(validateBatch(out, 0, out.length)).toBe(out.length);
        expect(decodeBatchRecords(out)).toEqual(decodeBatchRecords(original));
        // the header before the attributes (offset, length aside) and after them is the producer's
        expect(
          out
            .subarray(Field.lastOffsetDelta, Field.records)
            .equals(original.subarray(Field.lastOffsetDelta, Field.records)),
        ).toBe(true);
        expect(out.readInt32BE(Field.partitionLeaderEpoch)).toBe(original.readInt32BE(Field.partitionLeaderEpoch));
        if (from === to) expect(out).toBe(original); // nothing to do: the same buffer
      }
    }
  });

  it('handles several batches in one record set, keeping those already in the codec and control batches as they are', () => {
    const lz4 = encodeRecordBatch(records.slice(0, 5), { compression: Compression.lz4 });
    const plain = encodeRecordBatch(records.slice(5, 10), { baseOffset: 5 });
    const control = encodeRecordBatch([{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], {
      baseOffset: 10,
    });
    control.writeInt16BE(0x20 | 0x10, Field.attributes); // control + transactional, uncompressed
    reseal(control);
    const out = recompressBatches(Buffer.concat([lz4, plain, control]), Compression.lz4);
    const [a, b, c] = split(out);
    expect(a?.equals(lz4)).toBe(true);
    expect(compressionOf(b as Buffer)).toBe(Compression.lz4);
    expect(decodeBatchRecords(b as Buffer)).toEqual(decodeBatchRecords(plain));
    expect(c?.equals(control)).toBe(true);
  });

  it('refuses a corrupt batch (CRC, records) rather than sealing it with a new CRC, and changes nothing', () => {
    const good = encodeRecordBatch(records, { compression: Compression.gzip });
    const badCrc = copy(good);
    badCrc[badCrc.length - 1] = (badCrc[badCrc.length - 1] as number) ^ 1;
    expectSluiceError(() => recompressBatches(badCrc, Compression.lz4), ErrorCode.CorruptRecord);
    const notGzip = encodeRecordBatch(records);
    notGzip.writeInt16BE(Compression.gzip, Field.attributes);
    reseal(notGzip);
    expectSluiceError(() => recompressBatches(notGzip, Compression.lz4), ErrorCode.CorruptRecord);
    expectSluiceError(() => recompressBatches(good.subarray(0, 40), Compression.lz4), ErrorCode.CorruptRecord);
  });
});
