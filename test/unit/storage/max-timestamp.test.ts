/**
 * PartitionLog.offsetOfMaxTimestamp: the first record (in offset order) with
 * the largest timestamp in the log, what ListOffsets answers for Kafka's
 * MAX_TIMESTAMP (-3, KIP-734) — across segments, inside compressed batches,
 * with timestamps out of order, and after a reopen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Compression } from '../../../src/wire/record-batch.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { storageFixture } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);

describe('offsetOfMaxTimestamp', () => {
  it('is undefined for an empty log', async () => {
    const manager = await fx.open(fx.dir());
    const log = await manager.getOrCreate('empty', 0);
    expect(await log.offsetOfMaxTimestamp()).toBeUndefined();
  });

  it('finds the first record with the largest timestamp, across segments and compressed batches, and after a reopen', async () => {
    const config = { segmentBytes: 400, indexIntervalBytes: 100 };
    const dir = fx.dir();
    let manager = await fx.open(dir, config);
    let log = await manager.getOrCreate('ts', 0);
    // the largest timestamp, 9_000, first appears in the middle record of batch 5 (a gzip batch), again in batch 9
    const stamps = (i: number) =>
      i === 5 ? [4_000, 9_000, 8_000] : i === 9 ? [9_000, 100, 9_000] : [1_000 + i, 2_000 + i, 50];
    const offsets: number[] = [];
    for (let i = 0; i < 12; i++) {
      const records = stamps(i).map((ts) => ({ key: null, value: Buffer.from(`r${i}-${ts}`), timestamp: ts }));
      const compression = i === 5 ? Compression.gzip : Compression.none;
      const r = await log.append(encodeRecordBatch(records, { compression }));
      offsets.push(r.baseOffset);
    }
    expect(log.segmentCount).toBeGreaterThan(2);
    const expected = { offset: (offsets[5] as number) + 1, timestamp: 9_000 };
    expect(await log.offsetOfMaxTimestamp()).toEqual(expected);
    await manager.close();
    manager = await fx.open(dir, config);
    log = manager.get('ts', 0)!;
    expect(await log.offsetOfMaxTimestamp()).toEqual(expected);
  });
});
