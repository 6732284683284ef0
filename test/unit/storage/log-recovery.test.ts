/**
 * Start-up recovery (log-loader.ts) and the read-side guard against corrupt
 * bytes: torn tails at every byte, flipped bytes, a deleted or disagreeing
 * LevelDB index, stray and missing segment files, repeated crashes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { indexDirName } from '../../../src/storage/index-store.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import type { LogManager } from '../../../src/storage/log-manager.js';
import { pad20 } from '../../../src/storage/names.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { Field } from '../../../src/wire/record-batch.js';
import { decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import {
  type BatchInfo,
  contentsOf,
  crashManager,
  dumpIndex,
  expectedContents,
  fileSize,
  filesProblems,
  flipByte,
  indexProblems,
  prng,
  readAll,
  segmentFiles,
  segmentLayout,
  segmentPath,
  storageFixture,
  tamperIndex,
  testBatch,
} from '../../helpers/storage.js';
import { expectSluiceErrorAsync } from '../../helpers/wire-bytes.js';

const fx = storageFixture(afterEach);
const topic = 'rec';
const config: Partial<LogConfig> = { segmentBytes: 700, indexIntervalBytes: 150 };

interface Written {
  tag: string;
  count: number;
  timestamp: number;
  valueBytes: number;
  baseOffset: number;
}

const contentsOfWritten = (w: Written[]) =>
  w.flatMap((b) => expectedContents(b.tag, b.count, b.timestamp, b.valueBytes));

async function append(log: PartitionLog, written: Written[], count: number, valueBytes = 24): Promise<Written> {
  const tag = `w${String(written.length).padStart(3, '0')}`;
  const timestamp = 10_000 + 100 * written.length;
  const r = await log.append(testBatch(tag, count, timestamp, { valueBytes }));
  const w = { tag, count, timestamp, valueBytes, baseOffset: r.baseOffset };
  written.push(w);
  return w;
}

const expectCode = expectSluiceErrorAsync;

/**
 * A data directory holding partition rec-0 with three segments, flushed part
 * way (the recovery point is inside the second segment) and then "crashed"
 * (or closed cleanly). Returns what was written and the layout of the files.
 */
async function buildTemplate(clean: boolean) {
  const dir = fx.fastDir();
  const manager = await fx.open(dir, config);
  const log = await manager.getOrCreate(topic, 0);
  const written: Written[] = [];
  for (let i = 0; i < 6; i++) await append(log, written, 1 + (i % 3));
  await log.flush();
  for (let i = 0; i < 5; i++) await append(log, written, 2);
  await append(log, written, 1, 8); // the last batch (small: every byte of it is tried)
  expect(log.segmentCount).toBe(3);
  const bases = log.segmentBaseOffsets;
  const end = log.logEndOffset;
  if (clean) await manager.close();
  else await crashManager(manager);
  const partitionDir = path.join(dir, `${topic}-0`);
  const lastBase = bases.at(-1) as number;
  const lastLayout = segmentLayout(partitionDir, lastBase);
  return { dir, written, bases, end, lastBase, last: lastLayout.at(-1) as BatchInfo };
}

function copyDir(from: string): string {
  const to = fx.fastDir();
  fs.cpSync(from, to, { recursive: true });
  return to;
}

