/**
 * Kafka's message format v0/v1 (magic 0 and 1, "message sets"), which
 * Produce v0-v2 and Fetch v0-v3 carry, converted to and from RecordBatch v2,
 * the only format Sluice stores (as Kafka's brokers convert on produce and
 * down-convert on fetch for old clients):
 *
 *   message set = message*
 *   message     = offset:int64 | size:int32 | crc:uint32 | magic:int8 | attributes:int8
 *                 | [timestamp:int64, magic 1] | key:bytes | value:bytes
 *
 * `size` counts from the CRC to the end; the CRC is CRC-32 (IEEE, not the
 * CRC-32C of v2 batches) of the bytes from the magic to the end. Attribute
 * bits 0-2 are the codec; bit 3 (magic 1) is LogAppendTime. A compressed
 * message is a wrapper whose value is a compressed message set of the same
 * magic; in magic 1 its inner offsets are relative (0, 1, …) and the
 * wrapper's offset is the absolute offset of the last inner message, its
 * timestamp the largest inner one (or the append time). Headers do not exist
 * before v2: down-conversion drops them, as Kafka's does.
 */
import { crc32 } from 'node:zlib';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { decompressedBytesMax, legacyMessagesMax } from '../shared/limits.js';
import { deflateRecords, inflateRecords } from './compression.js';
import type { RecordInput } from './record.js';
import {
  attributesOf,
  batchSizeOf,
  Compression,
  compressionMask,
  compressionOf,
  controlFlag,
  lastOffsetOf,
  logOverheadBytes,
  maxTimestampOf,
  noTimestamp,
  timestampTypeLogAppend,
} from './record-batch.js';
import { forEachRecord } from './record-batch-decoder.js';
import { encodeRecordBatch } from './record-batch-encoder.js';

/** offset:int64 + size:int32 before every message. */
const messageOverheadBytes = 12;
/** crc + magic + attributes + key length + value length: the smallest magic-0 message body. */
const minMessageBodyBytes = 14;

/** One message of a v0/v1 message set, compressed wrappers opened. */
export interface LegacyMessage {
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** What the messages of a produced message set become. */
export interface ConvertedMessageSet {
  /** One RecordBatch v2 holding every message, base offset 0, producer id -1. */
  batch: Buffer;
  /** The codec the producer compressed with (none when nothing was compressed). */
  sourceCodec: number;
  /** The codec of the stored batch: the producer's when Sluice can write it, else none. */
  storedCodec: number;
}

function corrupt(message: string): SluiceError {
  return new SluiceError(ErrorCode.CorruptRecord, `message set: ${message}`);
}

function bytesAt(buf: Buffer, pos: number, end: number, what: string): { value: Buffer | null; next: number } {
  if (pos + 4 > end) throw corrupt(`${what} length runs past the message`);
  const length = buf.readInt32BE(pos);
  if (length < 0) return { value: null, next: pos + 4 };
  if (pos + 4 + length > end) throw corrupt(`${what} of ${length} bytes runs past the message`);
  return { value: buf.subarray(pos + 4, pos + 4 + length), next: pos + 4 + length };
}

/**
 * Visits every message of the message set in `buf` (whole: a partial message
 * at the end is corrupt, a producer never sends one), opening compressed
 * wrappers; `codec` is the wrapper's codec. Checks every CRC. The messages
 * point into their wrappers' inflated bytes, which all stay alive until the
 * set is converted: `inflated` counts them against one bound for the whole
 * set (each wrapper bounded alone, a set of N wrappers held N times the bound).
 */
function forEachMessage(
  buf: Buffer,
  visit: (message: LegacyMessage, magic: number, codec: number) => void,
  inner?: { magic: number },
  inflated: { bytes: number; max: number } = { bytes: 0, max: decompressedBytesMax },
): void {
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < messageOverheadBytes) throw corrupt(`${buf.length - pos} stray bytes at the end`);
    const size = buf.readInt32BE(pos + 8);
    const start = pos + messageOverheadBytes;
    const end = start + size;
    if (size < minMessageBodyBytes || end > buf.length) throw corrupt(`message of impossible size ${size}`);
    const magic = buf.readInt8(start + 4);
    if (magic !== 0 && magic !== 1) throw corrupt(`magic ${magic} in a message set`);
    if (inner && magic !== inner.magic)
      throw corrupt(`inner message of magic ${magic} in a magic ${inner.magic} wrapper`);
    if (crc32(buf.subarray(start + 4, end)) !== buf.readUInt32BE(start)) throw corrupt('CRC-32 mismatch');
    const attributes = buf.readInt8(start + 5);
    let p = start + 6;
    let timestamp = noTimestamp;
    if (magic === 1) {
      if (p + 8 > end) throw corrupt('timestamp runs past the message');
      timestamp = Number(buf.readBigInt64BE(p));
      p += 8;
    }
    const key = bytesAt(buf, p, end, 'key');
    const value = bytesAt(buf, key.next, end, 'value');
    if (value.next !== end) throw corrupt(`${end - value.next} bytes after the value`);
    const codec = attributes & compressionMask;
    if (codec === Compression.none) {
      visit({ timestamp, key: key.value, value: value.value }, magic, codec);
    } else {
      if (inner) throw corrupt('a compressed message inside a compressed message');
      if (codec === Compression.zstd) {
        // as Kafka's legacy record iterator: zstd exists from RecordBatch v2 (and Produce v7) on
        throw new SluiceError(ErrorCode.InvalidRecord, `a zstd wrapper in message format v${magic} (zstd needs v2)`);
      }
      if (value.value === null) throw corrupt('a compressed wrapper without a value');
      const logAppend = magic === 1 && (attributes & timestampTypeLogAppend) !== 0;
      const left = inflated.max - inflated.bytes;
      if (left <= 0) throw corrupt(`compressed wrappers inflate to more than ${inflated.max} bytes in all`);
      const opened = inflateRecords(codec, value.value, { legacyLz4HeaderChecksum: magic === 0, outputMax: left });
      inflated.bytes += opened.length;
      forEachMessage(opened, (m) => visit(logAppend ? { ...m, timestamp } : m, magic, codec), { magic }, inflated);
    }
    pos = end;
  }
}

