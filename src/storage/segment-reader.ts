/**
 * The read path of one partition log (Redpanda's log_reader/segment_reader,
 * Kafka's LocalLog.read): find the batch holding an offset through a sparse
 * index hint and a walk over batch headers, and serve whole batches of one
 * segment up to a byte budget. Bytes this process has not validated yet are
 * checked (framing, CRC, offsets) before they are served. Everything here is
 * synchronous: the caller looks the index up first, so no append, roll or
 * retention interleaves with a read.
 */
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { batchHeaderBytes, corruptRangesRememberedMax, scanHopsMax } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import {
  baseOffsetOf,
  batchSizeOf,
  checkFraming,
  crcMatches,
  lastOffsetDeltaOf,
  lastOffsetOf,
  logOverheadBytes,
  maxTimestampOf,
  recordsCountOf,
} from '../wire/record-batch.js';
import { CorruptRangeError, nextReadable, type ReadablePlace } from './corrupt-range.js';
import type { IndexEntry } from './partition-index.js';
import { findRecordAtOrAfter } from './record-time.js';
import type { Segment } from './segment.js';
import type { SegmentList } from './segment-list.js';

export interface ReadOptions {
  /** Exclusive upper bound, e.g. the high watermark; defaults to the log end. */
  maxOffset?: number;
  /** Return the first batch even when it is larger than maxBytes (Kafka's KIP-74). Default true. */
  minOneBatch?: boolean;
}

export interface ReadResult {
  /** Whole batches; the first may start before the requested offset. Empty when nothing is there. */
  records: Buffer;
  /** Where the bytes lie: the segment's base offset and the file position. */
  segmentBaseOffset: number;
  position: number;
  /** Offset after the last returned record, or the requested offset when none. */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface TimestampLookup {
  offset: number;
  timestamp: number;
}

/** Segments a read skips whose rest holds only emptied batches (bounds the recursion; a later read goes on). */
const skipEmptySegmentTailsMax = 64;

/** Bytes of batch headers read at once while walking a segment; the smallest header is 27 bytes. */
const headerWindowBytes = 16 * 1024;
const headerPrefixBytes = 27;
/**
 * The one window every reader walks headers in. A walk (hop) reads the file
 * synchronously and never yields, so no two walks can use it at once. One
 * window per reader was 16 KiB held by every partition, read or not: a
 * hostile CreateTopics of 8,000 partitions kept 125 MiB of them allocated (issue 16's
 * fuzz long form).
 */
const sharedWindow = Buffer.allocUnsafe(headerWindowBytes);

export class SegmentReader {
  /** Where the last read ended: lets a sequential reader skip the index lookup. */
  private cursor: IndexEntry | undefined;
  /** Corrupt places (segment:position) met by reads, and where reading goes on after each. */
  private readonly corruptPlaces = new Map<string, ReadablePlace>();

  constructor(
    /** topic-partition, for error messages. */
    private readonly name: string,
    private readonly segments: SegmentList,
    private readonly log: Logger,
  ) {}

  /** The end of the last read when it ended at `offset` (a better hint than the index), else undefined. */
  cursorAt(offset: number): IndexEntry | undefined {
    const cursor = this.cursor;
    return cursor && cursor.offset === offset ? cursor : undefined;
  }

  /** Forgets the last read's end: a truncation or deletion may have moved the bytes. */
  resetCursor(): void {
    this.cursor = undefined;
    this.corruptPlaces.clear();
  }

  /** The refusal of a read at corrupt bytes, naming where reading can go on. */
  private corrupt(segment: Segment, position: number, offset: number, what: string): CorruptRangeError {
    return new CorruptRangeError(`${this.name}: ${what}`, this.resync(segment, position, offset).offset);
  }

  /** The first readable batch after the corrupt bytes at `position` (found once per place, then remembered). */
  private resync(segment: Segment, position: number, after: number): ReadablePlace {
    const place = `${segment.baseOffset}:${position}`;
    let next = this.corruptPlaces.get(place);
    if (next === undefined) {
      next = nextReadable(this.segments, segment, position, after);
      if (this.corruptPlaces.size >= corruptRangesRememberedMax) this.corruptPlaces.clear();
      this.corruptPlaces.set(place, next);
    }
    return next;
  }

  /** Throws OffsetOutOfRange unless log start <= offset <= log end. */
  checkRange(offset: number): void {
    const { logStartOffset, logEndOffset } = this.segments;
    if (!Number.isSafeInteger(offset) || offset < logStartOffset || offset > logEndOffset) {
      throw new SluiceError(
        ErrorCode.OffsetOutOfRange,
        `offset ${offset} is outside ${this.name}'s range [${logStartOffset}, ${logEndOffset}]`,
      );
    }
  }

