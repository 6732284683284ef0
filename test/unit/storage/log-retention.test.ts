/**
 * LogRetention (log-retention.ts) on real segment files and a real LevelDB
 * index: which segments expire, deletion by size and by age, deletion below an
 * offset, the log start made durable before a file goes, and the index
 * entries of deleted segments dropped.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type IndexDb, openIndexDb } from '../../../src/storage/index-store.js';
import { isExpired, LogRetention } from '../../../src/storage/log-retention.js';
import { PartitionIndex } from '../../../src/storage/partition-index.js';
import { SegmentList } from '../../../src/storage/segment-list.js';
import { storageFixture } from '../../helpers/storage.js';
import { segmentBuilder } from './segment-builders.js';

const fx = storageFixture(afterEach);
const builder = segmentBuilder(afterEach);
const dbs: IndexDb[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
});

/** Three segments [0, 3) [3, 6) [6, 9) of one 3-record batch each (newest timestamps 1002, 1005, 1008). */
async function threeSegments() {
  const dir = fx.dir();
  const db = await openIndexDb(fx.dir());
  dbs.push(db);
  const index = new PartitionIndex(db, 't-0');
  const segments = [0, 3, 6].map((base) => builder.create(dir, base, [3]));
  for (const s of segments) index.addOffsetEntry(s.baseOffset + 1, s.baseOffset, 10);
  const list = new SegmentList(segments, 0, 0);
  const events: string[] = [];
  const retention = new LogRetention(list, index, {
    logStartMoved: async () => {
      // the oldest file is still there when the new log start is persisted
      events.push(`start ${list.logStartOffset} (files: ${segments.filter((s) => fs.existsSync(s.path)).length})`);
    },
    roll: () => {
      events.push('roll');
      list.roll(builder.create(dir, list.logEndOffset));
    },
  });
  return { dir, index, segments, list, retention, events, size: segments[0]?.size ?? 0 };
}

describe('isExpired', () => {
  it('counts from the newest record, or from the file time when no record is stamped; never for an empty segment', () => {
    const dir = fx.dir();
    const s = builder.create(dir, 0, [3]); // newest record 1002
    expect(isExpired(s, 100, 1102)).toBe(false);
    expect(isExpired(s, 100, 1103)).toBe(true);
    expect(isExpired(s, -1, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(isExpired(builder.create(dir, 3), 0, Number.MAX_SAFE_INTEGER)).toBe(false);
    s.maxTimestamp = -1;
    const mtime = fs.statSync(s.path).mtimeMs;
    expect(isExpired(s, 1000, mtime + 999)).toBe(false);
    expect(isExpired(s, 1000, mtime + 1001)).toBe(true);
  });
});

describe('LogRetention', () => {
  it('deletes the oldest segments while the rest is at least retention.bytes, moving the log start first', async () => {
    const { retention, list, segments, events, index, size } = await threeSegments();
    expect(await retention.enforce({ retentionMs: -1, retentionBytes: size }, 0)).toBe(2);
    expect(list.baseOffsets).toEqual([6]);
    expect(list.logStartOffset).toBe(6);
    expect(events).toEqual(['start 3 (files: 3)', 'start 6 (files: 2)']);
    expect(segments.map((s) => fs.existsSync(s.path))).toEqual([false, false, true]);
    expect(await index.lookupOffset(5)).toBeUndefined(); // the entries below the log start are gone
    expect(await index.lookupOffset(7)).toEqual({ offset: 7, segmentBase: 6, position: 10 });
  });

  it('deletes expired segments, rolling first when the active one has expired too', async () => {
    const { retention, list, events } = await threeSegments();
    expect(await retention.enforce({ retentionMs: 100, retentionBytes: -1 }, 1106)).toBe(2); // 1005 and older
    expect(list.baseOffsets).toEqual([6]);
    expect(await retention.enforce({ retentionMs: 100, retentionBytes: -1 }, 1109)).toBe(1);
    expect(list.baseOffsets).toEqual([9]);
    expect([list.logStartOffset, list.logEndOffset]).toEqual([9, 9]);
    expect(events).toEqual(['start 3 (files: 3)', 'start 6 (files: 2)', 'roll', 'start 9 (files: 1)']);
    expect(await retention.enforce({ retentionMs: 100, retentionBytes: -1 }, 1e12)).toBe(0); // empty: nothing expires
  });

  it('deletes the whole segments below an offset, never the last one', async () => {
    const { retention, list } = await threeSegments();
    expect(await retention.deleteSegmentsBefore(5)).toBe(1);
    expect(list.baseOffsets).toEqual([3, 6]);
    expect(await retention.deleteSegmentsBefore(1e9)).toBe(1);
    expect(list.baseOffsets).toEqual([6]);
    expect(await retention.deleteSegmentsBefore(1e9)).toBe(0);
  });
});
