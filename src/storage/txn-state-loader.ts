/**
 * Feeds a partition's transaction state (txn-state.ts) and its aborted-transaction index from
 * batches: those just appended (a leader's or a follower's), and the log's own bytes at open
 * (from the stored snapshot's offset on) and after a truncation the undo events cannot undo.
 */
import { batchHeaderBytes } from '../shared/limits.js';
import { batchSizeOf, lastOffsetOf } from '../wire/record-batch.js';
import { isControlBatch, readTxnMarker } from '../wire/txn-marker.js';
import type { PartitionIndex } from './partition-index.js';
import type { HeaderSource } from './producer-state.js';
import type { SegmentList } from './segment-list.js';
import type { TxnState } from './txn-state.js';

const walkWindowBytes = 64 * 1024;

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
 * Records the batches of `source` from byte `from` whose last offset is at or past `fromOffset`
 * (a batch of a snapshot's past is not recorded twice), reading headers in windows and a control
 * batch whole. Stops quietly at a header that cannot be right (the log's validation reports it).
 */
function recordSource(
  txns: TxnState,
  index: PartitionIndex,
  source: HeaderSource,
  from: number,
  fromOffset: number,
): void {
  const window = Buffer.allocUnsafe(walkWindowBytes);
  let windowStart = 0;
  let windowLength = 0;
  const end = source.size;
  for (let position = from; position + batchHeaderBytes <= end; ) {
    if (position < windowStart || position + batchHeaderBytes > windowStart + windowLength) {
      windowStart = position;
      windowLength = source.read(position, Math.min(window.length, end - position), window).length;
      if (windowLength < batchHeaderBytes) return;
    }
    const at = position - windowStart;
    const size = batchSizeOf(window, at);
    if (size < batchHeaderBytes || position + size > end) return;
    if (lastOffsetOf(window, at) >= fromOffset) {
      if (isControlBatch(window, at) && position + size > windowStart + windowLength) {
        recordTxnBatch(txns, index, source.read(position, size), 0);
      } else {
        recordTxnBatch(txns, index, window.subarray(0, windowLength), at);
      }
    }
    position += size;
  }
}

/**
 * Records every batch of the log at or past `fromOffset`: whole segments from the one that holds
 * it (a segment's first batches below it are skipped by their offsets).
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
    recordSource(txns, index, s, 0, fromOffset);
  }
}
