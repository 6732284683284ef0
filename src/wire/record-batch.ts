/**
 * Kafka's RecordBatch v2 ("magic 2") byte layout, used unchanged on disk and on
 * the wire. All multi-byte fields are big-endian.
 *
 *   0 baseOffset int64        (not covered by the CRC: assigned on append)
 *   8 batchLength int32       (bytes after this field)
 *  12 partitionLeaderEpoch int32 (not covered by the CRC)
 *  16 magic int8 = 2
 *  17 crc uint32             CRC-32C of bytes 21..end
 *  21 attributes int16       bits 0-2 compression, 3 timestamp type,
 *                            4 transactional, 5 control, 6 delete horizon
 *  23 lastOffsetDelta int32
 *  27 baseTimestamp int64
 *  35 maxTimestamp int64
 *  43 producerId int64
 *  51 producerEpoch int16
 *  53 baseSequence int32
 *  57 recordsCount int32
 *  61 records...
 */

import { ErrorCode, SluiceError } from '../shared/errors.js';
import { batchBytesMax, batchHeaderBytes, batchRecordsMax } from '../shared/limits.js';
import { inflateRecords } from './compression.js';
import { crc32c } from './crc32c.js';
import { readInt64, writeInt64 } from './int64.js';
import { readEnd, readVarint } from './varint.js';

export const Field = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
  records: 61,
} as const;

/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const logOverheadBytes = 12;
export const currentMagic = 2;

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];
export const compressionMask = 0x07;
export const timestampTypeLogAppend = 0x08;
export const transactionalFlag = 0x10;
export const controlFlag = 0x20;
/** KIP-534: the batch's baseTimestamp holds the delete horizon set by the log cleaner (attribute bit 6). */
export const deleteHorizonFlag = 0x40;

/** Kafka's "no timestamp". */
export const noTimestamp = -1;

export const baseOffsetOf = (buf: Buffer, pos = 0): number => readInt64(buf, pos + Field.baseOffset);
export const batchSizeOf = (buf: Buffer, pos = 0): number =>
  buf.readInt32BE(pos + Field.batchLength) + logOverheadBytes;
export const lastOffsetDeltaOf = (buf: Buffer, pos = 0): number => buf.readInt32BE(pos + Field.lastOffsetDelta);
export const lastOffsetOf = (buf: Buffer, pos = 0): number => baseOffsetOf(buf, pos) + lastOffsetDeltaOf(buf, pos);
export const recordsCountOf = (buf: Buffer, pos = 0): number => buf.readInt32BE(pos + Field.recordsCount);
export const maxTimestampOf = (buf: Buffer, pos = 0): number => readInt64(buf, pos + Field.maxTimestamp);
export const baseTimestampOf = (buf: Buffer, pos = 0): number => readInt64(buf, pos + Field.baseTimestamp);
export const attributesOf = (buf: Buffer, pos = 0): number => buf.readInt16BE(pos + Field.attributes);
export const partitionLeaderEpochOf = (buf: Buffer, pos = 0): number =>
  buf.readInt32BE(pos + Field.partitionLeaderEpoch);
export const producerIdOf = (buf: Buffer, pos = 0): number => readInt64(buf, pos + Field.producerId);
export const producerEpochOf = (buf: Buffer, pos = 0): number => buf.readInt16BE(pos + Field.producerEpoch);
export const baseSequenceOf = (buf: Buffer, pos = 0): number => buf.readInt32BE(pos + Field.baseSequence);
export const compressionOf = (buf: Buffer, pos = 0): number => attributesOf(buf, pos) & compressionMask;

export function setBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt64(buf, pos + Field.baseOffset, offset);
}

export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + Field.partitionLeaderEpoch);
}

function corrupt(message: string): SluiceError {
  return new SluiceError(ErrorCode.CorruptRecord, message);
}

/**
 * Checks the framing of the batch at `pos` without reading its body: enough
 * header bytes, a sane length that fits before `end`, magic 2.
 * Returns the batch's total size in bytes.
 */
export function checkFraming(buf: Buffer, pos: number, end: number): number {
  if (end - pos < batchHeaderBytes) {
    throw corrupt(`${end - pos} bytes left at position ${pos}, less than a batch header`);
  }
  const size = batchSizeOf(buf, pos);
  if (size < batchHeaderBytes || size > batchBytesMax) {
    throw corrupt(`impossible batch length ${size - logOverheadBytes} at position ${pos}`);
  }
  if (pos + size > end) throw corrupt(`batch at position ${pos} runs ${pos + size - end} bytes past the end`);
  const magic = buf[pos + Field.magic];
  if (magic !== currentMagic) {
    throw new SluiceError(ErrorCode.InvalidRecord, `unsupported magic ${magic} at position ${pos} (only 2)`);
  }
  return size;
}

/** True when the stored CRC-32C matches the batch's bytes. */
export function crcMatches(buf: Buffer, pos: number, size: number): boolean {
  const stored = buf.readUInt32BE(pos + Field.crc);
  return crc32c(buf.subarray(pos + Field.attributes, pos + size)) === stored;
}

export interface ValidateOptions {
  /**
   * false for batches a log cleaner has rewritten (a replica copying its leader, recovery): records
   * may be missing, so offset deltas only ascend up to lastOffsetDelta, and a batch may hold no
   * record at all (Kafka keeps such an empty batch for a producer's sequence state). Default true:
   * what a producer sends has deltas 0..count-1 exactly.
   */
  exactOffsets?: boolean;
  /** Refuse a record without a key (a compacted topic: Kafka's INVALID_RECORD). */
  requireKeys?: boolean;
}

/** Whether the last walkRecords call met a record without a key (module state: no allocation per call). */
let sawKeyless = false;

