/**
 * Prebuilt RecordBatch v2 buffers for the storage benchmark: records with a
 * fixed-size value (and an optional fixed-size key), packed into batches of at
 * most `targetBatchBytes`. All encoding happens before anything is timed.
 */
import { randomFillSync } from 'node:crypto';
import type { RecordInput } from '../../src/wire/record.js';
import { batchSizeOf, Field, recordsCountOf } from '../../src/wire/record-batch.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';

export interface BatchPool {
  /** Distinct batch buffers; the benchmark cycles through them. */
  buffers: Buffer[];
  recordsPerBatch: number;
  /** Every batch of the pool has exactly this many bytes. */
  batchBytes: number;
  valueBytes: number;
  /** 0 means null keys. */
  keyBytes: number;
}

function makeRecords(count: number, first: number, keyBytes: number, valueBytes: number): RecordInput[] {
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    let key: Buffer | null = null;
    if (keyBytes > 0) {
      key = Buffer.alloc(keyBytes);
      // the record's sequence number, big-endian in the last (up to) 6 bytes
      key.writeUIntBE((first + i) % 2 ** 48, Math.max(0, keyBytes - 6), Math.min(6, keyBytes));
    }
    records.push({ key, value: randomFillSync(Buffer.allocUnsafe(valueBytes)) });
  }
  return records;
}

/** The most records (with these key/value sizes) whose batch is at most `targetBatchBytes`. */
function recordsPerBatchFor(targetBatchBytes: number, keyBytes: number, valueBytes: number): number {
  const size = (n: number): number => encodeRecordBatch(makeRecords(n, 0, keyBytes, valueBytes)).length;
  const one = size(1);
  if (one > targetBatchBytes) return 1;
  let n = Math.max(1, Math.floor((targetBatchBytes - Field.records) / (one - Field.records)));
  while (n > 1 && size(n) > targetBatchBytes) n--;
  while (size(n + 1) <= targetBatchBytes) n++;
  return n;
}

export function buildBatchPool(opts: {
  poolBatches: number;
  targetBatchBytes: number;
  keyBytes: number;
  valueBytes: number;
}): BatchPool {
  const { poolBatches, targetBatchBytes, keyBytes, valueBytes } = opts;
  const recordsPerBatch = recordsPerBatchFor(targetBatchBytes, keyBytes, valueBytes);
  const buffers: Buffer[] = [];
  let batchBytes = -1;
  for (let b = 0; b < poolBatches; b++) {
    const batch = encodeRecordBatch(makeRecords(recordsPerBatch, b * recordsPerBatch, keyBytes, valueBytes));
    if (batchBytes < 0) batchBytes = batch.length;
    if (
      batch.length !== batchBytes ||
      batchSizeOf(batch, 0) !== batch.length ||
      recordsCountOf(batch, 0) !== recordsPerBatch
    ) {
      throw new Error(`prebuilt batch ${b} has ${batch.length} bytes, expected ${batchBytes}`);
    }
    buffers.push(batch);
  }
  return { buffers, recordsPerBatch, batchBytes, valueBytes, keyBytes };
}
