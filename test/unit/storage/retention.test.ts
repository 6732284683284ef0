/**
 * Retention (PartitionLog.enforceRetention through LogManager): whole segments
 * past log.retention.ms or log.retention.bytes go, with their index entries,
 * and the log start offset advances durably.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import {
  contentsOf,
  dumpIndex,
  expectedContents,
  fileSize,
  indexProblems,
  readAll,
  segmentFiles,
  segmentPath,
  storageFixture,
  testBatch,
} from '../../helpers/storage.js';
import { expectSluiceErrorAsync } from '../../helpers/wire-bytes.js';

const fx = storageFixture(afterEach);
const topic = 'ret';
const hour = 3_600_000;
const t0 = 1_700_000_000_000;

const expectCode = expectSluiceErrorAsync;

/** Every test batch (2 records, 3-character tag) has this size; segments of segmentBytes hold two. */
const batchBytes = testBatch('r00', 2, t0).length;
const segmentBytes = 2 * batchBytes + 10;

/**
 * A log of `batches` batches of 2 records; batch i has timestamps t0 + i hours
 * (+0, +1 ms); each segment holds two batches.
 */
async function buildLog(config: Partial<LogConfig>, batches = 10) {
  const dir = fx.dir();
  const full = { segmentBytes, indexIntervalBytes: 100, ...config };
  const manager = await fx.open(dir, full);
  const log = await manager.getOrCreate(topic, 0);
  const all = [];
  for (let i = 0; i < batches; i++) {
    const tag = `r${String(i).padStart(2, '0')}`;
    await log.append(testBatch(tag, 2, t0 + i * hour));
    all.push(...expectedContents(tag, 2, t0 + i * hour));
  }
  const partitionDir = path.join(dir, `${topic}-0`);
  return { dir, manager, log, all, partitionDir, config: full };
}

describe('log.retention.ms', () => {
  it('deletes the oldest segments whose newest record is older than retention, and advances the log start', async () => {
    const { dir, manager, log, all, partitionDir, config } = await buildLog({ retentionMs: 3 * hour });
    expect(log.segmentBaseOffsets).toEqual([0, 4, 8, 12, 16]);
    const sizeBefore = log.sizeBytes;
    const segmentSize = fileSize(segmentPath(partitionDir, 0));
    await manager.close();
    const indexBefore = await dumpIndex(dir, `${topic}-0`);
    const m = await fx.open(dir, config);
    const l = m.get(topic, 0) as PartitionLog;
    // segment 8 holds batches 4 and 5, newest record t0 + 5h + 1ms: 3h + 1ms old, expired;
    // segment 12's newest (t0 + 7h + 1ms) is 1h + 1ms old
    const now = t0 + 8 * hour + 2;
    expect(await m.enforceRetention(now)).toBe(3);
    expect(l.logStartOffset).toBe(12);
    expect(l.segmentBaseOffsets).toEqual([12, 16]);
    expect(segmentFiles(partitionDir)).toEqual([12, 16]);
    expect(l.sizeBytes).toBe(sizeBefore - 3 * segmentSize);
    expect(l.logEndOffset).toBe(20);
    await expectCode(l.read(11, 1000), ErrorCode.OffsetOutOfRange);
    await expectCode(l.read(0, 1000), ErrorCode.OffsetOutOfRange);
    const { records } = await readAll(l);
    expect(records[0]?.offset).toBe(12);
    expect(contentsOf(records)).toEqual(all.slice(12));
    expect(await l.offsetForTimestamp(0)).toEqual({ offset: 12, timestamp: t0 + 6 * hour });
    // nothing more is due at the same time
    expect(await m.enforceRetention(now)).toBe(0);
    await m.close();

    const after = await dumpIndex(dir, `${topic}-0`);
    expect(after.meta?.logStartOffset).toBe(12);
    expect([...after.summaries.keys()].sort((a, b) => a - b)).toEqual([12, 16]);
    expect(indexBefore.offsets.some(([o]) => o < 12)).toBe(true);
    expect(after.offsets).toEqual(indexBefore.offsets.filter(([o]) => o >= 12));
    expect(after.times).toEqual(indexBefore.times.filter(([, o]) => o >= 12));
    expect(await indexProblems(dir, topic, 0)).toEqual([]);

    const again = await fx.open(dir, config);
    const reopened = again.get(topic, 0) as PartitionLog;
    expect(reopened.logStartOffset).toBe(12);
    expect(contentsOf((await readAll(reopened)).records)).toEqual(all.slice(12));
  });

  it('deletes only a prefix of the log: an expired segment behind a newer one stays', async () => {
    const dir = fx.dir();
    const manager = await fx.open(dir, { segmentBytes, retentionMs: hour });
    const log = await manager.getOrCreate(topic, 0);
    const stamps = [5, 5, 1, 1, 9, 9]; // hours after t0: segment 0 new, segment 4 old, segment 8 newest
    for (const [i, h] of stamps.entries()) await log.append(testBatch(`p0${i}`, 2, t0 + h * hour));
    expect(log.segmentBaseOffsets).toEqual([0, 4, 8]);
    expect(await manager.enforceRetention(t0 + 6 * hour)).toBe(0); // segment 4 is expired, segment 0 not yet
    expect(log.logStartOffset).toBe(0);
    expect(await manager.enforceRetention(t0 + 6 * hour + 2)).toBe(2);
    expect(log.logStartOffset).toBe(8);
  });

  it('rolls an expired active segment so that the whole log can go, and appends continue at the old end', async () => {
    const { dir, manager, log, partitionDir, config } = await buildLog({ retentionMs: hour });
    expect(await manager.enforceRetention(t0 + 100 * hour)).toBe(5);
    expect(log.logStartOffset).toBe(20);
    expect(log.logEndOffset).toBe(20);
    expect(log.segmentBaseOffsets).toEqual([20]);
    expect(segmentFiles(partitionDir)).toEqual([20]);
    expect(fileSize(segmentPath(partitionDir, 20))).toBe(0);
    const empty = await log.read(20, 1000);
    expect(empty.records.length).toBe(0);
    expect(await log.offsetForTimestamp(0)).toBeUndefined();
    const next = await log.append(testBatch('late', 1, t0 + 100 * hour));
    expect(next.baseOffset).toBe(20);
    await manager.close();
    expect(await indexProblems(dir, topic, 0)).toEqual([]);
    const m = await fx.open(dir, config);
    const l = m.get(topic, 0) as PartitionLog;
    expect(l.logStartOffset).toBe(20);
    expect(l.logEndOffset).toBe(21);
  });

  it('rolls and empties a single expired segment', async () => {
    const dir = fx.dir();
    const manager = await fx.open(dir, { retentionMs: hour });
    const log = await manager.getOrCreate(topic, 0);
    await log.append(testBatch('a', 3, t0));
    // the newest record is t0 + 2: exactly retention.ms old is kept, one millisecond more is not
    expect(await manager.enforceRetention(t0 + hour + 2)).toBe(0);
    expect(log.segmentBaseOffsets).toEqual([0]);
    expect(await manager.enforceRetention(t0 + hour + 3)).toBe(1);
    expect(log.logStartOffset).toBe(3);
    expect(log.segmentBaseOffsets).toEqual([3]);
  });

  it('keeps everything with retention.ms -1', async () => {
    const { manager, log } = await buildLog({ retentionMs: -1 });
    expect(await manager.enforceRetention(t0 + 10_000 * hour)).toBe(0);
    expect(log.logStartOffset).toBe(0);
    expect(log.segmentCount).toBe(5);
  });
});

