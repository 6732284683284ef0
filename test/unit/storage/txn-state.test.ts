/**
 * Transactions on the partition side (issue 21, KIP-98): the marker's bytes, the rules of the
 * transaction state itself, then through PartitionLog on real files and a real LevelDB: open
 * transactions and the first unstable offset, the aborted-transaction index, the leader's checks,
 * replicas, truncation, reopening after a clean stop and after a crash, and the cleaner's bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { rewriteBatch } from '../../../src/storage/batch-filter.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { TxnState } from '../../../src/storage/txn-state.js';
import {
  attributesOf,
  controlFlag,
  Field,
  setBaseOffset,
  transactionalFlag,
  validateBatch,
} from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeTxnMarker, readTxnMarker } from '../../../src/wire/txn-marker.js';
import { crashManager, replicatedToEnd, storageFixture, testBatch } from '../../helpers/storage.js';
import { expectSluiceError, expectSluiceErrorAsync } from '../../helpers/wire-bytes.js';

const fx = storageFixture(afterEach);

/** A transactional batch of producer `pid` (epoch, sequence), its header at `baseOffset`. */
function txBatch(pid: number, epoch: number, seq: number, count = 1, baseOffset = 0): Buffer {
  return testBatch(`t${pid}e${epoch}s${seq}`, count, Date.now(), {
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    baseOffset,
    transactional: true,
  });
}

function marker(pid: number, epoch: number, committed: boolean, coordinatorEpoch = 0, baseOffset = 0): Buffer {
  const b = encodeTxnMarker({ producerId: pid, producerEpoch: epoch, committed, coordinatorEpoch });
  setBaseOffset(b, 0, baseOffset);
  return b;
}

describe('transaction markers (Kafka control batches)', () => {
  it('are control|transactional batches with Kafka key and value bytes, read back as written', () => {
    const b = encodeTxnMarker({ producerId: 7, producerEpoch: 3, committed: true, coordinatorEpoch: 11 });
    expect(validateBatch(b, 0, b.length)).toBe(b.length);
    expect(attributesOf(b) & (controlFlag | transactionalFlag)).toBe(controlFlag | transactionalFlag);
    expect(b.readInt32BE(Field.baseSequence)).toBe(-1);
    const [record] = decodeBatchRecords(b, 0);
    expect(record?.key?.toString('hex')).toBe('00000001'); // version 0, type 1 (commit)
    expect(record?.value?.toString('hex')).toBe('00000000000b'); // version 0, coordinator epoch 11
    expect(readTxnMarker(b)).toEqual({ committed: true, coordinatorEpoch: 11 });
    const abort = encodeTxnMarker({ producerId: 7, producerEpoch: 3, committed: false, coordinatorEpoch: 2 });
    expect(readTxnMarker(abort)).toEqual({ committed: false, coordinatorEpoch: 2 });
    // a data batch is no marker
    expect(readTxnMarker(txBatch(1, 0, 0))).toBeUndefined();
  });
});