describe('a torn last write', () => {
  for (const clean of [false, true]) {
    it(`is cut off at every byte position of the last batch (${clean ? 'after a clean shutdown' : 'after a crash'})`, async () => {
      const t = await buildTemplate(clean);
      const { last, lastBase, written } = t;
      expect(last.baseOffset + 1).toBe(t.end);
      const kept = contentsOfWritten(written.slice(0, -1));
      // every cut inside the last batch, then the intact file as a control
      for (let cut = 0; cut <= last.size; cut++) {
        const dir = copyDir(t.dir);
        const partitionDir = path.join(dir, `${topic}-0`);
        const file = segmentPath(partitionDir, lastBase);
        fs.truncateSync(file, last.position + cut);
        const manager = await fx.open(dir, config);
        const log = manager.get(topic, 0) as PartitionLog;
        const intact = cut === last.size;
        const where = `cut ${cut} of ${last.size}`;
        expect(log.logEndOffset, where).toBe(intact ? t.end : last.baseOffset);
        expect(fileSize(file), where).toBe(intact ? last.position + last.size : last.position);
        expect(log.segmentBaseOffsets, where).toEqual(t.bases);
        const { records } = await readAll(log);
        expect(contentsOf(records), where).toEqual(intact ? contentsOfWritten(written) : kept);
        const next = await log.append(testBatch('after', 2, 99_000));
        expect(next.baseOffset, where).toBe(intact ? t.end : last.baseOffset);
        const read = await log.read(next.baseOffset, 1 << 20);
        expect(contentsOf(decodeRecords(read.records)), where).toEqual(expectedContents('after', 2, 99_000));
        await manager.close();
        expect(await indexProblems(dir, topic, 0), where).toEqual([]);
        expect(filesProblems(partitionDir), where).toEqual([]);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('is cut off when the torn batch is alone in a segment created just before the crash', async () => {
    const dir = fx.fastDir();
    const manager = await fx.open(dir, config);
    const log = await manager.getOrCreate(topic, 0);
    const written: Written[] = [];
    while (log.segmentCount < 2) await append(log, written, 3);
    const lastBase = log.segmentBaseOffsets[1] as number;
    const lastSize = fileSize(segmentPath(path.join(dir, `${topic}-0`), lastBase));
    await crashManager(manager);
    for (const cut of [0, 1, 11, 12, 60, 61, lastSize - 1]) {
      const work = copyDir(dir);
      const partitionDir = path.join(work, `${topic}-0`);
      fs.truncateSync(segmentPath(partitionDir, lastBase), cut);
      const m = await fx.open(work, config);
      const l = m.get(topic, 0) as PartitionLog;
      expect(l.logEndOffset).toBe(lastBase);
      expect(l.segmentBaseOffsets).toEqual([0, lastBase]);
      expect(fileSize(segmentPath(partitionDir, lastBase))).toBe(0);
      expect(contentsOf((await readAll(l)).records)).toEqual(contentsOfWritten(written.slice(0, -1)));
      expect((await l.append(testBatch('n', 1, 1))).baseOffset).toBe(lastBase);
      await m.close();
      expect(await indexProblems(work, topic, 0)).toEqual([]);
    }
  });
});

describe('a flipped byte', () => {
  it('after the recovery point: recovery truncates the log at the corrupt batch (every byte of the last batch)', async () => {
    const t = await buildTemplate(false);
    const { last, lastBase, written } = t;
    const kept = contentsOfWritten(written.slice(0, -1));
    for (let at = 0; at < last.size; at++) {
      // partitionLeaderEpoch is outside the CRC (Kafka's layout): a flip there is not detectable
      const epochField = at >= Field.partitionLeaderEpoch && at < Field.magic;
      const dir = copyDir(t.dir);
      const partitionDir = path.join(dir, `${topic}-0`);
      const file = segmentPath(partitionDir, lastBase);
      const bytes = fs.readFileSync(file);
      flipByte(bytes, last.position + at, 0x04);
      fs.writeFileSync(file, bytes);
      const manager = await fx.open(dir, config);
      const log = manager.get(topic, 0) as PartitionLog;
      const where = `byte ${at}`;
      if (epochField) {
        expect(log.logEndOffset, where).toBe(t.end);
      } else {
        expect(log.logEndOffset, where).toBe(last.baseOffset);
        expect(fileSize(file), where).toBe(last.position);
        expect(contentsOf((await readAll(log)).records), where).toEqual(kept);
        expect((await log.append(testBatch('n', 1, 1))).baseOffset, where).toBe(last.baseOffset);
      }
      await manager.close();
      expect(filesProblems(partitionDir), where).toEqual([]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('before the recovery point after a crash: not cut at start-up, but never served', async () => {
    const t = await buildTemplate(false);
    const partitionDir = path.join(t.dir, `${topic}-0`);
    const middle = t.bases[1] as number;
    const layout = segmentLayout(partitionDir, middle);
    const victim = layout[1] as BatchInfo; // the roll to the last segment flushed this one
    const file = segmentPath(partitionDir, middle);
    const bytes = fs.readFileSync(file);
    flipByte(bytes, victim.position + victim.size - 2, 0x80);
    fs.writeFileSync(file, bytes);
    const manager = await fx.open(t.dir, config);
    const log = manager.get(topic, 0) as PartitionLog;
    expect(log.logEndOffset).toBe(t.end);
    await expectCode(log.read(victim.baseOffset, 1 << 20), ErrorCode.CorruptRecord);
    const r = await log.read(middle, 1 << 20);
    expect(decodeRecords(r.records).at(-1)?.offset).toBe(victim.baseOffset - 1);
  });

  it('in an earlier segment that recovery scans (index lost): the log is cut there and later segments go', async () => {
    const t = await buildTemplate(false);
    const partitionDir = path.join(t.dir, `${topic}-0`);
    const middle = t.bases[1] as number;
    const layout = segmentLayout(partitionDir, middle);
    const victim = layout[1] as BatchInfo;
    const file = segmentPath(partitionDir, middle);
    const bytes = fs.readFileSync(file);
    flipByte(bytes, victim.position + 30, 0x01); // in the header fields the CRC covers
    fs.writeFileSync(file, bytes);
    fs.rmSync(path.join(t.dir, indexDirName), { recursive: true, force: true });
    const manager = await fx.open(t.dir, config);
    const log = manager.get(topic, 0) as PartitionLog;
    expect(log.logEndOffset).toBe(victim.baseOffset);
    expect(log.segmentBaseOffsets).toEqual([0, middle]);
    expect(segmentFiles(partitionDir)).toEqual([0, middle]);
    expect(fileSize(file)).toBe(victim.position);
    const expected = t.written.filter((w) => w.baseOffset < victim.baseOffset);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsOfWritten(expected));
    expect((await log.append(testBatch('n', 1, 1))).baseOffset).toBe(victim.baseOffset);
    await manager.close();
    expect(await indexProblems(t.dir, topic, 0)).toEqual([]);
    expect(filesProblems(partitionDir)).toEqual([]);
  });

  describe('in bytes recovery trusts (a clean shutdown)', () => {
    async function corruptedLog(appendAfterOpen: boolean) {
      const dir = fx.dir();
      let manager: LogManager = await fx.open(dir, config);
      let log = await manager.getOrCreate(topic, 0);
      const written: Written[] = [];
      const partitionDir = path.join(dir, `${topic}-0`);
      const activeBatches = () => segmentLayout(partitionDir, log.segmentBaseOffsets.at(-1) as number).length;
      while (log.segmentCount < 3 || activeBatches() < 3) await append(log, written, 2);
      const activeBase = log.segmentBaseOffsets.at(-1) as number;
      await manager.close();
      const layout = segmentLayout(partitionDir, activeBase);
      expect(layout.length).toBeGreaterThanOrEqual(3);
      const victim = layout[1] as BatchInfo; // a batch in the middle of the active segment
      const file = segmentPath(partitionDir, activeBase);
      const bytes = fs.readFileSync(file);
      flipByte(bytes, victim.position + victim.size - 5, 0x01);
      fs.writeFileSync(file, bytes);
      manager = await fx.open(dir, config);
      log = manager.get(topic, 0) as PartitionLog;
      const end = written.at(-1) as Written;
      expect(log.logEndOffset).toBe(end.baseOffset + end.count); // nothing is cut at start-up
      if (appendAfterOpen) await append(log, written, 2);
      return { log, written, victim, activeBase, before: layout[0] as BatchInfo, after: layout[2] as BatchInfo };
    }

    for (const appendAfterOpen of [false, true]) {
      it(`is never served: reading it fails with CorruptRecord${appendAfterOpen ? ' (also after a new append to that segment)' : ''}`, async () => {
        const { log, written, victim, before, after } = await corruptedLog(appendAfterOpen);
        // reads of the batch itself fail, however they start
        await expectCode(log.read(victim.baseOffset, 1 << 20), ErrorCode.CorruptRecord);
        await expectCode(log.read(victim.lastOffset, 1), ErrorCode.CorruptRecord);
        // a read from an earlier batch stops before it
        const r = await log.read(before.baseOffset, 1 << 20);
        const served = decodeRecords(r.records); // throws on a bad CRC
        expect(served.at(-1)?.offset).toBe(victim.baseOffset - 1);
        expect(r.nextOffset).toBe(victim.baseOffset);
        // still refused when asked again
        await expectCode(log.read(victim.baseOffset, 1 << 20), ErrorCode.CorruptRecord);
        // the batches after it are intact and served
        const later = await log.read(after.baseOffset, 1 << 20);
        const laterRecords = decodeRecords(later.records);
        expect(laterRecords[0]?.offset).toBe(after.baseOffset);
        const all = contentsOfWritten(written);
        expect(contentsOf(laterRecords)).toEqual(all.slice(after.baseOffset, after.baseOffset + laterRecords.length));
      });
    }

    it('a batch whose length field is impossible fails reads at it instead of returning nothing forever', async () => {
      const { log, victim, before, activeBase } = await corruptedLog(false);
      // batchLength is outside the CRC's range: point it far past the end of the file (the open log sees it)
      const file = segmentPath(log.dir, activeBase);
      const bytes = fs.readFileSync(file);
      bytes.writeInt32BE(0x7fff_0000, victim.position + Field.batchLength);
      fs.writeFileSync(file, bytes);

      await expectCode(log.read(victim.baseOffset, 1 << 20), ErrorCode.CorruptRecord);
      await expectCode(log.read(victim.baseOffset, 1 << 20, { minOneBatch: false }), ErrorCode.CorruptRecord);
      // a read from the batch before stops before it, and makes progress
      const r = await log.read(before.baseOffset, 1 << 20);
      expect(r.nextOffset).toBe(victim.baseOffset);
    });
  });
});

describe('a deleted LevelDB directory', () => {
  it('is rebuilt from the files: same log, same reads, the same index entries', async () => {
    const dir = fx.dir();
    let manager = await fx.open(dir, config);
    let log = await manager.getOrCreate(topic, 0);
    const written: Written[] = [];
    await log.assignLeaderEpoch(2);
    for (let i = 0; i < 10; i++) await append(log, written, 1 + (i % 4));
    await log.assignLeaderEpoch(5);
    for (let i = 0; i < 10; i++) await append(log, written, 1 + (i % 3), 40);
    const other = await manager.getOrCreate('other', 1);
    await other.append(testBatch('o', 3, 5));
    const state = {
      end: log.logEndOffset,
      segments: log.segmentBaseOffsets,
      records: (await readAll(log)).batches.map((b) => b.toString('hex')),
      epochs: log.epochHistory.map((e) => [...e]),
    };
    const probes = [0, 10_000, 10_050, 10_101, 10_555, 11_000, 11_903, 12_000];
    const times = await Promise.all(probes.map((p) => log.offsetForTimestamp(p)));
    expect(state.segments.length).toBeGreaterThan(3);
    await manager.close();
    const index = await dumpIndex(dir, `${topic}-0`);
    expect(index.offsets.length).toBeGreaterThan(5);
    expect(index.times.length).toBeGreaterThan(5);

    fs.rmSync(path.join(dir, indexDirName), { recursive: true, force: true });
    manager = await fx.open(dir, config);
    log = manager.get(topic, 0) as PartitionLog;
    expect(log.logStartOffset).toBe(0);
    expect(log.logEndOffset).toBe(state.end);
    expect(log.segmentBaseOffsets).toEqual(state.segments);
    expect((await readAll(log)).batches.map((b) => b.toString('hex'))).toEqual(state.records);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsOfWritten(written));
    expect(await Promise.all(probes.map((p) => log.offsetForTimestamp(p)))).toEqual(times);
    expect(log.epochHistory).toEqual(state.epochs); // recovered from the batches' leader epochs
    expect(manager.get('other', 1)?.logEndOffset).toBe(3);
    expect((await log.append(testBatch('n', 1, 1))).baseOffset).toBe(state.end);
    await log.truncateTo(state.end);
    await manager.close();
    const rebuilt = await dumpIndex(dir, `${topic}-0`);
    expect(rebuilt.offsets).toEqual(index.offsets);
    expect(rebuilt.times).toEqual(index.times);
    expect(await indexProblems(dir, topic, 0)).toEqual([]);
  });

  it('after a crash with a torn tail: the tail is cut and the index rebuilt', async () => {
    const t = await buildTemplate(false);
    const partitionDir = path.join(t.dir, `${topic}-0`);
    fs.truncateSync(segmentPath(partitionDir, t.lastBase), t.last.position + 30);
    fs.rmSync(path.join(t.dir, indexDirName), { recursive: true, force: true });
    const manager = await fx.open(t.dir, config);
    const log = manager.get(topic, 0) as PartitionLog;
    expect(log.logEndOffset).toBe(t.last.baseOffset);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsOfWritten(t.written.slice(0, -1)));
    await manager.close();
    expect(await indexProblems(t.dir, topic, 0)).toEqual([]);
  });

  it('after retention: the log starts at the first remaining segment', async () => {
    const dir = fx.dir();
    let manager = await fx.open(dir, { ...config, retentionBytes: 1000 });
    let log = await manager.getOrCreate(topic, 0);
    const written: Written[] = [];
    for (let i = 0; i < 20; i++) await append(log, written, 2);
    expect(await manager.enforceRetention(Date.now())).toBeGreaterThan(0);
    const start = log.logStartOffset;
    expect(start).toBeGreaterThan(0);
    const end = log.logEndOffset;
    await manager.close();
    fs.rmSync(path.join(dir, indexDirName), { recursive: true, force: true });
    manager = await fx.open(dir, config);
    log = manager.get(topic, 0) as PartitionLog;
    expect(log.logStartOffset).toBe(start);
    expect(log.logEndOffset).toBe(end);
    await expectCode(log.read(start - 1, 100), ErrorCode.OffsetOutOfRange);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsOfWritten(written).slice(start));
  });
});

describe('an index that disagrees with the files', () => {
  async function closedLog() {
    const dir = fx.dir();
    const manager = await fx.open(dir, config);
    const log = await manager.getOrCreate(topic, 0);
    const written: Written[] = [];
    for (let i = 0; i < 24; i++) await append(log, written, 1 + (i % 3));
    const bases = log.segmentBaseOffsets;
    expect(bases.length).toBeGreaterThan(3);
    await manager.close();
    return { dir, written, bases, index: await dumpIndex(dir, `${topic}-0`) };
  }

  it('a wrong segment summary: that segment and the rest are recovered and their index rebuilt', async () => {
    const { dir, written, bases, index } = await closedLog();
    const id = `${topic}-0`;
    const middle = bases[1] as number;
    const real = index.summaries.get(middle) as [number, number, number];
    await tamperIndex(dir, id, async ({ db, keys, index: idx }) => {
      // the summary says the segment is shorter than it is, and its offset entries (and later ones) are gone
      idx.setSegmentSummary(middle, { size: real[0] - 10, nextOffset: real[1] - 1, maxTimestamp: real[2] });
      await db.clear(keys.range('o'));
      for (const [offset, segment, position] of index.offsets)
        if (segment < middle) idx.addOffsetEntry(offset, segment, position);
    });
    expect((await dumpIndex(dir, id)).offsets.length).toBeLessThan(index.offsets.length);
    const manager = await fx.open(dir, config);
    const log = manager.get(topic, 0) as PartitionLog;
    expect(log.segmentBaseOffsets).toEqual(bases);
    expect(contentsOf((await readAll(log, 0, 200)).records)).toEqual(contentsOfWritten(written));
    await manager.close();
    expect(await indexProblems(dir, topic, 0)).toEqual([]);
    const rebuilt = await dumpIndex(dir, id);
    expect(rebuilt.offsets).toEqual(index.offsets);
    expect(rebuilt.times).toEqual(index.times);
  });

  it('a summary for a segment file that is gone: the log ends before the gap', async () => {
    const { dir, written, bases } = await closedLog();
    const partitionDir = path.join(dir, `${topic}-0`);
    fs.rmSync(segmentPath(partitionDir, bases[2] as number));
    const manager = await fx.open(dir, config);
    const log = manager.get(topic, 0) as PartitionLog;
    // offsets must not jump: everything from the missing segment on is dropped
    expect(log.logEndOffset).toBe(bases[2]);
    expect(log.segmentBaseOffsets).toEqual(bases.slice(0, 2));
    expect(segmentFiles(partitionDir)).toEqual(bases.slice(0, 2));
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsOfWritten(written).slice(0, bases[2]));
    expect((await log.append(testBatch('n', 1, 1))).baseOffset).toBe(bases[2]);
    await manager.close();
    expect(await indexProblems(dir, topic, 0)).toEqual([]);
  });

  it('offset entries pointing at wrong positions: reads still find every offset', async () => {
    const { dir, written, index } = await closedLog();
    const id = `${topic}-0`;
    await tamperIndex(dir, id, async ({ db, keys, index: idx }) => {
      await db.clear(keys.range('o'));
      for (const [offset, segment, position] of index.offsets) idx.addOffsetEntry(offset, segment, position + 7);
    });
    expect((await dumpIndex(dir, id)).offsets.map((e) => e[2])).toEqual(index.offsets.map((e) => e[2] + 7));
    const manager = await fx.open(dir, config);
    const log = manager.get(topic, 0) as PartitionLog;
    const all = contentsOfWritten(written);
    for (let offset = 0; offset < log.logEndOffset; offset++) {
      const r = await log.read(offset, 1);
      const hit = decodeRecords(r.records).find((x) => x.offset === offset);
      expect(hit && contentsOf([hit])[0], `offset ${offset}`).toEqual(all[offset]);
    }
  });

  it('time entries pointing at wrong positions: offsetForTimestamp still finds the first record at or after T', async () => {
    const { dir, written, index } = await closedLog();
    const id = `${topic}-0`;
    expect(index.times.length).toBeGreaterThan(3);
    await tamperIndex(dir, id, async ({ db, keys, index: idx }) => {
      await db.clear(keys.range('t'));
      for (const [key, offset, segment, position] of index.times) idx.addTimeEntry(key, offset, segment, position + 5);
    });
    expect((await dumpIndex(dir, id)).times.map((e) => e[3])).toEqual(index.times.map((e) => e[3] + 5));
    const manager = await fx.open(dir, config);
    const log = manager.get(topic, 0) as PartitionLog;
    const records = written.flatMap((w) =>
      Array.from({ length: w.count }, (_, j) => ({ offset: w.baseOffset + j, timestamp: w.timestamp + j })),
    );
    for (let t = 9_990; t <= 12_500; t += 13) {
      const first = records.find((r) => r.timestamp >= t);
      expect(await log.offsetForTimestamp(t), `T=${t}`).toEqual(first);
    }
  });

  it('index values that do not decode: reads and time lookups fall back to the files', async () => {
    const { dir, written, index } = await closedLog();
    const id = `${topic}-0`;
    expect(index.offsets.length).toBeGreaterThan(3);
    await tamperIndex(dir, id, async ({ db, keys }) => {
      for (const kind of ['o', 't'] as const) {
        const found = await db.keys(keys.range(kind)).all();
        expect(found.length).toBeGreaterThan(0);
        for (const key of found) await db.put(key, Buffer.from('not an index value'));
        await db.put(keys.key(kind, 0), Buffer.from([0xc1, 0xff, 0x00]));
      }
    });
    const manager = await fx.open(dir, config);
    const log = manager.get(topic, 0) as PartitionLog;
    const all = contentsOfWritten(written);
    for (let offset = 0; offset < log.logEndOffset; offset += 3) {
      const hit = decodeRecords((await log.read(offset, 1)).records).find((x) => x.offset === offset);
      expect(hit && contentsOf([hit])[0], `offset ${offset}`).toEqual(all[offset]);
    }
    const records = written.flatMap((w) =>
      Array.from({ length: w.count }, (_, j) => ({ offset: w.baseOffset + j, timestamp: w.timestamp + j })),
    );
    for (let t = 9_990; t <= 12_500; t += 41) {
      expect(await log.offsetForTimestamp(t), `T=${t}`).toEqual(records.find((r) => r.timestamp >= t));
    }
  });
});

describe('files recovery finds in the directory', () => {
  it('ignores files that are not segments and removes segments wholly below the log start', async () => {
    const dir = fx.dir();
    let manager = await fx.open(dir, { ...config, retentionBytes: 800 });
    let log = await manager.getOrCreate(topic, 0);
    const written: Written[] = [];
    for (let i = 0; i < 12; i++) await append(log, written, 2);
    const partitionDir = path.join(dir, `${topic}-0`);
    const oldest = segmentPath(partitionDir, 0);
    const saved = fs.readFileSync(oldest);
    expect(await manager.enforceRetention(Date.now())).toBeGreaterThan(0);
    const start = log.logStartOffset;
    expect(fs.existsSync(oldest)).toBe(false);
    await crashManager(manager);
    // a crash between persisting the new log start and deleting the file leaves the file behind
    fs.writeFileSync(oldest, saved);
    fs.writeFileSync(path.join(partitionDir, 'notes.txt'), 'hello');
    fs.writeFileSync(path.join(partitionDir, `${pad20(999)}.log.tmp`), 'junk');
    manager = await fx.open(dir, config);
    log = manager.get(topic, 0) as PartitionLog;
    expect(log.logStartOffset).toBe(start);
    expect(log.segmentBaseOffsets[0]).toBe(start);
    expect(fs.existsSync(oldest)).toBe(false);
    expect(fs.existsSync(path.join(partitionDir, 'notes.txt'))).toBe(true);
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsOfWritten(written).slice(start));
  });

  it('a segment file made of garbage after the recovery point is emptied', async () => {
    const dir = fx.dir();
    const manager = await fx.open(dir, config);
    const log = await manager.getOrCreate(topic, 0);
    const written: Written[] = [];
    for (let i = 0; i < 3; i++) await append(log, written, 2);
    await log.flush();
    log.roll();
    const base = log.logEndOffset;
    await crashManager(manager);
    const partitionDir = path.join(dir, `${topic}-0`);
    fs.writeFileSync(segmentPath(partitionDir, base), Buffer.alloc(500, 0x41));
    const again = await fx.open(dir, config);
    const l = again.get(topic, 0) as PartitionLog;
    expect(l.logEndOffset).toBe(base);
    expect(fileSize(segmentPath(partitionDir, base))).toBe(0);
    expect(contentsOf((await readAll(l)).records)).toEqual(contentsOfWritten(written));
  });
});

describe('repeated crashes', () => {
  it('keeps every batch that survived each crash, in order, through random appends, flushes, torn tails and crashes', async () => {
    const random = prng(20240607);
    const dir = fx.dir();
    const partitionDir = path.join(dir, `${topic}-0`);
    const cfg = { segmentBytes: 900, indexIntervalBytes: 120 };
    let model: Written[] = [];
    for (let round = 0; round < 25; round++) {
      const manager = await fx.open(dir, cfg);
      const log = await manager.getOrCreate(topic, 0);
      expect(log.logEndOffset, `round ${round}`).toBe(expectedEndOf(model));
      expect(contentsOf((await readAll(log, 0, 300)).records), `round ${round}`).toEqual(contentsOfWritten(model));
      const appends = 1 + Math.floor(random() * 8);
      for (let i = 0; i < appends; i++) {
        const end = expectedEndOf(model);
        const w = await append(log, model, 1 + Math.floor(random() * 4), 10 + Math.floor(random() * 60));
        expect(w.baseOffset).toBe(end);
        if (random() < 0.2) await log.flush();
      }
      const ending = random();
      if (ending < 0.3) {
        await manager.close();
      } else {
        await crashManager(manager);
        if (ending < 0.7) {
          // tear the last write: cut the active segment somewhere inside its last batch
          const active = segmentFiles(partitionDir).at(-1) as number;
          const layout = segmentLayout(partitionDir, active);
          const last = layout.at(-1);
          if (last) {
            fs.truncateSync(segmentPath(partitionDir, active), last.position + Math.floor(random() * last.size));
            model = model.filter((w) => w.baseOffset < last.baseOffset);
          }
        }
      }
    }
    const manager = await fx.open(dir, cfg);
    const log = manager.get(topic, 0) as PartitionLog;
    expect(contentsOf((await readAll(log)).records)).toEqual(contentsOfWritten(model));
    await manager.close();
    expect(await indexProblems(dir, topic, 0)).toEqual([]);
    expect(filesProblems(partitionDir)).toEqual([]);
  });
});

function expectedEndOf(model: Written[]): number {
  const last = model.at(-1);
  return last ? last.baseOffset + last.count : 0;
}
