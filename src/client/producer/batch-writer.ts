/**
 * Records written straight into their batch's buffer (RecordBatch v2, the
 * header left blank) when they are appended, and the header and CRC written
 * once the batch is sent: a record is copied once, from the caller's key and
 * value (a string is written as UTF-8 in place), with no object kept for it.
 */
import { assert } from '../../shared/assert.js';
import { deflateRecords } from '../../wire/compression.js';
import type { RecordHeader } from '../../wire/record.js';
import { Compression, Field } from '../../wire/record-batch.js';
import { type BatchOptions, writeBatchHeader } from '../../wire/record-batch-encoder.js';
import { varintSize, varlongSize, writeVarint, writeVarlong } from '../../wire/varint.js';
import type { BatchBuffers } from './batch-buffers.js';

/** A batch's records as bytes (the accumulator's Batch is one). */
export interface BatchBytes {
  /**
   * The records, written in place as they are appended, behind room for the header; null before
   * the first record (and once compressed or answered).
   */
  buf: Buffer | null;
  /** The end of the records in `buf`. */
  pos: number;
  /** Records in the batch. */
  count: number;
  /** The first record's timestamp, and the largest. */
  baseTimestamp: number;
  maxTimestamp: number;
  /** Its bytes as sent (header and CRC written), from its first send on: a retry resends them. */
  encoded: Buffer | null;
}

/** A key or value as send() takes it (a Buffer is a Uint8Array). */
export type RecordBytes = string | Uint8Array | null;

/** One record to write: filled in by the caller, and reusable for the next record once written. */
export interface RecordFields {
  key: RecordBytes;
  /** byteLengthOf(key). */
  keyLength: number;
  value: RecordBytes;
  /** byteLengthOf(value). */
  valueLength: number;
  headers: readonly RecordHeader[] | undefined;
  timestamp: number;
}

/** Bytes of a key or value; -1 for null. */
export function byteLengthOf(v: RecordBytes): number {
  if (v === null) return -1;
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

/** Bytes of a key or value field: its length as a varint, then its bytes (null: length -1, one byte). */
function fieldSize(length: number): number {
  return length < 0 ? 1 : varintSize(length) + length;
}

function writeField(buf: Buffer, pos: number, v: RecordBytes, length: number): number {
  if (v === null) return writeVarint(buf, pos, -1);
  const at = writeVarint(buf, pos, length);
  if (typeof v === 'string') buf.write(v, at, length, 'utf8');
  else buf.set(v, at);
  return at + length;
}

/**
 * Appends one record to the batch's buffer (taken from `buffers`, or moved
 * to one twice as large when full). The batch's first record's timestamp is
 * its base timestamp (a later record may be older: its delta is negative).
 * Returns the bytes the batch's buffer grew by (its whole size when taken
 * now; 0 when the record fitted the room left). `firstBytes`: the size of the
 * buffer taken for a batch's first record, when larger than the record needs
 * (the size the batch is expected to reach).
 */
export function writeRecord(batch: BatchBytes, buffers: BatchBuffers, r: RecordFields, firstBytes = 0): number {
  const { key, keyLength, value, valueLength, headers, timestamp } = r;
  if (batch.count === 0) {
    batch.baseTimestamp = timestamp;
    batch.maxTimestamp = timestamp;
  } else if (timestamp > batch.maxTimestamp) {
    batch.maxTimestamp = timestamp;
  }
  const timestampDelta = timestamp - batch.baseTimestamp;
  const offsetDelta = batch.count;
  let body = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + fieldSize(keyLength) + fieldSize(valueLength);
  if (headers && headers.length > 0) {
    body += varintSize(headers.length);
    for (const h of headers) body += fieldSize(Buffer.byteLength(h.key, 'utf8')) + fieldSize(h.value?.length ?? -1);
  } else {
    body += 1;
  }
  const total = varintSize(body) + body;
  let buf = batch.buf;
  let pos = batch.pos;
  let grown = 0;
  if (buf === null) {
    buf = buffers.take(Math.max(Field.records + total, firstBytes));
    pos = Field.records;
    grown = buf.length;
  } else if (pos + total > buf.length) {
    const larger = buffers.take(Math.max(pos + total, buf.length * 2));
    buf.copy(larger, 0, 0, pos);
    buffers.give(buf);
    grown = larger.length - buf.length;
    buf = larger;
  }
  batch.buf = buf;
  pos = writeVarint(buf, pos, body);
  buf[pos++] = 0;
  pos = writeVarlong(buf, pos, timestampDelta);
  pos = writeVarint(buf, pos, offsetDelta);
  pos = writeField(buf, pos, key, keyLength);
  pos = writeField(buf, pos, value, valueLength);
  if (headers && headers.length > 0) {
    pos = writeVarint(buf, pos, headers.length);
    for (const h of headers) {
      pos = writeField(buf, pos, h.key, Buffer.byteLength(h.key, 'utf8'));
      pos = writeField(buf, pos, h.value, h.value?.length ?? -1);
    }
  } else {
    buf[pos++] = 0;
  }
  batch.pos = pos;
  batch.count++;
  return grown;
}

/**
 * The batch's bytes to send: its records compressed (into a buffer of their
 * own; the batch's buffer is free again) or left where they are, then the
 * header and CRC (an idempotent batch's sequence numbers in `options`).
 */
export function finishedBatchBytes(batch: BatchBytes, options: BatchOptions, buffers: BatchBuffers): Buffer {
  const buf = batch.buf;
  assert(buf !== null && batch.count > 0, 'a batch to send holds records');
  const compression = options.compression ?? Compression.none;
  let out: Buffer;
  if (compression === Compression.none) {
    out = buf.subarray(0, batch.pos);
  } else {
    const body = deflateRecords(compression, buf.subarray(Field.records, batch.pos));
    out = Buffer.allocUnsafe(Field.records + body.length);
    body.copy(out, Field.records);
    buffers.give(buf);
    batch.buf = null;
  }
  writeBatchHeader(out, batch.count, batch.baseTimestamp, batch.maxTimestamp, compression, options);
  return out;
}

/** An answered batch's buffer is nobody's any more (its request has been written): kept for a later batch. */
export function releaseBatchBuffer(batch: BatchBytes, buffers: BatchBuffers): void {
  if (batch.buf) buffers.give(batch.buf);
  batch.buf = null;
  batch.encoded = null;
}
