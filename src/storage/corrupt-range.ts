/**
 * Corrupt bytes in a segment are never served; but a reader stopped at them
 * must be told where reading can go on, or everything after them is
 * unreachable (issue 18). After a corrupt batch the next readable batch is
 * found by walking on: from the corrupt batch's end when its length field is
 * plausible, else byte by byte (a batch is recognised by its magic byte, a
 * sane length, a base offset past the reader's and, finally, its CRC-32C),
 * for at most `corruptResyncScanBytesMax` bytes; past that, or at the end of
 * the segment, reading goes on at the next segment (or the log end).
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { batchHeaderBytes, corruptResyncScanBytesMax } from '../shared/limits.js';
import { baseOffsetOf, batchSizeOf, checkFraming, crcMatches, currentMagic, Field } from '../wire/record-batch.js';
import type { Segment } from './segment.js';
import type { SegmentList } from './segment-list.js';

/** A read refused at corrupt bytes, naming the first offset readable after them. */
export class CorruptRangeError extends SluiceError {
  constructor(
    message: string,
    /** The first offset after the corrupt bytes a read can start from. */
    readonly nextReadableOffset: number,
  ) {
    super(ErrorCode.CorruptRecord, `${message}; the next readable offset is ${nextReadableOffset}`);
  }
}

export function isCorruptRangeError(err: unknown): err is CorruptRangeError {
  return err instanceof CorruptRangeError;
}

const chunkBytes = 1024 * 1024;

/** The base offset of the valid batch at `position` of `segment` if it is above `after`, else undefined. */
export function validBatchAt(segment: Segment, position: number, after: number): number | undefined {
  const header = segment.read(position, batchHeaderBytes);
  if (header.length < batchHeaderBytes || header[Field.magic] !== currentMagic) return undefined;
  const size = batchSizeOf(header, 0);
  if (size < batchHeaderBytes || position + size > segment.size) return undefined;
  const base = baseOffsetOf(header, 0);
  if (base <= after) return undefined;
  const batch = segment.read(position, size);
  try {
    checkFraming(batch, 0, size);
  } catch {
    return undefined;
  }
  return crcMatches(batch, 0, size) ? base : undefined;
}

/** Where reading can go on: a batch of this segment, or (no position) the next segment's base or the log end. */
export interface ReadablePlace {
  offset: number;
  position?: number;
}

/**
 * The first valid batch of `segment` after the corrupt bytes at `position`
 * whose base offset is above `after`, searching at most `scanBytes` bytes;
 * undefined when there is none there.
 */
export function resyncInSegment(
  segment: Segment,
  position: number,
  after: number,
  scanBytes = corruptResyncScanBytesMax,
): Required<ReadablePlace> | undefined {
  // the corrupt batch's own end, when its length field is plausible (a flipped byte inside it)
  const header = segment.read(position, batchHeaderBytes);
  if (header.length === batchHeaderBytes) {
    const size = batchSizeOf(header, 0);
    if (size >= batchHeaderBytes && position + size < segment.size) {
      const base = validBatchAt(segment, position + size, after);
      if (base !== undefined) return { offset: base, position: position + size };
    }
  }
  // byte by byte, in chunks, filtering on the magic byte before anything dearer
  const end = Math.min(segment.size, position + 1 + scanBytes);
  for (let start = position + 1; start < end; start += chunkBytes) {
    const chunk = segment.read(start, Math.min(chunkBytes + batchHeaderBytes, end - start));
    const last = Math.min(chunkBytes, chunk.length);
    for (let i = 0; i < last; i++) {
      if (chunk[i + Field.magic] !== currentMagic) continue;
      const base = validBatchAt(segment, start + i, after);
      if (base !== undefined) return { offset: base, position: start + i };
    }
  }
  return undefined;
}

/**
 * The first readable batch after the corrupt batch at `position` of
 * `segment`, with a base offset above `after` (the last offset known good
 * before it, or the offset a read asked for): in this segment, else the
 * next segment's base offset, else the log end.
 */
export function nextReadable(segments: SegmentList, segment: Segment, position: number, after: number): ReadablePlace {
  const found = resyncInSegment(segment, position, after);
  if (found) return found;
  const index = segments.indexOf(segment);
  return { offset: index + 1 < segments.length ? segments.at(index + 1).baseOffset : segments.logEndOffset };
}