describe('TxnState rules', () => {
  it('opens a transaction at its first batch and closes it at its marker; the oldest holds the LSO back', () => {
    const s = new TxnState();
    expect(s.firstUnstableOffset()).toBeUndefined();
    s.record(txBatch(1, 0, 0, 2, 10), 0, undefined);
    s.record(txBatch(2, 0, 0, 1, 12), 0, undefined);
    s.record(txBatch(1, 0, 2, 1, 13), 0, undefined); // a later batch of the same transaction
    expect(s.firstUnstableOffset()).toBe(10);
    expect(s.openTxn(1)).toEqual({ producerId: 1, producerEpoch: 0, firstOffset: 10 });
    const m1 = marker(1, 0, false, 4, 14);
    const aborted = s.record(m1, 0, readTxnMarker(m1));
    // producer 2's transaction is still open: the LSO after this abort is its first offset
    expect(aborted).toEqual({ producerId: 1, firstOffset: 10, lastOffset: 14, lastStableOffset: 12 });
    expect(s.firstUnstableOffset()).toBe(12);
    expect(s.lastCoordinatorEpoch(1)).toBe(4);
    const m2 = marker(2, 0, true, 4, 15);
    expect(s.record(m2, 0, readTxnMarker(m2))).toBeUndefined(); // a commit adds nothing to the index
    expect(s.firstUnstableOffset()).toBeUndefined();
    // a retried marker (no open transaction) changes nothing
    const again = marker(2, 0, false, 4, 16);
    expect(s.record(again, 0, readTxnMarker(again))).toBeUndefined();
    expect(s.openCount).toBe(0);
    // idempotent, non-transactional batches are no transaction
    s.record(
      testBatch('idem', 1, 0, { producerId: 3, producerEpoch: 0, baseSequence: 0, baseOffset: 17 }),
      0,
      undefined,
    );
    expect(s.openCount).toBe(0);
    // an empty transactional batch (one the cleaner emptied; its marker may be gone) opens nothing
    s.record(rewriteBatch(txBatch(4, 0, 0, 2, 18), 0, []), 0, undefined);
    expect(s.openCount).toBe(0);
    expect(s.firstUnstableOffset()).toBeUndefined();
  });

  it('refuses a marker of an older producer epoch or from an older coordinator', () => {
    const s = new TxnState();
    s.record(txBatch(1, 5, 0, 1, 0), 0, undefined);
    expectSluiceError(() => s.checkMarker(1, 4, 0), ErrorCode.InvalidProducerEpoch);
    expectSluiceError(() => s.checkMarker(1, 5, 0, 6), ErrorCode.InvalidProducerEpoch); // the idempotence table's epoch
    s.checkMarker(1, 5, 0);
    const m = marker(1, 5, true, 3, 1);
    s.record(m, 0, readTxnMarker(m));
    expectSluiceError(() => s.checkMarker(1, 5, 2), ErrorCode.TransactionCoordinatorFenced);
    s.checkMarker(1, 5, 3); // the same coordinator retrying
    s.checkMarker(1, 6, 4); // a newer epoch (a fencing abort)
  });

  it('undoes a truncation of the tail: cut transactions are forgotten, cut markers reopen theirs', () => {
    const s = new TxnState();
    s.record(txBatch(1, 0, 0, 1, 0), 0, undefined);
    const m = marker(1, 0, true, 0, 5);
    s.record(m, 0, readTxnMarker(m));
    s.record(txBatch(2, 0, 0, 1, 6), 0, undefined);
    expect(s.truncateTo(5)).toBe(true); // the marker at 5 and producer 2's batch at 6 are gone
    expect(s.openTxns()).toEqual([{ producerId: 1, producerEpoch: 0, firstOffset: 0 }]);
    expect(s.firstUnstableOffset()).toBe(0);
    expect(s.truncateTo(0)).toBe(true);
    expect(s.openCount).toBe(0);
  });

  it('round-trips a snapshot, and cannot undo what lies before it', () => {
    const s = new TxnState();
    s.record(txBatch(1, 2, 0, 1, 3), 0, undefined);
    const m = marker(9, 0, true, 7, 4);
    s.record(m, 0, readTxnMarker(m));
    const snap = s.snapshot(5);
    const r = new TxnState();
    r.restore(snap);
    expect(r.openTxns()).toEqual([{ producerId: 1, producerEpoch: 2, firstOffset: 3 }]);
    expect(r.lastCoordinatorEpoch(9)).toBe(7);
    expect(r.firstUnstableOffset()).toBe(3);
    expect(r.truncateTo(4)).toBe(false); // before the snapshot: the caller reads the log again
    expect(r.openCount).toBe(1);
    // a stored transaction said to start past its snapshot is not taken
    const bad = new TxnState();
    bad.restore({ asOf: 2, open: [[1, 0, 5]], coordinatorEpochs: [] });
    expect(bad.openCount).toBe(0);
  });
});

