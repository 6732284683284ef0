/**
 * LogManager: partitions across data directories, reopening, deleting
 * partitions and topics (files and index entries), argument checks, the
 * directory lock, and the background timers.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SluiceError } from '../../../src/shared/errors.js';
import { logOpensConcurrentMax, logStartPreloadBatch } from '../../../src/shared/limits.js';
import { indexDirName } from '../../../src/storage/index-store.js';
import { LogManager } from '../../../src/storage/log-manager.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import {
  contentsOf,
  crashManager,
  dumpIndex,
  expectedContents,
  indexProblems,
  readAll,
  segmentFiles,
  storageFixture,
  testBatch,
} from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const config = { segmentBytes: 400, indexIntervalBytes: 64 };

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  let err: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SluiceError);
  expect((err as SluiceError).code).toBe(code);
}

/** Fills a log with `batches` batches tagged with its name; returns the expected contents. */
async function fill(log: PartitionLog, batches: number, timestamp = 1000) {
  const expected = [];
  for (let i = 0; i < batches; i++) {
    const tag = `${log.topic}/${log.partition}/${String(i).padStart(2, '0')}`;
    await log.append(testBatch(tag, 2, timestamp + i));
    expected.push(...expectedContents(tag, 2, timestamp + i));
  }
  return expected;
}

const keysOf = (keys: string[], partitionId: string) => keys.filter((k) => k.startsWith(`${partitionId}!`));

