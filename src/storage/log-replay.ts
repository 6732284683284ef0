/**
 * Reads a partition back whole, batch by batch, from its log start to its end: how the stores of
 * the internal compacted topics (groups/offset-store.ts, transactions/txn-state-store.ts) rebuild
 * their state in memory when their broker becomes the partition's leader.
 */
import { checkFraming, lastOffsetOf } from '../wire/record-batch.js';
import type { PartitionLog } from './partition-log.js';

/** Bytes read at a time: a bounded buffer however long the partition. */
export const replayReadBytes = 1024 * 1024;

/**
 * Calls `visit` for each batch of `log` holding an offset at or past the read position `from`
 * (a read returns whole batches, so the first batch of a chunk may begin before it: the visitor
 * skips the records below `from`). Resolves at the log end as it was when each read began.
 */
export async function replayLog(
  log: Pick<PartitionLog, 'logStartOffset' | 'logEndOffset' | 'read'>,
  visit: (batch: Buffer, from: number) => void,
  readBytes = replayReadBytes,
): Promise<void> {
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = await log.read(offset, readBytes);
    if (read.records.length === 0) break;
    const buf = read.records;
    for (let pos = 0; pos < buf.length; ) {
      const size = checkFraming(buf, pos, buf.length);
      const batch = buf.subarray(pos, pos + size);
      pos += size;
      if (lastOffsetOf(batch) >= offset) visit(batch, offset);
    }
    offset = read.nextOffset;
  }
}
