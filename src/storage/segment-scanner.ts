/**
 * Walks the batches of a segment file in large reads, validating each one as
 * recovery must: framing, CRC-32C, every record, and offsets that continue
 * exactly where the previous batch ended, or (allowGaps: a log the cleaner
 * has rewritten, or a replica of one) at or after it: the cleaner removes
 * whole batches, offsets never go back. Stops at the first bad or partial
 * batch and reports where the valid bytes end.
 */
import { isSluiceError } from '../shared/errors.js';
import { batchHeaderBytes } from '../shared/limits.js';
import {
  baseOffsetOf,
  batchSizeOf,
  Field,
  lastOffsetDeltaOf,
  maxTimestampOf,
  validateBatch,
} from '../wire/record-batch.js';
import type { Segment } from './segment.js';

const chunkBytes = 1024 * 1024;

export interface ScanResult {
  /** File position where the valid batches end. */
  validBytes: number;
  nextOffset: number;
  maxTimestamp: number;
  /** Why the scan stopped before the end of the file, if it did. */
  problem?: string;
}

export type OnBatch = (
  baseOffset: number,
  position: number,
  size: number,
  maxTimestamp: number,
  leaderEpoch: number,
) => void;

export function scanSegment(
  segment: Segment,
  fileSize: number,
  expectedOffset: number,
  onBatch: OnBatch,
  allowGaps = false,
): ScanResult {
  let position = 0;
  let nextOffset = expectedOffset;
  let maxTimestamp = -1;
  let chunk = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(fileSize, batchHeaderBytes)));
  let chunkStart = 0;
  let chunkLength = 0;
  const result = (problem?: string): ScanResult => ({
    validBytes: position,
    nextOffset,
    maxTimestamp,
    ...(problem ? { problem } : {}),
  });

  while (position < fileSize) {
    // make sure the chunk holds at least the header of the batch at `position`
    if (position + batchHeaderBytes > chunkStart + chunkLength) {
      chunkStart = position;
      chunkLength = segment.read(position, Math.min(chunk.length, fileSize - position), chunk).length;
    }
    let at = position - chunkStart;
    if (chunkLength - at < batchHeaderBytes)
      return result(`partial batch header (${fileSize - position} bytes) at the end`);
    const size = batchSizeOf(chunk, at);
    if (size < batchHeaderBytes) return result(`impossible batch length at position ${position}`);
    if (position + size > fileSize)
      return result(`partial batch at position ${position}: ${size} bytes claimed, ${fileSize - position} present`);
    if (at + size > chunkLength) {
      // the batch spans past this chunk: read it whole
      if (size > chunk.length) chunk = Buffer.allocUnsafe(size);
      chunkStart = position;
      chunkLength = segment.read(position, Math.min(chunk.length, fileSize - position), chunk).length;
      at = 0;
    }
    try {
      validateBatch(chunk, at, at + size, { exactOffsets: !allowGaps });
    } catch (err) {
      if (isSluiceError(err)) return result(`invalid batch at position ${position}: ${err.message}`);
      throw err;
    }
    const base = baseOffsetOf(chunk, at);
    if (allowGaps ? base < nextOffset : base !== nextOffset)
      return result(`batch at position ${position} has base offset ${base}, expected ${nextOffset}`);
    const batchMax = maxTimestampOf(chunk, at);
    onBatch(base, position, size, batchMax, chunk.readInt32BE(at + Field.partitionLeaderEpoch));
    nextOffset = base + lastOffsetDeltaOf(chunk, at) + 1;
    if (batchMax > maxTimestamp) maxTimestamp = batchMax;
    position += size;
  }
  return result();
}