  /** True when a read from `offset` is empty now: at or past the log end or `options.maxOffset`. */
  atUpperBound(offset: number, options: ReadOptions): boolean {
    const logEnd = this.segments.logEndOffset;
    return offset >= Math.min(options.maxOffset ?? logEnd, logEnd);
  }

  /** Whole batches from the one holding `offset`, at most maxBytes (but see minOneBatch). */
  read(offset: number, maxBytes: number, options: ReadOptions, hint: IndexEntry | undefined, depth = 0): ReadResult {
    const logEnd = this.segments.logEndOffset;
    const upper = Math.min(options.maxOffset ?? logEnd, logEnd);
    const segment = this.segments.floor(offset);
    const result = (records: Buffer, position: number, nextOffset: number): ReadResult => ({
      records,
      segmentBaseOffset: segment.baseOffset,
      position,
      nextOffset,
      logStartOffset: this.segments.logStartOffset,
      logEndOffset: logEnd,
    });
    if (offset >= upper || offset >= segment.nextOffset) return result(Buffer.alloc(0), segment.size, offset);

    const position = this.positionOf(segment, offset, hint);
    const end = segment.size;
    let length = Math.min(Math.max(maxBytes, 0), end - position);
    let data = segment.read(position, length);
    let used = this.wholeBatches(segment, data, position, offset, upper);
    if (used === 0 && (options.minOneBatch ?? true) && data.length < end - position) {
      // the first batch alone is larger than maxBytes: return it whole
      const header = segment.read(position, logOverheadBytes);
      length = Math.min(batchSizeOf(header, 0), end - position);
      data = segment.read(position, length);
      used = this.wholeBatches(segment, data, position, offset, upper);
    }
    if (used === 0) {
      // a first batch whose length field cannot be right would stall a reader at this offset forever
      const header = segment.read(position, logOverheadBytes);
      const size = header.length === logOverheadBytes ? batchSizeOf(header, 0) : -1;
      if (size < batchHeaderBytes || position + size > end) {
        throw this.corrupt(segment, position, offset, `batch at offset ${offset} has an impossible length ${size}`);
      }
      return result(Buffer.alloc(0), position, offset);
    }
    assert(position + used <= end, 'a read serves bytes of its segment only');
    const records = data.subarray(0, used);
    let last = 0;
    let recordless = true;
    for (let p = 0; p < used; p += batchSizeOf(records, p)) {
      last = p;
      if (recordsCountOf(records, p) > 0) recordless = false;
    }
    const nextOffset = lastOffsetOf(records, last) + 1;
    this.cursor = { offset: nextOffset, segmentBase: segment.baseOffset, position: position + used };
    if (recordless && position + used === end && nextOffset < upper && depth < skipEmptySegmentTailsMax) {
      // Only the cleaner's empty batches are left in this segment (log-cleaner.ts keeps a segment's
      // last batch, emptied, so segments stay contiguous). Kafka has no such batch there and reads on
      // into the next segment; so do we: a client that sees a fetch answer with no record and cannot
      // tell where to go next (kafkajs) would ask for the same offset forever.
      return this.read(nextOffset, maxBytes, options, undefined, depth + 1);
    }
    return result(records, position, nextOffset);
  }

  /**
   * Length of the prefix of `data` made of whole batches below `upper`.
   * Batches this process has not yet validated are checked (framing, CRC,
   * offsets) before they are served; a corrupt first batch is an error.
   */
  private wholeBatches(segment: Segment, data: Buffer, position: number, offset: number, upper: number): number {
    let p = 0;
    let expected = -1;
    while (data.length - p >= logOverheadBytes) {
      const size = batchSizeOf(data, p);
      if (p + size > data.length || size < logOverheadBytes) break;
      const base = baseOffsetOf(data, p);
      if (base >= upper) break;
      if (!segment.isVerified(position + p, position + p + size)) {
        const problem = this.problemOf(data, p, size, expected, offset);
        if (problem !== undefined) {
          this.log.error({ segment: segment.path, position: position + p, problem }, 'corrupt batch in segment');
          if (p === 0) throw this.corrupt(segment, position, offset, `corrupt batch at offset ${offset} (${problem})`);
          break;
        }
        if (position + p <= segment.verifiedBytes) segment.verifiedBytes = position + p + size;
      }
      expected = base + lastOffsetDeltaOf(data, p) + 1;
      p += size;
    }
    return p;
  }

