/**
 * Which batches the log cleaner takes as aborted (src/storage/cleaner-aborted.ts):
 * a batch of producer P at offset o when an aborted transaction of P has
 * firstOffset <= o <= its marker's offset.
 */
import { describe, expect, it } from 'vitest';
import { AbortedRanges } from '../../../src/storage/cleaner-aborted.js';

describe('AbortedRanges', () => {
  it("finds a producer's batches inside its aborted transactions only, asked in offset order", () => {
    const ranges = new AbortedRanges([
      { producerId: 1, firstOffset: 2, lastOffset: 5, lastStableOffset: 6 },
      { producerId: 2, firstOffset: 3, lastOffset: 8, lastStableOffset: 9 },
      { producerId: 1, firstOffset: 10, lastOffset: 12, lastStableOffset: 13 },
    ]);
    const asked: [number, number, boolean][] = [
      [1, 0, false], // before its first aborted transaction (a committed one)
      [1, 2, true],
      [2, 4, true],
      [3, 4, false], // another producer's offsets mean nothing for producer 3
      [1, 5, true], // (the marker's own offset is in the range: markers are control batches, never asked)
      [1, 7, false], // between two aborted transactions of producer 1
      [2, 9, false],
      [1, 11, true],
      [1, 13, false],
    ];
    for (const [producerId, offset, aborted] of asked) {
      expect([producerId, offset, ranges.isAborted(producerId, offset)]).toEqual([producerId, offset, aborted]);
    }
  });
});
