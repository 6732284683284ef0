/**
 * Builds RecordBatch v2 bytes from records: sizes first, then one allocation.
 * Used by clients, tests and benchmarks; the broker only ever forwards bytes.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { deflateRecords } from './compression.js';
import { crc32c } from './crc32c.js';
import { writeInt64 } from './int64.js';
import type { RecordInput } from './record.js';
import { Compression, currentMagic, Field, logOverheadBytes } from './record-batch.js';
import { varintSize, varlongSize, writeVarint, writeVarlong } from './varint.js';

export interface BatchOptions {
  baseOffset?: number;
  compression?: Compression;
  /** Defaults to the smallest record timestamp, or now when none has one. */
  baseTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  partitionLeaderEpoch?: number;
  transactional?: boolean;
}

function recordBodySize(r: RecordInput, timestampDelta: number, offsetDelta: number): number {
  let size = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta);
  size += r.key ? varintSize(r.key.length) + r.key.length : 1;
  size += r.value ? varintSize(r.value.length) + r.value.length : 1;
  const headers = r.headers ?? [];
  size += varintSize(headers.length);
  for (const h of headers) {
    const keyBytes = Buffer.byteLength(h.key);
    size += varintSize(keyBytes) + keyBytes;
    size += h.value ? varintSize(h.value.length) + h.value.length : 1;
  }
  return size;
}

function writeBytes(buf: Buffer, pos: number, bytes: Buffer | null | undefined): number {
  if (!bytes) return writeVarint(buf, pos, -1);
  const at = writeVarint(buf, pos, bytes.length);
  // set() is cheaper than copy() for the small values records usually hold
  buf.set(bytes, at);
  return at + bytes.length;
}

/** Writes the records' bodies (length-prefixed) into `buf` from `pos`; returns the end. */
function writeRecords(
  buf: Buffer,
  pos: number,
  records: readonly RecordInput[],
  bodySizes: number[],
  baseTimestamp: number,
): number {
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RecordInput;
    pos = writeVarint(buf, pos, bodySizes[i] as number);
    buf[pos++] = 0;
    pos = writeVarlong(buf, pos, (r.timestamp ?? baseTimestamp) - baseTimestamp);
    pos = writeVarint(buf, pos, i);
    pos = writeBytes(buf, pos, r.key);
    pos = writeBytes(buf, pos, r.value);
    const headers = r.headers;
    if (!headers || headers.length === 0) {
      buf[pos++] = 0;
      continue;
    }
    pos = writeVarint(buf, pos, headers.length);
    for (const h of headers) {
      pos = writeBytes(buf, pos, Buffer.from(h.key, 'utf8'));
      pos = writeBytes(buf, pos, h.value);
    }
  }
  return pos;
}

export function encodeRecordBatch(records: readonly RecordInput[], options: BatchOptions = {}): Buffer {
  if (records.length === 0) throw new SluiceError(ErrorCode.InvalidArgument, 'a batch needs at least one record');
  let minTs = Number.POSITIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  let untimed = false;
  for (let i = 0; i < records.length; i++) {
    const ts = (records[i] as RecordInput).timestamp;
    if (ts === undefined) untimed = true;
    else {
      if (ts < minTs) minTs = ts;
      if (ts > maxTs) maxTs = ts;
    }
  }
  const now = Date.now();
  const baseTimestamp = options.baseTimestamp ?? (Number.isFinite(minTs) ? minTs : now);
  // a record without a timestamp takes the base timestamp
  if (untimed && baseTimestamp > maxTs) maxTs = baseTimestamp;
  const bodySizes = new Array<number>(records.length);
  let recordsBytes = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RecordInput;
    const size = recordBodySize(r, (r.timestamp ?? baseTimestamp) - baseTimestamp, i);
    bodySizes[i] = size;
    recordsBytes += varintSize(size) + size;
  }
  const compression = options.compression ?? Compression.none;
  let batch: Buffer;
  if (compression === Compression.none) {
    // records straight into the batch: no second buffer, no copy
    batch = Buffer.allocUnsafe(Field.records + recordsBytes);
    writeRecords(batch, Field.records, records, bodySizes, baseTimestamp);
  } else {
    const raw = Buffer.allocUnsafe(recordsBytes);
    writeRecords(raw, 0, records, bodySizes, baseTimestamp);
    const body = deflateRecords(compression, raw);
    batch = Buffer.allocUnsafe(Field.records + body.length);
    body.copy(batch, Field.records);
  }
  writeBatchHeader(batch, records.length, baseTimestamp, maxTs, compression, options);
  return batch;
}

/**
 * Writes a batch's header fields and its CRC into `batch`, whose records
 * (`count` of them, compressed or not) already follow the header.
 */
export function writeBatchHeader(
  batch: Buffer,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  compression: Compression,
  options: BatchOptions,
): void {
  writeInt64(batch, Field.baseOffset, options.baseOffset ?? 0);
  batch.writeInt32BE(batch.length - logOverheadBytes, Field.batchLength);
  batch.writeInt32BE(options.partitionLeaderEpoch ?? -1, Field.partitionLeaderEpoch);
  batch.writeInt8(currentMagic, Field.magic);
  batch.writeInt16BE(compression | (options.transactional ? 0x10 : 0), Field.attributes);
  batch.writeInt32BE(count - 1, Field.lastOffsetDelta);
  writeInt64(batch, Field.baseTimestamp, baseTimestamp);
  writeInt64(batch, Field.maxTimestamp, maxTimestamp);
  writeInt64(batch, Field.producerId, options.producerId ?? -1);
  batch.writeInt16BE(options.producerEpoch ?? -1, Field.producerEpoch);
  batch.writeInt32BE(options.baseSequence ?? -1, Field.baseSequence);
  batch.writeInt32BE(count, Field.recordsCount);
  batch.writeUInt32BE(crc32c(batch.subarray(Field.attributes)), Field.crc);
}
