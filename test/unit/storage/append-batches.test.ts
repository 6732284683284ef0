/**
 * The append steps (append-batches.ts): validation before any byte is
 * written, stamping offsets and epochs (a leader) or learning epochs (a
 * replica), feeding the sparse indexer; the assertion that a batch ends at or
 * after its base offset.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../../src/shared/assert.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { checkBatches, indexBatches, stampBatches } from '../../../src/storage/append-batches.js';
import { openIndexDb } from '../../../src/storage/index-store.js';
import { LeaderEpochCache } from '../../../src/storage/leader-epoch-cache.js';
import { PartitionIndex } from '../../../src/storage/partition-index.js';
import { SparseIndexer } from '../../../src/storage/sparse-indexer.js';
import {
  baseOffsetOf,
  Field,
  partitionLeaderEpochOf,
  setBaseOffset,
  setPartitionLeaderEpoch,
} from '../../../src/wire/record-batch.js';
import { splitBatches, storageFixture, testBatch } from '../../helpers/storage.js';
import { expectSluiceError } from '../../helpers/wire-bytes.js';

const fx = storageFixture(afterEach);

const three = (): Buffer => Buffer.concat([testBatch('a', 2, 100), testBatch('b', 1, 200), testBatch('c', 3, 300)]);

describe('checkBatches', () => {
  it('counts records and says where the log will end', () => {
    expect(checkBatches(three(), { maxMessageBytes: 1 << 20, requireKeys: false }, 10, true)).toEqual({
      gaps: false,
      recordCount: 6,
      nextOffset: 16,
    });
  });

  it('refuses an empty append, an oversized batch, and a replicated batch that does not continue the log', () => {
    expectSluiceError(
      () => checkBatches(Buffer.alloc(0), { maxMessageBytes: 1 << 20, requireKeys: false }, 0, true),
      ErrorCode.InvalidRecord,
    );
    const batch = testBatch('big', 3, 0);
    expectSluiceError(
      () => checkBatches(batch, { maxMessageBytes: batch.length - 1, requireKeys: false }, 0, true),
      ErrorCode.RecordTooLarge,
    );
    const replicated = three();
    for (const [i, b] of splitBatches(replicated).entries())
      setBaseOffset(replicated, b.position, [10, 12, 13][i] ?? 0);
    expect(checkBatches(replicated, { maxMessageBytes: 1 << 20, requireKeys: false }, 10, false)).toEqual({
      gaps: false,
      recordCount: 6,
      nextOffset: 16,
    });
    expectSluiceError(
      () => checkBatches(replicated, { maxMessageBytes: 1 << 20, requireKeys: false }, 11, false),
      ErrorCode.InvalidRecord,
    );
  });
});

describe('stampBatches', () => {
  it('a leader writes offsets and its epoch into the headers', () => {
    const batches = three();
    const epochs = new LeaderEpochCache();
    expect(stampBatches(batches, 50, true, 7, epochs)).toEqual({ nextOffset: 56, epochsChanged: false });
    const stamped = splitBatches(batches);
    expect(stamped.map((b) => [b.baseOffset, b.lastOffset])).toEqual([
      [50, 51],
      [52, 52],
      [53, 55],
    ]);
    expect(stamped.map((b) => partitionLeaderEpochOf(batches, b.position))).toEqual([7, 7, 7]);
    expect(epochs.history).toEqual([]);
  });

  it('a replica keeps the stamps and learns the epochs they start', () => {
    const batches = three();
    const positions = splitBatches(batches).map((b) => b.position);
    [
      [3, 20],
      [3, 22],
      [4, 23],
    ].forEach(([epoch, offset], i) => {
      setBaseOffset(batches, positions[i] ?? 0, offset ?? 0);
      setPartitionLeaderEpoch(batches, positions[i] ?? 0, epoch ?? 0);
    });
    const epochs = new LeaderEpochCache([[2, 0]]);
    expect(stampBatches(batches, 20, false, -1, epochs)).toEqual({ nextOffset: 26, epochsChanged: true });
    expect(epochs.history).toEqual([
      [2, 0],
      [3, 20],
      [4, 23],
    ]);
    expect(positions.map((p) => baseOffsetOf(batches, p))).toEqual([20, 22, 23]);
  });

  it('asserts that every batch ends at or after its base offset (validation comes first)', () => {
    const batch = testBatch('x', 1, 0);
    batch.writeInt32BE(-1, Field.lastOffsetDelta);
    expect(() => stampBatches(batch, 0, true, 0, new LeaderEpochCache())).toThrow(AssertionFailure);
  });
});

describe('indexBatches', () => {
  it('feeds every batch at its file position to the sparse index and returns the largest timestamp', async () => {
    const db = await openIndexDb(fx.dir());
    try {
      const index = new PartitionIndex(db, 't-0');
      const indexer = new SparseIndexer(index, 1); // an entry for every batch not at a segment's start
      const batches = three();
      stampBatches(batches, 0, true, 0, new LeaderEpochCache());
      const positions = splitBatches(batches).map((b) => b.position);
      expect(indexBatches(indexer, batches, 0, 1000)).toBe(302);
      expect(await index.lookupOffset(1)).toBeUndefined();
      expect(await index.lookupOffset(2)).toEqual({ offset: 2, segmentBase: 0, position: 1000 + (positions[1] ?? 0) });
      expect(await index.lookupOffset(9)).toEqual({ offset: 3, segmentBase: 0, position: 1000 + (positions[2] ?? 0) });
    } finally {
      await db.close();
    }
  });
});
