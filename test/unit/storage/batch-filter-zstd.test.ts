/**
 * The cleaner's rewrite of a zstd batch (compaction keeps some of its
 * records): the kept records stay in zstd, now that Sluice writes it (before,
 * such a batch was rewritten uncompressed).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { batchRecords, rewriteBatch } from '../../../src/storage/batch-filter.js';
import { Compression, compressionOf } from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { initZstd } from '../../../src/wire/zstd.js';

beforeAll(() => initZstd());

describe('rewriteBatch of a zstd batch', () => {
  it('keeps the kept records in zstd, at their offsets', () => {
    const records = Array.from({ length: 12 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`value ${i} `.repeat(20)),
      timestamp: 1_700_000_000_000 + i,
    }));
    const batch = encodeRecordBatch(records, { baseOffset: 40, compression: Compression.zstd });
    const kept = batchRecords(batch, 0).filter((_, i) => i % 3 === 0);
    const out = rewriteBatch(batch, 0, kept);
    expect(compressionOf(out)).toBe(Compression.zstd);
    const decoded = decodeBatchRecords(out);
    expect(decoded.map((r) => [r.offset, r.key?.toString()])).toEqual([
      [40, 'k0'],
      [43, 'k3'],
      [46, 'k6'],
      [49, 'k9'],
    ]);
  });
});
