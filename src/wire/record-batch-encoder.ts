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
  bytes.copy(buf, at);
  return at + bytes.length;
}

export function encodeRecordBatch(records: readonly RecordInput[], options: BatchOptions = {}): Buffer {
  if (records.length === 0) throw new SluiceError(ErrorCode.InvalidArgument, 'a batch needs at least one record');
  let minTs = Number.POSITIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    if (r.timestamp !== undefined) {
      if (r.timestamp < minTs) minTs = r.timestamp;
      if (r.timestamp > maxTs) maxTs = r.timestamp;
    }
  }
  const now = Date.now();
  const baseTimestamp = options.baseTimestamp ?? (Number.isFinite(minTs) ? minTs : now);
  const bodySizes = new Array<number>(records.length);
  let recordsBytes = 0;
  records.forEach((r, i) => {
    const size = recordBodySize(r, (r.timestamp ?? baseTimestamp) - baseTimestamp, i);
    bodySizes[i] = size;
    recordsBytes += varintSize(size) + size;
  });
  let body: Buffer = Buffer.allocUnsafe(recordsBytes);
  let pos = 0;
  records.forEach((r, i) => {
    const ts = r.timestamp ?? baseTimestamp;
    if (ts > maxTs) maxTs = ts;
    pos = writeVarint(body, pos, bodySizes[i] as number);
    body[pos++] = 0;
    pos = writeVarlong(body, pos, ts - baseTimestamp);
    pos = writeVarint(body, pos, i);
    pos = writeBytes(body, pos, r.key);
    pos = writeBytes(body, pos, r.value);
    const headers = r.headers ?? [];
    pos = writeVarint(body, pos, headers.length);
    for (const h of headers) {
      pos = writeBytes(body, pos, Buffer.from(h.key, 'utf8'));
      pos = writeBytes(body, pos, h.value);
    }
  });
  const compression = options.compression ?? Compression.none;
  body = deflateRecords(compression, body);

  const batch = Buffer.allocUnsafe(Field.records + body.length);
  writeInt64(batch, Field.baseOffset, options.baseOffset ?? 0);
  batch.writeInt32BE(batch.length - logOverheadBytes, Field.batchLength);
  batch.writeInt32BE(options.partitionLeaderEpoch ?? -1, Field.partitionLeaderEpoch);
  batch.writeInt8(currentMagic, Field.magic);
  batch.writeInt16BE(compression | (options.transactional ? 0x10 : 0), Field.attributes);
  batch.writeInt32BE(records.length - 1, Field.lastOffsetDelta);
  writeInt64(batch, Field.baseTimestamp, baseTimestamp);
  writeInt64(batch, Field.maxTimestamp, maxTs);
  writeInt64(batch, Field.producerId, options.producerId ?? -1);
  batch.writeInt16BE(options.producerEpoch ?? -1, Field.producerEpoch);
  batch.writeInt32BE(options.baseSequence ?? -1, Field.baseSequence);
  batch.writeInt32BE(records.length, Field.recordsCount);
  body.copy(batch, Field.records);
  batch.writeUInt32BE(crc32c(batch.subarray(Field.attributes)), Field.crc);
  return batch;
}
