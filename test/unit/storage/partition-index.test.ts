/**
 * PartitionIndex (partition-index.ts) on a real LevelDB, and SparseIndexer
 * (sparse-indexer.ts) which decides where entries go: lookups by offset and by
 * time from pending and stored entries, truncation, retention, deletion,
 * partitions sharing one database, metadata and summaries.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AssertionFailure } from '../../../src/shared/assert.js';
import { ErrorCode, SluiceError } from '../../../src/shared/errors.js';
import { indexPendingEntriesFlushAt } from '../../../src/shared/limits.js';
import { type IndexDb, openIndexDb } from '../../../src/storage/index-store.js';
import { PartitionIndex } from '../../../src/storage/partition-index.js';
import { SparseIndexer } from '../../../src/storage/sparse-indexer.js';
import { storageFixture } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const dbs: IndexDb[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
});

async function freshDb(dir = fx.dir()): Promise<{ dir: string; db: IndexDb }> {
  const db = await openIndexDb(dir);
  dbs.push(db);
  return { dir, db };
}

/** Offset entries at 10, 20, ..., 10 n (segment 1000 * floor(offset / 100), position = offset * 3). */
function addOffsets(index: PartitionIndex, from: number, to: number): void {
  for (let o = from; o <= to; o += 10) index.addOffsetEntry(o, 1000 * Math.floor(o / 100), o * 3);
}

const entry = (o: number) => ({ offset: o, segmentBase: 1000 * Math.floor(o / 100), position: o * 3 });

