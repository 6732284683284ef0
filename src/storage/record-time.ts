/** Finding a record by timestamp inside one batch, without building record objects. */
import { inflateRecords } from '../wire/compression.js';
import {
  attributesOf,
  baseOffsetOf,
  baseTimestampOf,
  batchSizeOf,
  Compression,
  compressionOf,
  Field,
  lastOffsetOf,
  maxTimestampOf,
  recordsCountOf,
  timestampTypeLogAppend,
} from '../wire/record-batch.js';
import { VarintReader } from '../wire/varint.js';

/** The first record of `batch` with timestamp >= `timestamp` (the batch's last record if its header promised one but none is). */
export function findRecordAtOrAfter(batch: Buffer, timestamp: number): { offset: number; timestamp: number } {
  const size = batchSizeOf(batch, 0);
  const baseOffset = baseOffsetOf(batch, 0);
  const baseTimestamp = baseTimestampOf(batch, 0);
  const appendTime = (attributesOf(batch, 0) & timestampTypeLogAppend) !== 0 ? maxTimestampOf(batch, 0) : undefined;
  let body = batch.subarray(Field.records, size);
  const codec = compressionOf(batch, 0);
  if (codec !== Compression.none) body = inflateRecords(codec, body);
  const r = new VarintReader(body, 0, body.length);
  const count = recordsCountOf(batch, 0);
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    const end = r.pos + length;
    r.skip(1);
    const delta = r.varlong();
    const ts = appendTime ?? baseTimestamp + delta;
    const offsetDelta = r.varint();
    if (ts >= timestamp) return { offset: baseOffset + offsetDelta, timestamp: ts };
    r.pos = end;
  }
  return { offset: lastOffsetOf(batch, 0), timestamp: maxTimestampOf(batch, 0) };
}