  /** What is wrong with the unverified batch at `p`, or undefined. */
  private problemOf(data: Buffer, p: number, size: number, expected: number, offset: number): string | undefined {
    const base = baseOffsetOf(data, p);
    try {
      checkFraming(data, p, p + size);
      if (!crcMatches(data, p, size)) return 'CRC-32C mismatch';
      // offsets ascend with gaps allowed (a compacted log): the first batch is the one holding
      // `offset` or the first after it when the cleaner removed the batch that held it
      if (expected >= 0 ? base < expected : lastOffsetOf(data, p) < offset) {
        return `unexpected base offset ${base}`;
      }
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  }

  /** File position of the batch containing `offset`, hopping headers from the best index entry. */
  positionOf(segment: Segment, offset: number, hint: IndexEntry | undefined): number {
    let start = 0;
    if (hint && hint.segmentBase === segment.baseOffset && hint.position < segment.size && hint.offset <= offset) {
      const header = segment.read(hint.position, logOverheadBytes);
      if (header.length === logOverheadBytes && baseOffsetOf(header, 0) === hint.offset) start = hint.position;
      else
        this.log.warn({ hint, segment: segment.path }, 'index entry disagrees with the segment file; scanning instead');
    }
    if (start > 0 && hint?.offset === offset) return start;
    // a walk that meets corrupt bytes goes on from the next readable batch after them (a bounded number of times)
    for (let resyncs = 0; resyncs < scanHopsMax; resyncs++) {
      const walk = this.hop(segment, start, offset);
      if ('found' in walk) return walk.found;
      if (walk.brokenAt === undefined) break;
      const next = this.resync(segment, walk.brokenAt, walk.lastGood);
      if (next.position === undefined || next.offset > offset) {
        throw new CorruptRangeError(
          `${this.name}: offset ${offset} lies in corrupt bytes of segment ${segment.baseOffset}`,
          next.offset,
        );
      }
      start = next.position;
    }
    throw new SluiceError(
      ErrorCode.CorruptRecord,
      `${this.name}: offset ${offset} not found in segment ${segment.baseOffset}`,
    );
  }

  /**
   * Walks batch headers from `position` to the batch holding `offset`; or says where a header
   * could not be right (brokenAt, with the last offset of the walk before it), or that the walk
   * ran out (neither).
   */
  private hop(
    segment: Segment,
    position: number,
    offset: number,
  ): { found: number } | { brokenAt: number | undefined; lastGood: number } {
    const window = sharedWindow;
    let windowStart = -1;
    let windowLength = 0;
    let lastGood = -1;
    for (let hops = 0; hops < scanHopsMax && position < segment.size; hops++) {
      if (windowStart < 0 || position + headerPrefixBytes > windowStart + windowLength) {
        windowStart = position;
        windowLength = segment.read(position, Math.min(window.length, segment.size - position), window).length;
        if (windowLength < headerPrefixBytes) return { brokenAt: position, lastGood };
      }
      const at = position - windowStart;
      const size = batchSizeOf(window, at);
      if (size < batchHeaderBytes || position + size > segment.size) return { brokenAt: position, lastGood };
      // the batch holding `offset`, or the first after it when a compacted log has a gap there
      const last = lastOffsetOf(window, at);
      if (last >= offset) return { found: position };
      lastGood = last;
      position += size;
    }
    return { brokenAt: undefined, lastGood };
  }

  /**
   * The first record whose timestamp is >= `timestamp`, or undefined when
   * every record is older; `entry` is the time index's hint.
   */
  offsetForTimestamp(timestamp: number, entry: IndexEntry | undefined): TimestampLookup | undefined {
    const segment = this.segments.find((s) => s.maxTimestamp >= timestamp);
    if (!segment) return undefined;
    let start = 0;
    if (entry && entry.segmentBase === segment.baseOffset && entry.position < segment.size) {
      // The time entry is only a hint, as in positionOf: use it only when it points at the start of
      // the batch it names. An entry that disagrees with the file used to send the header walk into
      // the middle of a batch (negative sizes: an AssertionFailure, or a walk that never ends).
      const header = segment.read(entry.position, logOverheadBytes);
      if (header.length === logOverheadBytes && baseOffsetOf(header, 0) === entry.offset) start = entry.position;
      else
        this.log.warn(
          { entry, segment: segment.path },
          'time index entry disagrees with the segment file; scanning instead',
        );
    }
    for (let position = start; position < segment.size; ) {
      const header = segment.read(position, batchHeaderBytes);
      const size = header.length === batchHeaderBytes ? batchSizeOf(header, 0) : -1;
      // a corrupt length must not move the walk backwards, in place, or past the file
      if (size < batchHeaderBytes || position + size > segment.size) {
        throw new SluiceError(
          ErrorCode.CorruptRecord,
          `${this.name}: corrupt batch header at position ${position} of segment ${segment.baseOffset}`,
        );
      }
      if (maxTimestampOf(header, 0) >= timestamp) {
        const batch = segment.read(position, size);
        return findRecordAtOrAfter(batch, timestamp);
      }
      position += size;
    }
    return undefined;
  }
}
