/**
 * Records written straight into a batch's buffer (batch-writer.ts) read back
 * as what was sent: strings, Buffers and other Uint8Arrays, null keys and
 * values, headers, older timestamps after newer ones, buffers outgrown
 * several times, compression; and the free buffers kept for reuse stay
 * within their bound.
 */
import { describe, expect, it } from 'vitest';
import { type Batch, emptyBatch as newEmptyBatch } from '../../../src/client/producer/accumulator.js';
import { BatchBuffers } from '../../../src/client/producer/batch-buffers.js';
import {
  byteLengthOf,
  finishedBatchBytes,
  type RecordBytes,
  type RecordFields,
  releaseBatchBuffer,
  writeRecord,
} from '../../../src/client/producer/batch-writer.js';
import type { RecordHeader } from '../../../src/wire/record.js';
import { Compression } from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';

const emptyBatch = (): Batch => newEmptyBatch('t', 0, 0, 0);

/** The fields writeRecord() takes. */
function fields(
  key: RecordBytes,
  value: RecordBytes,
  headers: RecordHeader[] | undefined,
  timestamp: number,
): RecordFields {
  return { key, keyLength: byteLengthOf(key), value, valueLength: byteLengthOf(value), headers, timestamp };
}

const asBuffer = (v: RecordBytes): Buffer | null =>
  v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);

describe('batch writer', () => {
  for (const compression of [Compression.none, Compression.gzip]) {
    it(`records read back as written (compression ${compression}), across buffer growth`, () => {
      const buffers = new BatchBuffers(1 << 20);
      const batch = emptyBatch();
      const sent: {
        key: RecordBytes;
        value: RecordBytes;
        timestamp: number;
        headers?: { key: string; value: Buffer | null }[];
      }[] = [];
      for (let i = 0; i < 300; i++) {
        const key: RecordBytes = i % 3 === 0 ? null : i % 3 === 1 ? `kéy-${i}` : new Uint8Array([i & 255, 7]);
        const value: RecordBytes =
          i % 5 === 0 ? null : i % 2 === 0 ? `${'v'.repeat(i)}ü` : Buffer.alloc(i * 3, i & 255);
        // every 7th record is older than the first: a negative timestamp delta
        const timestamp = i % 7 === 0 ? 1_000 - i : 1_000 + i;
        const headers =
          i % 11 === 0
            ? [
                { key: 'h', value: Buffer.from([i & 255]) },
                { key: 'n', value: null },
              ]
            : undefined;
        writeRecord(batch, buffers, fields(key, value, headers, timestamp));
        sent.push({ key, value, timestamp, headers });
      }
      const bytes = finishedBatchBytes(
        batch,
        { compression, producerId: 5, producerEpoch: 1, baseSequence: 9 },
        buffers,
      );
      const read = decodeBatchRecords(bytes);
      expect(read.length).toBe(sent.length);
      read.forEach((r, i) => {
        const s = sent[i]!;
        expect(r.key).toEqual(asBuffer(s.key));
        expect(r.value).toEqual(asBuffer(s.value));
        expect(r.timestamp).toBe(s.timestamp);
        expect(r.headers).toEqual(s.headers ?? []);
      });
    });
  }

  it('keeps answered buffers for reuse, at most its bound of free bytes', () => {
    const buffers = new BatchBuffers(4096);
    const batches = [0, 1, 2].map(() => {
      const b = emptyBatch();
      writeRecord(b, buffers, fields(null, Buffer.alloc(1500), undefined, 0));
      return b;
    });
    const taken = batches.map((b) => b.buf);
    for (const b of batches) {
      finishedBatchBytes(b, {}, buffers);
      releaseBatchBuffer(b, buffers);
      expect(b.buf).toBeNull();
    }
    // three 2 KiB buffers answered, two kept
    expect(buffers.held).toBe(4096);
    const again = emptyBatch();
    writeRecord(again, buffers, fields(null, Buffer.alloc(1500), undefined, 0));
    expect(taken).toContain(again.buf);
    expect(buffers.held).toBe(2048);
  });
});
