/**
 * SegmentReader (segment-reader.ts) on real segment files: whole batches up to
 * a byte budget, the first batch whole when it alone is larger (KIP-74), the
 * upper bound, the read cursor, index hints that disagree with the file,
 * verification of bytes written before a restart, and lookups by timestamp.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { SegmentList } from '../../../src/storage/segment-list.js';
import { SegmentReader } from '../../../src/storage/segment-reader.js';
import { lastOffsetOf } from '../../../src/wire/record-batch.js';
import { splitBatches, storageFixture } from '../../helpers/storage.js';
import { expectSluiceError } from '../../helpers/wire-bytes.js';
import { segmentBuilder } from './segment-builders.js';

const fx = storageFixture(afterEach);
const builder = segmentBuilder(afterEach);

/** Segments [0, 6) of batches 2+3+1 records and [6, 10) of 4 records; log start 0. */
function twoSegments() {
  const dir = fx.dir();
  const segments = [builder.create(dir, 0, [2, 3, 1]), builder.create(dir, 6, [4])];
  const list = new SegmentList(segments, 0, 0);
  return { dir, segments, list, reader: new SegmentReader('t-0', list, silentLogger) };
}

const offsetsOf = (records: Buffer) => splitBatches(records).map((b) => [b.baseOffset, b.lastOffset]);

describe('SegmentReader', () => {
  it('serves whole batches of one segment from the batch holding the offset', () => {
    const { reader } = twoSegments();
    const r = reader.read(3, 1 << 20, {}, undefined);
    expect(offsetsOf(r.records)).toEqual([
      [2, 4],
      [5, 5],
    ]);
    expect([r.segmentBaseOffset, r.nextOffset, r.logStartOffset, r.logEndOffset]).toEqual([0, 6, 0, 10]);
    const next = reader.read(r.nextOffset, 1 << 20, {}, undefined);
    expect(offsetsOf(next.records)).toEqual([[6, 9]]);
    expect([next.segmentBaseOffset, next.position, next.nextOffset]).toEqual([6, 0, 10]);
    const atEnd = reader.read(10, 1 << 20, {}, undefined);
    expect([atEnd.records.length, atEnd.nextOffset, atEnd.position]).toEqual([0, 10, next.records.length]);
  });

  it('stops at the byte budget and the upper bound, and returns a first batch larger than the budget whole', () => {
    const { reader, segments } = twoSegments();
    const sizes = splitBatches(segments[0]?.read(0, segments[0].size) ?? Buffer.alloc(0)).map((b) => b.size);
    const first = sizes[0] ?? 0;
    expect(offsetsOf(reader.read(0, first + 10, {}, undefined).records)).toEqual([[0, 1]]);
    expect(offsetsOf(reader.read(0, 1, {}, undefined).records)).toEqual([[0, 1]]);
    const none = reader.read(0, 1, { minOneBatch: false }, undefined);
    expect([none.records.length, none.nextOffset]).toEqual([0, 0]);
    expect(offsetsOf(reader.read(0, 1 << 20, { maxOffset: 2 }, undefined).records)).toEqual([[0, 1]]);
    expect(reader.read(2, 1 << 20, { maxOffset: 2 }, undefined).records.length).toBe(0);
  });

  it('remembers where a read ended, and forgets it on reset', () => {
    const { reader } = twoSegments();
    expect(reader.cursorAt(2)).toBeUndefined();
    const r = reader.read(0, 1 << 20, {}, undefined);
    expect(reader.cursorAt(r.nextOffset)).toEqual({ offset: 6, segmentBase: 0, position: r.records.length });
    expect(reader.cursorAt(5)).toBeUndefined();
    reader.resetCursor();
    expect(reader.cursorAt(6)).toBeUndefined();
  });

  it('checks the range against the log start and end', () => {
    const { reader, list } = twoSegments();
    reader.checkRange(0);
    reader.checkRange(10);
    for (const bad of [-1, 11, 1.5, Number.NaN])
      expectSluiceError(() => reader.checkRange(bad), ErrorCode.OffsetOutOfRange);
    list.shiftOldest();
    expectSluiceError(() => reader.checkRange(5), ErrorCode.OffsetOutOfRange);
  });

  it('uses a hint only when the file agrees with it', () => {
    const { reader, segments } = twoSegments();
    const segment = segments[0];
    if (!segment) throw new Error('no segment');
    const [, second] = splitBatches(segment.read(0, segment.size));
    const good = { offset: 2, segmentBase: 0, position: second?.position ?? 0 };
    expect(reader.positionOf(segment, 4, good)).toBe(good.position);
    expect(reader.positionOf(segment, 4, { ...good, position: good.position + 1 })).toBe(good.position); // scans
    expect(reader.positionOf(segment, 4, { ...good, segmentBase: 6 })).toBe(good.position);
    expectSluiceError(() => reader.positionOf(segment, 60, undefined), ErrorCode.CorruptRecord);
  });

  it('verifies bytes written before a restart before serving them', () => {
    const { dir, segments } = twoSegments();
    const written = segments[1];
    if (!written) throw new Error('no segment');
    const reopened = builder.reopen(dir, written);
    const list = new SegmentList([builder.create(fx.dir(), 0, [2, 3, 1]), reopened], 0, 0);
    const reader = new SegmentReader('t-0', list, silentLogger);
    expect(reopened.verifiedBytes).toBe(0);
    expect(offsetsOf(reader.read(6, 1 << 20, {}, undefined).records)).toEqual([[6, 9]]);
    expect(reopened.verifiedBytes).toBe(reopened.size);

    // a corrupt unverified first batch is an error, not bytes served
    const bytes = reopened.read(0, reopened.size);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    const corruptDir = fx.dir();
    const corrupt = builder.create(corruptDir, 6);
    corrupt.append(bytes);
    corrupt.nextOffset = lastOffsetOf(bytes, 0) + 1;
    const again = builder.reopen(corruptDir, corrupt);
    const corruptList = new SegmentList([again], 6, 6);
    const corruptReader = new SegmentReader('t-0', corruptList, silentLogger);
    expectSluiceError(() => corruptReader.read(6, 1 << 20, {}, undefined), ErrorCode.CorruptRecord);
  });

  it('finds the first record at or after a timestamp, with or without a time index hint', () => {
    const { reader } = twoSegments();
    // timestamps: batch at offset o holds 1000 + o, 1000 + o + 1, ...
    expect(reader.offsetForTimestamp(0, undefined)).toEqual({ offset: 0, timestamp: 1000 });
    expect(reader.offsetForTimestamp(1004, undefined)).toEqual({ offset: 4, timestamp: 1004 });
    expect(reader.offsetForTimestamp(1007, undefined)).toEqual({ offset: 7, timestamp: 1007 });
    expect(reader.offsetForTimestamp(1010, undefined)).toBeUndefined();
    // a hint that points into the middle of a batch is not followed
    expect(reader.offsetForTimestamp(1004, { offset: 2, segmentBase: 0, position: 5 })).toEqual({
      offset: 4,
      timestamp: 1004,
    });
  });
});
