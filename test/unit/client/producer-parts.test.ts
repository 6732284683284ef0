/**
 * The producer's parts without a network: the buffer pool (FIFO waiters,
 * max.block.ms, bounded waiters) and the record accumulator (sealing at
 * batchSize, linger, in-flight bound per partition, retries back in send
 * order).
 */
import { describe, expect, it } from 'vitest';
import { StickyPartitioner } from '../../../src/client/partitioner.js';
import {
  ackRunsOf,
  type Batch,
  type PendingRecord,
  RecordAccumulator,
  recordBytes,
  runsDone,
  type SendCall,
} from '../../../src/client/producer/accumulator.js';
import { MemoryPool } from '../../../src/client/producer/memory-pool.js';
import { isSluiceError } from '../../../src/shared/errors.js';

function records(n: number, valueBytes: number): PendingRecord[] {
  const call: SendCall = { offsets: [], remaining: n, error: null, resolve: () => undefined, reject: () => undefined };
  return Array.from({ length: n }, (_, index) => {
    const r: PendingRecord = {
      key: null,
      value: Buffer.alloc(valueBytes, 97),
      timestamp: 0,
      bytes: 0,
      call,
      index,
      partition: 0,
    };
    r.bytes = recordBytes(r);
    return r;
  });
}

/** The index in its send() call of each record of the batch, in batch order. */
function indexesOf(batch: Batch): number[] {
  const { first, counts } = batch.runs;
  return first.flatMap((f, k) => Array.from({ length: counts[k]! }, (_, j) => f + j));
}

describe('MemoryPool', () => {
  it('grants waiters first come first served as memory is released', async () => {
    const pool = new MemoryPool(100);
    expect(pool.tryAcquire(80)).toBe(true);
    const order: string[] = [];
    const a = pool.acquire(50, 60_000).then(() => order.push('a'));
    const b = pool.acquire(10, 60_000).then(() => order.push('b'));
    // b would fit now, but a waits first: nobody overtakes
    expect(pool.tryAcquire(10)).toBe(false);
    expect(pool.waiting).toBe(true);
    pool.release(40);
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    expect(pool.free).toBe(0);
  });

  it('fails a waiter with Timeout after maxBlockMs and lets the next one through', async () => {
    const pool = new MemoryPool(100);
    expect(pool.tryAcquire(100)).toBe(true);
    const err = await pool.acquire(10, 5).catch((e: unknown) => e);
    expect(isSluiceError(err) && err.code).toBe('SLUICE_ERR_TIMEOUT');
    expect(pool.waiting).toBe(false);
    pool.release(100);
    expect(pool.free).toBe(100);
  });

  it('refuses waiters beyond its bound, and fails every waiter on failAll', async () => {
    const pool = new MemoryPool(10, 2);
    pool.tryAcquire(10);
    const w1 = pool.acquire(5, 60_000).catch((e: Error) => e.message);
    const w2 = pool.acquire(5, 60_000).catch((e: Error) => e.message);
    await expect(pool.acquire(5, 60_000)).rejects.toThrow(/more than 2 sends wait/);
    pool.failAll(new Error('closed'));
    expect(await Promise.all([w1, w2])).toEqual(['closed', 'closed']);
  });
});