describe('log.retention.bytes', () => {
  it('deletes the oldest segments while the log would stay at least retention.bytes without them', async () => {
    const { log, manager, partitionDir } = await buildLog({ retentionMs: -1, retentionBytes: -1 });
    const sizes = log.segmentBaseOffsets.map((b) => fileSize(segmentPath(partitionDir, b)));
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(log.sizeBytes).toBe(total);
    expect(await manager.enforceRetention(t0)).toBe(0);
    // Kafka's rule: delete a segment when size - segment >= retention.bytes
    const retentionBytes = total - sizes[0]! - sizes[1]! + 1; // one byte more than three segments
    log.updateConfig({ ...manager.defaults, segmentBytes, indexIntervalBytes: 100, retentionMs: -1, retentionBytes });
    expect(await manager.enforceRetention(t0)).toBe(1);
    expect(log.segmentBaseOffsets).toEqual([4, 8, 12, 16]);
    expect(log.sizeBytes).toBe(total - sizes[0]!);
    expect(log.sizeBytes).toBeGreaterThanOrEqual(retentionBytes);
    log.updateConfig({ ...manager.defaults, segmentBytes, retentionMs: -1, retentionBytes: sizes[4]! + sizes[3]! });
    expect(await manager.enforceRetention(t0)).toBe(2);
    expect(log.segmentBaseOffsets).toEqual([12, 16]);
    expect(log.logStartOffset).toBe(12);
    // the active segment is never deleted for size
    log.updateConfig({ ...manager.defaults, segmentBytes, retentionMs: -1, retentionBytes: 0 });
    expect(await manager.enforceRetention(t0)).toBe(1);
    expect(log.segmentBaseOffsets).toEqual([16]);
    expect(log.logEndOffset).toBe(20);
    expect(segmentFiles(partitionDir)).toEqual([16]);
  });

  it('applies both limits together: whichever deletes more', async () => {
    const { log, manager } = await buildLog({ retentionMs: 7 * hour, retentionBytes: 2 * segmentBytes + 10 });
    expect(log.sizeBytes).toBe(10 * batchBytes);
    // at t0 + 8h + 2 only segment 0 (newest t0 + 1h + 1ms) is too old, but size takes two segments
    expect(await manager.enforceRetention(t0 + 8 * hour + 2)).toBe(2);
    expect(log.logStartOffset).toBe(8);
    // at t0 + 13h time takes segment 8 (newest t0 + 5h + 1ms); size alone would keep it
    expect(await manager.enforceRetention(t0 + 13 * hour)).toBe(1);
    expect(log.logStartOffset).toBe(12);
  });
});

