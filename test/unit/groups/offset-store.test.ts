/**
 * Committed offsets in __consumer_offsets (real LogManager, real LevelDB):
 * the latest commit per key wins across a restart, and the log cleaner
 * (the topic is compacted) keeps the log bounded without losing any live
 * offset; a deleted group's tombstones hide its offsets after cleaning too.
 */
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { type OffsetStore, offsetsPartitionFor, offsetsTopic } from '../../../src/groups/offset-store.js';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { LogCleanerLoop } from '../../../src/storage/log-cleaner-loop.js';
import type { LogManager } from '../../../src/storage/log-manager.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { openOffsetStore } from '../../helpers/offset-store.js';
import { tempDir } from '../../helpers/temp-dir.js';

const cleanups: (() => void)[] = [];
const managers: LogManager[] = [];
const replicaManagers: ReplicaManager[] = [];

afterEach(async () => {
  for (const r of replicaManagers.splice(0)) await r.close();
  for (const m of managers.splice(0)) await m.close();
  for (const c of cleanups.splice(0)) c();
});

async function open(dir: string, segmentBytes: number): Promise<{ logs: LogManager; store: OffsetStore }> {
  const opened = await openOffsetStore(dir, segmentBytes);
  managers.push(opened.logs);
  replicaManagers.push(opened.replicas);
  return opened;
}

