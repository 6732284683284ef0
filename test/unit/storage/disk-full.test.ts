/**
 * A full disk (ENOSPC, EDQUOT) in the storage layer: a refused write leaves nothing behind (its
 * partial tail is cut back to the last complete batch, no index entry), the partition refuses
 * writes with LogDirFull (answered as KAFKA_STORAGE_ERROR, retriable) and keeps serving reads, and
 * it takes writes again on its own once space returns. The full disk is faked here at the fs call
 * the storage makes (writeSync, ftruncateSync, LevelDB's batch); the real one (a small tmpfs) is in
 * test/integration/disk-full.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, isRetriable, SluiceError, WireError, wireErrorOf } from '../../../src/shared/errors.js';
import { isDiskFullError, probeFileName } from '../../../src/storage/disk-space.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import { LogManager, type LogManagerOptions } from '../../../src/storage/log-manager.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { capturingLogger } from '../../helpers/capturing-logger.js';
import {
  contentsOf,
  crashManager,
  expectedContents,
  fileSize,
  indexProblems,
  readAll,
  segmentPath,
  storageFixture,
  testBatch,
} from '../../helpers/storage.js';
import { expectSluiceErrorAsync } from '../../helpers/wire-bytes.js';

const fx = storageFixture(afterEach);
const managers: LogManager[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
});

const enospc = (): NodeJS.ErrnoException =>
  Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });

/** A manager without background timers (the tests call retryFullLogs and checkFreeSpace). */
async function openManager(dir: string, config: Partial<LogConfig> = {}, options: Partial<LogManagerOptions> = {}) {
  const m = await LogManager.open({
    logDirs: [dir],
    config: { indexIntervalBytes: 1, ...config },
    retentionCheckIntervalMs: 0,
    dirFullRetryMs: 0,
    freeSpaceCheckIntervalMs: 0,
    ...options,
  });
  managers.push(m);
  return m;
}

const tagOf = (i: number): string => `b${i}`;
const batchOf = (i: number, count = 3): Buffer => testBatch(tagOf(i), count, 1000 * (i + 1));
const contentsUpTo = (n: number, count = 3) =>
  Array.from({ length: n }, (_, i) => expectedContents(tagOf(i), count, 1000 * (i + 1))).flat();

async function appendEach(log: PartitionLog, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await log.append(batchOf(i));
}

/**
 * The disk fills during the next segment write: the first writeSync puts half of its bytes on disk
 * (as a file system short of space does), the next one fails with ENOSPC, as do all later ones
 * until the returned function is called.
 */
function fillDiskMidWrite(): { calls: () => number } {
  const real = fs.writeSync;
  let calls = 0;
  let wroteHalf = false;
  vi.spyOn(fs, 'writeSync').mockImplementation(((
    fd: number,
    buf: Buffer,
    offset: number,
    length: number,
    pos: number,
  ) => {
    calls++;
    if (!wroteHalf && length > 1) {
      wroteHalf = true;
      return real(fd, buf, offset, Math.floor(length / 2), pos);
    }
    throw enospc();
  }) as typeof fs.writeSync);
  return { calls: () => calls };
}

describe('isDiskFullError', () => {
  it('knows ENOSPC and EDQUOT, through causes and in LevelDB messages, and nothing else', () => {
    expect(isDiskFullError(enospc())).toBe(true);
    expect(isDiskFullError(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBe(true);
    expect(isDiskFullError(new SluiceError(ErrorCode.StorageError, 'cannot append', { cause: enospc() }))).toBe(true);
    const leveldb = Object.assign(new Error('IO error: /d/.sluice-index/000023.ldb: No space left on device'), {
      code: 'LEVEL_IO_ERROR',
    });
    expect(isDiskFullError(leveldb)).toBe(true);
    expect(isDiskFullError(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }))).toBe(false);
    expect(isDiskFullError('ENOSPC')).toBe(false);
    expect(isDiskFullError(undefined)).toBe(false);
  });

  it('LogDirFull is answered as KAFKA_STORAGE_ERROR (56), which Kafka clients retry', () => {
    expect(wireErrorOf(ErrorCode.LogDirFull)).toBe(WireError.KAFKA_STORAGE_ERROR);
    expect(WireError.KAFKA_STORAGE_ERROR).toBe(56);
    expect(isRetriable(56)).toBe(true);
  });
});

