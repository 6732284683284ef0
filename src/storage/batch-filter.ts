/**
 * Rewriting one RecordBatch v2 with some of its records left out, as Kafka's
 * cleaner does (MemoryRecords.filterTo): the batch keeps its base offset, its
 * lastOffsetDelta (so the offset after it, and the producer's last sequence,
 * do not change), its producer id, epoch and base sequence, its leader epoch
 * and timestamp type; each kept record keeps its offset delta and timestamp.
 * A compressed batch is compressed again with its codec when Sluice can write
 * that codec (deflateRecords: gzip today), otherwise written uncompressed
 * (the bytes stay valid Kafka batches, only larger). A batch left with no record
 * is written as Kafka's empty batch: the header alone, recordsCount 0.
 *
 * The delete horizon (KIP-534): the first time a batch holding tombstones is
 * rewritten, its baseTimestamp becomes "now + delete.retention.ms" and
 * attribute bit 6 says so; record timestamp deltas are taken from it.
 */
import { ErrorCode, isSluiceError } from '../shared/errors.js';
import { deflateRecords, inflateRecords } from '../wire/compression.js';
import { crc32c } from '../wire/crc32c.js';
import { writeInt64 } from '../wire/int64.js';
import {
  attributesOf,
  baseOffsetOf,
  baseTimestampOf,
  batchSizeOf,
  Compression,
  compressionMask,
  compressionOf,
  deleteHorizonFlag,
  Field,
  logOverheadBytes,
  maxTimestampOf,
  recordsCountOf,
  timestampTypeLogAppend,
} from '../wire/record-batch.js';
import { VarintReader, varintSize, varlongSize, writeVarint, writeVarlong } from '../wire/varint.js';

/** One record of a batch as the cleaner sees it. */
export interface CleanerRecord {
  offset: number;
  offsetDelta: number;
  timestamp: number;
  /** The record's attributes byte (unused by Kafka, kept as it was). */
  attributes: number;
  key: Buffer | null;
  /** True when the value is null: a tombstone. */
  tombstone: boolean;
  /** The record's bytes from its key length on (key, value, headers), copied as they are. */
  tail: Buffer;
}

/** The records of the batch at `pos` of `buf` (inflated when compressed), in order. */
export function batchRecords(buf: Buffer, pos: number): CleanerRecord[] {
  const size = batchSizeOf(buf, pos);
  const baseOffset = baseOffsetOf(buf, pos);
  const baseTimestamp = baseTimestampOf(buf, pos);
  const count = recordsCountOf(buf, pos);
  let body = buf.subarray(pos + Field.records, pos + size);
  const codec = compressionOf(buf, pos);
  if (codec !== Compression.none && count > 0) body = inflateRecords(codec, body);
  const r = new VarintReader(body, 0, body.length);
  const out: CleanerRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    const end = r.pos + length;
    const attributes = body[r.pos] as number;
    r.skip(1);
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const tailStart = r.pos;
    const keyLength = r.varint();
    const key = keyLength < 0 ? null : r.bytes(keyLength);
    const valueLength = r.varint();
    out.push({
      offset: baseOffset + offsetDelta,
      offsetDelta,
      timestamp: baseTimestamp + timestampDelta,
      attributes,
      key,
      tombstone: valueLength < 0,
      tail: body.subarray(tailStart, end),
    });
    r.pos = end;
  }
  return out;
}

/** True when the batch at `pos` carries a delete horizon; its value is then the batch's baseTimestamp. */
export function deleteHorizonOf(buf: Buffer, pos: number): number | undefined {
  return (attributesOf(buf, pos) & deleteHorizonFlag) !== 0 ? baseTimestampOf(buf, pos) : undefined;
}

/**
 * The batch at `pos` of `buf` rewritten with only `kept` (a subsequence of its
 * records); `deleteHorizon`, when given, is stamped as the batch's delete horizon.
 */
export function rewriteBatch(buf: Buffer, pos: number, kept: readonly CleanerRecord[], deleteHorizon?: number): Buffer {
  const original = buf.subarray(pos, pos + Field.records);
  const attributes = attributesOf(buf, pos);
  const logAppendTime = (attributes & timestampTypeLogAppend) !== 0;
  const horizon = deleteHorizon ?? deleteHorizonOf(buf, pos);
  const oldBase = baseTimestampOf(buf, pos);
  let baseTimestamp = horizon ?? oldBase;
  let maxTimestamp = maxTimestampOf(buf, pos);
  if (kept.length === 0) {
    // Kafka's empty batch: base and max timestamp both the batch's max timestamp
    baseTimestamp = horizon ?? maxTimestamp;
  } else if (horizon === undefined) {
    baseTimestamp = Math.min(...kept.map((r) => r.timestamp));
  }
  if (!logAppendTime && kept.length > 0) maxTimestamp = Math.max(...kept.map((r) => r.timestamp));

  let bodyBytes = 0;
  const lengths: number[] = [];
  for (const r of kept) {
    const length = 1 + varlongSize(r.timestamp - baseTimestamp) + varintSize(r.offsetDelta) + r.tail.length;
    lengths.push(length);
    bodyBytes += varintSize(length) + length;
  }
  let body: Buffer = Buffer.allocUnsafe(bodyBytes);
  let p = 0;
  for (const [i, r] of kept.entries()) {
    p = writeVarint(body, p, lengths[i] as number);
    body[p++] = r.attributes;
    p = writeVarlong(body, p, r.timestamp - baseTimestamp);
    p = writeVarint(body, p, r.offsetDelta);
    p += r.tail.copy(body, p);
  }
  let codec = attributes & compressionMask;
  if (kept.length === 0) codec = Compression.none;
  else if (codec !== Compression.none) {
    try {
      body = deflateRecords(codec, body);
    } catch (err) {
      // a codec Sluice cannot write (none today: it writes all four of Kafka's): the batch goes uncompressed
      if (!(isSluiceError(err) && err.code === ErrorCode.UnsupportedCompression)) throw err;
      codec = Compression.none;
    }
  }

  const batch = Buffer.allocUnsafe(Field.records + body.length);
  original.copy(batch, 0);
  body.copy(batch, Field.records);
  batch.writeInt32BE(batch.length - logOverheadBytes, Field.batchLength);
  let newAttributes = (attributes & ~compressionMask) | codec;
  if (horizon !== undefined) newAttributes |= deleteHorizonFlag;
  batch.writeInt16BE(newAttributes, Field.attributes);
  writeInt64(batch, Field.baseTimestamp, baseTimestamp);
  writeInt64(batch, Field.maxTimestamp, maxTimestamp);
  batch.writeInt32BE(kept.length, Field.recordsCount);
  batch.writeUInt32BE(crc32c(batch.subarray(Field.attributes)), Field.crc);
  return batch;
}
