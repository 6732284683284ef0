/**
 * SegmentList (segment-list.ts): the ordered segments of a log on real files,
 * its accessors, the offsets it keeps (log start, log end, recovery point),
 * and the assertions that fire when a caller breaks an invariant.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../../src/shared/assert.js';
import type { Segment } from '../../../src/storage/segment.js';
import { SegmentList, segmentAt } from '../../../src/storage/segment-list.js';
import { storageFixture } from '../../helpers/storage.js';
import { segmentBuilder } from './segment-builders.js';

const fx = storageFixture(afterEach);
const builder = segmentBuilder(afterEach);
const segmentWith = builder.create;

/** Segments [0, 3) [3, 10) [10, 10) (the last empty and active). */
function threeSegments(): { dir: string; segments: Segment[] } {
  const dir = fx.dir();
  return { dir, segments: [segmentWith(dir, 0, [1, 2]), segmentWith(dir, 3, [7]), segmentWith(dir, 10)] };
}

describe('SegmentList', () => {
  it('keeps the offsets and answers the accessors', () => {
    const { segments } = threeSegments();
    const list = new SegmentList(segments, 0, 3);
    expect(list.length).toBe(3);
    expect(list.first).toBe(segments[0]);
    expect(list.active).toBe(segments[2]);
    expect(list.logStartOffset).toBe(0);
    expect(list.logEndOffset).toBe(10);
    expect(list.recoveryPoint).toBe(3);
    expect(list.baseOffsets).toEqual([0, 3, 10]);
    expect(list.sizeBytes).toBe(segments.reduce((n, s) => n + s.size, 0));
    expect([...list]).toEqual(segments);
    expect(list.indexOf(segmentAt(segments, 1))).toBe(1);
    expect(list.maxTimestampExcept(segmentAt(segments, 1))).toBe(1002);
  });

  it('floor finds the segment holding an offset, and the first one below every base', () => {
    const { segments } = threeSegments();
    const list = new SegmentList(segments, 0, 0);
    expect([0, 2, 3, 9, 10, 99].map((o) => list.floor(o).baseOffset)).toEqual([0, 0, 3, 3, 10, 10]);
    expect(list.floor(-1)).toBe(segments[0]);
  });

  it('asserts on a missing segment instead of returning undefined', () => {
    const { segments } = threeSegments();
    const list = new SegmentList(segments, 0, 0);
    expect(() => list.at(3)).toThrow(AssertionFailure);
    expect(() => list.at(-1)).toThrow(AssertionFailure);
    expect(() => segmentAt([], 0)).toThrow(/no segment at index 0 of 0/);
  });

  it('refuses to be built over no segments, a gap, or offsets out of bounds', () => {
    const dir = fx.dir();
    expect(() => new SegmentList([], 0, 0)).toThrow(/at least one segment/);
    const gap = [segmentWith(dir, 0, [2]), segmentWith(dir, 5)];
    expect(() => new SegmentList(gap, 0, 0)).toThrow(/starts where the one before it ends/);
    const { segments } = threeSegments();
    expect(() => new SegmentList(segments, -1, 0)).toThrow(/log start is not below the first segment/);
    expect(() => new SegmentList(segments, 11, 0)).toThrow(/log start is at or below the log end/);
    expect(() => new SegmentList(segments, 0, 11)).toThrow(/recovery point is at or below the log end/);
  });

  it('advance moves the log end forward only', () => {
    const { segments } = threeSegments();
    const list = new SegmentList(segments, 0, 0);
    list.advance(12, 5000);
    expect(list.logEndOffset).toBe(12);
    expect(list.active.maxTimestamp).toBe(5000);
    list.advance(13, 10); // an older timestamp leaves the maximum alone
    expect(list.active.maxTimestamp).toBe(5000);
    expect(() => list.advance(13, 0)).toThrow(/moves the log end forward/);
    expect(() => list.advance(2, 0)).toThrow(AssertionFailure);
    expect(list.logEndOffset).toBe(13);
  });

  it('roll takes only an empty segment at the log end', () => {
    const { dir, segments } = threeSegments();
    const list = new SegmentList(segments.slice(0, 2), 0, 0);
    expect(() => list.roll(segmentWith(dir, 11))).toThrow(/starts at the log end/);
    expect(() => list.roll(segmentWith(dir, 20, [1]))).toThrow(/starts empty/);
    list.roll(segmentAt(segments, 2));
    expect(list.active).toBe(segments[2]);
  });

  it('popActive pulls the recovery point down with the log end and never takes the log start segment', () => {
    const { segments } = threeSegments();
    const list = new SegmentList(segments, 0, 10);
    expect(list.popActive()).toBe(segments[2]);
    expect(list.logEndOffset).toBe(10);
    expect(list.recoveryPoint).toBe(10);
    expect(list.popActive()).toBe(segments[1]);
    expect(list.logEndOffset).toBe(3);
    expect(list.recoveryPoint).toBe(3);
    expect(() => list.popActive()).toThrow(/last segment of a log is never removed/);

    const other = threeSegments();
    const atStart = new SegmentList(other.segments, 10, 0);
    expect(() => atStart.popActive()).toThrow(/never removes the segment holding the log start/);
  });

  it('shiftOldest moves the log start to the next segment, never past the last one', () => {
    const { segments } = threeSegments();
    const list = new SegmentList(segments, 0, 0);
    expect(list.shiftOldest()).toBe(segments[0]);
    expect(list.logStartOffset).toBe(3);
    expect(list.shiftOldest()).toBe(segments[1]);
    expect(list.logStartOffset).toBe(10);
    expect(() => list.shiftOldest()).toThrow(/last segment of a log is never removed/);

    const other = threeSegments();
    // a log start inside the second segment (DeleteRecords moved it there) stays where it is
    const pastNext = new SegmentList(other.segments, 5, 0);
    expect(pastNext.shiftOldest()).toBe(other.segments[0]);
    expect(pastNext.logStartOffset).toBe(5);
  });

  it('advanceLogStart moves the log start forward inside a segment, never back nor past the log end', () => {
    const { segments } = threeSegments();
    const list = new SegmentList(segments, 0, 0);
    list.advanceLogStart(4);
    expect(list.logStartOffset).toBe(4);
    expect(() => list.advanceLogStart(2)).toThrow(/only moves forward/);
    expect(() => list.advanceLogStart(list.logEndOffset + 1)).toThrow(/never passes the log end/);
    list.advanceLogStart(list.logEndOffset);
    expect(list.logStartOffset).toBe(list.logEndOffset);
  });

  it('replaceAll starts over at an empty segment past the log end', () => {
    const { dir, segments } = threeSegments();
    const list = new SegmentList(segments, 0, 10);
    expect(() => list.replaceAll(segmentWith(dir, 10_000, [1]))).toThrow(/begins with an empty segment/);
    expect(() => list.replaceAll(segmentWith(fx.dir(), 10))).toThrow(/lies past the log end/);
    const fresh = segmentWith(dir, 50);
    expect(list.replaceAll(fresh)).toEqual(segments);
    expect([list.length, list.logStartOffset, list.logEndOffset, list.recoveryPoint]).toEqual([1, 50, 50, 50]);
  });

  it('truncatedActive moves the log end back, never forward nor below the log start', () => {
    const dir = fx.dir();
    const list = new SegmentList([segmentWith(dir, 0, [1]), segmentWith(dir, 1, [4, 5])], 1, 10);
    expect(() => list.truncatedActive(11, 0)).toThrow(/never moves the log end forward/);
    expect(() => list.truncatedActive(0, 0)).toThrow(/never cuts below the log start/);
    list.truncatedActive(5, 1004);
    expect([list.logEndOffset, list.recoveryPoint, list.active.maxTimestamp]).toEqual([5, 5, 1004]);
  });

  it('markFlushed only raises the recovery point, and never past the log end', () => {
    const { segments } = threeSegments();
    const list = new SegmentList(segments, 0, 3);
    list.markFlushed(2);
    expect(list.recoveryPoint).toBe(3);
    list.markFlushed(7);
    expect(list.recoveryPoint).toBe(7);
    list.markFlushed(50);
    expect(list.recoveryPoint).toBe(10);
    list.assertOffsets();
  });
});