describe('LogManager', () => {
  it('refuses an empty list of data directories', async () => {
    await expectCode(LogManager.open({ logDirs: [], retentionCheckIntervalMs: 0 }), ErrorCode.InvalidConfig);
  });

  it('checks topic names and partition numbers', async () => {
    const manager = await fx.open(fx.dir(), config);
    for (const topic of ['', '.', '..', 'a/b', 'a!b', 'spaced name', 'ü', 'x'.repeat(250)]) {
      await expectCode(manager.getOrCreate(topic, 0), ErrorCode.InvalidTopic);
    }
    for (const partition of [-1, 1.5, Number.NaN]) {
      await expectCode(manager.getOrCreate('ok', partition), ErrorCode.InvalidArgument);
    }
    expect(manager.all()).toEqual([]);
    const log = await manager.getOrCreate('x'.repeat(249), 0);
    expect(log.logEndOffset).toBe(0);
  });

  it('creates each partition log once and finds it again', async () => {
    const dir = fx.dir();
    const manager = await fx.open(dir, config);
    expect(manager.get('orders', 0)).toBeUndefined();
    const [a, b] = await Promise.all([manager.getOrCreate('orders', 0), manager.getOrCreate('orders', 0)]);
    expect(a).toBe(b);
    expect(manager.get('orders', 0)).toBe(a);
    expect(await manager.getOrCreate('orders', 0)).toBe(a);
    await manager.getOrCreate('orders', 1);
    expect(
      manager
        .all()
        .map((l) => `${l.topic}-${l.partition}`)
        .sort(),
    ).toEqual(['orders-0', 'orders-1']);
    expect(fs.existsSync(path.join(dir, 'orders-0'))).toBe(true);
    expect(fs.existsSync(path.join(dir, indexDirName))).toBe(true);
  });

  it('reopens every partition with its data, and ignores what is not a partition directory', async () => {
    const dir = fx.dir();
    let manager = await fx.open(dir, config);
    const names: [string, number][] = [
      ['orders', 0],
      ['orders', 1],
      ['orders-1', 0], // its directory orders-1-0 must not be mistaken for orders partition 1
      ['my.topic_v2', 12],
    ];
    const expected = new Map<string, unknown[]>();
    for (const [t, p] of names) expected.set(`${t}-${p}`, await fill(await manager.getOrCreate(t, p), 3 + p));
    await manager.close();
    fs.mkdirSync(path.join(dir, 'not-a-partition'));
    fs.mkdirSync(path.join(dir, 'bad!name-0'));
    fs.writeFileSync(path.join(dir, 'stray-0'), 'a file, not a directory');
    manager = await fx.open(dir, config);
    expect(
      manager
        .all()
        .map((l) => `${l.topic}-${l.partition}`)
        .sort(),
    ).toEqual([...expected.keys()].sort());
    for (const [t, p] of names) {
      const log = manager.get(t, p) as PartitionLog;
      expect(contentsOf((await readAll(log)).records)).toEqual(expected.get(`${t}-${p}`));
    }
  });

  it(`reopens more partitions than one start batch (${logStartPreloadBatch}) reads at once, after a clean stop and after a crash`, async () => {
    const dir = fx.dir();
    let manager = await fx.open(dir, config);
    const total = logStartPreloadBatch + 3;
    // the partitions at the batches' edges get several segments (and a cleaning leftover); the rest one batch
    const edges = [0, logStartPreloadBatch - 1, logStartPreloadBatch, total - 1];
    const expected = new Map<number, unknown[]>();
    for (let p = 0; p < total; p++)
      expected.set(p, await fill(await manager.getOrCreate('wide', p), edges.includes(p) ? 9 : 1));
    expect(segmentFiles(path.join(dir, `wide-${logStartPreloadBatch}`)).length).toBeGreaterThan(1);
    const check = async (): Promise<void> => {
      expect(manager.all().length).toBe(total);
      for (let p = 0; p < total; p++) {
        const log = manager.get('wide', p) as PartitionLog;
        if (!edges.includes(p) && p % 97 !== 0) {
          expect(log.logEndOffset).toBe(2);
          continue;
        }
        expect(contentsOf((await readAll(log)).records)).toEqual(expected.get(p));
      }
    };
    await manager.close();
    // a cleaner's file whose swap never began: that log lists its directory again after removing it
    fs.writeFileSync(path.join(dir, `wide-${logStartPreloadBatch}`, '00000000000000000000.log.cleaned'), 'x');
    manager = await fx.open(dir, config);
    expect(manager.loaded).toEqual({ partitions: total, recovered: 0 });
    await check();
    for (const p of edges) expected.get(p)?.push(...(await fill(manager.get('wide', p) as PartitionLog, 1, 5000)));
    await crashManager(manager);
    manager = await fx.open(dir, config);
    expect(manager.loaded.recovered).toBeGreaterThanOrEqual(edges.length);
    await check();
    await manager.close();
    for (const p of edges) expect(await indexProblems(dir, 'wide', p)).toEqual([]);
  });

  it('spreads partitions over several data directories, each with its own index database', async () => {
    const dirs = [fx.dir(), fx.dir()];
    let manager = await fx.open(dirs, config);
    for (let p = 0; p < 4; p++) await fill(await manager.getOrCreate('spread', p), 2);
    const where = (p: number) => dirs.findIndex((d) => fs.existsSync(path.join(d, `spread-${p}`)));
    const placement = [0, 1, 2, 3].map(where);
    expect(placement.filter((i) => i === 0)).toHaveLength(2);
    expect(placement.filter((i) => i === 1)).toHaveLength(2);
    await manager.close();
    for (let p = 0; p < 4; p++) {
      const own = dirs[placement[p] as number] as string;
      const other = dirs[1 - (placement[p] as number)] as string;
      expect(await indexProblems(own, 'spread', p)).toEqual([]);
      expect(keysOf((await dumpIndex(other, `spread-${p}`)).allKeys, `spread-${p}`)).toEqual([]);
    }
    manager = await fx.open(dirs, config);
    for (let p = 0; p < 4; p++) expect(manager.get('spread', p)?.logEndOffset).toBe(4);
    expect(await manager.delete('spread', 3)).toBe(true);
    await manager.close();
    const home = dirs[placement[3] as number] as string;
    expect(fs.existsSync(path.join(home, 'spread-3'))).toBe(false);
    expect(keysOf((await dumpIndex(home, 'spread-3')).allKeys, 'spread-3')).toEqual([]);
  });

  it('delete removes a partition’s files and index entries and nothing else', async () => {
    const dir = fx.dir();
    let manager = await fx.open(dir, config);
    const doomed = await manager.getOrCreate('orders', 1);
    await fill(doomed, 8);
    expect(doomed.segmentCount).toBeGreaterThan(1);
    const keep = await fill(await manager.getOrCreate('orders', 0), 8);
    const keepToo = await fill(await manager.getOrCreate('orders-1', 0), 8);
    await manager.flushAll();
    expect(await manager.delete('orders', 1)).toBe(true);
    expect(await manager.delete('orders', 1)).toBe(false);
    expect(await manager.delete('never', 0)).toBe(false);
    expect(manager.get('orders', 1)).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'orders-1'))).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes('delete'))).toEqual([]);
    await expectCode(doomed.append(testBatch('late', 1, 1)), ErrorCode.LogClosed);
    await manager.close();
    const dump = await dumpIndex(dir, 'orders-1');
    expect(keysOf(dump.allKeys, 'orders-1')).toEqual([]);
    expect(keysOf(dump.allKeys, 'orders-0').length).toBeGreaterThan(3);
    expect(keysOf(dump.allKeys, 'orders-1-0').length).toBeGreaterThan(3);
    expect(await indexProblems(dir, 'orders', 0)).toEqual([]);
    expect(await indexProblems(dir, 'orders-1', 0)).toEqual([]);

    manager = await fx.open(dir, config);
    expect(manager.get('orders', 1)).toBeUndefined();
    expect(contentsOf((await readAll(manager.get('orders', 0) as PartitionLog)).records)).toEqual(keep);
    expect(contentsOf((await readAll(manager.get('orders-1', 0) as PartitionLog)).records)).toEqual(keepToo);
    // a partition created again under the same name starts empty at offset 0
    const again = await manager.getOrCreate('orders', 1);
    expect(again.logStartOffset).toBe(0);
    expect(again.logEndOffset).toBe(0);
    expect((await again.append(testBatch('new', 1, 1))).baseOffset).toBe(0);
  });

  it('a getOrCreate racing a delete of the same partition gets a fresh, empty log', async () => {
    const dir = fx.dir();
    const manager = await fx.open(dir, config);
    const log = await manager.getOrCreate('race', 0);
    await fill(log, 5);
    const deleting = manager.delete('race', 0);
    const reopened = manager.getOrCreate('race', 0);
    expect(await deleting).toBe(true);
    const fresh = await reopened;
    expect(fresh).not.toBe(log);
    expect(fresh.logStartOffset).toBe(0);
    expect(fresh.logEndOffset).toBe(0);
    await fill(fresh, 1);
    expect(fresh.logEndOffset).toBe(2);
    expect(segmentFiles(path.join(dir, 'race-0'))).toEqual([0]);
  });

  it('deleteTopic deletes every partition of that topic only', async () => {
    const dir = fx.dir();
    const manager = await fx.open(dir, config);
    for (let p = 0; p < 3; p++) await fill(await manager.getOrCreate('gone', p), 2);
    await fill(await manager.getOrCreate('gone-1', 0), 2);
    await fill(await manager.getOrCreate('gone2', 0), 2);
    expect(await manager.deleteTopic('gone')).toBe(3);
    expect(await manager.deleteTopic('gone')).toBe(0);
    expect(
      manager
        .all()
        .map((l) => l.topic)
        .sort(),
    ).toEqual(['gone-1', 'gone2']);
    expect(fs.readdirSync(dir).sort()).toEqual([indexDirName, 'gone-1-0', 'gone2-0']);
    await manager.close();
    const dump = await dumpIndex(dir, 'gone-0');
    for (let p = 0; p < 3; p++) expect(keysOf(dump.allKeys, `gone-${p}`)).toEqual([]);
    expect(await indexProblems(dir, 'gone-1', 0)).toEqual([]);
    expect(await indexProblems(dir, 'gone2', 0)).toEqual([]);
  });

  it('finishes a deletion interrupted by a crash: no files and no index entries come back', async () => {
    const dir = fx.dir();
    let manager = await fx.open(dir, { ...config, retentionBytes: 500 });
    const log = await manager.getOrCreate('orders', 0);
    await fill(log, 12);
    await manager.enforceRetention(Date.now());
    expect(log.logStartOffset).toBeGreaterThan(0);
    await manager.close();
    // the state delete() leaves when the process dies between its rename and the index clean-up
    fs.renameSync(path.join(dir, 'orders-0'), path.join(dir, 'orders-0.0badcafe-delete'));
    manager = await fx.open(dir, config);
    expect(fs.readdirSync(dir)).toEqual([indexDirName]);
    expect(manager.get('orders', 0)).toBeUndefined();
    await manager.close();
    expect(keysOf((await dumpIndex(dir, 'orders-0')).allKeys, 'orders-0')).toEqual([]);
    manager = await fx.open(dir, config);
    const fresh = await manager.getOrCreate('orders', 0);
    expect(fresh.logStartOffset).toBe(0);
    expect(fresh.logEndOffset).toBe(0);
  });

  it('applies per-partition overrides on creation', async () => {
    const manager = await fx.open(fx.dir(), { segmentBytes: 1 << 20 });
    const small = await manager.getOrCreate('small', 0, { segmentBytes: 300 });
    const big = await manager.getOrCreate('big', 0);
    await fill(small, 6);
    await fill(big, 6);
    expect(small.segmentCount).toBeGreaterThan(2);
    expect(big.segmentCount).toBe(1);
  });

  it('refuses a data directory another manager holds, and is usable once it is closed', async () => {
    const dir = fx.dir();
    const first = await fx.open(dir, config);
    await fill(await first.getOrCreate('locked', 0), 2);
    await expectCode(LogManager.open({ logDirs: [dir], retentionCheckIntervalMs: 0 }), ErrorCode.StorageError);
    await first.close();
    const second = await fx.open(dir, config);
    expect(second.get('locked', 0)?.logEndOffset).toBe(4);
  });

  it('refuses work once closed, and closes twice without harm', async () => {
    const manager = await fx.open(fx.dir(), config);
    const log = await manager.getOrCreate('c', 0);
    await manager.close();
    await manager.close();
    await expectCode(manager.getOrCreate('c', 1), ErrorCode.LogClosed);
    await expectCode(log.append(testBatch('x', 1, 1)), ErrorCode.LogClosed);
  });

  it('tells onLogStartMoved which logs retention moved the start of (fetch sessions answer them)', async () => {
    const moved: string[] = [];
    const manager = await LogManager.open({
      logDirs: [fx.dir()],
      config: { segmentBytes: 300, retentionMs: 60_000 },
      retentionCheckIntervalMs: 0,
      onLogStartMoved: (topic, partition) => moved.push(`${topic}-${partition}`),
    });
    try {
      await fill(await manager.getOrCreate('aging', 0), 6, 1000); // timestamps from 1970: long expired
      await fill(await manager.getOrCreate('fresh', 0), 6, Date.now());
      await manager.enforceRetention(Date.now());
      expect(moved).toEqual(['aging-0']);
      await manager.enforceRetention(Date.now());
      expect(moved).toEqual(['aging-0']);
    } finally {
      await manager.close();
    }
  });

  it('enforces retention on its background timer', async () => {
    const dir = fx.dir();
    const manager = await LogManager.open({
      logDirs: [dir],
      config: { segmentBytes: 300, retentionMs: 60_000 },
      retentionCheckIntervalMs: 15,
    });
    try {
      const log = await manager.getOrCreate('aging', 0);
      await fill(log, 6, 1000); // timestamps from 1970: long expired
      const deadline = Date.now() + 3000;
      const files = () => segmentFiles(path.join(dir, 'aging-0'));
      // the log start moves (durably) before the files go: wait for both
      while ((log.logStartOffset < 12 || files().length > 1) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(log.logStartOffset).toBe(12);
      expect(files()).toEqual([12]);
    } finally {
      await manager.close();
    }
  });
});

