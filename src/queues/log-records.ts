/**
 * The records a queue or JMS topic reads from its log: every record of its
 * data batches, never those of control batches (transaction markers, issue
 * 21), which are the log's bookkeeping and no message of anyone's.
 */
import type { DecodedRecord } from '../wire/record.js';
import { checkFraming } from '../wire/record-batch.js';
import { decodeBatchRecords } from '../wire/record-batch-decoder.js';
import { isControlBatch } from '../wire/txn-marker.js';

/** Decodes the whole batches in `buf` in order, skipping control batches. */
export function decodeLogRecords(buf: Buffer): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = checkFraming(buf, pos, buf.length);
    if (!isControlBatch(buf, pos)) {
      for (const rec of decodeBatchRecords(buf.subarray(pos, pos + size))) out.push(rec);
    }
    pos += size;
  }
  return out;
}
