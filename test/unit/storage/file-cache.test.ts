/**
 * The bounded cache of open segment files (file-cache.ts, issue 20 item 5): at most `max` files
 * are open — counted here from /proc/self/fd, the kernel's own list — the least recently used is
 * closed, and a closed segment is reopened on demand at the right place for appends, reads, cuts
 * and fsyncs. Logs of several partitions share a cache of 2 files, so nearly every operation
 * follows an eviction.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileCache, openFilesMaxFor } from '../../../src/storage/file-cache.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import { LogManager } from '../../../src/storage/log-manager.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import {
  contentsOf,
  crashManager,
  expectedContents,
  indexProblems,
  readAll,
  storageFixture,
  testBatch,
} from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const managers: LogManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
});

/** Descriptors of this process open on files under `dir` (the kernel's count, not the cache's). */
function openUnder(dir: string): string[] {
  const found: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) found.push(target);
    } catch {
      // closed between the listing and the readlink (the readdir's own descriptor)
    }
  }
  return found;
}

/** Open segment files under `dir` (LevelDB's files are in .sluice-index and not counted). */
const segmentsOpenUnder = (dir: string): string[] =>
  openUnder(dir).filter((f) => f.endsWith('.log') && !f.includes('/.sluice-index/'));

async function openWithCap(dir: string, max: number, config: Partial<LogConfig> = {}): Promise<LogManager> {
  const m = await LogManager.open({ logDirs: [dir], config, retentionCheckIntervalMs: 0, openFilesMax: max });
  managers.push(m);
  return m;
}

const tag = (p: number, i: number): string => `p${p}b${String(i).padStart(3, '0')}`;

describe('FileCache', () => {
  it('closes the least recently used file past its cap and reopens a closed one on demand', () => {
    const dir = fx.dir();
    const cache = new FileCache(2);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => cache.open(path.join(dir, n), 'wx+'));
    if (!a || !b || !c) throw new Error('three files');
    expect([a.isOpen, b.isOpen, c.isOpen]).toEqual([false, true, true]);
    expect(openUnder(dir).sort()).toEqual([path.join(dir, 'b'), path.join(dir, 'c')]);
    // a use makes b the most recent: a's reopen closes c, the least recently used
    b.fd();
    fs.writeSync(a.fd(), 'x', 0);
    expect([a.isOpen, b.isOpen, c.isOpen]).toEqual([true, true, false]);
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('x');
    expect(cache.stats).toEqual({ open: 2, max: 2, reopens: 1, evictions: 2 });
    // a closed handle is forgotten and not reopened
    a.close();
    expect(cache.stats.open).toBe(1);
    expect(() => a.fd()).toThrow(/closed/);
    cache.setMax(1);
    expect(openUnder(dir)).toHaveLength(1);
    b.close();
    c.close();
    expect(openUnder(dir)).toEqual([]);
  });

  it('never closes a file pinned by an fsync in flight: the cap is exceeded until it settles', async () => {
    const dir = fx.dir();
    const cache = new FileCache(1);
    const a = cache.open(path.join(dir, 'a'), 'wx+');
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = a.pinned(async (fd) => {
      await gate;
      fs.fdatasyncSync(fd); // still a's descriptor: nothing closed it while pinned
      return fd;
    });
    const b = cache.open(path.join(dir, 'b'), 'wx+');
    expect([a.isOpen, b.isOpen]).toEqual([true, true]);
    expect(openUnder(dir)).toHaveLength(2);
    release();
    await held;
    // let go, the cache is back within its cap: a, the least recently used, is closed
    expect([a.isOpen, b.isOpen]).toEqual([false, true]);
    cache.open(path.join(dir, 'c'), 'wx+');
    expect([a.isOpen, b.isOpen]).toEqual([false, false]);
    expect(openUnder(dir)).toEqual([path.join(dir, 'c')]);
  });

  it('derives its default cap from the open files limit', () => {
    expect(openFilesMaxFor(0, 4096)).toBe(2048);
    expect(openFilesMaxFor(0, 20)).toBe(64);
    expect(openFilesMaxFor(0, undefined)).toBe(4096);
    expect(openFilesMaxFor(300, 4096)).toBe(300);
  });
});