/**
 * Bytes of ArrayBuffers still reachable: what stays, not garbage not yet collected. V8 frees
 * backing stores on a background task after a collection, so one gc() and a read can count
 * freed buffers (a CI run measured 14 MiB that way where the partitions kept none); collect
 * and wait until two readings agree.
 */
async function reachableArrayBuffers(): Promise<number> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  let last = Number.NaN;
  for (let round = 0; round < 20; round++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    const now = process.memoryUsage().arrayBuffers;
    if (Math.abs(now - last) < 64 * 1024) return now;
    last = now;
  }
  return last;
}

describe('LogManager memory per partition', () => {
  // A hostile CreateTopics may ask for topicPartitionsMax partitions; what each idle one keeps is
  // multiplied by that. Each segment reader used to hold its own 16 KiB header window (8,000
  // partitions: 125 MiB, issue 16's fuzz long form); the window is now one, shared.
  it('an idle partition holds no read buffer: 1,000 partitions keep less than 8 MiB of ArrayBuffers', async () => {
    const manager = await fx.open(fx.dir(), config);
    const partitions = 1000;
    const logs: PartitionLog[] = [];
    const before = await reachableArrayBuffers();
    for (let p = 0; p < partitions; p++) logs.push(await manager.getOrCreate('many', p));
    const kept = (await reachableArrayBuffers()) - before;
    expect(logs.length).toBe(partitions);
    // 16 KiB each before (15.6 MiB here)
    expect(kept).toBeLessThan(8 * 1024 * 1024);
  });

  it(`opens at most logOpensConcurrentMax (${logOpensConcurrentMax}) partition logs at once; the rest wait their turn`, async () => {
    const dir = fx.dir();
    const manager = await fx.open(dir, config);
    const partitions = 200;
    let runningMax = 0;
    let waitingMax = 0;
    let sampling = true;
    const sample = (): void => {
      runningMax = Math.max(runningMax, manager.opens.running);
      waitingMax = Math.max(waitingMax, manager.opens.waiting);
      if (sampling) setImmediate(sample);
    };
    sample();
    const logs = await Promise.all(Array.from({ length: partitions }, (_, p) => manager.getOrCreate('wide', p)));
    sampling = false;
    expect(new Set(logs).size).toBe(partitions);
    expect(runningMax).toBe(logOpensConcurrentMax);
    expect(waitingMax).toBe(partitions - logOpensConcurrentMax);
    expect(manager.opens).toEqual({ running: 0, waiting: 0 });
    // every log works, and a reopen finds them all
    await logs[partitions - 1]?.append(testBatch('last', 2, 1000));
    await manager.close();
    const again = await fx.open(dir, config);
    expect(again.all().length).toBe(partitions);
  });

  it('a close while opens wait for their turn: the waiting ones fail LogClosed, nothing is left open', async () => {
    const manager = await fx.open(fx.dir(), config);
    const opening = Array.from({ length: 64 }, (_, p) => manager.getOrCreate('closing', p));
    const settled = Promise.allSettled(opening);
    await manager.close();
    const outcomes = await settled;
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused.length).toBeGreaterThanOrEqual(64 - logOpensConcurrentMax);
    for (const o of refused) expect((o.reason as SluiceError).code).toBe(ErrorCode.LogClosed);
  });
});