/**
 * Every message of a v0/v1 message set, compressed wrappers opened. Throws CorruptRecord on bad
 * bytes or when its wrappers inflate to more than `inflatedBytesMax` together (default
 * decompressedBytesMax), InvalidRecord beyond legacyMessagesMax messages.
 */
export function decodeMessageSet(
  buf: Buffer,
  inflatedBytesMax = decompressedBytesMax,
): { messages: LegacyMessage[]; codec: number } {
  const messages: LegacyMessage[] = [];
  let codec: number = Compression.none;
  forEachMessage(
    buf,
    (m, _magic, c) => {
      if (messages.length >= legacyMessagesMax) {
        throw new SluiceError(ErrorCode.InvalidRecord, `message set: more than ${legacyMessagesMax} messages`);
      }
      messages.push(m);
      if (c !== Compression.none) codec = c;
    },
    undefined,
    { bytes: 0, max: inflatedBytesMax },
  );
  return { messages, codec };
}

/** The magic of the first message or batch in `buf` (byte 16 in both layouts), or -1 when there is none. */
export function magicOf(buf: Buffer): number {
  return buf.length > 16 ? buf.readInt8(16) : -1;
}

/**
 * A produced v0/v1 message set as one RecordBatch v2 (Kafka's conversion on
 * append): the same keys, values and timestamps (magic 0's "none", -1, stays
 * -1), compressed with the producer's codec when Sluice can write it, else
 * stored uncompressed. Throws CorruptRecord on bad bytes, InvalidRecord on an
 * empty set.
 */
export function messageSetToBatch(buf: Buffer): ConvertedMessageSet {
  const { messages, codec } = decodeMessageSet(buf);
  if (messages.length === 0) throw new SluiceError(ErrorCode.InvalidRecord, 'an empty message set');
  const records: RecordInput[] = messages.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp }));
  try {
    const batch = encodeRecordBatch(records, { compression: codec as Compression });
    return { batch, sourceCodec: codec, storedCodec: codec };
  } catch (err) {
    if (!isSluiceError(err, ErrorCode.UnsupportedCompression)) throw err;
    // a codec Sluice reads but cannot write: stored uncompressed
    const batch = encodeRecordBatch(records, { compression: Compression.none });
    return { batch, sourceCodec: codec, storedCodec: Compression.none };
  }
}

/** The message format a down-conversion writes: 1 for Fetch v2-v3, 0 (no timestamps) for v0-v1. */
export type LegacyMagic = 0 | 1;