describe('a write the disk refuses', () => {
  it('is cut back to the last complete batch and leaves no index entry; writes are refused, reads go on', async () => {
    const dir = fx.dir();
    const manager = await openManager(dir);
    const log = await manager.getOrCreate('t', 0);
    await appendEach(log, 0, 3);
    const file = segmentPath(path.join(dir, 't-0'), 0);
    const before = { size: fileSize(file), logEnd: log.logEndOffset };

    const disk = fillDiskMidWrite();
    const err = await expectSluiceErrorAsync(log.append(batchOf(3)), ErrorCode.LogDirFull);
    expect(err.retriable).toBe(true);
    expect(disk.calls()).toBe(2); // half the batch reached the file before the disk refused the rest
    expect(fileSize(file)).toBe(before.size);
    expect(log.logEndOffset).toBe(before.logEnd);
    expect(log.diskFull).toBe(true);

    // refused at once while the disk is full: no byte is tried
    await expectSluiceErrorAsync(log.append(batchOf(3)), ErrorCode.LogDirFull);
    expect(disk.calls()).toBe(2);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsUpTo(3));

    vi.restoreAllMocks();
    await manager.close();
    expect(await indexProblems(dir, 't', 0)).toEqual([]);
    const reopened = await openManager(dir);
    const again = reopened.get('t', 0) as PartitionLog;
    expect(again.logEndOffset).toBe(before.logEnd);
    expect(again.diskFull).toBe(false);
    expect(contentsOf((await readAll(again)).records)).toEqual(contentsUpTo(3));
  });

  it('whose cut failed too leaves bytes that are never served, cut before writes resume', async () => {
    const dir = fx.dir();
    const manager = await openManager(dir);
    const log = await manager.getOrCreate('t', 0);
    await appendEach(log, 0, 2);
    const file = segmentPath(path.join(dir, 't-0'), 0);
    const size = fileSize(file);
    fillDiskMidWrite();
    vi.spyOn(fs, 'ftruncateSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' });
    });
    await expectSluiceErrorAsync(log.append(batchOf(2)), ErrorCode.LogDirFull);
    expect(fileSize(file)).toBeGreaterThan(size); // the torn half-batch is still in the file
    const read = await readAll(log);
    expect(contentsOf(read.records)).toEqual(contentsUpTo(2));
    expect(Buffer.concat(read.batches).length).toBe(size);

    vi.restoreAllMocks();
    expect(await log.retryWrites()).toBe(true);
    expect(fileSize(file)).toBe(size);
    const result = await log.append(batchOf(2));
    expect(result.baseOffset).toBe(6);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsUpTo(3));
    await manager.close();
    expect(await indexProblems(dir, 't', 0)).toEqual([]);
  });

  it('whose tail a crash keeps is cut by recovery at the next open', async () => {
    const dir = fx.dir();
    const manager = await openManager(dir);
    const log = await manager.getOrCreate('t', 0);
    await appendEach(log, 0, 2);
    await log.flush();
    const file = segmentPath(path.join(dir, 't-0'), 0);
    const size = fileSize(file);
    fillDiskMidWrite();
    vi.spyOn(fs, 'ftruncateSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' });
    });
    await expectSluiceErrorAsync(log.append(batchOf(2)), ErrorCode.LogDirFull);
    vi.restoreAllMocks();
    expect(fileSize(file)).toBeGreaterThan(size);
    await crashManager(manager);

    const reopened = await openManager(dir);
    const again = reopened.get('t', 0) as PartitionLog;
    expect(fileSize(file)).toBe(size);
    expect(again.logEndOffset).toBe(6);
    expect(contentsOf((await readAll(again)).records)).toEqual(contentsUpTo(2));
    expect((await again.append(batchOf(2))).baseOffset).toBe(6);
    await reopened.close();
    expect(await indexProblems(dir, 't', 0)).toEqual([]);
  });

  it('of a replica forgets the leader epochs it learned from the refused batches', async () => {
    const dir = fx.dir();
    const manager = await openManager(dir);
    const log = await manager.getOrCreate('t', 0);
    await log.append(testBatch('a', 2, 1000, { baseOffset: 0, partitionLeaderEpoch: 1 }), { assignOffsets: false });
    const history = log.epochHistory.map((e) => [...e]);
    expect(history).toEqual([[1, 0]]);
    fillDiskMidWrite();
    const refused = testBatch('b', 2, 2000, { baseOffset: 2, partitionLeaderEpoch: 2 });
    await expectSluiceErrorAsync(log.append(refused, { assignOffsets: false }), ErrorCode.LogDirFull);
    expect(log.epochHistory.map((e) => [...e])).toEqual(history);
    expect(log.latestEpoch).toBe(1);
  });
});