describe('PartitionIndex', () => {
  it('finds the largest offset entry <= target, pending, stored in several blocks, and after reopening', async () => {
    const { dir, db } = await freshDb();
    const index = new PartitionIndex(db, 'p-0');
    addOffsets(index, 10, 100);
    const probe = async (ix: PartitionIndex) => {
      expect(await ix.lookupOffset(9)).toBeUndefined();
      expect(await ix.lookupOffset(10)).toEqual(entry(10));
      expect(await ix.lookupOffset(15)).toEqual(entry(10));
      expect(await ix.lookupOffset(99)).toEqual(entry(90));
      expect(await ix.lookupOffset(100)).toEqual(entry(100));
      expect(await ix.lookupOffset(135)).toEqual(entry(130));
      expect(await ix.lookupOffset(1e9)).toEqual(entry(200));
    };
    await index.write(); // block 1: 10..100
    addOffsets(index, 110, 150);
    await index.write(); // block 2: 110..150
    addOffsets(index, 160, 200); // pending
    expect(index.pendingCount).toBe(5);
    await probe(index);
    await index.write(true);
    expect(index.pendingCount).toBe(0);
    await probe(index);
    await db.close();
    dbs.splice(dbs.indexOf(db), 1);
    const { db: db2 } = await freshDb(dir);
    await probe(new PartitionIndex(db2, 'p-0'));
  });

  it('finds the time entry with the largest timestamp < target', async () => {
    const { db } = await freshDb();
    const index = new PartitionIndex(db, 'p-0');
    index.addTimeEntry(500, 10, 0, 30);
    index.addTimeEntry(700, 20, 0, 60);
    await index.write();
    index.addTimeEntry(900, 30, 100, 0);
    for (const stored of [false, true]) {
      if (stored) await index.write();
      expect(await index.lookupTime(500)).toBeUndefined();
      expect(await index.lookupTime(501)).toEqual({ offset: 10, segmentBase: 0, position: 30 });
      expect(await index.lookupTime(700)).toEqual({ offset: 10, segmentBase: 0, position: 30 });
      expect(await index.lookupTime(701)).toEqual({ offset: 20, segmentBase: 0, position: 60 });
      expect(await index.lookupTime(5000)).toEqual({ offset: 30, segmentBase: 100, position: 0 });
      expect(await index.lookupTime(-1)).toBeUndefined();
    }
  });

  it('refuses entries out of order (a bug, not an operating error)', async () => {
    const { db } = await freshDb();
    const index = new PartitionIndex(db, 'p-0');
    index.addOffsetEntry(10, 0, 0);
    expect(() => index.addOffsetEntry(10, 0, 5)).toThrow(AssertionFailure);
    index.addTimeEntry(100, 10, 0, 0);
    expect(() => index.addTimeEntry(99, 20, 0, 9)).toThrow(AssertionFailure);
  });

  it('truncateFrom removes entries and summaries at and above an offset, stored and pending', async () => {
    const { db } = await freshDb();
    const index = new PartitionIndex(db, 'p-0');
    addOffsets(index, 10, 150);
    for (let o = 10; o <= 150; o += 10) index.addTimeEntry(1000 + o, o, 1000 * Math.floor(o / 100), o * 3);
    for (const base of [0, 100]) index.setSegmentSummary(base, { size: 1, nextOffset: base + 100, maxTimestamp: base });
    await index.write();
    addOffsets(index, 160, 200);
    index.setSegmentSummary(200, { size: 1, nextOffset: 201, maxTimestamp: 1 });
    await index.truncateFrom(125);
    expect(await index.lookupOffset(1e9)).toEqual(entry(120));
    expect(await index.lookupTime(1e9)).toEqual(entry(120));
    expect([...(await index.loadSummaries()).keys()]).toEqual([0, 100]);
    await index.write();
    const dump = await index.dump();
    expect(dump.offsets.map((e) => e.offset)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);
    expect(dump.times.map((e) => e.offset)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);
    // new entries continue after the cut
    index.addOffsetEntry(130, 100, 999);
    expect(await index.lookupOffset(135)).toEqual({ offset: 130, segmentBase: 100, position: 999 });
    await index.truncateFrom(100);
    expect([...(await index.loadSummaries()).keys()]).toEqual([0]);
    expect(await index.lookupOffset(1e9)).toEqual(entry(90));
  });

  it('deleteBelow removes entries and summaries below an offset, including inside a partly kept block', async () => {
    const { db } = await freshDb();
    const index = new PartitionIndex(db, 'p-0');
    addOffsets(index, 10, 250);
    for (let o = 10; o <= 250; o += 10) index.addTimeEntry(1000 + o, o, 1000 * Math.floor(o / 100), o * 3);
    for (const base of [0, 100, 200])
      index.setSegmentSummary(base, { size: 1, nextOffset: base + 100, maxTimestamp: base });
    await index.write(); // one block holds every entry
    await index.deleteBelow(200);
    const dump = await index.dump();
    expect(dump.offsets.map((e) => e.offset)).toEqual([200, 210, 220, 230, 240, 250]);
    expect(dump.times.map((e) => e.offset)).toEqual([200, 210, 220, 230, 240, 250]);
    expect([...(await index.loadSummaries()).keys()]).toEqual([200]);
    expect(await index.lookupOffset(199)).toBeUndefined();
    expect(await index.lookupOffset(205)).toEqual(entry(200));
    expect(await index.lookupTime(1205)).toEqual(entry(200));
    expect(await index.lookupTime(1200)).toBeUndefined();
  });

  it('keeps partitions apart in one database, even when one name prefixes another', async () => {
    const { db } = await freshDb();
    const names = ['t-1', 't-10', 't-1-0', 'u-1'];
    const indexes = names.map((n) => new PartitionIndex(db, n));
    for (const [i, ix] of indexes.entries()) {
      ix.addOffsetEntry(10 + i, i, i);
      ix.addTimeEntry(100 + i, 10 + i, i, i);
      ix.setSegmentSummary(0, { size: i, nextOffset: i, maxTimestamp: i });
      ix.setMeta({ logStartOffset: i, recoveryPoint: i, cleanShutdown: i % 2 === 0, leaderEpochs: [[i, 0]] });
      await ix.write(true);
    }
    await indexes[0]!.deleteAll();
    const fresh = names.map((n) => new PartitionIndex(db, n));
    expect(await fresh[0]!.loadMeta()).toBeUndefined();
    expect(await fresh[0]!.lookupOffset(1e9)).toBeUndefined();
    expect((await fresh[0]!.loadSummaries()).size).toBe(0);
    for (let i = 1; i < names.length; i++) {
      expect(await fresh[i]!.loadMeta()).toEqual({
        logStartOffset: i,
        recoveryPoint: i,
        cleanShutdown: i % 2 === 0,
        leaderEpochs: [[i, 0]],
      });
      expect(await fresh[i]!.lookupOffset(1e9)).toEqual({ offset: 10 + i, segmentBase: i, position: i });
      expect(await fresh[i]!.lookupTime(1e9)).toEqual({ offset: 10 + i, segmentBase: i, position: i });
      expect([...(await fresh[i]!.loadSummaries())]).toEqual([[0, { size: i, nextOffset: i, maxTimestamp: i }]]);
    }
  });

  it('writes in the background once enough entries wait', async () => {
    const { db } = await freshDb();
    const index = new PartitionIndex(db, 'p-0');
    const errors: unknown[] = [];
    for (let i = 0; i < indexPendingEntriesFlushAt - 1; i++) index.addOffsetEntry(i, 0, i);
    expect(index.writeIfDue((e) => errors.push(e))).toBeUndefined();
    expect(index.pendingCount).toBe(indexPendingEntriesFlushAt - 1);
    index.addOffsetEntry(indexPendingEntriesFlushAt, 0, 1);
    expect(index.writeIfDue((e) => errors.push(e))).toBeUndefined(); // not a backlog: nobody waits
    await index.write(); // queued behind the background write
    expect(index.pendingCount).toBe(0);
    expect(errors).toEqual([]);
    const other = new PartitionIndex(db, 'p-0');
    expect(await other.lookupOffset(1e9)).toEqual({ offset: indexPendingEntriesFlushAt, segmentBase: 0, position: 1 });
  });

  it('keeps the summaries and metadata of a write the database refused for the next write', async () => {
    const { db } = await freshDb();
    const index = new PartitionIndex(db, 'p-0');
    const meta = { logStartOffset: 0, recoveryPoint: 5, cleanShutdown: false, leaderEpochs: [] as [number, number][] };
    index.setSegmentSummary(0, { size: 100, nextOffset: 5, maxTimestamp: 7 });
    index.setMeta(meta);
    addOffsets(index, 10, 30);
    const full = new Error('IO error: 000005.log: No space left on device');
    const batch = vi.spyOn(db, 'batch').mockRejectedValueOnce(full as never);
    await expect(index.write()).rejects.toBe(full);
    batch.mockRestore();
    index.setSegmentSummary(100, { size: 50, nextOffset: 8, maxTimestamp: 9 });
    await index.write();
    const other = new PartitionIndex(db, 'p-0');
    expect(await other.loadSummaries()).toEqual(
      new Map([
        [0, { size: 100, nextOffset: 5, maxTimestamp: 7 }],
        [100, { size: 50, nextOffset: 8, maxTimestamp: 9 }],
      ]),
    );
    expect(await other.loadMeta()).toEqual(meta);
    expect(await other.lookupOffset(30)).toEqual(entry(30));
  });

  it("writes the partitions' writes of one turn as one LevelDB batch (synced if any asks), each partition's in order", async () => {
    const { db } = await freshDb();
    const batch = vi.spyOn(db, 'batch');
    const indexes = Array.from({ length: 50 }, (_, i) => new PartitionIndex(db, `k-${i}`));
    const metaOf = (i: number, recoveryPoint: number) => ({
      logStartOffset: 0,
      recoveryPoint,
      cleanShutdown: false,
      leaderEpochs: [[0, i]] as [number, number][],
    });
    // each partition writes twice, the second once its first is written: the seconds go together
    const writes = indexes.map((index, i) => {
      index.setMeta(metaOf(i, 1));
      addOffsets(index, 10, 20);
      return index.write(i === 7).then(() => {
        index.setMeta(metaOf(i, 2));
        return index.write();
      });
    });
    await Promise.all(writes);
    const calls = (batch.mock.calls as unknown as [unknown[], unknown][]).map(([ops, options]) => [
      ops.length,
      options,
    ]);
    // the first: each partition's offset block and metadata; the second: each one's new metadata
    expect(calls).toEqual([
      [100, { sync: true }],
      [50, { sync: false }],
    ]);
    batch.mockRestore();
    for (const [i, index] of indexes.entries()) {
      const other = new PartitionIndex(db, index.partitionId);
      expect(await other.loadMeta()).toEqual(metaOf(i, 2));
      expect(await other.lookupOffset(25)).toEqual(entry(20));
    }
  });

  it('fails every write of a refused batch, each keeping its entries for its next write', async () => {
    const { db } = await freshDb();
    const indexes = [new PartitionIndex(db, 'k-0'), new PartitionIndex(db, 'k-1')];
    for (const index of indexes) addOffsets(index, 10, 30);
    const full = new Error('IO error: 000005.log: No space left on device');
    const batch = vi.spyOn(db, 'batch').mockRejectedValueOnce(full as never);
    const results = await Promise.allSettled(indexes.map((index) => index.write()));
    expect(results).toEqual([
      { status: 'rejected', reason: full },
      { status: 'rejected', reason: full },
    ]);
    expect(batch).toHaveBeenCalledTimes(1);
    batch.mockRestore();
    await Promise.all(indexes.map((index) => index.write()));
    for (const index of indexes)
      expect(await new PartitionIndex(db, index.partitionId).lookupOffset(30)).toEqual(entry(30));
  });

  it('openIndexDb refuses a data directory whose database another opener holds', async () => {
    const { dir } = await freshDb();
    let err: unknown;
    try {
      dbs.push(await openIndexDb(dir));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe(ErrorCode.StorageError);
    expect((err as Error).message).toContain(dir);
  });
});

describe('SparseIndexer', () => {
  it('adds an offset entry every log.index.interval.bytes, never at a segment start, and time entries only when the maximum grows', async () => {
    const { db } = await freshDb();
    const index = new PartitionIndex(db, 'p-0');
    const indexer = new SparseIndexer(index, 250);
    indexer.reset(-1);
    // [offset, segment, position, size, maxTimestamp]
    const batches: [number, number, number, number, number][] = [
      [0, 0, 0, 100, 10],
      [1, 0, 100, 100, 30],
      [2, 0, 200, 100, 20], // 200 bytes since the segment start: no entry yet
      [3, 0, 300, 100, 25], // 300 >= 250: entry, max so far 30
      [4, 0, 400, 100, 5],
      [5, 0, 500, 100, 5],
      [6, 0, 600, 100, 40], // 300 since the last entry: entry; max still 30, no new time entry
      [7, 700, 0, 100, 50], // new segment: no entry, counting restarts
      [8, 700, 100, 100, 50],
      [9, 700, 200, 100, 60],
      [10, 700, 300, 100, 60], // entry; the maximum so far (60) has grown past 30: time entry
    ];
    for (const b of batches) indexer.onBatch(...b);
    const dump = await index.dump();
    expect(dump.offsets).toEqual([
      { offset: 3, segmentBase: 0, position: 300 },
      { offset: 6, segmentBase: 0, position: 600 },
      { offset: 10, segmentBase: 700, position: 300 },
    ]);
    expect(dump.times).toEqual([
      { timestamp: 30, offset: 3, segmentBase: 0, position: 300 },
      { timestamp: 60, offset: 10, segmentBase: 700, position: 300 },
    ]);
  });
});