describe('RecordAccumulator', () => {
  const make = (
    batchSize: number,
    lingerMs: number,
    maxInFlightPerPartition: number,
    clock = { now: 0 },
    batchSizeMax = batchSize,
  ) =>
    new RecordAccumulator(
      { batchSize, batchSizeMax, lingerMs, maxInFlightPerPartition },
      new StickyPartitioner(),
      new MemoryPool(1 << 30),
      () => clock.now,
    );

  it('seals a batch at batchSize and sends at most maxInFlightPerPartition of a partition at once', () => {
    const acc = make(1000, 0, 2);
    for (const r of records(40, 100)) acc.append('t', 0, 1, r);
    const { due } = acc.takeDue(false);
    expect(due.length).toBe(2);
    for (const d of due) expect(d.batch.bytes).toBeLessThanOrEqual(1000);
    expect(due.map((d) => d.batch.seq)).toEqual([0, 1]);
    // nothing more until one is settled
    expect(acc.takeDue(true).due.length).toBe(0);
    acc.settled(due[0]!.q, due[0]!.batch);
    expect(acc.takeDue(false).due.map((d) => d.batch.seq)).toEqual([2]);
  });

  it('lets an open batch linger until lingerMs unless urgent', () => {
    const clock = { now: 1000 };
    const acc = make(1 << 20, 50, 5, clock);
    for (const r of records(3, 10)) acc.append('t', 0, 1, r);
    const first = acc.takeDue(false);
    expect(first.due.length).toBe(0);
    expect(first.nextAt).toBe(1050);
    clock.now = 1049;
    expect(acc.takeDue(false).due.length).toBe(0);
    clock.now = 1050;
    const { due } = acc.takeDue(false);
    expect(due.length).toBe(1);
    expect(due[0]!.batch.count).toBe(3);
    for (const r of records(1, 10)) acc.append('t', 0, 1, r);
    expect(acc.takeDue(true).due.length).toBe(1);
  });

  it('holds open batches of every partition for holdMs (the sender awaits an answer), then lets them go', () => {
    const clock = { now: 1000 };
    const acc = make(1 << 20, 0, 5, clock);
    for (let p = 0; p < 3; p++) for (const r of records(2, 10)) acc.append('t', p, 3, r);
    const held = acc.takeDue(false, 20);
    expect(held.due.length).toBe(0);
    expect(held.nextAt).toBe(1020);
    // records arriving meanwhile join the same batches
    for (let p = 0; p < 3; p++) for (const r of records(1, 10)) acc.append('t', p, 3, r);
    // an answer came (holdMs 0): every partition's batch goes, one each, with all its records
    const { due } = acc.takeDue(false, 0);
    expect(due.map((d) => d.batch.count)).toEqual([3, 3, 3]);
  });

  it("an encoded batch keeps runs of consecutive records of one call; a record's offset is the base offset plus its place", () => {
    const results: number[][] = [];
    const calls = [0, 1].map((): SendCall => {
      const offsets: number[] = [];
      results.push(offsets);
      return { offsets, remaining: 3, error: null, resolve: () => undefined, reject: () => undefined };
    });
    const rs = [0, 1, 2, 0, 1, 2].map((i, k) => ({
      key: null,
      value: Buffer.from(`v${k}`),
      timestamp: 5,
      bytes: 10,
      call: calls[k < 3 ? 0 : 1]!,
      index: i,
      partition: undefined,
    }));
    const runs = ackRunsOf(rs);
    expect(runs.counts).toEqual([3, 3]);
    runsDone(runs, 100);
    expect(results).toEqual([
      [100, 101, 102],
      [103, 104, 105],
    ]);
    expect(calls.map((c) => c.remaining)).toEqual([0, 0]);
  });

  it('puts a retried batch back before later batches, and holds the partition until its backoff ends', () => {
    const clock = { now: 0 };
    const acc = make(200, 0, 5, clock);
    for (const r of records(6, 100)) acc.append('t', 0, 1, r);
    const { due } = acc.takeDue(false);
    expect(due.map((d) => d.batch.seq)).toEqual([0, 1, 2, 3, 4]);
    // batches 1 and 0 fail (answered out of order); 2 succeeds
    acc.requeue(due[1]!.q, due[1]!.batch, 100);
    acc.requeue(due[0]!.q, due[0]!.batch, 100);
    acc.settled(due[2]!.q, due[2]!.batch);
    const held = acc.takeDue(false);
    expect(held.due.length).toBe(0);
    expect(held.nextAt).toBe(100);
    clock.now = 100;
    expect(acc.takeDue(false).due.map((d) => d.batch.seq)).toEqual([0, 1]);
    // the open batch goes once nothing sealed waits before it
    expect(acc.takeDue(false).due.map((d) => d.batch.seq)).toEqual([5]);
  });

  it('grows the open batch up to batchSizeMax while the partition pipeline is full, then sends it whole', () => {
    const acc = make(1000, 0, 2, { now: 0 }, 10_000);
    for (const r of records(200, 100)) acc.append('t', 0, 1, r);
    // two batches at the floor fill the pipeline; the backlog behind them grows to the ceiling
    const { due } = acc.takeDue(false);
    expect(due.map((d) => d.batch.bytes <= 1000)).toEqual([true, true]);
    acc.settled(due[0]!.q, due[0]!.batch);
    const next = acc.takeDue(false).due;
    expect(next.length).toBe(1);
    expect(next[0]!.batch.bytes).toBeGreaterThan(9000);
    expect(next[0]!.batch.bytes).toBeLessThanOrEqual(10_000);
    // every record is in exactly one batch, in order
    const all = [...due, ...next].flatMap((d) => indexesOf(d.batch));
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i));
  });

  it('a batch opened behind a full pipeline starts in a buffer the size its sealed predecessor reached (no doubling copies)', () => {
    const acc = make(1000, 0, 1, { now: 0 }, 10_000);
    const q = () => [...acc.partitionQueues][0]!;
    // one batch at the floor fills the pipeline; the next grows to the ceiling (a 16 KiB buffer) and is sealed
    for (const r of records(400, 100)) {
      acc.append('t', 0, 1, r);
      if (q().ready.length === 2 && q().open?.count === 1) break;
    }
    const [floor, grown] = q().ready as [Batch, Batch];
    expect(floor.buf!.length).toBeLessThan(2048);
    expect(grown.buf!.length).toBe(16_384);
    const open = q().open!;
    expect(open.count).toBe(1);
    expect(open.buf!.length).toBe(16_384);
    // the buffer memory counts the whole buffer it took
    expect(open.reserved).toBe(16_384);
    // with the pipeline free again, a new batch starts small
    for (;;) {
      const due = acc.takeDue(true).due;
      if (due.length === 0) break;
      for (const d of due) acc.settled(d.q, d.batch);
    }
    expect(q().open).toBeNull();
    acc.append('t', 0, 1, records(1, 100)[0]!);
    expect(q().open!.buf!.length).toBe(512);
  });

  it('a light load is not held back: with the pipeline free, batches seal at the floor', () => {
    const acc = make(1000, 0, 5, { now: 0 }, 10_000);
    for (const r of records(20, 100)) acc.append('t', 0, 1, r);
    const { due } = acc.takeDue(false);
    for (const d of due) expect(d.batch.bytes).toBeLessThanOrEqual(1000);
  });

  it('splits a batch refused as too large into batches of batchSize, in its place', () => {
    const acc = make(1000, 0, 1, { now: 0 }, 10_000);
    for (const r of records(60, 100)) acc.append('t', 0, 1, r);
    const first = acc.takeDue(false).due[0]!;
    acc.settled(first.q, first.batch);
    const big = acc.takeDue(false).due[0]!;
    expect(big.batch.bytes).toBeGreaterThan(1000);
    expect(acc.split(big.q, big.batch)).toBe(true);
    const parts: number[][] = [];
    for (;;) {
      const d = acc.takeDue(true).due[0];
      if (!d) break;
      expect(d.batch.bytes).toBeLessThanOrEqual(1000);
      parts.push(indexesOf(d.batch));
      acc.settled(d.q, d.batch);
    }
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flat()).toEqual(indexesOf(big.batch));
  });

  it('buffer memory counts batch buffers: what every batch holds is its buffer size, before and after a split', () => {
    const total = 1 << 20;
    const memory = new MemoryPool(total);
    const acc = new RecordAccumulator(
      { batchSize: 1000, batchSizeMax: 10_000, lingerMs: 0, maxInFlightPerPartition: 1 },
      new StickyPartitioner(),
      memory,
      () => 0,
    );
    const held = (batches: Batch[]) => batches.reduce((n, b) => n + b.reserved, 0);
    for (const r of records(60, 100)) {
      expect(memory.tryAcquire(r.bytes)).toBe(true);
      acc.append('t', 0, 1, r);
    }
    const all = [...acc.partitionQueues].flatMap((q) => [...q.ready, ...q.inFlight, ...(q.open ? [q.open] : [])]);
    // a batch holds a power-of-two buffer at least as large as its records (never the records' bytes alone)
    for (const b of all) {
      expect(b.reserved).toBe(b.buf?.length);
      expect(b.reserved).toBeGreaterThanOrEqual(b.pos);
    }
    expect(memory.free + held(all)).toBe(total);
    const first = acc.takeDue(false).due[0]!;
    acc.settled(first.q, first.batch);
    memory.release(first.batch.reserved);
    const big = acc.takeDue(false).due[0]!;
    expect(acc.split(big.q, big.batch)).toBe(true);
    // the split batch's memory passed to its parts: nothing leaks, nothing is counted twice
    expect(big.batch.reserved).toBe(0);
    const parts = [...acc.partitionQueues].flatMap((q) => [...q.ready, ...(q.open ? [q.open] : [])]);
    expect(memory.free + held(parts)).toBe(total);
  });

  it('unfinished() covers open, ready and in-flight batches', () => {
    const acc = make(150, 1000, 1);
    for (const r of records(3, 100)) acc.append('t', 0, 1, r);
    acc.takeDue(false);
    expect(acc.unfinished().length).toBe(3);
  });
});