describe('retention across partitions and restarts', () => {
  it('enforces retention per partition and counts all deleted segments', async () => {
    const dir = fx.dir();
    const manager = await fx.open(dir, { segmentBytes, retentionMs: 2 * hour });
    const a = await manager.getOrCreate('a', 0);
    const b = await manager.getOrCreate('b', 3);
    for (let i = 0; i < 6; i++) await a.append(testBatch(`a0${i}`, 2, t0 + i * hour));
    for (let i = 0; i < 6; i++) await b.append(testBatch(`b0${i}`, 2, t0 + 2 * hour + i * hour));
    expect(a.segmentBaseOffsets).toEqual([0, 4, 8]);
    expect(b.segmentBaseOffsets).toEqual([0, 4, 8]);
    // a: newest records t0 + 1h, 3h, 5h (+1 ms); b: 2 hours later
    expect(await manager.enforceRetention(t0 + 6 * hour)).toBe(3);
    expect(a.logStartOffset).toBe(8);
    expect(b.logStartOffset).toBe(4);
  });

  it('a crash right after retention keeps the new log start', async () => {
    const { dir, manager, log, all, config, partitionDir } = await buildLog({ retentionMs: 2 * hour });
    expect(await manager.enforceRetention(t0 + 9 * hour)).toBeGreaterThan(0);
    const start = log.logStartOffset;
    expect(start).toBe(12);
    for (const l of manager.all()) await l.abandon();
    await manager.close();
    expect(segmentFiles(partitionDir)).toEqual([12, 16]);
    const m = await fx.open(dir, config);
    const l = m.get(topic, 0) as PartitionLog;
    expect(l.logStartOffset).toBe(12);
    expect(contentsOf((await readAll(l)).records)).toEqual(all.slice(12));
    expect(fs.existsSync(segmentPath(partitionDir, 0))).toBe(false);
  });
});

describe('truncateFullyAndStartAt (a follower behind its leader log start)', () => {
  it('drops the whole log, starts empty at the offset, takes batches from there, and reopens the same', async () => {
    const { dir, manager, log, partitionDir, config } = await buildLog({}, 6);
    expect(log.logEndOffset).toBe(12);
    // the leader's log now starts at 40: everything here lies below it
    await log.truncateFullyAndStartAt(40);
    expect(log.logStartOffset).toBe(40);
    expect(log.logEndOffset).toBe(40);
    expect(log.segmentBaseOffsets).toEqual([40]);
    expect(segmentFiles(partitionDir)).toEqual([40]);
    await expectCode(log.read(0, 1000), ErrorCode.OffsetOutOfRange);
    // replicated batches carry the leader's offsets
    await log.append(testBatch('f40', 2, t0 + 40 * hour, { baseOffset: 40 }), { assignOffsets: false });
    await log.append(testBatch('f42', 2, t0 + 42 * hour, { baseOffset: 42 }), { assignOffsets: false });
    expect(log.logEndOffset).toBe(44);
    const { records } = await readAll(log);
    expect(records.map((r) => r.offset)).toEqual([40, 41, 42, 43]);
    expect(contentsOf(records)).toEqual([
      ...expectedContents('f40', 2, t0 + 40 * hour),
      ...expectedContents('f42', 2, t0 + 42 * hour),
    ]);
    expect(await log.offsetForTimestamp(0)).toEqual({ offset: 40, timestamp: t0 + 40 * hour });
    await manager.close();

    const after = await dumpIndex(dir, `${topic}-0`);
    expect(after.meta?.logStartOffset).toBe(40);
    expect(after.offsets.every(([o]) => o >= 40)).toBe(true);
    expect(after.times.every(([, o]) => o >= 40)).toBe(true);
    expect(await indexProblems(dir, topic, 0)).toEqual([]);
    const again = await fx.open(dir, config);
    const reopened = again.get(topic, 0) as PartitionLog;
    expect(reopened.logStartOffset).toBe(40);
    expect(reopened.logEndOffset).toBe(44);
    expect((await readAll(reopened)).records.map((r) => r.offset)).toEqual([40, 41, 42, 43]);
  });

  it('refuses a start at or before the log end (that is a plain truncation, or nothing)', async () => {
    const { log } = await buildLog({}, 2);
    await expectCode(log.truncateFullyAndStartAt(4), ErrorCode.InvalidRequest);
    await expectCode(log.truncateFullyAndStartAt(1), ErrorCode.InvalidRequest);
    expect(log.logEndOffset).toBe(4);
  });
});
