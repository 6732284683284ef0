/**
 * A topic's `compression.type` (Kafka's topic config, broker default of the
 * same name): `producer` keeps batches as the producer sent them; any other
 * value is the codec the leader stores them in, rewriting a batch whose
 * codec differs before it is appended (as Kafka's LogValidator does). Only
 * the records area, the codec bits of the attributes, the batch length and
 * the CRC change: offsets, timestamps, producer id, epoch and sequence stay.
 */

import { ErrorCode, SluiceError } from '../shared/errors.js';
import { batchBytesMax } from '../shared/limits.js';
import { deflateRecords, inflateRecords } from './compression.js';
import { crc32c } from './crc32c.js';
import {
  attributesOf,
  Compression,
  compressionMask,
  compressionOf,
  controlFlag,
  Field,
  logOverheadBytes,
  validateBatch,
} from './record-batch.js';

/** Kafka's compression.type values (and 'none', which the issue and some tools spell for uncompressed). */
export const compressionTypes = ['producer', 'uncompressed', 'none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

/** The codec a compression.type stores batches in; undefined for `producer` (keep the producer's). */
export function codecOfCompressionType(type: string): Compression | undefined {
  switch (type) {
    case 'producer':
      return undefined;
    case 'uncompressed':
    case 'none':
      return Compression.none;
    case 'gzip':
      return Compression.gzip;
    case 'snappy':
      return Compression.snappy;
    case 'lz4':
      return Compression.lz4;
    case 'zstd':
      return Compression.zstd;
    default:
      throw new SluiceError(
        ErrorCode.InvalidConfig,
        `compression.type ${type} is not one of ${compressionTypes.join(', ')}`,
      );
  }
}

/**
 * The record set `records` (one or more RecordBatch v2) with every batch in
 * `codec`. Each batch to rewrite is validated first (CRC, records), so a
 * corrupt batch is refused rather than sealed with a new CRC. Control
 * batches and batches already in `codec` are kept as they are; when none
 * changes, `records` itself is returned.
 */
export function recompressBatches(records: Buffer, codec: Compression): Buffer {
  const parts: Buffer[] = [];
  let changed = false;
  let pos = 0;
  while (pos < records.length) {
    const size = validateBatch(records, pos, records.length);
    const batch = records.subarray(pos, pos + size);
    pos += size;
    const attributes = attributesOf(batch);
    if (compressionOf(batch) === codec || attributes & controlFlag) {
      parts.push(batch);
      continue;
    }
    const area = batch.subarray(Field.records);
    const raw = compressionOf(batch) === Compression.none ? area : inflateRecords(compressionOf(batch), area);
    const body = deflateRecords(codec, raw);
    if (Field.records + body.length > batchBytesMax) {
      throw new SluiceError(
        ErrorCode.RecordTooLarge,
        `a batch stored in the topic's codec would be ${Field.records + body.length} bytes, more than ${batchBytesMax}`,
      );
    }
    const out = Buffer.allocUnsafe(Field.records + body.length);
    batch.copy(out, 0, 0, Field.records);
    body.copy(out, Field.records);
    out.writeInt32BE(out.length - logOverheadBytes, Field.batchLength);
    out.writeInt16BE((attributes & ~compressionMask) | codec, Field.attributes);
    out.writeUInt32BE(crc32c(out.subarray(Field.attributes)), Field.crc);
    parts.push(out);
    changed = true;
  }
  if (!changed) return records;
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}
