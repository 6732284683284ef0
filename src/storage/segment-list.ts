/**
 * The ordered segments of one partition log and the offsets that bound them
 * (Kafka's LocalLog, Redpanda's segment_set): the last segment is the active
 * one, each segment starts where the one before it ends, and
 *
 *   first segment's base <= log start <= log end,   recovery point <= log end.
 *
 * The accessors assert instead of handing out `undefined`: a log always has
 * at least one segment, so an empty list or a missing neighbour is a bug.
 * The methods that move an offset check the invariant they could break and
 * keep the others (a truncation pulls the recovery point down with the log
 * end), and the whole set is checked again by assertOffsets() before the
 * offsets are made durable.
 */
import { assert } from '../shared/assert.js';
import type { Segment } from './segment.js';

export class SegmentList {
  private segments: Segment[];
  private logStart: number;
  private recovered: number;

  constructor(segments: Segment[], logStartOffset: number, recoveryPoint: number) {
    assert(segments.length > 0, 'a log has at least one segment');
    for (let i = 1; i < segments.length; i++) {
      assert(
        segmentAt(segments, i).baseOffset === segmentAt(segments, i - 1).nextOffset,
        'each segment starts where the one before it ends',
      );
    }
    this.segments = [...segments];
    this.logStart = logStartOffset;
    this.recovered = recoveryPoint;
    this.assertOffsets();
  }

  get length(): number {
    return this.segments.length;
  }
  /** The segment appends go to. */
  get active(): Segment {
    return this.at(this.segments.length - 1);
  }
  get first(): Segment {
    return this.at(0);
  }
  get logStartOffset(): number {
    return this.logStart;
  }
  get logEndOffset(): number {
    return this.active.nextOffset;
  }
  get recoveryPoint(): number {
    return this.recovered;
  }
  get sizeBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }
  get baseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  at(index: number): Segment {
    return segmentAt(this.segments, index);
  }

  [Symbol.iterator](): Iterator<Segment> {
    return this.segments[Symbol.iterator]();
  }

  /** Position of `segment` in the list, oldest first; -1 when it is no longer in it. */
  indexOf(segment: Segment): number {
    return this.segments.indexOf(segment);
  }

  /** The first segment that `test` accepts, oldest first. */
  find(test: (s: Segment) => boolean): Segment | undefined {
    return this.segments.find(test);
  }

  /** The segment holding `offset`: the last one whose base offset is <= offset (the first when none is). */
  floor(offset: number): Segment {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.at(mid).baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.at(lo);
  }

  /** The largest record timestamp of every segment but `except` (when given), -1 when none. */
  maxTimestampExcept(except?: Segment): number {
    let max = -1;
    for (const s of this.segments) if (s !== except && s.maxTimestamp > max) max = s.maxTimestamp;
    return max;
  }

  /** Records an append to the active segment: the log end only grows here. */
  advance(nextOffset: number, maxTimestamp: number): void {
    const segment = this.active;
    assert(nextOffset > segment.nextOffset, 'an append moves the log end forward');
    segment.nextOffset = nextOffset;
    if (maxTimestamp > segment.maxTimestamp) segment.maxTimestamp = maxTimestamp;
  }

  /** Makes `next`, a new empty segment at the log end, the active segment. */
  roll(next: Segment): void {
    assert(next.size === 0, 'a rolled-to segment starts empty');
    assert(next.baseOffset === this.logEndOffset, 'a rolled-to segment starts at the log end');
    this.segments.push(next);
  }

  /**
   * Puts `fresh`, the log cleaner's rewrite of the closed segment `old`, in its place: same base
   * offset and next offset (its batches keep their offsets), fewer bytes.
   */
  replace(old: Segment, fresh: Segment): void {
    const at = this.segments.indexOf(old);
    assert(at >= 0 && at < this.segments.length - 1, 'only a closed segment of the log is replaced');
    assert(
      fresh.baseOffset === old.baseOffset && fresh.nextOffset === old.nextOffset,
      'a cleaned segment keeps its offsets',
    );
    this.segments[at] = fresh;
  }

  /** Takes the active segment off the end (truncation); the one before it becomes active. */
  popActive(): Segment {
    assert(this.segments.length > 1, 'the last segment of a log is never removed');
    const last = this.active;
    assert(last.baseOffset > this.logStart, 'truncation never removes the segment holding the log start');
    this.segments.pop();
    // at once, not at the end of the truncation: a flush or retention between its awaits persists the offsets
    this.recovered = Math.min(this.recovered, this.logEndOffset);
    return last;
  }

  /** Takes the oldest segment off the front; the log start moves to the next segment's base. */
  shiftOldest(): Segment {
    assert(this.segments.length > 1, 'the last segment of a log is never removed');
    const oldest = this.first;
    const nextBase = this.at(1).baseOffset;
    this.segments.shift();
    // a log start already moved into the next segment (DeleteRecords) stays where it is
    this.logStart = Math.max(this.logStart, nextBase);
    return oldest;
  }

  /** Moves the log start forward to `offset` (DeleteRecords), which may lie inside a segment. */
  advanceLogStart(offset: number): void {
    assert(offset >= this.logStart, 'the log start only moves forward');
    assert(offset <= this.logEndOffset, 'the log start never passes the log end');
    this.logStart = offset;
  }

  /**
   * Replaces every segment by `fresh`, an empty segment past the log end,
   * where the log now starts (and is recovered up to). Returns the old ones.
   */
  replaceAll(fresh: Segment): Segment[] {
    assert(fresh.size === 0, 'a fresh start begins with an empty segment');
    assert(fresh.baseOffset > this.logEndOffset, 'a fresh start lies past the log end');
    const old = this.segments;
    this.segments = [fresh];
    this.logStart = fresh.baseOffset;
    this.recovered = fresh.baseOffset;
    return old;
  }

  /**
   * After a flush up to `flushedTo`: the recovery point only grows, and never
   * past the log end (a truncation during the flush may have moved the end below flushedTo).
   */
  markFlushed(flushedTo: number): void {
    this.recovered = Math.min(Math.max(this.recovered, flushedTo), this.logEndOffset);
  }

  /**
   * Records that the active segment was cut back and rescanned: the log end
   * moves back to `nextOffset` (never below the log start), and what lay past
   * it is no longer recovered.
   */
  truncatedActive(nextOffset: number, maxTimestamp: number): void {
    const segment = this.active;
    assert(nextOffset <= segment.nextOffset, 'a truncation never moves the log end forward');
    assert(nextOffset >= this.logStart, 'a truncation never cuts below the log start');
    segment.nextOffset = nextOffset;
    segment.maxTimestamp = maxTimestamp;
    this.recovered = Math.min(this.recovered, nextOffset);
  }

  /** The invariants above; called before the offsets are made durable. */
  assertOffsets(): void {
    assert(this.first.baseOffset <= this.logStart, 'the log start is not below the first segment');
    assert(this.logStart <= this.logEndOffset, 'the log start is at or below the log end');
    assert(this.recovered <= this.logEndOffset, 'the recovery point is at or below the log end');
  }
}

/** `segments[index]`, asserting that it is there: for the lists of segments a log is opened from. */
export function segmentAt(segments: readonly Segment[], index: number): Segment {
  const segment = segments[index];
  assert(segment !== undefined, `no segment at index ${index} of ${segments.length}`);
  return segment;
}
