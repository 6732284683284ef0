/**
 * Segment files (segment.ts) and the recovery scan over them
 * (segment-scanner.ts): every way a file can end or break, and where the valid
 * bytes end.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SluiceError } from '../../../src/shared/errors.js';
import { batchRecords, rewriteBatch } from '../../../src/storage/batch-filter.js';
import { Segment } from '../../../src/storage/segment.js';
import { type OnBatch, scanSegment } from '../../../src/storage/segment-scanner.js';
import { Field } from '../../../src/wire/record-batch.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { fixCrc, flipByte, storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const open: Segment[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** A segment at `base` holding `buffers` back to back (offsets as given in each buffer). */
function segmentOf(base: number, buffers: Buffer[]): Segment {
  const dir = fx.dir();
  const segment = Segment.create(dir, base);
  open.push(segment);
  for (const b of buffers) segment.append(b);
  return segment;
}

/** Batches with consecutive offsets from `base`: counts[i] records each, timestamps 100 * (i + 1) + j. */
function batches(base: number, counts: number[], epoch = 7): Buffer[] {
  let offset = base;
  return counts.map((count, i) => {
    const b = testBatch(`s${i}`, count, 100 * (i + 1), { baseOffset: offset, partitionLeaderEpoch: epoch });
    offset += count;
    return b;
  });
}

function scan(segment: Segment, expected: number, fileSize = segment.size) {
  const calls: Parameters<OnBatch>[] = [];
  const result = scanSegment(segment, fileSize, expected, (...args) => calls.push(args));
  return { result, calls };
}

describe('scanSegment', () => {
  it('walks every valid batch, reporting positions, sizes, timestamps and leader epochs', () => {
    const bufs = batches(10, [1, 3, 2]);
    const segment = segmentOf(10, bufs);
    const { result, calls } = scan(segment, 10);
    expect(result).toEqual({ validBytes: segment.size, nextOffset: 16, maxTimestamp: 301 });
    const positions = [0, bufs[0]!.length, bufs[0]!.length + bufs[1]!.length];
    expect(calls).toEqual([
      [10, positions[0], bufs[0]!.length, 100, 7],
      [11, positions[1], bufs[1]!.length, 202, 7],
      [14, positions[2], bufs[2]!.length, 301, 7],
    ]);
  });

  it('accepts an empty file', () => {
    const segment = segmentOf(5, []);
    expect(scan(segment, 5)).toEqual({ result: { validBytes: 0, nextOffset: 5, maxTimestamp: -1 }, calls: [] });
  });

  it('stops at a partial header, a partial batch, and at every cut of the last batch', () => {
    const bufs = batches(0, [2, 2, 3]);
    const whole = Buffer.concat(bufs);
    const lastStart = bufs[0]!.length + bufs[1]!.length;
    for (let cut = 1; cut < bufs[2]!.length; cut++) {
      const segment = segmentOf(0, [whole.subarray(0, lastStart + cut)]);
      const { result, calls } = scan(segment, 0);
      expect(result.validBytes, `cut ${cut}`).toBe(lastStart);
      expect(result.nextOffset).toBe(4);
      expect(calls).toHaveLength(2);
      expect(result.problem).toMatch(cut < 61 ? /partial batch header/ : /partial batch at position/);
      segment.close();
    }
  });

  it('stops at an impossible length, a CRC mismatch, bad magic, a bad record, or offsets that do not continue', () => {
    const variants: [string, (b: Buffer) => void, RegExp][] = [
      ['length', (b) => b.writeInt32BE(20, Field.batchLength), /impossible batch length/],
      ['negative length', (b) => b.writeInt32BE(-12, Field.batchLength), /impossible batch length/],
      ['crc', (b) => flipByte(b, b.length - 1, 1), /invalid batch.*CRC/],
      ['magic', (b) => (b[Field.magic] = 1), /invalid batch.*magic/],
      [
        'record',
        (b) => {
          b.writeInt32BE(5, Field.recordsCount);
          fixCrc(b);
        },
        /invalid batch/,
      ],
      ['gap', (b) => b.writeUInt32BE(b.readUInt32BE(4) + 1, 4), /has base offset 5, expected 4/],
      ['overlap', (b) => b.writeUInt32BE(b.readUInt32BE(4) - 1, 4), /has base offset 3, expected 4/],
    ];
    for (const [name, damage, problem] of variants) {
      const bufs = batches(0, [2, 2, 3, 1]);
      damage(bufs[2]!);
      const segment = segmentOf(0, bufs);
      const { result, calls } = scan(segment, 0);
      expect(result.validBytes, name).toBe(bufs[0]!.length + bufs[1]!.length);
      expect(result.nextOffset, name).toBe(4);
      expect(result.maxTimestamp, name).toBe(201);
      expect(result.problem, name).toMatch(problem);
      expect(
        calls.map((c) => c[0]),
        name,
      ).toEqual([0, 2]);
    }
  });

  it('requires the first batch to start at the segment base offset', () => {
    const segment = segmentOf(100, batches(99, [2]));
    const { result } = scan(segment, 100);
    expect(result.validBytes).toBe(0);
    expect(result.nextOffset).toBe(100);
  });

  it('handles batches across its 1 MiB read chunks and batches larger than a chunk', () => {
    const small = () => testBatch('x', 1, 1, { valueBytes: 3000 });
    const bufs: Buffer[] = [];
    let offset = 0;
    const push = (b: Buffer, count: number) => {
      b.writeUInt32BE(offset, 4);
      bufs.push(b);
      offset += count;
    };
    for (let i = 0; i < 400; i++) push(small(), 1); // ~1.2 MiB: one batch straddles the first chunk boundary
    push(encodeRecordBatch([{ value: Buffer.alloc(1_500_000, 1), timestamp: 5 }]), 1);
    for (let i = 0; i < 10; i++) push(small(), 1);
    const segment = segmentOf(0, bufs);
    const { result, calls } = scan(segment, 0);
    expect(result.validBytes).toBe(segment.size);
    expect(result.nextOffset).toBe(411);
    expect(calls.map((c) => c[0])).toEqual([...Array(411).keys()]);
    let position = 0;
    for (const [i, c] of calls.entries()) {
      expect(c[1]).toBe(position);
      position += bufs[i]!.length;
    }
  });

  it('scans only up to the size it is given', () => {
    const bufs = batches(0, [1, 1, 1]);
    const segment = segmentOf(0, bufs);
    const { result } = scan(segment, 0, bufs[0]!.length + bufs[1]!.length);
    expect(result).toEqual({ validBytes: bufs[0]!.length + bufs[1]!.length, nextOffset: 2, maxTimestamp: 200 });
  });
});

