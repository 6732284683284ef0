/**
 * Segment (segment.ts) assertions on a real file: a truncation cuts within the
 * file and never grows it, and reads take no negative position or length.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../../src/shared/assert.js';
import { storageFixture } from '../../helpers/storage.js';
import { segmentBuilder } from './segment-builders.js';

const fx = storageFixture(afterEach);
const builder = segmentBuilder(afterEach);

describe('Segment', () => {
  it('truncates within the file and asserts instead of growing it', () => {
    const segment = builder.create(fx.dir(), 0, [2, 3]);
    const size = segment.size;
    expect(() => segment.truncateTo(size + 1)).toThrow(/never grows it/);
    expect(() => segment.truncateTo(-1)).toThrow(AssertionFailure);
    expect(fs.statSync(segment.path).size).toBe(size);
    segment.truncateTo(size); // a no-op cut at the end is allowed
    segment.truncateTo(10);
    expect([segment.size, fs.statSync(segment.path).size]).toEqual([10, 10]);
  });

  it('asserts on a read at a negative position or of a negative length', () => {
    const segment = builder.create(fx.dir(), 0, [1]);
    expect(() => segment.read(-1, 10)).toThrow(AssertionFailure);
    expect(() => segment.read(0, -1)).toThrow(AssertionFailure);
    expect(segment.read(0, 10)).toHaveLength(10);
  });
});
