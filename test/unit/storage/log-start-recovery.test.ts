/**
 * A start after a crash recovers the logs it opens together as a group (index-start-group.ts):
 * their stored index entries and summaries past each recovery point are found in one scan of the
 * index database and removed in the batch that writes the rebuilt index. Checked here against the
 * segment files: the indexes agree with the files, and the offset index equals one rebuilt from
 * scratch; every flushed record is there, a torn last batch is cut.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logStartConcurrency } from '../../../src/shared/limits.js';
import { IndexStartGroup } from '../../../src/storage/index-start-group.js';
import { indexDirName } from '../../../src/storage/index-store.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import { segmentFileName } from '../../../src/storage/names.js';
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
  tamperIndex,
  testBatch,
} from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
// several segments per log and an index entry every batch or two: blocks to cut and to drop
const config: Partial<LogConfig> = { segmentBytes: 400, indexIntervalBytes: 64 };
const partitions = logStartConcurrency + 8;
const batches = 12;
const torn = 7;

/**
 * Writes `batches` batches to each of `partitions` logs of `topic`, flushing after those `flushAfter`
 * says, then crashes the manager; the expected records per partition, and the torn one's last
 * batch cut from its last segment file (and from its expected records).
 */
async function crashedLogs(dir: string, topic: string, flushAfter: (i: number) => boolean) {
  const manager = await fx.open(dir, config);
  const expected = new Map<number, unknown[]>();
  for (let p = 0; p < partitions; p++) {
    const log = await manager.getOrCreate(topic, p);
    const records: unknown[] = [];
    for (let i = 0; i < batches; i++) {
      const tag = `${topic}/${p}/${String(i).padStart(2, '0')}`;
      await log.append(testBatch(tag, 2, 1000 + 10 * i));
      records.push(...expectedContents(tag, 2, 1000 + 10 * i));
      if (flushAfter(i)) await log.flush();
    }
    expected.set(p, records);
  }
  await crashManager(manager);
  const tornDir = path.join(dir, `${topic}-${torn}`);
  const lastFile = path.join(tornDir, segmentFileName(segmentFiles(tornDir).at(-1) as number));
  fs.truncateSync(lastFile, fs.statSync(lastFile).size - 5);
  expected.get(torn)?.splice(-2);
  return expected;
}

/** A start recovers every log of `topic`, each holding exactly the records expected; then a clean stop. */
async function startAndCheck(dir: string, topic: string, expected: Map<number, unknown[]>): Promise<void> {
  const manager = await fx.open(dir, config);
  expect(manager.loaded).toEqual({ partitions, recovered: partitions });
  for (let p = 0; p < partitions; p++) {
    const log = manager.get(topic, p) as PartitionLog;
    expect(contentsOf((await readAll(log)).records)).toEqual(expected.get(p));
  }
  await manager.close();
}

describe('recovery of many logs in one start', () => {
  it('recovers every log past its recovery point, a torn last batch included, with indexes matching the files', async () => {
    const dir = fx.dir();
    // an index block per flush: the truncation drops whole blocks and cuts the one across its offset
    const expected = await crashedLogs(dir, 'many', (i) => i % 5 === 4);
    // each log's stored recovery point set back somewhere inside it (as if its last flushes' fsyncs
    // had not happened): everything stored past it is recovered, in a group with the other logs
    for (let p = 0; p < partitions; p++) {
      await tamperIndex(dir, `many-${p}`, async ({ index }) => {
        const meta = await index.loadMeta();
        if (!meta) throw new Error(`many-${p} has no metadata`);
        index.setMeta({ ...meta, recoveryPoint: 2 * (p % batches), cleanShutdown: false });
      });
    }
    // the same files with no index at all: rebuilt from scratch, the reference for the offset index
    const scratch = fx.dir();
    fs.cpSync(dir, scratch, { recursive: true });
    fs.rmSync(path.join(scratch, indexDirName), { recursive: true });

    await startAndCheck(dir, 'many', expected);
    const rebuilt = await fx.open(scratch, config);
    await rebuilt.close();
    for (let p = 0; p < partitions; p++) {
      expect(await indexProblems(dir, 'many', p)).toEqual([]);
      const recovered = await dumpIndex(dir, `many-${p}`);
      const reference = await dumpIndex(scratch, `many-${p}`);
      expect(recovered.offsets).toEqual(reference.offsets);
      expect(recovered.offsets.length).toBeGreaterThan(0);
      expect([...recovered.summaries]).toEqual([...reference.summaries]);
    }
  });
});

describe('a start that stops in the middle of recovering a group', () => {
  it('leaves a state the next start recovers from: the group batch that never reached LevelDB is redone', async () => {
    const dir = fx.dir();
    const expected = await crashedLogs(dir, 'mid', (i) => i === 4);
    // the first start "dies" after the files were cut and before its first group batch is written
    // (the process would have been killed there; here the batch fails and the start gives up)
    const write = IndexStartGroup.prototype.write;
    IndexStartGroup.prototype.write = () => Promise.reject(new Error('killed before the batch'));
    try {
      await expect(fx.open(dir, config)).rejects.toThrow('killed before the batch');
    } finally {
      IndexStartGroup.prototype.write = write;
    }
    await startAndCheck(dir, 'mid', expected);
    for (let p = 0; p < partitions; p++) expect(await indexProblems(dir, 'mid', p)).toEqual([]);
  });
});
