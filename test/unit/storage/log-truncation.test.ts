/**
 * truncateSegmentsTo (log-truncation.ts) on real segment files and a real
 * LevelDB index: the cut lands at the start of the batch holding the offset,
 * later segments go, the recovery point follows the log end down, the index
 * is rebuilt from the file, and nothing goes below the log start.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/shared/logger.js';
import { type IndexDb, openIndexDb } from '../../../src/storage/index-store.js';
import { truncateSegmentsTo } from '../../../src/storage/log-truncation.js';
import { PartitionIndex } from '../../../src/storage/partition-index.js';
import { SegmentList } from '../../../src/storage/segment-list.js';
import { SegmentReader } from '../../../src/storage/segment-reader.js';
import { SparseIndexer } from '../../../src/storage/sparse-indexer.js';
import { splitBatches, storageFixture } from '../../helpers/storage.js';
import { segmentBuilder } from './segment-builders.js';

const fx = storageFixture(afterEach);
const builder = segmentBuilder(afterEach);
const dbs: IndexDb[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
});

/** Segments [0, 6) (batches of 2, 3, 1 records) and [6, 10) (4), recovered to the end; log start `logStart`. */
async function parts(logStart = 0) {
  const dir = fx.dir();
  const db = await openIndexDb(fx.dir());
  dbs.push(db);
  const index = new PartitionIndex(db, 't-0');
  const segments = [builder.create(dir, 0, [2, 3, 1]), builder.create(dir, 6, [4])];
  const list = new SegmentList(segments, logStart, 10);
  const indexer = new SparseIndexer(index, 1);
  const reader = new SegmentReader('t-0', list, silentLogger);
  return { segments, list, index, p: { segments: list, index, indexer, reader } };
}

const layout = (list: SegmentList) =>
  [...list].map((s) => splitBatches(s.read(0, s.size)).map((b) => [b.baseOffset, b.lastOffset]));

describe('truncateSegmentsTo', () => {
  it('cuts at the start of the batch holding the offset within the active segment', async () => {
    const { list, p } = await parts();
    await truncateSegmentsTo(p, 7);
    expect(layout(list)).toEqual([
      [
        [0, 1],
        [2, 4],
        [5, 5],
      ],
      [],
    ]);
    expect([list.logEndOffset, list.recoveryPoint]).toEqual([6, 6]);
  });

  it('removes later segments and rebuilds the index of the one cut', async () => {
    const { list, segments, index, p } = await parts();
    index.addOffsetEntry(5, 0, 999); // stale: truncation drops it and indexes the file again
    await truncateSegmentsTo(p, 3);
    expect(layout(list)).toEqual([[[0, 1]]]);
    expect(fs.existsSync(segments[1]?.path ?? '')).toBe(false);
    expect([list.logEndOffset, list.recoveryPoint, list.active.maxTimestamp]).toEqual([2, 2, 1001]);
    expect(await index.lookupOffset(5)).toBeUndefined();
  });

  it('never cuts below the log start', async () => {
    const { list, p } = await parts(6);
    await truncateSegmentsTo(p, 0);
    expect(list.baseOffsets).toEqual([0, 6]);
    expect([list.logStartOffset, list.logEndOffset]).toEqual([6, 6]);
  });
});
