/**
 * What a start and a stop of many partitions skip (issue 20 item 4), and why that stays safe:
 * a log found exactly as it was closed keeps its stored clean-shutdown mark until its first write
 * (an append or a truncation clears it before any byte changes, so a crash after that recovers);
 * a clean stop writes every mark unsynced and syncs each database once; recovery after a crash
 * leaves the recovery point where it was (the recovered bytes are fsynced by the next flush).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LogConfig } from '../../../src/storage/log-config.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import {
  contentsOf,
  crashManager,
  dumpIndex,
  expectedContents,
  readAll,
  storageFixture,
  testBatch,
} from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const config: Partial<LogConfig> = { segmentBytes: 800 };

async function seeded(dir: string, partitions: number): Promise<void> {
  const m = await fx.open(dir, config);
  for (let p = 0; p < partitions; p++) {
    const log = await m.getOrCreate('t', p);
    for (let i = 0; i < 6; i++) await log.append(testBatch(`p${p}-${i}`, 2, 1000 * (i + 1)));
  }
  await m.close();
}

const metaOf = async (dir: string, p: number) => (await dumpIndex(dir, `t-${p}`)).meta;

describe('starting and stopping many partitions', () => {
  it('a clean stop marks every log clean; a start that writes nothing keeps the marks, even through a crash', async () => {
    const dir = fx.dir();
    await seeded(dir, 4);
    for (let p = 0; p < 4; p++) expect((await metaOf(dir, p))?.cleanShutdown).toBe(true);

    const m = await fx.open(dir, config);
    expect(m.loaded).toEqual({ partitions: 4, recovered: 0 });
    await crashManager(m);
    // nothing was written: the files are as the marks say, and the next start trusts them
    for (let p = 0; p < 4; p++) expect((await metaOf(dir, p))?.cleanShutdown).toBe(true);
    const again = await fx.open(dir, config);
    expect(again.loaded).toEqual({ partitions: 4, recovered: 0 });
    await again.close();
  });

  it('the first append or truncation after a start clears the mark before it changes a byte', async () => {
    const dir = fx.dir();
    await seeded(dir, 3);
    const m = await fx.open(dir, config);
    await m.get('t', 0)?.append(testBatch('late', 1, 50_000));
    await m.get('t', 1)?.truncateTo(4);
    await crashManager(m);
    expect((await metaOf(dir, 0))?.cleanShutdown).toBe(false);
    expect((await metaOf(dir, 1))?.cleanShutdown).toBe(false);
    expect((await metaOf(dir, 2))?.cleanShutdown).toBe(true);

    const again = await fx.open(dir, config);
    expect(again.loaded).toEqual({ partitions: 3, recovered: 2 });
    const want = (p: number) =>
      Array.from({ length: 6 }, (_, i) => expectedContents(`p${p}-${i}`, 2, 1000 * (i + 1))).flat();
    const read = async (p: number) => contentsOf((await readAll(again.get('t', p) as PartitionLog)).records);
    expect(await read(0)).toEqual([...want(0), ...expectedContents('late', 1, 50_000)]);
    expect(await read(1)).toEqual(want(1).slice(0, 4));
    expect(await read(2)).toEqual(want(2));
  });

  it('recovery after a crash leaves the recovery point where it was; the next flush moves it', async () => {
    const dir = fx.dir();
    await seeded(dir, 1);
    const m = await fx.open(dir, config);
    const log = m.get('t', 0) as PartitionLog;
    const flushedTo = log.recoveryPoint;
    expect(flushedTo).toBe(log.logEndOffset);
    for (let i = 0; i < 3; i++) await log.append(testBatch(`more-${i}`, 2, 90_000 + i));
    await crashManager(m);

    const again = await fx.open(dir, config);
    expect(again.loaded.recovered).toBe(1);
    const recovered = again.get('t', 0) as PartitionLog;
    expect(recovered.logEndOffset).toBe(flushedTo + 6);
    expect(recovered.recoveryPoint).toBe(flushedTo);
    await recovered.flush();
    expect(recovered.recoveryPoint).toBe(flushedTo + 6);
  });

  it('a stop with many logs holding records syncs the file system once and marks each clean at its end', async () => {
    const dir = fx.dir();
    const partitions = 70; // more than logStopSyncfsMin (64)
    const m = await fx.open(dir, config);
    for (let p = 0; p < partitions; p++) await (await m.getOrCreate('t', p)).append(testBatch(`s${p}`, 3, 5000));
    for (const log of m.all()) expect(log.recoveryPoint).toBe(0);
    await m.close();
    for (const p of [0, 33, 69]) expect(await metaOf(dir, p)).toMatchObject({ cleanShutdown: true, recoveryPoint: 3 });
    const again = await fx.open(dir, config);
    expect(again.loaded).toEqual({ partitions, recovered: 0 });
    for (let p = 0; p < partitions; p++) {
      const log = again.get('t', p) as PartitionLog;
      expect([log.logEndOffset, log.recoveryPoint]).toEqual([3, 3]);
      expect(contentsOf((await readAll(log)).records)).toEqual(expectedContents(`s${p}`, 3, 5000));
    }
  });
});
