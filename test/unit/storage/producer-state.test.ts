/**
 * The idempotent producer's sequence state: the rules of the table itself,
 * then through PartitionLog.append on real files and a real LevelDB
 * (duplicates write nothing, refusals change nothing, the state survives a
 * reopen, a crash and a truncation, replicas are never refused).
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { producerStateRebuildBytesMax } from '../../../src/shared/limits.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { incrementSequence, ProducerStateTable, sequenceMax } from '../../../src/storage/producer-state.js';
import { decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { crashManager, readAll, segmentPath, storageFixture, testBatch } from '../../helpers/storage.js';
import { expectSluiceError, expectSluiceErrorAsync } from '../../helpers/wire-bytes.js';

const fx = storageFixture(afterEach);
const day = 86_400_000;

/** A batch of `count` records from producer `pid` (epoch, first sequence), at `baseOffset`. */
function pbatch(pid: number, epoch: number, seq: number, count = 1, baseOffset = 0, timestamp = Date.now()): Buffer {
  return testBatch(`p${pid}e${epoch}s${seq}`, count, timestamp, {
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    baseOffset,
  });
}

/** Checks `batch` as a leader would, then records it as appended (its header carries `baseOffset`). */
function leaderAppend(table: ProducerStateTable, batch: Buffer) {
  const dup = table.checkAppend(batch);
  if (!dup) table.onAppended(batch);
  return dup;
}