/** One message (offset, size, CRC-32, magic, attributes, [timestamp, magic 1], key, value). */
function writeMessage(
  magic: LegacyMagic,
  offset: number,
  attributes: number,
  timestamp: number,
  key: Buffer | null,
  value: Buffer | null,
): Buffer {
  const keyBytes = key?.length ?? 0;
  const valueBytes = value?.length ?? 0;
  const size = 4 + 1 + 1 + (magic === 1 ? 8 : 0) + 4 + keyBytes + 4 + valueBytes;
  const out = Buffer.allocUnsafe(messageOverheadBytes + size);
  out.writeBigInt64BE(BigInt(offset), 0);
  out.writeInt32BE(size, 8);
  let p = messageOverheadBytes + 4;
  out.writeInt8(magic, p++);
  out.writeInt8(attributes, p++);
  if (magic === 1) {
    out.writeBigInt64BE(BigInt(timestamp), p);
    p += 8;
  }
  out.writeInt32BE(key ? key.length : -1, p);
  p += 4;
  if (key) p += key.copy(out, p);
  out.writeInt32BE(value ? value.length : -1, p);
  p += 4;
  if (value) value.copy(out, p);
  out.writeUInt32BE(crc32(out.subarray(messageOverheadBytes + 4)), messageOverheadBytes);
  return out;
}

/**
 * The messages of one v2 batch from `fromOffset` on: plain, or one wrapper of its codec (inner
 * offsets relative to the first kept record in magic 1, absolute in magic 0).
 */
function downConvertBatch(buf: Buffer, pos: number, fromOffset: number, magic: LegacyMagic): Buffer[] {
  const attributes = attributesOf(buf, pos);
  const codec = compressionOf(buf, pos);
  const logAppend = (attributes & timestampTypeLogAppend) !== 0;
  const kept: { offset: number; timestamp: number; key: Buffer | null; value: Buffer | null }[] = [];
  forEachRecord(buf, pos, (offset, timestamp, key, value) => {
    if (offset >= fromOffset) kept.push({ offset, timestamp, key, value });
  });
  if (kept.length === 0) return [];
  // magic 0 has no timestamps, nor their type bit
  const timestampType = logAppend && magic === 1 ? timestampTypeLogAppend : 0;
  if (codec !== Compression.none) {
    const first = magic === 1 ? (kept[0] as { offset: number }).offset : 0;
    const inner = Buffer.concat(
      kept.map((r) => writeMessage(magic, r.offset - first, timestampType, r.timestamp, r.key, r.value)),
    );
    let compressed: Buffer | undefined;
    try {
      compressed = deflateRecords(codec, inner);
    } catch (err) {
      if (!isSluiceError(err, ErrorCode.UnsupportedCompression)) throw err;
    }
    if (compressed) {
      const last = kept[kept.length - 1] as { offset: number };
      let wrapperTime = noTimestamp;
      for (const r of kept) if (r.timestamp > wrapperTime) wrapperTime = r.timestamp;
      if (logAppend) wrapperTime = maxTimestampOf(buf, pos);
      return [writeMessage(magic, last.offset, codec | timestampType, wrapperTime, null, compressed)];
    }
    // a codec Sluice cannot write: the messages go uncompressed
  }
  return kept.map((r) => writeMessage(magic, r.offset, timestampType, r.timestamp, r.key, r.value));
}

/**
 * Stored RecordBatch v2 bytes (whole batches, as a fetch reads them) as a
 * magic-1 message set for Fetch v2-v3, or magic 0 for v0-v1 (timestamps
 * dropped too), as Kafka's down-conversion does: records
 * before `fromOffset` and control batches left out, headers dropped, each
 * compressed batch one wrapper of the same codec (uncompressed when Sluice
 * cannot write the codec). At most `maxBytes`, except that the first batch's
 * messages always go with `minOneBatch` (a consumer must make progress, Kafka's KIP-74).
 * zstd cannot travel in a message set: a zstd batch is UnsupportedCompression
 * when it comes first, the end of the answer otherwise.
 */
export function batchesToMessageSet(
  records: Buffer,
  fromOffset: number,
  maxBytes: number,
  minOneBatch = true,
  magic: LegacyMagic = 1,
): Buffer {
  const out: Buffer[] = [];
  let total = 0;
  for (let pos = 0; records.length - pos >= logOverheadBytes; ) {
    const size = batchSizeOf(records, pos);
    if (size < logOverheadBytes || pos + size > records.length) break;
    const isControl = (attributesOf(records, pos) & controlFlag) !== 0;
    if (!isControl && lastOffsetOf(records, pos) >= fromOffset) {
      if (compressionOf(records, pos) === Compression.zstd) {
        if (out.length === 0) {
          throw new SluiceError(ErrorCode.UnsupportedCompression, 'zstd records cannot be sent in message format v1');
        }
        break;
      }
      const messages = downConvertBatch(records, pos, fromOffset, magic);
      const bytes = messages.reduce((n, m) => n + m.length, 0);
      if ((out.length > 0 || !minOneBatch) && total + bytes > maxBytes) break;
      out.push(...messages);
      total += bytes;
    }
    pos += size;
  }
  return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, total);
}