describe('an index write the disk refuses', () => {
  it('keeps the append, refuses writes until the index is written, and loses no entry', async () => {
    const dir = fx.dir();
    const manager = await openManager(dir);
    const log = await manager.getOrCreate('t', 0);
    await appendEach(log, 0, 2);
    const db = manager.metadataDb;
    const leveldbFull = Object.assign(new Error(`IO error: ${dir}/.sluice-index/000005.log: No space left on device`), {
      code: 'LEVEL_IO_ERROR',
    });
    vi.spyOn(db, 'batch').mockRejectedValue(leveldbFull as never);
    await log.append(batchOf(2)); // the segment takes it; the index write comes later
    await expect(log.flush()).rejects.toBe(leveldbFull);
    expect(log.diskFull).toBe(true);
    await expectSluiceErrorAsync(log.append(batchOf(3)), ErrorCode.LogDirFull);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsUpTo(3));

    // the index database is still full: the retry fails and the log keeps refusing writes
    expect(await log.retryWrites()).toBe(false);
    expect(log.diskFull).toBe(true);

    vi.restoreAllMocks();
    expect(await log.retryWrites()).toBe(true);
    await appendEach(log, 3, 4);
    await manager.close();
    expect(await indexProblems(dir, 't', 0)).toEqual([]);
    const reopened = await openManager(dir);
    expect(contentsOf((await readAll(reopened.get('t', 0) as PartitionLog)).records)).toEqual(contentsUpTo(4));
  });
});

describe('the log manager with a full disk', () => {
  function fakeMetrics() {
    const full: number[] = [];
    const space: { dir: string; freeBytes: number; totalBytes: number }[] = [];
    return {
      full,
      space,
      metrics: {
        partitionsDiskFull: (n: number) => full.push(n),
        logDirSpace: (dir: string, s: { freeBytes: number; totalBytes: number }) => space.push({ dir, ...s }),
      },
    };
  }

  it('probes the directory and lets its partitions take writes again once space returns, logging each once', async () => {
    const dir = fx.dir();
    const captured = capturingLogger();
    const m = fakeMetrics();
    const manager = await openManager(dir, {}, { logger: captured.logger, metrics: m.metrics });
    const log = await manager.getOrCreate('t', 0);
    const other = await manager.getOrCreate('t', 1);
    await appendEach(log, 0, 2);
    vi.spyOn(fs, 'writeSync').mockImplementation(() => {
      throw enospc();
    });
    await expectSluiceErrorAsync(log.append(batchOf(2)), ErrorCode.LogDirFull);
    await expectSluiceErrorAsync(log.append(batchOf(2)), ErrorCode.LogDirFull);

    // still full: the probe (a file in the log directory) fails, nothing changes
    expect(await manager.retryFullLogs()).toBe(1);
    expect(log.diskFull).toBe(true);
    expect(other.diskFull).toBe(false);
    expect(fs.existsSync(path.join(dir, probeFileName))).toBe(false);

    vi.restoreAllMocks();
    expect(await manager.retryFullLogs()).toBe(0);
    expect(log.diskFull).toBe(false);
    expect((await log.append(batchOf(2))).baseOffset).toBe(6);
    expect(fs.existsSync(path.join(dir, probeFileName))).toBe(false);
    expect(m.full).toEqual([1, 0]);

    const messages = captured.lines.map((l) => l.msg);
    expect(messages.filter((msg) => String(msg).startsWith('disk full'))).toHaveLength(1);
    expect(messages.filter((msg) => String(msg).startsWith('disk space is back'))).toHaveLength(1);
    const full = captured.lines.find((l) => String(l.msg).startsWith('disk full'));
    expect(full).toMatchObject({ level: 40, topic: 't', partition: 0 });
  });

  it('reopens an index database that keeps the full disk error after space returns', async () => {
    const dir = fx.dir();
    const manager = await openManager(dir);
    const log = await manager.getOrCreate('t', 0);
    await appendEach(log, 0, 1);
    const db = manager.metadataDb;
    const realBatch = db.batch.bind(db);
    let stuck = true; // LevelDB keeps a failed compaction's error until it is reopened
    vi.spyOn(db, 'close').mockImplementation(async function (this: typeof db) {
      stuck = false;
      return Object.getPrototypeOf(db).close.call(db);
    } as never);
    vi.spyOn(db, 'batch').mockImplementation(((...args: Parameters<typeof db.batch>) =>
      stuck
        ? Promise.reject(new Error('IO error: 000023.ldb: No space left on device'))
        : (realBatch as (...a: unknown[]) => unknown)(...args)) as never);
    await expect(log.flush()).rejects.toThrow(/No space left/);
    expect(log.diskFull).toBe(true);

    expect(await manager.retryFullLogs()).toBe(0);
    expect(stuck).toBe(false);
    expect(log.diskFull).toBe(false);
    await appendEach(log, 1, 2);
    await log.flush();
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsUpTo(2));
  });

  it('reports each log directory free space and warns once below log.dir.free.warn.percent', async () => {
    const dir = fx.dir();
    const captured = capturingLogger();
    const m = fakeMetrics();
    const manager = await openManager(
      dir,
      {},
      { logger: captured.logger, metrics: m.metrics, freeSpaceWarnPercent: 10 },
    );
    expect(m.space.at(-1)?.dir).toBe(path.resolve(dir));
    expect(m.space.at(-1)?.totalBytes).toBeGreaterThan(0);

    const statfs = (bavail: number) =>
      vi.spyOn(fs, 'statfsSync').mockReturnValue({ bavail, bsize: 4096, blocks: 1000 } as never);
    statfs(50); // 5% free
    manager.checkFreeSpace();
    manager.checkFreeSpace();
    expect(m.space.at(-1)).toEqual({ dir: path.resolve(dir), freeBytes: 50 * 4096, totalBytes: 1000 * 4096 });
    statfs(500);
    manager.checkFreeSpace();
    manager.checkFreeSpace();
    const warned = captured.lines.filter((l) => l.msg === 'log directory is low on free space');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, freeBytes: 50 * 4096, warnPercent: 10 });
    expect(captured.lines.filter((l) => l.msg === 'log directory has free space again')).toHaveLength(1);
  });
});

