/**
 * Turns RecordBatch v2 bytes back into records (clients, tools, tests).
 * Checks the CRC of every batch before trusting its contents.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { inflateRecords } from './compression.js';
import type { DecodedRecord, RecordHeader } from './record.js';
import {
  attributesOf,
  baseOffsetOf,
  baseTimestampOf,
  Compression,
  checkFraming,
  compressionOf,
  crcMatches,
  Field,
  maxTimestampOf,
  recordsCountOf,
  timestampTypeLogAppend,
} from './record-batch.js';
import { VarintReader } from './varint.js';

function nullableBytes(r: VarintReader): Buffer | null {
  const length = r.varint();
  return length < 0 ? null : r.bytes(length);
}

const noHeaders: readonly RecordHeader[] = Object.freeze([]);

/** Called per record by forEachRecord; `headers` is a shared empty array when the record has none. */
export type RecordVisitor = (
  offset: number,
  timestamp: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: readonly RecordHeader[],
) => void;

/**
 * Visits every record of the one batch at `pos` without building
 * intermediate objects (the consumer's hot path builds its own record
 * object directly). Checks framing and CRC first.
 */
export function forEachRecord(buf: Buffer, pos: number, visit: RecordVisitor): void {
  const size = checkFraming(buf, pos, buf.length);
  if (!crcMatches(buf, pos, size)) {
    throw new SluiceError(ErrorCode.CorruptRecord, `CRC-32C mismatch in batch at position ${pos}`);
  }
  const baseOffset = baseOffsetOf(buf, pos);
  const baseTimestamp = baseTimestampOf(buf, pos);
  // LogAppendTime: the broker's time in maxTimestamp stands for every record (Kafka's rule)
  const appendTime = (attributesOf(buf, pos) & timestampTypeLogAppend) !== 0 ? maxTimestampOf(buf, pos) : undefined;
  const count = recordsCountOf(buf, pos);
  let body = buf.subarray(pos + Field.records, pos + size);
  const codec = compressionOf(buf, pos);
  if (codec !== Compression.none) body = inflateRecords(codec, body);
  const r = new VarintReader(body, 0, body.length);
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    const recordEnd = r.pos + length;
    r.skip(1);
    const delta = r.varlong();
    const timestamp = appendTime ?? baseTimestamp + delta;
    const offset = baseOffset + r.varint();
    const key = nullableBytes(r);
    const value = nullableBytes(r);
    const headerCount = r.varint();
    let headers = noHeaders;
    if (headerCount > 0) {
      const list: RecordHeader[] = [];
      for (let h = 0; h < headerCount; h++) {
        const hk = r.varint();
        const hkey = r.bytes(hk).toString('utf8');
        list.push({ key: hkey, value: nullableBytes(r) });
      }
      headers = list;
    }
    if (r.pos !== recordEnd) throw new SluiceError(ErrorCode.CorruptRecord, `record ${i} length mismatch`);
    visit(offset, timestamp, key, value, headers);
  }
}

/** Decodes every record of the one batch at `pos`. */
export function decodeBatchRecords(buf: Buffer, pos = 0): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  forEachRecord(buf, pos, (offset, timestamp, key, value, headers) => {
    // a fresh array per record: callers own what they get back
    out.push({ offset, timestamp, key, value, headers: [...headers] });
  });
  return out;
}

/** Decodes all whole batches in `buf` (e.g. a fetch response), in order. */
export function decodeRecords(buf: Buffer): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = checkFraming(buf, pos, buf.length);
    for (const rec of decodeBatchRecords(buf.subarray(pos, pos + size))) out.push(rec);
    pos += size;
  }
  return out;
}