describe('offset store', () => {
  it('keeps the latest commit per key across a restart', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let { logs, store } = await open(t.dir, 1 << 30);
    await store.commit('g', [{ topic: 'a', partition: 0, offset: 5, metadata: 'x' }]);
    await store.commit('g', [
      { topic: 'a', partition: 0, offset: 9, metadata: 'y' },
      { topic: 'a', partition: 1, offset: 3, metadata: '' },
    ]);
    await store.commit('other', [{ topic: 'a', partition: 0, offset: 1, metadata: '' }]);
    await logs.close();
    managers.splice(managers.indexOf(logs), 1);
    ({ logs, store } = await open(t.dir, 1 << 30));
    expect((await store.fetch('g', 'a', 0))?.offset).toBe(9);
    expect((await store.fetch('g', 'a', 0))?.metadata).toBe('y');
    expect((await store.fetch('g', 'a', 1))?.offset).toBe(3);
    expect((await store.fetch('other', 'a', 0))?.offset).toBe(1);
    expect(await store.fetch('g', 'b', 0)).toBeUndefined();
    expect((await store.groupIds()).sort()).toEqual(['g', 'other']);
  });

  it('is compacted by the log cleaner: the log stays bounded and every live offset survives a restart', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const segmentBytes = 4096;
    let { logs, store } = await open(t.dir, segmentBytes);
    const groups = ['g1', 'g2', 'g3'];
    for (const group of groups) {
      expect(logs.get(offsetsTopic, offsetsPartitionFor(group))?.currentConfig.cleanupPolicy).toBe('compact');
    }
    const cleaner = new LogCleanerLoop({
      logs: () => logs.all(),
      backoffMs: 3_600_000,
      concurrency: 2,
      dedupeBufferBytes: 1 << 20,
      logger: silentLogger,
    });
    for (let round = 1; round <= 400; round++) {
      for (const group of groups) {
        await store.commit(group, [
          { topic: 'orders', partition: 0, offset: round, metadata: `r${round}` },
          { topic: 'orders', partition: 1, offset: round * 2, metadata: '' },
        ]);
      }
      // the broker's cleaner runs in the background; here a round every 50 commits
      if (round % 50 === 0) while (await cleaner.round()) {}
    }
    for (const group of groups) {
      const log = logs.get(offsetsTopic, offsetsPartitionFor(group));
      expect(log).toBeDefined();
      // bounded: the live state is tiny; what stays is the active segment and a header per cleaned segment
      expect(log?.sizeBytes).toBeLessThan(3 * segmentBytes);
      expect(log?.cleanedTo).toBeGreaterThan(0);
    }
    await logs.close();
    managers.splice(managers.indexOf(logs), 1);
    ({ logs, store } = await open(t.dir, segmentBytes));
    for (const group of groups) {
      expect(await store.fetch(group, 'orders', 0)).toMatchObject({ offset: 400, metadata: 'r400' });
      expect((await store.fetch(group, 'orders', 1))?.offset).toBe(800);
    }
  });

  it("a deleted group's offsets stay deleted after the cleaner ran and a restart (tombstones)", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const segmentBytes = 4096;
    let { logs, store } = await open(t.dir, segmentBytes);
    for (let round = 1; round <= 200; round++) {
      await store.commit('doomed', [{ topic: 'orders', partition: 0, offset: round, metadata: '' }]);
    }
    expect(await store.deleteGroup('doomed')).toBe(1);
    // more commits of another group on the same partition roll the tombstone into a closed segment
    const other = ['x', 'y', 'z', 'w', 'v', 'u', 'q'].find(
      (g) => offsetsPartitionFor(g) === offsetsPartitionFor('doomed'),
    );
    const filler = other ?? 'doomed-filler';
    for (let round = 1; round <= 200; round++) {
      await store.commit(filler, [{ topic: 'orders', partition: 0, offset: round, metadata: '' }]);
    }
    const log = logs.get(offsetsTopic, offsetsPartitionFor('doomed'));
    await log?.clean({ nowMs: Date.now(), force: true });
    await logs.close();
    managers.splice(managers.indexOf(logs), 1);
    ({ logs, store } = await open(t.dir, segmentBytes));
    expect(await store.fetch('doomed', 'orders', 0)).toBeUndefined();
  });

  it('skips records not in the commit layout on replay: the other groups of their partition still load', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let { logs, store } = await open(t.dir, 1 << 30);
    await store.commit('g', [{ topic: 'a', partition: 0, offset: 7, metadata: 'm' }]);
    const log = logs.get(offsetsTopic, offsetsPartitionFor('g'));
    if (!log) throw new Error('no offsets partition');
    // what a producer could write before internal topics were refused: text, a scalar key, a bad value
    await log.append(
      encodeRecordBatch([
        { key: Buffer.from('x'), value: Buffer.from('garbage'), timestamp: 1 },
        { key: Buffer.from([0x93, 0xa1, 0x67, 0xa1, 0x61, 0x00]), value: Buffer.from([0xc1]), timestamp: 1 },
      ]),
    );
    await store.commit('g', [{ topic: 'a', partition: 1, offset: 8, metadata: '' }]);
    await logs.close();
    managers.splice(managers.indexOf(logs), 1);
    ({ logs, store } = await open(t.dir, 1 << 30));
    expect((await store.fetch('g', 'a', 0))?.offset).toBe(7);
    expect((await store.fetch('g', 'a', 1))?.offset).toBe(8);
  });

  it('keeps the committed leader epoch (KIP-320) across a restart; a record written before it was kept reads -1', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let { logs, store } = await open(t.dir, 1 << 30);
    await store.commit('ep', [
      { topic: 'a', partition: 0, offset: 7, metadata: '', leaderEpoch: 4 },
      { topic: 'a', partition: 1, offset: 8, metadata: '' },
      { topic: 'a', partition: 2, offset: 9, metadata: '', leaderEpoch: -1 },
    ]);
    const log = logs.get(offsetsTopic, offsetsPartitionFor('ep'));
    if (!log) throw new Error('no offsets partition');
    // a commit as the store wrote it before leader epochs were kept: no leaderEpoch in the value
    const packr = new Packr({ useRecords: false, mapsAsObjects: true });
    await log.append(
      encodeRecordBatch([
        {
          key: packr.pack(['ep', 'a', 3]),
          value: packr.pack({ offset: 10, metadata: 'old', commitTimestamp: 1 }),
          timestamp: 1,
        },
      ]),
    );
    expect(await store.fetch('ep', 'a', 0)).toMatchObject({ offset: 7, leaderEpoch: 4 });
    await logs.close();
    managers.splice(managers.indexOf(logs), 1);
    ({ logs, store } = await open(t.dir, 1 << 30));
    expect(await store.fetch('ep', 'a', 0)).toMatchObject({ offset: 7, leaderEpoch: 4 });
    expect(await store.fetch('ep', 'a', 1)).toMatchObject({ offset: 8, leaderEpoch: -1 });
    expect(await store.fetch('ep', 'a', 2)).toMatchObject({ offset: 9, leaderEpoch: -1 });
    expect(await store.fetch('ep', 'a', 3)).toMatchObject({ offset: 10, metadata: 'old', leaderEpoch: -1 });
  });
});