describe('ProducerStateTable rules', () => {
  it('accepts any first sequence from an unknown producer, then only the next one', () => {
    const t = new ProducerStateTable(day);
    expect(leaderAppend(t, pbatch(7, 0, 42, 3, 0))).toBeUndefined(); // unknown: state may have expired
    expect(t.get(7)).toMatchObject({ producerEpoch: 0, lastSequence: 44 });
    expect(leaderAppend(t, pbatch(7, 0, 45, 2, 3))).toBeUndefined();
    expectSluiceError(() => t.checkAppend(pbatch(7, 0, 48, 1, 5)), ErrorCode.OutOfOrderSequence); // gap
    expectSluiceError(() => t.checkAppend(pbatch(7, 0, 46, 1, 5)), ErrorCode.OutOfOrderSequence); // overlap
    expect(t.get(7)?.lastSequence).toBe(46);
  });

  it('recognises any of the last five batches as a duplicate with its original offsets', () => {
    const t = new ProducerStateTable(day);
    let offset = 100;
    for (let i = 0; i < 6; i++) {
      leaderAppend(t, pbatch(1, 0, i * 2, 2, offset));
      offset += 2;
    }
    // batches 1..5 (sequences 2..11, offsets 102..111) are remembered; batch 0 (sequences 0-1) is not
    expect(t.checkAppend(pbatch(1, 0, 10, 2))).toMatchObject({ baseOffset: 110, lastOffset: 111, recordCount: 2 });
    expect(t.checkAppend(pbatch(1, 0, 2, 2))).toMatchObject({ baseOffset: 102, lastOffset: 103 });
    expectSluiceError(() => t.checkAppend(pbatch(1, 0, 0, 2)), ErrorCode.OutOfOrderSequence);
    // same first sequence but a different length is not the same batch
    expectSluiceError(() => t.checkAppend(pbatch(1, 0, 10, 1)), ErrorCode.OutOfOrderSequence);
  });

  it('fences older epochs and starts a newer epoch at sequence 0', () => {
    const t = new ProducerStateTable(day);
    leaderAppend(t, pbatch(3, 2, 0, 5, 0));
    expectSluiceError(() => t.checkAppend(pbatch(3, 1, 5)), ErrorCode.InvalidProducerEpoch);
    expectSluiceError(() => t.checkAppend(pbatch(3, 3, 5)), ErrorCode.OutOfOrderSequence);
    expect(leaderAppend(t, pbatch(3, 3, 0, 1, 5))).toBeUndefined();
    expect(t.get(3)).toMatchObject({ producerEpoch: 3, lastSequence: 0 });
    // the old epoch's batches are no longer duplicates of anything
    expectSluiceError(() => t.checkAppend(pbatch(3, 2, 0, 5)), ErrorCode.InvalidProducerEpoch);
  });

  it('wraps sequence numbers at 2^31-1', () => {
    expect(incrementSequence(sequenceMax, 1)).toBe(0);
    expect(incrementSequence(sequenceMax - 1, 3)).toBe(1);
    const t = new ProducerStateTable(day);
    leaderAppend(t, pbatch(5, 0, sequenceMax - 1, 2, 0));
    expect(t.get(5)?.lastSequence).toBe(sequenceMax);
    expect(leaderAppend(t, pbatch(5, 0, 0, 3, 2))).toBeUndefined();
    leaderAppend(t, pbatch(5, 0, 3, 1, 5));
    // a batch spanning the wrap
    const u = new ProducerStateTable(day);
    leaderAppend(u, pbatch(6, 0, sequenceMax - 1, 3, 0));
    expect(u.get(6)?.lastSequence).toBe(0);
    expect(u.checkAppend(pbatch(6, 0, sequenceMax - 1, 3))).toMatchObject({ baseOffset: 0, lastOffset: 2 });
    expect(leaderAppend(u, pbatch(6, 0, 1, 1, 3))).toBeUndefined();
  });

  it('leaves batches without a producer id alone', () => {
    const t = new ProducerStateTable(day);
    const plain = testBatch('plain', 2, 1000);
    expect(leaderAppend(t, plain)).toBeUndefined();
    expect(leaderAppend(t, plain)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('refuses a producer id without a sequence', () => {
    const t = new ProducerStateTable(day);
    expectSluiceError(() => t.checkAppend(pbatch(9, 0, -1)), ErrorCode.InvalidRecord);
  });

  it('checks the batches of one append in order, and refuses a duplicate among several', () => {
    const t = new ProducerStateTable(day);
    const two = Buffer.concat([pbatch(1, 0, 0, 2, 0), pbatch(1, 0, 2, 1, 2)]);
    expect(leaderAppend(t, two)).toBeUndefined();
    expect(t.get(1)?.lastSequence).toBe(2);
    // the second batch does not continue the first
    expectSluiceError(
      () => t.checkAppend(Buffer.concat([pbatch(1, 0, 3, 1), pbatch(1, 0, 5, 1)])),
      ErrorCode.OutOfOrderSequence,
    );
    // the same batch twice in one append
    expectSluiceError(
      () => t.checkAppend(Buffer.concat([pbatch(1, 0, 3, 1), pbatch(1, 0, 3, 1)])),
      ErrorCode.OutOfOrderSequence,
    );
    // a duplicate next to a new batch: one base offset cannot answer for both
    expectSluiceError(
      () => t.checkAppend(Buffer.concat([pbatch(1, 0, 2, 1), pbatch(1, 0, 3, 1)])),
      ErrorCode.OutOfOrderSequence,
    );
    // the refusals changed nothing
    expect(t.get(1)?.lastSequence).toBe(2);
    expect(t.checkAppend(pbatch(1, 0, 3, 1))).toBeUndefined();
  });

  it('keeps at most the configured number of producers, forgetting the least recently used', () => {
    const t = new ProducerStateTable(day, '', 3);
    for (const pid of [1, 2, 3]) leaderAppend(t, pbatch(pid, 0, 0));
    leaderAppend(t, pbatch(1, 0, 1)); // 1 is now the most recently used
    leaderAppend(t, pbatch(4, 0, 0));
    expect(t.size).toBe(3);
    expect(t.get(2)).toBeUndefined();
    expect(t.get(1)?.lastSequence).toBe(1);
    expect(t.get(3)).toBeDefined();
    expect(t.get(4)).toBeDefined();
  });

  it('drops producers whose newest batch is older than the expiration', () => {
    const now = Date.now();
    const t = new ProducerStateTable(60_000);
    leaderAppend(t, pbatch(1, 0, 0, 1, 0, now - 120_000));
    leaderAppend(t, pbatch(2, 0, 0, 1, 1, now - 1_000));
    expect(t.removeExpired(now)).toBe(1);
    expect(t.get(1)).toBeUndefined();
    expect(t.get(2)).toBeDefined();
    // an expired producer is unknown again: any sequence is accepted
    expect(t.checkAppend(pbatch(1, 0, 17))).toBeUndefined();
  });
});

async function openLog(dir: string, config = {}): Promise<PartitionLog> {
  const manager = await fx.open(dir, config);
  return manager.getOrCreate('orders', 0);
}

const copy = (b: Buffer): Buffer => Buffer.from(b);

describe('PartitionLog with idempotent producers', () => {
  it('writes nothing for a duplicate single batch and returns the original offsets', async () => {
    const dir = fx.dir();
    const log = await openLog(dir);
    await log.append(testBatch('plain', 3, 1000));
    const batch = pbatch(11, 0, 0, 4);
    const first = await log.append(copy(batch));
    expect(first).toMatchObject({ baseOffset: 3, lastOffset: 6, recordCount: 4 });
    expect(first.duplicate).toBeUndefined();
    const size = fs.statSync(segmentPath(`${dir}/orders-0`, 0)).size;
    const again = await log.append(copy(batch));
    expect(again).toMatchObject({ baseOffset: 3, lastOffset: 6, recordCount: 4, duplicate: true });
    expect(log.logEndOffset).toBe(7);
    expect(fs.statSync(segmentPath(`${dir}/orders-0`, 0)).size).toBe(size);
    expect((await readAll(log)).records).toHaveLength(7);
  });

  it('refuses out-of-order sequences and fenced epochs without changing the log', async () => {
    const dir = fx.dir();
    const log = await openLog(dir);
    await log.append(pbatch(12, 1, 0, 2));
    const file = segmentPath(`${dir}/orders-0`, 0);
    const size = fs.statSync(file).size;
    await expectSluiceErrorAsync(log.append(pbatch(12, 1, 5)), ErrorCode.OutOfOrderSequence);
    await expectSluiceErrorAsync(log.append(pbatch(12, 0, 2)), ErrorCode.InvalidProducerEpoch);
    // a good batch followed by a bad one: nothing of the append is written
    await expectSluiceErrorAsync(
      log.append(Buffer.concat([pbatch(12, 1, 2), pbatch(12, 1, 9)])),
      ErrorCode.OutOfOrderSequence,
    );
    expect(log.logEndOffset).toBe(2);
    expect(fs.statSync(file).size).toBe(size);
    expect(await log.append(pbatch(12, 1, 2))).toMatchObject({ baseOffset: 2 });
  });

  it('rebuilds the state from the log after a clean reopen and after a crash', async () => {
    for (const how of ['close', 'crash'] as const) {
      const dir = fx.dir();
      let manager = await fx.open(dir, { segmentBytes: 1024 });
      let log = await manager.getOrCreate('orders', 0);
      const batches: Buffer[] = [];
      for (let i = 0; i < 40; i++) {
        const b = pbatch(20 + (i % 2), 0, Math.floor(i / 2) * 3, 3);
        batches.push(copy(b));
        await log.append(b);
      }
      expect(log.segmentCount).toBeGreaterThan(3);
      if (how === 'close') await manager.close();
      else await crashManager(manager);
      manager = await fx.open(dir, { segmentBytes: 1024 });
      log = await manager.getOrCreate('orders', 0);
      const end = log.logEndOffset;
      expect(end).toBe(120);
      // the last batch of each producer is recognised, with its original offsets
      expect(await log.append(copy(batches[39] as Buffer))).toMatchObject({ baseOffset: 117, duplicate: true });
      expect(await log.append(copy(batches[36] as Buffer))).toMatchObject({ baseOffset: 108, duplicate: true });
      expect(log.logEndOffset).toBe(end);
      await expectSluiceErrorAsync(log.append(pbatch(20, 0, 99)), ErrorCode.OutOfOrderSequence);
      expect(await log.append(pbatch(20, 0, 60))).toMatchObject({ baseOffset: 120 });
      expect(await log.append(pbatch(21, 0, 60))).toMatchObject({ baseOffset: 121 });
      await manager.close();
    }
  });

  it('rebuilds the state after truncateTo: a truncated batch is new again', async () => {
    const log = await openLog(fx.dir());
    const b1 = pbatch(30, 0, 0, 5);
    const b2 = pbatch(30, 0, 5, 5);
    await log.append(copy(b1));
    await log.append(copy(b2));
    await log.truncateTo(5);
    expect(log.logEndOffset).toBe(5);
    expect(await log.append(copy(b1))).toMatchObject({ baseOffset: 0, duplicate: true });
    const again = await log.append(copy(b2));
    expect(again).toMatchObject({ baseOffset: 5, lastOffset: 9 });
    expect(again.duplicate).toBeUndefined();
    expect(log.logEndOffset).toBe(10);
    expect((await readAll(log)).records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('never refuses a replica append, and records what it copied', async () => {
    const log = await openLog(fx.dir());
    // a leader's log as a replica copies it: gaps, an older epoch after a newer one, a repeated batch
    const copied = [pbatch(40, 2, 0, 2, 0), pbatch(40, 2, 7, 1, 2), pbatch(40, 1, 3, 1, 3), pbatch(40, 1, 3, 1, 4)];
    for (const b of copied) await log.append(b, { assignOffsets: false });
    expect(log.logEndOffset).toBe(5);
    // as leader now: the state is the last batch copied (epoch 1, sequence 3)
    expect(await log.append(pbatch(40, 1, 3, 1))).toMatchObject({ baseOffset: 4, duplicate: true });
    expect(await log.append(pbatch(40, 1, 4, 1))).toMatchObject({ baseOffset: 5 });
  });

  it('reads back only the last producerStateRebuildBytesMax bytes at open', async () => {
    const dir = fx.fastDir();
    const config = { maxMessageBytes: 8 * 1024 * 1024, segmentBytes: 1024 ** 3, indexIntervalBytes: 4096 };
    let manager = await fx.open(dir, config);
    let log = await manager.getOrCreate('orders', 0);
    await log.append(pbatch(50, 0, 0, 1)); // early: beyond the bound at reopen
    const bigBytes = 4 * 1024 * 1024;
    const big = testBatch('big', 1, 1000, { valueBytes: bigBytes });
    for (let written = 0; written < producerStateRebuildBytesMax + 4 * bigBytes; written += big.length) {
      await log.append(copy(big));
    }
    const late = pbatch(51, 0, 0, 1);
    await log.append(copy(late));
    expect(log.segmentCount).toBe(1);
    await manager.close();
    manager = await fx.open(dir, config);
    log = await manager.getOrCreate('orders', 0);
    const end = log.logEndOffset;
    expect(await log.append(copy(late))).toMatchObject({ duplicate: true, baseOffset: end - 1 });
    // producer 50 is unknown after the reopen: any sequence is accepted
    expect(await log.append(pbatch(50, 0, 9, 1))).toMatchObject({ baseOffset: end });
    const tail = await log.read(end, 1024);
    expect(decodeRecords(tail.records)).toHaveLength(1);
  });
});
