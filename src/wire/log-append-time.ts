/**
 * Kafka's LogAppendTime on RecordBatch v2 (message.timestamp.type=LogAppendTime):
 * the leader sets the batch's timestamp-type attribute and writes its append
 * time as the batch's max timestamp, leaving the records' own timestamps as
 * they are; readers then take the max timestamp as every record's (Kafka's
 * rule, record-batch-decoder.ts). Changing the attributes changes the CRC, so
 * it is recomputed — only after the stored CRC was found right, so a
 * corrupted batch is never given a fresh, valid CRC.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { crc32c } from './crc32c.js';
import { writeInt64 } from './int64.js';
import { attributesOf, batchSizeOf, checkFraming, crcMatches, Field, timestampTypeLogAppend } from './record-batch.js';

/** Stamps every batch in `batches` (concatenated, framing checked here) with LogAppendTime `now`. */
export function stampLogAppendTime(batches: Buffer, now: number): void {
  for (let pos = 0; pos < batches.length; ) {
    const size = checkFraming(batches, pos, batches.length);
    if (!crcMatches(batches, pos, size)) {
      throw new SluiceError(ErrorCode.CorruptRecord, `CRC-32C mismatch in batch at position ${pos}`);
    }
    batches.writeInt16BE(attributesOf(batches, pos) | timestampTypeLogAppend, pos + Field.attributes);
    writeInt64(batches, pos + Field.maxTimestamp, now);
    batches.writeUInt32BE(crc32c(batches.subarray(pos + Field.attributes, pos + size)), pos + Field.crc);
    pos += batchSizeOf(batches, pos);
  }
}
