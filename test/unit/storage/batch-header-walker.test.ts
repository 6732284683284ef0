/**
 * walkBatchHeaders: every batch visited once, in order, with its position and size, whatever the
 * window's size against the batches'; the header always whole in the window; a stop at the first
 * header that cannot be right or a batch cut short; and the same walk over a real segment file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { batchHeaderBytes } from '../../../src/shared/limits.js';
import { type HeaderSource, walkBatchHeaders } from '../../../src/storage/batch-header-walker.js';
import { baseOffsetOf, batchSizeOf } from '../../../src/wire/record-batch.js';
import { batchAt, segmentBuilder } from './segment-builders.js';

/** A source over `bytes` that counts its reads. */
function bufferSource(bytes: Buffer): HeaderSource & { reads: number } {
  return {
    size: bytes.length,
    reads: 0,
    read(position, length, into) {
      this.reads++;
      const n = Math.max(0, Math.min(length, bytes.length - position));
      const out = into ?? Buffer.allocUnsafe(length);
      bytes.copy(out, 0, position, position + n);
      return out.subarray(0, n);
    },
  };
}

/** Batches at offsets 0, 1, 3, 6, ... of 1, 2, 3, ... records (sizes all differ). */
function logOf(counts: number[]): { bytes: Buffer; starts: number[]; bases: number[] } {
  const parts: Buffer[] = [];
  const starts: number[] = [];
  const bases: number[] = [];
  let offset = 0;
  let position = 0;
  for (const count of counts) {
    const batch = batchAt(offset, count, 40);
    starts.push(position);
    bases.push(offset);
    parts.push(batch);
    position += batch.length;
    offset += count;
  }
  return { bytes: Buffer.concat(parts), starts, bases };
}

interface Visit {
  position: number;
  size: number;
  base: number;
  whole: boolean;
}

function walk(source: HeaderSource, from: number, windowBytes?: number): Visit[] {
  const seen: Visit[] = [];
  walkBatchHeaders(
    source,
    from,
    (window, at, position, size) => {
      expect(at + batchHeaderBytes).toBeLessThanOrEqual(window.length);
      expect(batchSizeOf(window, at)).toBe(size);
      seen.push({ position, size, base: baseOffsetOf(window, at), whole: at + size <= window.length });
    },
    windowBytes,
  );
  return seen;
}

describe('walkBatchHeaders', () => {
  const { bytes, starts, bases } = logOf([1, 2, 3, 4, 5, 6, 7]);
  const startOf = (i: number): number => starts[i] ?? Number.NaN;

  it('visits every batch in order with its position and size, in one read when the window holds them all', () => {
    const source = bufferSource(bytes);
    const seen = walk(source, 0);
    expect(seen.map((v) => v.position)).toEqual(starts);
    expect(seen.map((v) => v.base)).toEqual(bases);
    expect(seen.every((v) => v.whole)).toBe(true);
    expect(seen.reduce((sum, v) => sum + v.size, 0)).toBe(bytes.length);
    expect(source.reads).toBe(1);
  });

  it('visits the same batches through a window smaller than a batch (headers whole, bodies cut)', () => {
    const smallest = Math.min(...starts.map((s) => batchSizeOf(bytes, s)));
    for (const windowBytes of [batchHeaderBytes, batchHeaderBytes + 7, smallest - 1, smallest + 30, 1000]) {
      const seen = walk(bufferSource(bytes), 0, windowBytes);
      expect(seen.map((v) => v.position)).toEqual(starts);
      expect(seen.map((v) => v.base)).toEqual(bases);
    }
    expect(walk(bufferSource(bytes), 0, batchHeaderBytes).some((v) => v.whole)).toBe(false);
  });

  it('starts at `from` (a batch start)', () => {
    const seen = walk(bufferSource(bytes), startOf(3));
    expect(seen.map((v) => v.base)).toEqual(bases.slice(3));
  });

  it('stops before a batch cut short by the end, and before a partial header', () => {
    const cut = bytes.subarray(0, startOf(5) + batchHeaderBytes + 3);
    expect(walk(bufferSource(cut), 0).map((v) => v.position)).toEqual(starts.slice(0, 5));
    const partialHeader = bytes.subarray(0, startOf(2) + batchHeaderBytes - 1);
    expect(walk(bufferSource(partialHeader), 0, 100).map((v) => v.position)).toEqual(starts.slice(0, 2));
  });

  it('stops at a header whose length cannot be right', () => {
    const bad = Buffer.from(bytes);
    bad.writeInt32BE(3, startOf(4) + 8); // batch length field: a batch shorter than its own header
    expect(walk(bufferSource(bad), 0).map((v) => v.position)).toEqual(starts.slice(0, 4));
  });

  it('visits nothing in an empty source or from its end', () => {
    expect(walk(bufferSource(Buffer.alloc(0)), 0)).toEqual([]);
    expect(walk(bufferSource(bytes), bytes.length)).toEqual([]);
  });
});

describe('walkBatchHeaders over a segment file', () => {
  const segments = segmentBuilder(afterEach);
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('visits the batches a segment holds, by their offsets', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-walker-'));
    dirs.push(dir);
    const segment = segments.create(dir, 100, [3, 1, 4, 1, 5], 200);
    const seen = walk(segment, 0, 300);
    expect(seen.map((v) => v.base)).toEqual([100, 103, 104, 108, 109]);
    expect(seen.reduce((sum, v) => sum + v.size, 0)).toBe(segment.size);
  });
});