/**
 * Full validation of one batch: framing, CRC, header rules, and a walk over
 * every record (after inflating a compressed batch) checking lengths and
 * offset deltas. Allocates nothing per record. Returns the batch size.
 */
export function validateBatch(buf: Buffer, pos: number, end: number, options?: ValidateOptions): number {
  const exact = options?.exactOffsets ?? true;
  const size = checkFraming(buf, pos, end);
  if (!crcMatches(buf, pos, size)) throw corrupt(`CRC-32C mismatch in batch at position ${pos}`);
  const count = recordsCountOf(buf, pos);
  const lastDelta = lastOffsetDeltaOf(buf, pos);
  if (count < (exact ? 1 : 0) || count > batchRecordsMax) {
    throw new SluiceError(ErrorCode.InvalidRecord, `batch at position ${pos} claims ${count} records`);
  }
  if (exact ? lastDelta !== count - 1 : lastDelta < count - 1 || lastDelta < 0) {
    throw new SluiceError(
      ErrorCode.InvalidRecord,
      `batch at position ${pos}: lastOffsetDelta ${lastDelta} does not match ${count} records`,
    );
  }
  const lastAllowed = exact ? -1 : lastDelta;
  const compression = compressionOf(buf, pos);
  sawKeyless = false;
  if (count === 0) {
    if (size !== Field.records)
      throw corrupt(`empty batch at position ${pos} has ${size - Field.records} record bytes`);
  } else if (compression === Compression.none) {
    walkRecords(buf, pos + Field.records, pos + size, count, lastAllowed);
  } else {
    const inflated = inflateRecords(compression, buf.subarray(pos + Field.records, pos + size));
    walkRecords(inflated, 0, inflated.length, count, lastAllowed);
  }
  if (options?.requireKeys && sawKeyless && (attributesOf(buf, pos) & controlFlag) === 0) {
    throw new SluiceError(
      ErrorCode.InvalidRecord,
      `batch at position ${pos}: a compacted topic cannot accept a record without a key`,
    );
  }
  return size;
}

/** Skips a varlong at `pos`; returns the position after it. */
function skipVarlongAt(buf: Buffer, pos: number, end: number): number {
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw corrupt(`truncated varlong at byte ${pos}`);
    if ((buf[pos++] as number) < 0x80) return pos;
  }
  throw corrupt('varlong longer than 64 bits');
}

/**
 * Walks `count` records in [start, end), checking every length and offset
 * delta. This is the hot path of append: each varint takes an inline one-byte
 * fast path (almost every field of a small record fits in one byte) and falls
 * back to readVarint (varint.ts). The fast path skips bounds checks on purpose: reads
 * only move forward, so a record that overran its stated length ends past
 * `recordEnd` and fails the exact-end check below; a read past the buffer
 * yields undefined, which takes the checked slow path.
 */
function walkRecords(buf: Buffer, start: number, end: number, count: number, lastAllowed: number): void {
  let pos = start;
  let previous = -1;
  let b = 0;
  let v = 0;
  for (let i = 0; i < count; i++) {
    v = readVarint(buf, pos, end);
    pos = readEnd();
    const length = v;
    if (length < 6 || pos + length > end) throw corrupt(`record ${i} has impossible length ${length}`);
    const recordEnd = pos + length;
    b = buf[pos + 1] as number; // after the attributes byte: the timestamp delta
    if (b < 0x80) pos += 2;
    else pos = skipVarlongAt(buf, pos + 1, recordEnd);

    b = buf[pos] as number;
    if (b < 0x80) {
      v = (b >>> 1) ^ -(b & 1);
      pos++;
    } else {
      v = readVarint(buf, pos, recordEnd);
      pos = readEnd();
    }
    // exact (lastAllowed -1): deltas 0..count-1; a cleaned batch: ascending, at most lastOffsetDelta
    if (lastAllowed < 0 ? v !== i : v <= previous || v > lastAllowed)
      throw new SluiceError(ErrorCode.InvalidRecord, `record ${i} has offset delta ${v}`);
    previous = v;

    b = buf[pos] as number; // key length
    if (b < 0x80) {
      v = (b >>> 1) ^ -(b & 1);
      pos++;
    } else {
      v = readVarint(buf, pos, recordEnd);
      pos = readEnd();
    }
    if (v < -1) throw corrupt(`record ${i} has key length ${v}`);
    if (v < 0) sawKeyless = true;
    if (v > 0) pos += v;

    b = buf[pos] as number; // value length
    if (b < 0x80) {
      v = (b >>> 1) ^ -(b & 1);
      pos++;
    } else {
      v = readVarint(buf, pos, recordEnd);
      pos = readEnd();
    }
    if (v < -1) throw corrupt(`record ${i} has value length ${v}`);
    if (v > 0) pos += v;

    b = buf[pos] as number; // header count
    if (b < 0x80) {
      v = (b >>> 1) ^ -(b & 1);
      pos++;
    } else {
      v = readVarint(buf, pos, recordEnd);
      pos = readEnd();
    }
    if (v < 0 || v > length) throw corrupt(`record ${i} has ${v} headers`);
    for (let h = v; h > 0 && pos <= recordEnd; h--) {
      v = readVarint(buf, pos, recordEnd);
      if (v < 0) throw corrupt(`record ${i} has a header key length ${v}`);
      pos = readEnd() + v;
      v = readVarint(buf, pos, recordEnd);
      if (v < -1) throw corrupt(`record ${i} has a header value length ${v}`);
      pos = readEnd() + Math.max(v, 0);
    }
    if (pos !== recordEnd) throw corrupt(`record ${i} length ${length} disagrees with its fields`);
  }
  if (pos !== end) throw corrupt(`${end - pos} bytes after the last record`);
}
