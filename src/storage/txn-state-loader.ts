/**
 * Feeds a partition's transaction state (txn-state.ts) and its aborted-transaction index from
 * batches: those just appended (a leader's or a follower's), and the log's own bytes at open
 * (from the stored snapshot's offset on) and after a truncation the undo events cannot undo.
 */
import { batchSizeOf, lastOffsetOf } from '../wire/record-batch.js';
import { isControlBatch, readTxnMarker } from '../wire/txn-marker.js';
import { walkBatchHeaders } from './batch-header-walker.js';
import type { PartitionIndex } from './partition-index.js';
import type { SegmentList } from './segment-list.js';
import type { TxnState } from './txn-state.js';

/** Records the batch at `pos` of `buf` (the whole batch when it is a control batch). */
export function recordTxnBatch(txns: TxnState, index: PartitionIndex, buf: Buffer, pos: number): void {
  const aborted = txns.record(buf, pos, isControlBatch(buf, pos) ? readTxnMarker(buf, pos) : undefined);
  if (aborted) index.addAbortedTxn(aborted);
}

/** Records every batch of `batches` (whole batches back to back, headers carrying their final offsets). */
export function recordTxnBatches(txns: TxnState, index: PartitionIndex, batches: Buffer): void {
  for (let pos = 0; pos < batches.length; pos += batchSizeOf(batches, pos)) recordTxnBatch(txns, index, batches, pos);
}

/**
 * Records every batch of the log at or past `fromOffset`: whole segments from the one that holds
 * it (a segment's first batches below it are skipped by their offsets), by their headers, a
 * control batch whole. Stops at a header that cannot be right (the log's validation reports it).
 */
export function recordTxnsFromLog(
  txns: TxnState,
  index: PartitionIndex,
  segments: SegmentList,
  fromOffset: number,
): void {
  for (let i = 0; i < segments.length; i++) {
    const s = segments.at(i);
    const next = i + 1 < segments.length ? segments.at(i + 1).baseOffset : Number.POSITIVE_INFINITY;
    if (next <= fromOffset || s.size === 0) continue;
    // a batch of a snapshot's past is not recorded twice; a control batch is read whole
    walkBatchHeaders(s, 0, (window, at, position, size) => {
      if (lastOffsetOf(window, at) < fromOffset) return;
      if (at + size > window.length && isControlBatch(window, at))
        recordTxnBatch(txns, index, s.read(position, size), 0);
      else recordTxnBatch(txns, index, window, at);
    });
  }
}