async function openLog(
  dir: string,
  config = {},
): Promise<{ log: PartitionLog; manager: Awaited<ReturnType<typeof fx.open>> }> {
  const manager = await fx.open(dir, config);
  return { log: await manager.getOrCreate('orders', 0), manager };
}

const coordinator = { origin: 'coordinator' as const };

describe('PartitionLog with transactions', () => {
  it('refuses control batches from clients and transactional batches without a producer id', async () => {
    const { log } = await openLog(fx.dir());
    await expectSluiceErrorAsync(log.append(marker(1, 0, true)), ErrorCode.InvalidRecord);
    await expectSluiceErrorAsync(log.append(testBatch('x', 1, 0, { transactional: true })), ErrorCode.InvalidRecord);
    // a client's transactional batch needs a sequence; the broker's own (offset commits) may go without
    const noSeq = (): Buffer => testBatch('c', 1, 0, { producerId: 4, producerEpoch: 0, transactional: true });
    await expectSluiceErrorAsync(log.append(noSeq()), ErrorCode.InvalidRecord);
    expect(log.logEndOffset).toBe(0);
    expect(await log.append(noSeq(), coordinator)).toMatchObject({ baseOffset: 0 });
    expect(log.firstUnstableOffset).toBe(0);
    expect(await log.append(marker(4, 0, true), coordinator)).toMatchObject({ baseOffset: 1 });
    expect(log.firstUnstableOffset).toBeUndefined();
  });

  it('tracks open transactions, indexes aborted ones, and fences old epochs and coordinators', async () => {
    const { log } = await openLog(fx.dir());
    await log.append(testBatch('plain', 2, 0)); // 0-1
    await log.append(txBatch(1, 0, 0, 3)); // 2-4
    await log.append(txBatch(2, 0, 0, 2)); // 5-6
    await log.append(txBatch(1, 0, 3, 1)); // 7
    expect(log.firstUnstableOffset).toBe(2);
    expect(await log.append(marker(1, 0, false, 1), coordinator)).toMatchObject({ baseOffset: 8 });
    expect(log.firstUnstableOffset).toBe(5);
    await log.append(marker(2, 0, true, 1), coordinator); // 9
    expect(log.firstUnstableOffset).toBeUndefined();
    // markers for producer 1 from an older coordinator, or an older producer epoch, are refused
    await expectSluiceErrorAsync(
      log.append(marker(1, 0, false, 0), coordinator),
      ErrorCode.TransactionCoordinatorFenced,
    );
    await log.append(txBatch(1, 1, 0, 1)); // 10: a new epoch of producer 1 opens a transaction
    await expectSluiceErrorAsync(log.append(marker(1, 0, false, 1), coordinator), ErrorCode.InvalidProducerEpoch);
    // the old epoch's data is refused too (the idempotence table took the new epoch)
    await expectSluiceErrorAsync(log.append(txBatch(1, 0, 4, 1)), ErrorCode.InvalidProducerEpoch);
    await log.append(marker(1, 1, false, 1), coordinator); // 11
    expect(log.logEndOffset).toBe(12);
    // the index: (producer, first offset) of the aborted transactions a read overlaps
    expect(await log.abortedTxns(0, 12, 100)).toEqual([
      { producerId: 1, firstOffset: 2, lastOffset: 8, lastStableOffset: 5 },
      { producerId: 1, firstOffset: 10, lastOffset: 11, lastStableOffset: 12 },
    ]);
    expect((await log.abortedTxns(9, 12, 100)).map((t) => t.firstOffset)).toEqual([10]);
    // a read ending before a transaction began does not list it
    expect((await log.abortedTxns(0, 5, 100)).map((t) => t.firstOffset)).toEqual([2]);
    expect(await log.abortedTxns(0, 2, 100)).toEqual([]);
  });

  it("refuses a fenced epoch's coordinator-origin append (a zombie's TxnOffsetCommit) and writes nothing, also after a reopen", async () => {
    const dir = fx.dir();
    let { log, manager } = await openLog(dir);
    // the group coordinator writes offset commits with the producer's id and epoch and no sequence
    const commit = (epoch: number): Buffer =>
      testBatch(`c${epoch}`, 1, Date.now(), { producerId: 9, producerEpoch: epoch, transactional: true });
    expect(await log.append(commit(2), coordinator)).toMatchObject({ baseOffset: 0 });
    // the coordinator fenced epoch 2: epoch 3's abort marker ends its transaction
    expect(await log.append(marker(9, 3, false, 0), coordinator)).toMatchObject({ baseOffset: 1 });
    for (const round of ['open', 'reopened'] as const) {
      await expectSluiceErrorAsync(log.append(commit(2), coordinator), ErrorCode.InvalidProducerEpoch);
      expect(log.logEndOffset).toBe(2);
      expect(log.firstUnstableOffset).toBeUndefined();
      if (round === 'open') {
        await manager.close();
        ({ log, manager } = await openLog(dir));
      }
    }
    // while epoch 4's transaction is open, epoch 3 is refused too; epoch 4 goes on
    expect(await log.append(commit(4), coordinator)).toMatchObject({ baseOffset: 2 });
    await expectSluiceErrorAsync(log.append(commit(3), coordinator), ErrorCode.InvalidProducerEpoch);
    expect(await log.append(commit(4), coordinator)).toMatchObject({ baseOffset: 3 });
    // the epoch alone is known: a client batch of epoch 4 is checked as an unknown producer's sequence
    expect(await log.append(txBatch(9, 4, 7, 1))).toMatchObject({ baseOffset: 4 });
    await expectSluiceErrorAsync(log.append(txBatch(9, 3, 0, 1)), ErrorCode.InvalidProducerEpoch);
    expect(log.logEndOffset).toBe(5);
    await manager.close();
  });

  it('keeps the transactions and the index across a clean reopen and a crash', async () => {
    for (const how of ['close', 'crash'] as const) {
      const dir = fx.dir();
      let { log, manager } = await openLog(dir, { segmentBytes: 1024 });
      await log.append(txBatch(1, 0, 0, 2)); // 0-1: producer 1's transaction, left open
      await log.append(txBatch(2, 0, 0, 2)); // 2-3
      await log.flush(); // the snapshot stored with the metadata says: 1 and 2 open as of 4
      for (let i = 0; i < 20; i++) await log.append(testBatch(`fill${i}`, 2, 0)); // 4-43, several segments
      await log.append(marker(2, 0, false, 0), coordinator); // 44: aborts producer 2's
      await log.append(txBatch(3, 0, 0, 1)); // 45: producer 3's, open
      expect(log.segmentCount).toBeGreaterThan(2);
      if (how === 'close') await manager.close();
      else await crashManager(manager);
      ({ log, manager } = await openLog(dir, { segmentBytes: 1024 }));
      expect(log.logEndOffset).toBe(46);
      expect(log.openTxns.sort((a, b) => a.producerId - b.producerId)).toEqual([
        { producerId: 1, producerEpoch: 0, firstOffset: 0 },
        { producerId: 3, producerEpoch: 0, firstOffset: 45 },
      ]);
      expect(log.firstUnstableOffset).toBe(0);
      expect(await log.abortedTxns(0, 46, 100)).toEqual([
        { producerId: 2, firstOffset: 2, lastOffset: 44, lastStableOffset: 0 },
      ]);
      await log.append(marker(1, 0, true, 0), coordinator);
      expect(log.firstUnstableOffset).toBe(45);
      await manager.close();
    }
  });

  it('follows a replica copy of the leader, and truncation reopens what a cut marker had closed', async () => {
    const { log: leader } = await openLog(fx.dir());
    const follower = (await openLog(fx.dir())).log;
    const copied: Buffer[] = [
      txBatch(1, 0, 0, 2, 0),
      marker(1, 0, false, 2, 2),
      txBatch(2, 0, 0, 1, 3),
      marker(2, 0, true, 2, 4),
    ];
    for (const b of copied) {
      await follower.append(Buffer.from(b), { assignOffsets: false });
      const own = Buffer.from(b);
      await leader.append(own, b === copied[1] || b === copied[3] ? coordinator : {});
    }
    for (const log of [leader, follower]) {
      expect(log.firstUnstableOffset).toBeUndefined();
      expect(await log.abortedTxns(0, 5, 10)).toEqual([
        { producerId: 1, firstOffset: 0, lastOffset: 2, lastStableOffset: 3 },
      ]);
      expect(log.lastCoordinatorEpoch(2)).toBe(2);
    }
    // the follower's tail diverged: cut at 4 (producer 2's commit marker) and then at 2 (producer 1's abort)
    await follower.truncateTo(4);
    expect(follower.firstUnstableOffset).toBe(3);
    await follower.truncateTo(2);
    expect(follower.openTxns).toEqual([{ producerId: 1, producerEpoch: 0, firstOffset: 0 }]);
    expect(await follower.abortedTxns(0, 5, 10)).toEqual([]);
  });

  it('reads the log again when a truncation reaches back past what it can undo (after a reopen)', async () => {
    const dir = fx.dir();
    let { log, manager } = await openLog(dir);
    await log.append(txBatch(1, 0, 0, 1)); // 0
    await log.append(marker(1, 0, false, 0), coordinator); // 1
    await log.append(testBatch('after', 2, 0)); // 2-3
    await manager.close();
    ({ log, manager } = await openLog(dir));
    expect(log.firstUnstableOffset).toBeUndefined();
    await log.truncateTo(1); // the abort marker is cut: producer 1's transaction is open again
    expect(log.openTxns).toEqual([{ producerId: 1, producerEpoch: 0, firstOffset: 0 }]);
    expect(await log.abortedTxns(0, 1, 10)).toEqual([]);
  });

  it('removes aborted transactions with the segments retention deletes', async () => {
    const { log } = await openLog(fx.dir(), { segmentBytes: 300 });
    await log.append(txBatch(1, 0, 0, 1)); // 0
    await log.append(marker(1, 0, false, 0), coordinator); // 1
    for (let i = 0; i < 8; i++) await log.append(testBatch(`fill${i}`, 1, 0)); // 2-9
    await log.append(txBatch(2, 0, 0, 1)); // 10
    await log.append(marker(2, 0, false, 0), coordinator); // 11
    await log.flush(); // the first abort is in LevelDB, not only pending
    expect((await log.abortedTxns(0, 12, 10)).map((t) => t.producerId)).toEqual([1, 2]);
    const second = log.segmentBaseOffsets.find((b) => b > 1) as number;
    expect(second).toBeLessThanOrEqual(10);
    await log.advanceLogStartOffset(second);
    expect((await log.abortedTxns(0, 12, 10)).map((t) => t.producerId)).toEqual([2]);
  });

  it('never cleans a segment holding an open transaction or after it', async () => {
    const { log } = await openLog(fx.dir(), { segmentBytes: 512, cleanupPolicy: 'compact', minCleanableDirtyRatio: 0 });
    for (let i = 0; i < 6; i++) await log.append(testBatch(`k${i % 2}`, 3, 0));
    await log.append(txBatch(1, 0, 0, 1)); // an open transaction in a later segment
    for (let i = 0; i < 6; i++) await log.append(testBatch(`k${i % 2}`, 3, 0));
    const open = log.firstUnstableOffset as number;
    const c = replicatedToEnd(log).cleanability(Date.now());
    const bases = log.segmentBaseOffsets;
    expect(c).toBeDefined();
    // the first uncleanable segment is the one holding the open transaction's first offset
    const holding = bases.findLastIndex((b) => b <= open);
    expect(c?.uncleanable).toBe(holding);
  });
});