describe('an fsync the disk refuses', () => {
  it('takes the log offline (its pages may be lost), not merely full', async () => {
    const dir = fx.dir();
    const manager = await openManager(dir);
    const log = await manager.getOrCreate('t', 0);
    await appendEach(log, 0, 1);
    vi.spyOn(fs, 'fdatasync').mockImplementation(((_fd: number, callback: (err: Error | null) => void) => {
      callback(Object.assign(enospc(), { syscall: 'fdatasync' }));
    }) as typeof fs.fdatasync);
    await expect(log.flush()).rejects.toThrow(/cannot fsync/);
    expect(log.diskFull).toBe(false);
    await expectSluiceErrorAsync(log.append(batchOf(1)), ErrorCode.StorageError);
    vi.restoreAllMocks();
    expect(await log.retryWrites()).toBe(false);
    await expectSluiceErrorAsync(log.append(batchOf(1)), ErrorCode.StorageError);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsUpTo(1));
  });
});

describe('creating a log on a full disk', () => {
  it('is refused with LogDirFull, leaves no file open, and works once space returns', async () => {
    const dir = fx.dir();
    const manager = await openManager(dir);
    const topicId = 'AAAAAAAAAAAAAAAAAAAAAA';
    // the partition.metadata write is refused (it is written off the event loop, through a file handle)
    const realOpen = fs.promises.open.bind(fs.promises);
    vi.spyOn(fs.promises, 'open').mockImplementation(async (...args: Parameters<typeof fs.promises.open>) => {
      const handle = await realOpen(...args);
      handle.writeFile = async () => {
        throw enospc();
      };
      return handle;
    });
    await expectSluiceErrorAsync(manager.getOrCreate('t', 0, {}, topicId), ErrorCode.LogDirFull);
    expect(manager.get('t', 0)).toBeUndefined();
    vi.restoreAllMocks();
    const log = await manager.getOrCreate('t', 0, {}, topicId);
    await appendEach(log, 0, 1);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsUpTo(1));
  });
});
