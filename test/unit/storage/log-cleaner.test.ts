/**
 * The log cleaner (src/storage/log-cleaner.ts) on real segment files and a
 * real LevelDB: each key keeps its latest record, offsets never change, the
 * active segment is untouched, tombstones last delete.retention.ms after the
 * clean that first kept them, and a stop at every step of the swap recovers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { type CleanStep, SimulatedCrash } from '../../../src/storage/log-cleaner.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import type { DecodedRecord } from '../../../src/wire/record.js';
import {
  attributesOf,
  baseOffsetOf,
  Compression,
  compressionOf,
  deleteHorizonFlag,
  producerIdOf,
  recordsCountOf,
} from '../../../src/wire/record-batch.js';
import { decodeBatchRecords, decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { encodeTxnMarker, isControlBatch, isTransactionalBatch, readTxnMarker } from '../../../src/wire/txn-marker.js';
import {
  crashManager,
  indexProblems,
  readAll,
  replicatedToEnd,
  segmentFiles,
  segmentLayout,
  splitBatches,
  storageFixture,
  storedBatches,
} from '../../helpers/storage.js';
import { expectSluiceErrorAsync } from '../../helpers/wire-bytes.js';

const fx = storageFixture(afterEach);

const compactConfig: Partial<LogConfig> = {
  cleanupPolicy: 'compact',
  segmentBytes: 1024,
  indexIntervalBytes: 200,
  minCleanableDirtyRatio: 0.5,
};

async function compactedLog(config: Partial<LogConfig> = {}) {
  const dir = fx.dir();
  const manager = await fx.open(dir, { ...compactConfig, ...config });
  const log = await manager.getOrCreate('kv', 0);
  return { dir, manager, log, partitionDir: path.join(dir, 'kv-0') };
}

interface Written {
  offset: number;
  key: string;
  value: string | null;
}

/** Appends one single-record batch per entry; returns what was written with its offsets. */
async function put(log: PartitionLog, entries: [string, string | null][], timestamp = 1_000): Promise<Written[]> {
  const out: Written[] = [];
  for (const [key, value] of entries) {
    const batch = encodeRecordBatch([
      { key: Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp },
    ]);
    const r = await log.append(batch);
    out.push({ offset: r.baseOffset, key, value });
  }
  return out;
}

/** n writes cycling over `keys` keys, values naming the write. */
function workload(n: number, keys: number, tag = 'v'): [string, string | null][] {
  return Array.from({ length: n }, (_, i) => [`key-${i % keys}`, `${tag}${i}-${'x'.repeat(40)}`]);
}

const asWritten = (records: DecodedRecord[]): Written[] =>
  records.map((r) => ({ offset: r.offset, key: r.key?.toString() ?? '', value: r.value?.toString() ?? null }));

/**
 * What a compacted log must hold: every record of the segments not cleaned
 * (from `keepAllFrom` on), and below that only each key's latest record
 * there (the cleaner maps the closed segments only; tombstones too unless
 * `tombstonesGone`).
 */
function expectedAfterClean(written: Written[], keepAllFrom: number, tombstonesGone = false): Written[] {
  const latest = new Map<string, number>();
  for (const w of written) if (w.offset < keepAllFrom) latest.set(w.key, w.offset);
  return written.filter(
    (w) =>
      w.offset >= keepAllFrom ||
      (latest.get(w.key) === w.offset && !(tombstonesGone && w.value === null && w.offset < keepAllFrom)),
  );
}

const activeBase = (log: PartitionLog): number => log.segmentBaseOffsets.at(-1) as number;

