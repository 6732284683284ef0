/**
 * LeaderEpochCache (leader-epoch-cache.ts), pure: a leader's assigned epochs,
 * a replica's learned ones, truncation, and Kafka's OffsetsForLeaderEpoch
 * answers; the assertion that start offsets never go back.
 */
import { describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../../src/shared/assert.js';
import { LeaderEpochCache } from '../../../src/storage/leader-epoch-cache.js';

describe('LeaderEpochCache', () => {
  it('assigns newer epochs only, and answers the latest', () => {
    const cache = new LeaderEpochCache();
    expect(cache.latestEpoch).toBe(-1);
    expect(cache.assign(1, 0)).toBe(true);
    expect(cache.assign(1, 5)).toBe(false);
    expect(cache.assign(0, 5)).toBe(false);
    expect(cache.assign(3, 5)).toBe(true);
    expect(cache.assign(4, 5)).toBe(true); // an epoch that saw no append shares its start
    expect(cache.latestEpoch).toBe(4);
    expect(cache.history).toEqual([
      [1, 0],
      [3, 5],
      [4, 5],
    ]);
  });

  it('a leader assigns any first epoch; a replica learns only stamped ones (>= 0), and only newer ones', () => {
    const leader = new LeaderEpochCache();
    expect(leader.assign(-1, 0)).toBe(true); // as PartitionLog.assignLeaderEpoch always did
    const replica = new LeaderEpochCache();
    expect(replica.learn(-1, 0)).toBe(false);
    expect(replica.learn(2, 0)).toBe(true);
    expect(replica.learn(2, 7)).toBe(false);
    expect(replica.learn(1, 9)).toBe(false);
    expect(replica.learn(5, 9)).toBe(true);
    expect(replica.history).toEqual([
      [2, 0],
      [5, 9],
    ]);
  });

  it('asserts that an epoch never starts before the latest one', () => {
    const cache = new LeaderEpochCache([[3, 10]]);
    expect(() => cache.assign(4, 9)).toThrow(AssertionFailure);
    expect(() => cache.learn(4, 9)).toThrow(/epoch 4 would start at 9, before epoch 3 at 10/);
    expect(cache.history).toEqual([[3, 10]]);
  });

  it('truncation forgets epochs starting at or after the new log end, in a new array', () => {
    const cache = new LeaderEpochCache([
      [1, 0],
      [2, 10],
      [3, 20],
    ]);
    const before = cache.history;
    cache.truncateFromEnd(20);
    expect(cache.history).toEqual([
      [1, 0],
      [2, 10],
    ]);
    expect(before).toHaveLength(3); // a caller's earlier view is left alone
    cache.truncateFromEnd(0);
    expect(cache.history).toEqual([]);
    cache.assign(7, 0);
    cache.clear();
    expect(cache.latestEpoch).toBe(-1);
  });

  it('answers OffsetsForLeaderEpoch as Kafka does', () => {
    const cache = new LeaderEpochCache([
      [1, 0],
      [3, 10],
      [4, 25],
    ]);
    const logEnd = 40;
    expect(cache.endOffsetFor(0, logEnd)).toBeUndefined(); // older than every known epoch
    expect(cache.endOffsetFor(1, logEnd)).toEqual({ epoch: 1, endOffset: 10 });
    expect(cache.endOffsetFor(2, logEnd)).toEqual({ epoch: 1, endOffset: 10 }); // unknown: the largest below it
    expect(cache.endOffsetFor(3, logEnd)).toEqual({ epoch: 3, endOffset: 25 });
    expect(cache.endOffsetFor(4, logEnd)).toEqual({ epoch: 4, endOffset: 40 });
    expect(cache.endOffsetFor(9, logEnd)).toEqual({ epoch: 4, endOffset: 40 });
    expect(new LeaderEpochCache().endOffsetFor(0, 5)).toBeUndefined();
  });
});