describe('Segment', () => {
  it('is named by its 20-digit base offset; create refuses an existing file and open a missing one', () => {
    const dir = fx.dir();
    const s = Segment.create(dir, 42);
    open.push(s);
    expect(path.basename(s.path)).toBe('00000000000000000042.log');
    let err: unknown;
    try {
      Segment.create(dir, 42);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe(ErrorCode.StorageError);
    err = undefined;
    try {
      Segment.open(dir, 43);
    } catch (e) {
      err = e;
    }
    expect((err as SluiceError).code).toBe(ErrorCode.StorageError);
  });

  it('appends, reads, truncates and reopens with the file size', async () => {
    const dir = fx.dir();
    const s = Segment.create(dir, 0);
    open.push(s);
    expect(s.append(Buffer.from('hello '))).toBe(0);
    expect(s.append(Buffer.from('world'))).toBe(6);
    expect(s.size).toBe(11);
    expect(s.read(6, 5).toString()).toBe('world');
    expect(s.read(6, 100).toString()).toBe('world'); // short at the end
    expect(s.read(11, 10).length).toBe(0);
    s.verifiedBytes = 11;
    s.truncateTo(5);
    expect(s.size).toBe(5);
    expect(s.verifiedBytes).toBe(5);
    expect(fs.statSync(s.path).size).toBe(5);
    await s.flush();
    s.close();
    const again = Segment.open(dir, 0);
    open.push(again);
    expect(again.size).toBe(5);
    expect(again.read(0, 5).toString()).toBe('hello');
    again.delete();
    expect(fs.existsSync(again.path)).toBe(false);
    await again.flush(); // a deleted segment has nothing to sync
  });
});

describe('scanSegment over a cleaned log (allowGaps)', () => {
  it('accepts batches past where the one before ended, cleaned batches and empty ones; never offsets going back', () => {
    const first = testBatch('a', 3, 100, { baseOffset: 0 });
    // a cleaned batch: records 1 and 2 of 4 removed, lastOffsetDelta kept (offsets 5..8, kept 5 and 8)
    const full = testBatch('b', 4, 200, { baseOffset: 5 });
    const records = batchRecords(full, 0);
    const cleaned = rewriteBatch(
      full,
      0,
      [records[0], records[3]].filter((r) => r !== undefined),
    );
    const emptied = rewriteBatch(testBatch('c', 2, 300, { baseOffset: 9 }), 0, []);
    const segment = segmentOf(0, [first, cleaned, emptied]);
    // without allowGaps the gap at 3..4 is where a corrupt log would be cut
    expect(scan(segment, 0).result.validBytes).toBe(first.length);
    const calls: Parameters<OnBatch>[] = [];
    const result = scanSegment(segment, segment.size, 0, (...args) => calls.push(args), true);
    expect(result.validBytes).toBe(segment.size);
    expect(result.nextOffset).toBe(11);
    expect(calls.map((c) => c[0])).toEqual([0, 5, 9]);
    // an offset going back is still corruption
    const back = segmentOf(0, [first, testBatch('d', 1, 400, { baseOffset: 1 })]);
    expect(scanSegment(back, back.size, 0, () => undefined, true).validBytes).toBe(first.length);
  });
});
