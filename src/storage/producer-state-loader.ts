/**
 * Reads idempotent producers' state (producer-state.ts) back from the batch
 * headers at the tail of a log: at open, and after a truncation that may have
 * cut some producer's latest batches.
 */
import { producerStateRebuildBytesMax } from '../shared/limits.js';
import { baseOffsetOf, logOverheadBytes } from '../wire/record-batch.js';
import { walkBatchHeaders } from './batch-header-walker.js';
import type { IndexEntry, PartitionIndex } from './partition-index.js';
import type { ProducerStateTable } from './producer-state.js';
import type { Segment } from './segment.js';
import type { SegmentList } from './segment-list.js';

/**
 * Rebuilds `producers` from the batch headers of the last
 * producerStateRebuildBytesMax bytes of the log (whole segments, and the tail
 * of the one that crosses the bound). Producers seen only before that are
 * unknown, which the sequence rules accept (producer-state.ts).
 */
export async function rebuildProducerState(
  producers: ProducerStateTable,
  segments: SegmentList,
  index: PartitionIndex,
): Promise<void> {
  let budget = producerStateRebuildBytesMax;
  let partial: Segment | undefined;
  let from = 0;
  for (let i = segments.length - 1; i >= 0 && !partial; i--) {
    const s = segments.at(i);
    if (s.size <= budget) budget -= s.size;
    else {
      partial = s;
      from = await batchStartFrom(index, s, s.size - budget);
    }
  }
  // the walk is synchronous (positional reads): no append interleaves between clearing and refilling,
  // and whatever was appended while the index was consulted above lies in the walked tail
  producers.clear();
  // a segment deleted while the index was consulted (-1) means the whole log is walked
  const first = partial ? segments.indexOf(partial) : 0;
  for (let i = Math.max(first, 0); i < segments.length; i++) {
    const s = segments.at(i);
    walkBatchHeaders(s, s === partial ? from : 0, (window, at) => producers.record(window, at));
  }
  producers.removeExpired(Date.now());
}

/**
 * The position of a batch start at or after `minPosition` in `segment`, found
 * through the sparse index (a binary search over offsets); 0 (the whole
 * segment) when the index has no entry there or disagrees with the file.
 */
async function batchStartFrom(index: PartitionIndex, segment: Segment, minPosition: number): Promise<number> {
  let lo = segment.baseOffset;
  let hi = segment.nextOffset - 1;
  let best: IndexEntry | undefined;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const entry = await index.lookupOffset(mid);
    if (entry && entry.segmentBase === segment.baseOffset && entry.position >= minPosition) {
      best = entry;
      hi = entry.offset - 1;
    } else {
      lo = mid + 1;
    }
  }
  if (!best || best.position >= segment.size) return 0;
  const header = segment.read(best.position, logOverheadBytes);
  return header.length === logOverheadBytes && baseOffsetOf(header, 0) === best.offset ? best.position : 0;
}