describe('log cleaner', () => {
  it('never cleans past the high watermark: a newer value a truncation may cut does not clean away the older one', async () => {
    const { log } = await compactedLog({ minCleanableDirtyRatio: 0 });
    // "k" = old, acknowledged by every in-sync replica (the high watermark passes it), in the first segments
    const acked = await put(log, [['k', 'old'], ...workload(20, 5, 'a')]);
    replicatedToEnd(log);
    const hw = log.logEndOffset;
    // then "k" = new and more, written by this leader only: above the high watermark, in closed segments
    await put(log, [['k', 'new'], ...workload(60, 5, 'b')]);
    expect(log.segmentBaseOffsets.filter((b) => b > hw).length).toBeGreaterThan(1);

    await log.clean({ nowMs: Date.now(), force: true });
    // no segment reaching past the high watermark was cleaned
    const firstPastHw = log.segmentBaseOffsets.findLast((b) => b < hw) as number;
    expect(log.cleanedTo).toBeLessThanOrEqual(firstPastHw);
    // the leader fails over; this replica truncates to the high watermark: "k" still has its acknowledged value
    await log.truncateTo(hw);
    const { records } = await readAll(log);
    const k = records.filter((r) => r.key?.toString() === 'k').map((r) => r.value?.toString());
    expect(k).toEqual(['old']);
    expect(records.some((r) => r.offset === (acked[0] as Written).offset)).toBe(true);
  });

  it('keeps the latest record of every key below the active segment, with offsets and the log end unchanged', async () => {
    const { log, dir, manager, partitionDir } = await compactedLog();
    const written = await put(log, workload(200, 10));
    expect(log.segmentCount).toBeGreaterThan(5);
    const before = { start: log.logStartOffset, end: log.logEndOffset, size: log.sizeBytes };
    const active = activeBase(log);
    const activeBytes = fs.readFileSync(path.join(partitionDir, `${String(active).padStart(20, '0')}.log`));

    const stats = await replicatedToEnd(log).clean({ nowMs: Date.now() });
    expect(stats).toBeDefined();
    expect(stats?.cleanedTo).toBe(active);
    expect(log.cleanedTo).toBe(active);
    expect(log.logStartOffset).toBe(before.start);
    expect(log.logEndOffset).toBe(before.end);
    expect(log.sizeBytes).toBeLessThan(before.size);
    expect(log.segmentBaseOffsets.at(-1)).toBe(active);
    // the active segment's file is byte for byte what it was
    expect(fs.readFileSync(path.join(partitionDir, `${String(active).padStart(20, '0')}.log`))).toEqual(activeBytes);

    const { records } = await readAll(log);
    expect(asWritten(records)).toEqual(expectedAfterClean(written, active));
    // every segment still ends where the next begins; the rest of each segment may be gaps
    for (const base of segmentFiles(partitionDir)) expect(segmentLayout(partitionDir, base).length).toBeGreaterThan(0);

    // reading from an offset inside a gap serves the next record
    const gap = written.find((w) => w.offset < active && !records.some((r) => r.offset === w.offset));
    expect(gap).toBeDefined();
    // (an emptied batch kept at a segment's end serves no record: the reader moves on by nextOffset)
    let at = gap?.offset as number;
    let served: Written[] = [];
    for (let reads = 0; served.length === 0 && reads <= log.segmentCount; reads++) {
      const r = await log.read(at, 1 << 20);
      expect(r.nextOffset).toBeGreaterThan(at);
      served = asWritten(decodeRecords(r.records)).filter((w) => w.offset >= at);
      at = r.nextOffset;
    }
    expect(served[0]?.offset).toBeGreaterThan(gap?.offset as number);

    // the index in LevelDB agrees with the rewritten files
    await manager.close();
    expect(await indexProblems(dir, 'kv', 0)).toEqual([]);
  });

  it('survives a clean shutdown and reopen: same records, same offsets, index consistent', async () => {
    const { log, dir, manager } = await compactedLog();
    const written = await put(log, workload(150, 7));
    const active = activeBase(log);
    await replicatedToEnd(log).clean({ nowMs: Date.now() });
    const cleaned = asWritten((await readAll(log)).records);
    await manager.close();
    expect(await indexProblems(dir, 'kv', 0)).toEqual([]);

    const reopened = await (await fx.open(dir, compactConfig)).getOrCreate('kv', 0);
    expect(asWritten((await readAll(reopened)).records)).toEqual(cleaned);
    expect(cleaned).toEqual(expectedAfterClean(written, active));
    expect(reopened.cleanedTo).toBe(active);
    // a second pass over an already clean log with nothing dirty does nothing
    expect(await replicatedToEnd(reopened).clean({ nowMs: Date.now() })).toBeUndefined();
  });

  it('keeps tombstones for delete.retention.ms after the clean that first kept them, then removes them', async () => {
    const { log } = await compactedLog({ deleteRetentionMs: 60_000 });
    const first = await put(log, workload(60, 6));
    const deletes = await put(log, [
      ['key-1', null],
      ['key-2', null],
    ]);
    const more = await put(
      log,
      workload(60, 6, 'w').filter(([k]) => k !== 'key-1' && k !== 'key-2'),
    );
    const written = [...first, ...deletes, ...more];
    const now = Date.now();
    await replicatedToEnd(log).clean({ nowMs: now, force: true });
    const firstActive = activeBase(log);
    let records = asWritten((await readAll(log)).records);
    expect(records).toEqual(expectedAfterClean(written, firstActive));
    expect(records.filter((r) => r.value === null).map((r) => r.key)).toEqual(['key-1', 'key-2']);
    // the batches holding the tombstones now carry a delete horizon
    const { batches } = await readAll(log);
    const horizonBatches = batches.filter((b) => (attributesOf(b) & deleteHorizonFlag) !== 0);
    expect(horizonBatches.length).toBeGreaterThan(0);

    // more writes, so there is something dirty again; before the horizon tombstones stay
    const other = (w: [string, string | null][]): [string, string | null][] => w.map(([k, v]) => [`other-${k}`, v]);
    const later = await put(log, other(workload(60, 3, 'z')));
    await replicatedToEnd(log).clean({ nowMs: now + 30_000, force: true });
    records = asWritten((await readAll(log)).records);
    expect(records.filter((r) => r.value === null).map((r) => r.key)).toEqual(['key-1', 'key-2']);

    // past it they go, and nothing else of those keys comes back
    await put(log, other(workload(60, 3, 'y')));
    await replicatedToEnd(log).clean({ nowMs: now + 60_001, force: true });
    records = asWritten((await readAll(log)).records);
    expect(records.filter((r) => r.key === 'key-1' || r.key === 'key-2')).toEqual([]);
    expect(later.length).toBe(60);
  });

  it('refuses a record without a key on a compacted topic (INVALID_RECORD) and writes nothing', async () => {
    const { log } = await compactedLog();
    await put(log, [['a', '1']]);
    const end = log.logEndOffset;
    await expectSluiceErrorAsync(
      log.append(encodeRecordBatch([{ key: Buffer.from('k'), value: Buffer.from('1') }, { value: Buffer.from('2') }])),
      ErrorCode.InvalidRecord,
    );
    expect(log.logEndOffset).toBe(end);
  });

  it('runs only when the dirty ratio reaches min.cleanable.dirty.ratio, and never over records younger than min.compaction.lag.ms', async () => {
    const { log } = await compactedLog({ minCleanableDirtyRatio: 0.9 });
    await put(log, workload(100, 5));
    await replicatedToEnd(log).clean({ nowMs: Date.now(), force: true });
    // a little more: the dirty share is small
    await put(log, workload(20, 5, 'w'));
    const c = replicatedToEnd(log).cleanability(Date.now());
    expect(c?.ratio ?? 0).toBeLessThan(0.9);
    expect(await replicatedToEnd(log).clean({ nowMs: Date.now() })).toBeUndefined();

    const { log: young } = await compactedLog({ minCompactionLagMs: 60_000 });
    const now = Date.now();
    await put(young, workload(100, 5), now);
    expect(await replicatedToEnd(young).clean({ nowMs: now + 1_000, force: true })).toBeUndefined();
    expect(young.cleanedTo).toBe(0);
    expect(await replicatedToEnd(young).clean({ nowMs: now + 61_000, force: true })).toBeDefined();
  });

  it('with a key map too small for the dirty part, cleans up to where the map reached, and finishes in later passes', async () => {
    const { log } = await compactedLog();
    const written = await put(log, workload(300, 150));
    const active = activeBase(log);
    // room for about 40 keys of 6 bytes (64 bytes overhead each)
    const first = await replicatedToEnd(log).clean({ nowMs: Date.now(), dedupeBufferBytes: 40 * 70 });
    expect(first?.cleanedTo).toBeLessThan(active);
    expect(first?.cleanedTo).toBeGreaterThan(0);
    let passes = 1;
    while (log.cleanedTo < active && passes < 50) {
      await replicatedToEnd(log).clean({ nowMs: Date.now(), dedupeBufferBytes: 40 * 70, force: true });
      passes++;
    }
    expect(log.cleanedTo).toBe(active);
    expect(passes).toBeGreaterThan(1);
    expect(asWritten((await readAll(log)).records)).toEqual(expectedAfterClean(written, active));
  });

  it("keeps an emptied batch as Kafka's empty batch when it is its producer's last, or its segment's last", async () => {
    const { log, partitionDir } = await compactedLog();
    // an idempotent producer writes key-0 once, then everyone overwrites it
    await log.append(
      encodeRecordBatch([{ key: Buffer.from('key-0'), value: Buffer.from('p') }], {
        producerId: 7,
        producerEpoch: 0,
        baseSequence: 0,
      }),
    );
    await put(log, workload(120, 4));
    await replicatedToEnd(log).clean({ nowMs: Date.now(), force: true });
    const firstSegment = segmentLayout(partitionDir, 0);
    const bytes = fs.readFileSync(path.join(partitionDir, `${'0'.padStart(20, '0')}.log`));
    // offset 0's batch is kept, with no record: the producer's sequence state survives a restart
    expect(firstSegment[0]?.baseOffset).toBe(0);
    expect(recordsCountOf(bytes, 0)).toBe(0);
    const last = firstSegment.at(-1);
    expect(last?.lastOffset).toBe((log.segmentBaseOffsets[1] as number) - 1);
  });

  it('recompresses a gzip batch with gzip', async () => {
    const { log } = await compactedLog({ segmentBytes: 4096 });
    for (let i = 0; i < 30; i++) {
      const records = Array.from({ length: 10 }, (_, j) => ({
        key: Buffer.from(`key-${j % 3}`),
        value: Buffer.from(`value-${i}-${j}-${'y'.repeat(60)}`),
      }));
      await log.append(encodeRecordBatch(records, { compression: Compression.gzip }));
    }
    const active = activeBase(log);
    await replicatedToEnd(log).clean({ nowMs: Date.now(), force: true });
    const { batches, records } = await readAll(log);
    const cleanedBatches = batches.filter((b) => (splitBatches(b)[0]?.baseOffset as number) < active);
    expect(cleanedBatches.some((b) => recordsCountOf(b) > 0 && compressionOf(b) === Compression.gzip)).toBe(true);
    const below = records.filter((r) => r.offset < active);
    const keys = below.map((r) => r.key?.toString());
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('log cleaner and transactions', () => {
  const coordinator = { origin: 'coordinator' as const };
  /** The group coordinator's transactional offset commit: producer id and epoch, no sequence. */
  const txnPut = (producerId: number, key: string, value: string): Buffer =>
    encodeRecordBatch([{ key: Buffer.from(key), value: Buffer.from(value), timestamp: 1_000 }], {
      producerId,
      producerEpoch: 0,
      transactional: true,
    });
  const endTxn = (producerId: number, committed: boolean): Buffer =>
    encodeTxnMarker({ producerId, producerEpoch: 0, committed, coordinatorEpoch: 0 });

  /** What a read_committed reader sees of `log`: each key's latest value, aborted records and markers left out. */
  async function committedView(log: PartitionLog): Promise<Map<string, string | null>> {
    const aborted = await log.abortedTxns(log.logStartOffset, log.logEndOffset, 1_000);
    const view = new Map<string, string | null>();
    for (const batch of (await readAll(log)).batches) {
      if (isControlBatch(batch, 0)) continue;
      const base = baseOffsetOf(batch, 0);
      const pid = producerIdOf(batch, 0);
      if (
        isTransactionalBatch(batch, 0) &&
        aborted.some((t) => t.producerId === pid && t.firstOffset <= base && base <= t.lastOffset)
      )
        continue;
      for (const r of decodeBatchRecords(batch, 0)) view.set(r.key?.toString() ?? '', r.value?.toString() ?? null);
    }
    return view;
  }

  it('removes a marker whose transaction has no record left, after delete.retention.ms, with its aborted index entry', async () => {
    const { log, dir, manager, partitionDir } = await compactedLog({ deleteRetentionMs: 60_000 });
    await log.append(txnPut(5, 'group-a', 'aborted-99'), coordinator); // 0
    await log.append(endTxn(5, false), coordinator); // 1: aborted, its record dropped by the clean
    await log.append(txnPut(6, 'group-b', 'txn-old'), coordinator); // 2
    await log.append(endTxn(6, true), coordinator); // 3: committed, its record superseded below
    await log.append(txnPut(5, 'group-c', 'txn-kept'), coordinator); // 4
    await log.append(endTxn(5, true), coordinator); // 5: committed, its record is its key's latest
    await put(log, [['group-b', 'plain-new'], ...workload(60, 6)]);
    const markersOnDisk = () =>
      storedBatches(partitionDir)
        .filter(({ buf, pos }) => isControlBatch(buf, pos))
        .map(({ buf, pos }) => [baseOffsetOf(buf, pos), recordsCountOf(buf.subarray(pos))]);
    const before = await committedView(log);
    expect(before.get('group-c')).toBe('txn-kept');
    expect((await log.abortedTxns(0, log.logEndOffset, 10)).map((t) => t.lastOffset)).toEqual([1]);

    const now = Date.now();
    await replicatedToEnd(log).clean({ nowMs: now, force: true });
    // the first pass finds markers 1 and 3 alone and only stamps their delete horizon
    expect(markersOnDisk()).toEqual([
      [1, 1],
      [3, 1],
      [5, 1],
    ]);
    expect((await log.abortedTxns(0, log.logEndOffset, 10)).map((t) => t.lastOffset)).toEqual([1]);

    // more writes make the log dirty again; before the horizon the markers stay
    await put(log, workload(60, 6, 'w'));
    await replicatedToEnd(log).clean({ nowMs: now + 30_000, force: true });
    expect(markersOnDisk().map(([o]) => o)).toEqual([1, 3, 5]);

    await put(log, workload(60, 6, 'x'));
    await replicatedToEnd(log).clean({ nowMs: now + 60_001, force: true });
    // past it: markers 1 and 3 are gone, marker 5 stays with its transaction's record (the
    // coordinator's appends carry no sequence: no producer state keeps an emptied batch of 5 or 6)
    expect(markersOnDisk()).toEqual([[5, 1]]);
    expect(storedBatches(partitionDir).filter(({ buf, pos }) => producerIdOf(buf, pos) === 6)).toEqual([]);
    expect(await log.abortedTxns(0, log.logEndOffset, 10)).toEqual([]);
    const after = await committedView(log);
    expect(after.get('group-c')).toBe('txn-kept');
    expect(after.get('group-b')).toBe('plain-new');
    expect(after.has('group-a')).toBe(false);

    // reopened after a crash (recovery reads the segments again): no transaction left open
    await crashManager(manager);
    const reopened = await (await fx.open(dir, { ...compactConfig, deleteRetentionMs: 60_000 })).getOrCreate('kv', 0);
    expect(reopened.firstUnstableOffset).toBeUndefined();
    expect(await reopened.abortedTxns(0, reopened.logEndOffset, 10)).toEqual([]);
    expect((await committedView(reopened)).get('group-c')).toBe('txn-kept');
  });

  it("an aborted transaction's record never shadows its key's committed value: it is dropped, markers stay, and the committed value survives a reopen", async () => {
    const { log, dir, manager, partitionDir } = await compactedLog();
    await put(log, [
      ['group-a', 'committed-1'],
      ['group-b', 'plain-old'],
    ]); // 0, 1
    await log.append(txnPut(5, 'group-a', 'aborted-99'), coordinator); // 2
    await log.append(endTxn(5, false), coordinator); // 3: aborted
    await log.append(txnPut(6, 'group-b', 'txn-new'), coordinator); // 4
    await log.append(endTxn(6, true), coordinator); // 5: committed
    await put(log, workload(60, 6)); // later segments: offsets 0-5 lie in cleanable ones
    expect(activeBase(log)).toBeGreaterThan(5);
    const before = await committedView(log);
    expect(before.get('group-a')).toBe('committed-1');
    expect(before.get('group-b')).toBe('txn-new');

    const stats = await replicatedToEnd(log).clean({ nowMs: Date.now() });
    expect(stats?.cleanedTo).toBe(activeBase(log));
    // on disk: the aborted record is gone, the committed transaction's record shadowed the plain one,
    // and both markers are kept
    const stored = storedBatches(partitionDir);
    const values = stored.flatMap(({ buf, pos }) =>
      isControlBatch(buf, pos) ? [] : decodeBatchRecords(buf, pos).map((r) => r.value?.toString()),
    );
    expect(values).toContain('committed-1');
    expect(values).toContain('txn-new');
    expect(values).not.toContain('aborted-99');
    expect(values).not.toContain('plain-old');
    const markers = stored
      .filter(({ buf, pos }) => isControlBatch(buf, pos))
      .map(({ buf, pos }) => [baseOffsetOf(buf, pos), producerIdOf(buf, pos), readTxnMarker(buf, pos)?.committed]);
    expect(markers).toEqual([
      [3, 5, false],
      [5, 6, true],
    ]);
    expect(await committedView(log)).toEqual(before);

    await manager.close();
    expect(await indexProblems(dir, 'kv', 0)).toEqual([]);
    const reopened = await (await fx.open(dir, compactConfig)).getOrCreate('kv', 0);
    const after = await committedView(reopened);
    expect(after.get('group-a')).toBe('committed-1');
    expect(after).toEqual(before);
    expect(reopened.firstUnstableOffset).toBeUndefined();
  });
});

describe('log cleaner: a stop at every step of the swap', () => {
  const steps: CleanStep[] = ['cleaned-written', 'summary-forgotten', 'swap-renamed', 'replaced', 'indexed'];
  for (const step of steps) {
    it(`after "${step}" the reopened log holds every key's latest value at its offset`, async () => {
      const { log, dir, manager, partitionDir } = await compactedLog();
      const written = await put(log, workload(200, 10));
      const active = activeBase(log);
      const bases = log.segmentBaseOffsets;
      const victim = bases[2] as number;
      await expect(
        replicatedToEnd(log).clean({
          nowMs: Date.now(),
          afterStep: (s, base) => {
            if (s === step && base === victim) throw new SimulatedCrash(`stop after ${s}`);
          },
        }),
      ).rejects.toBeInstanceOf(SimulatedCrash);
      // as a crash: no clean-shutdown mark, nothing more flushed
      await log.abandon();
      await manager.close();

      const reopened = await (await fx.open(dir, compactConfig)).getOrCreate('kv', 0);
      expect(fs.readdirSync(partitionDir).filter((f) => f.endsWith('.cleaned') || f.endsWith('.swap'))).toEqual([]);
      const records = asWritten((await readAll(reopened)).records);
      // offsets unchanged, each key's latest value there, nothing a later value replaced comes back out of order
      const latest = new Map<string, Written>();
      for (const w of written) latest.set(w.key, w);
      const seen = new Map<string, Written>();
      for (const r of records) seen.set(r.key, r);
      expect(seen).toEqual(latest);
      const byOffset = new Map(written.map((w) => [w.offset, w]));
      for (const r of records) expect(r).toEqual(byOffset.get(r.offset));
      expect(reopened.logEndOffset).toBe(written.length);
      // and a pass after the restart finishes the job
      await replicatedToEnd(reopened).clean({ nowMs: Date.now(), force: true });
      expect(asWritten((await readAll(reopened)).records)).toEqual(expectedAfterClean(written, active));
      expect(bases).toEqual(reopened.segmentBaseOffsets);
    });
  }
});

describe('log cleaner: the rest of the log around cleaned segments', () => {
  it('a truncation into cleaned segments (a follower diverging) cuts at the right batch and keeps appending', async () => {
    const { log, dir, manager } = await compactedLog();
    const written = await put(log, workload(200, 10));
    await replicatedToEnd(log).clean({ nowMs: Date.now() });
    const before = asWritten((await readAll(log)).records);
    // into the cleaned part: just after a kept record, then at a kept record behind emptied batches
    const [first, second] = before as [Written, Written];
    expect(second.offset).toBeLessThan(log.cleanedTo);
    await log.truncateTo(second.offset + 1);
    expect(asWritten((await readAll(log)).records)).toEqual([first, second]);
    await log.truncateTo(first.offset);
    expect(asWritten((await readAll(log)).records)).toEqual([]);
    expect(log.logEndOffset).toBeLessThanOrEqual(first.offset);
    const appended = await put(log, [['after', 'truncation']]);
    expect(appended[0]?.offset).toBe(log.logEndOffset - 1);
    expect(written.length).toBe(200);
    for (const l of manager.all()) await l.abandon();
    await manager.close();
    const reopened = await (await fx.open(dir, compactConfig)).getOrCreate('kv', 0);
    expect(asWritten((await readAll(reopened)).records).at(-1)).toEqual(appended[0]);
  });

  it('retention does not delete a compact-only log; compact,delete does both', async () => {
    const { log } = await compactedLog({ retentionMs: 1 });
    await put(log, workload(100, 5), 1_000);
    expect(await log.enforceRetention(Date.now())).toBe(0);
    log.updateConfig({ ...log.currentConfig, cleanupPolicy: 'compact,delete' });
    expect(await log.enforceRetention(Date.now())).toBeGreaterThan(0);
  });
});
