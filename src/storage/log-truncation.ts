/**
 * Cutting the end off a log (a follower diverging from its leader, KIP-101):
 * the segments wholly at or past the cut go, the segment holding the cut is
 * truncated at the start of the batch holding it, and that segment's index
 * entries are rebuilt from the file, which is the truth.
 */
import { assert } from '../shared/assert.js';
import type { PartitionIndex } from './partition-index.js';
import type { Segment } from './segment.js';
import type { SegmentList } from './segment-list.js';
import type { SegmentReader } from './segment-reader.js';
import { scanSegment } from './segment-scanner.js';
import type { SparseIndexer } from './sparse-indexer.js';

export interface TruncationParts {
  segments: SegmentList;
  index: PartitionIndex;
  indexer: SparseIndexer;
  reader: SegmentReader;
}

/**
 * Removes every record at or after `offset` (never below the log start) from
 * the segments and the index; the recovery point follows the log end down.
 * The caller has checked that `offset` lies below the log end.
 */
export async function truncateSegmentsTo(parts: TruncationParts, offset: number): Promise<void> {
  const { segments, index, reader } = parts;
  const target = Math.max(offset, segments.logStartOffset);
  while (
    segments.length > 1 &&
    segments.active.baseOffset >= target &&
    segments.active.baseOffset > segments.logStartOffset
  ) {
    segments.popActive().delete();
  }
  const segment = segments.active;
  const position =
    segment.nextOffset > target ? reader.positionOf(segment, target, await index.lookupOffset(target)) : segment.size;
  segment.truncateTo(position);
  await index.truncateFrom(segment.baseOffset);
  const rescanned = reindexSegment(parts, segment);
  segments.truncatedActive(rescanned.nextOffset, rescanned.maxTimestamp);
}

/** Rebuilds the sparse index entries of `segment` (the active one) from its file. */
function reindexSegment(parts: TruncationParts, segment: Segment): { nextOffset: number; maxTimestamp: number } {
  const { segments, indexer } = parts;
  indexer.reset(segments.maxTimestampExcept(segment));
  // these bytes were accepted into the log before: a cleaned segment (now active) may have gaps
  const scan = scanSegment(
    segment,
    segment.size,
    segment.baseOffset,
    (base, pos, size, ts) => indexer.onBatch(base, segment.baseOffset, pos, size, ts),
    true,
  );
  assert(scan.validBytes === segment.size, 'a segment truncated at a batch boundary rescans whole');
  return scan;
}