describe('partition logs sharing a cache of 2 files', () => {
  const partitions = 5;
  const config: Partial<LogConfig> = { segmentBytes: 600 };

  async function interleavedAppends(logs: PartitionLog[], rounds: number, from = 0): Promise<void> {
    for (let i = from; i < from + rounds; i++) {
      for (const [p, log] of logs.entries()) await log.append(testBatch(tag(p, i), 2, 1000 * (i + 1)));
    }
  }

  const expected = (p: number, rounds: number) =>
    Array.from({ length: rounds }, (_, i) => expectedContents(tag(p, i), 2, 1000 * (i + 1))).flat();

  it('appends, reads, cuts and fsyncs through evictions, with at most 2 segment files open', async () => {
    const dir = fx.dir();
    const manager = await openWithCap(dir, 2, config);
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) logs.push(await manager.getOrCreate('t', p));
    expect(segmentsOpenUnder(dir).length).toBeLessThanOrEqual(2);

    // every append finds its active segment closed by the others' (a reopen writes at its size);
    // a roll's background fsync pins its file meanwhile, so the count is checked once they settled
    await interleavedAppends(logs, 12);
    await manager.flushAll();
    expect(segmentsOpenUnder(dir).length).toBeLessThanOrEqual(2);
    expect(manager.files.stats.reopens).toBeGreaterThan(50);
    for (const [p, log] of logs.entries()) {
      expect(log.segmentCount).toBeGreaterThan(2);
      expect(contentsOf((await readAll(log, 0, 300)).records)).toEqual(expected(p, 12));
      expect(segmentsOpenUnder(dir).length).toBeLessThanOrEqual(2);
    }

    // a cut into an older segment (its file closed), then appends on from there
    const cut = logs[1] as PartitionLog;
    await cut.truncateTo(8);
    await interleavedAppends([cut], 1, 40);
    expect(contentsOf((await readAll(cut)).records)).toEqual([
      ...expected(1, 12).slice(0, 8),
      ...expectedContents(tag(0, 40), 2, 41_000),
    ]);
    expect(segmentsOpenUnder(dir).length).toBeLessThanOrEqual(2);

    // fsync reopens what it must: every log flushed, none goes offline
    await manager.flushAll();
    for (const log of logs) expect(log.recoveryPoint).toBe(log.logEndOffset);

    // deleting a partition drops its cached files
    await manager.delete('t', 4);
    expect(segmentsOpenUnder(dir).filter((f) => f.includes('/t-4/'))).toEqual([]);

    await manager.close();
    expect(segmentsOpenUnder(dir)).toEqual([]);
    expect(manager.files.stats.open).toBe(0);

    // reopened (clean) and after a crash: everything reads back through the cache
    const again = await openWithCap(dir, 2, config);
    for (let p = 0; p < 4; p++) {
      const log = again.get('t', p) as PartitionLog;
      const want =
        p === 1 ? [...expected(1, 12).slice(0, 8), ...expectedContents(tag(0, 40), 2, 41_000)] : expected(p, 12);
      expect(contentsOf((await readAll(log, 0, 300)).records)).toEqual(want);
    }
    expect(segmentsOpenUnder(dir).length).toBeLessThanOrEqual(2);

    // a crash after more appends: recovery reads the unflushed tails through the cache too
    const four = [0, 1, 2, 3].map((p) => again.get('t', p) as PartitionLog);
    await interleavedAppends(four, 3, 50);
    await crashManager(again);
    const third = await openWithCap(dir, 2, config);
    for (let p = 0; p < 4; p++) {
      const log = third.get('t', p) as PartitionLog;
      const before =
        p === 1 ? [...expected(1, 12).slice(0, 8), ...expectedContents(tag(0, 40), 2, 41_000)] : expected(p, 12);
      const after = [50, 51, 52].flatMap((i) => expectedContents(tag(p, i), 2, 1000 * (i + 1)));
      expect(contentsOf((await readAll(log, 0, 300)).records)).toEqual([...before, ...after]);
    }
    expect(segmentsOpenUnder(dir).length).toBeLessThanOrEqual(2);
    await third.close();
    for (let p = 0; p < 4; p++) expect(await indexProblems(dir, 't', p)).toEqual([]);
  });

  it('opens no segment file when it loads logs that were closed cleanly', async () => {
    const dir = fx.dir();
    const manager = await openWithCap(dir, 2, config);
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) logs.push(await manager.getOrCreate('t', p));
    await interleavedAppends(logs, 4);
    await manager.close();
    const again = await openWithCap(dir, 2, config);
    expect(again.all()).toHaveLength(partitions);
    expect(segmentsOpenUnder(dir)).toEqual([]);
    // the first append opens only its own partition's files (the producers' state is read from its tail)
    await again.get('t', 3)?.append(testBatch('late', 1, 99_000));
    const open = segmentsOpenUnder(dir);
    expect(open.length).toBeGreaterThan(0);
    expect(open.filter((f) => !f.includes('/t-3/'))).toEqual([]);
  });

  it('retention drops the files of the segments they remove', async () => {
    const dir = fx.dir();
    const manager = await openWithCap(dir, 8, { ...config, retentionBytes: 1200 });
    const log = await manager.getOrCreate('t', 0);
    await interleavedAppends([log], 20);
    const before = log.segmentBaseOffsets;
    // read every segment so each one's file is cached
    await readAll(log, 0, 300);
    expect(await manager.enforceRetention()).toBeGreaterThan(0);
    const gone = before.filter((b) => !log.segmentBaseOffsets.includes(b));
    expect(gone.length).toBeGreaterThan(0);
    const open = segmentsOpenUnder(dir);
    for (const b of gone) expect(open.filter((f) => f.endsWith(`${String(b).padStart(20, '0')}.log`))).toEqual([]);
    expect(manager.files.stats.open).toBe(open.length);
  });
});
