/**
 * The producer (accumulator, sender, idempotence behind the facade) against a
 * fake cluster on loopback sockets (test/helpers/fake-produce-cluster.ts):
 * retries keep a partition's order and an idempotent batch's sequence
 * numbers; OUT_OF_ORDER_SEQUENCE_NUMBER fails the batch and retires the
 * producer id; a broken connection after the write duplicates nothing;
 * buffer memory bounds send() (max.block.ms); linger gathers records; a
 * leader move (NOT_LEADER_OR_FOLLOWER) is followed after a metadata refresh;
 * close() flushes what lingers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StickyPartitioner } from '../../../src/client/partitioner.js';
import {
  type PendingRecord,
  RecordAccumulator,
  recordBytes,
  type SendCall,
} from '../../../src/client/producer/accumulator.js';
import { MemoryPool } from '../../../src/client/producer/memory-pool.js';
import { Sender } from '../../../src/client/producer/sender.js';
import { Producer } from '../../../src/client/producer.js';
import type { ProducerOptions } from '../../../src/client/types.js';
import { isSluiceError, WireError } from '../../../src/shared/errors.js';
import { Compression } from '../../../src/wire/record-batch.js';
import { type FakeProduceCluster, fakeProduceCluster } from '../../helpers/fake-produce-cluster.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  options: ProducerOptions,
  topics: Record<string, number> = { t: 1 },
  brokers = 1,
): Promise<{ fake: FakeProduceCluster; producer: Producer }> {
  const fake = await fakeProduceCluster(topics, brokers);
  cleanups.push(fake.close);
  const producer = new Producer(fake.cluster(), { retryBackoffMs: 1, ...options });
  cleanups.push(async () => {
    fake.release();
    await producer.close().catch(() => undefined);
  });
  return { fake, producer };
}

const msgs = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ value: `v${from + i}`, partition: 0 }));

describe('Producer against a fake cluster', () => {
  it('idempotent: a retried batch keeps its sequence numbers and the partition keeps its order', async () => {
    const { fake, producer } = await setup({ acks: -1, idempotent: true, batchSize: 100 });
    let failures = 0;
    // the first arrival of the batch holding v3 fails with a retriable error
    fake.fault = (b) =>
      b.values.includes('v3') && failures++ === 0 ? { errorCode: WireError.NOT_ENOUGH_REPLICAS } : undefined;
    const sends = [producer.send({ topic: 't', messages: msgs(0, 10) })];
    sends.push(producer.send({ topic: 't', messages: msgs(10, 10) }));
    const results = (await Promise.all(sends)).flat();
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(fake.logs.get('t-0')).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    // the retry carried the same producer id and base sequence as the first attempt
    const attempts = fake.arrived.filter((b) => b.values.includes('v3'));
    expect(attempts.length).toBe(2);
    expect(attempts[1]!.baseSequence).toBe(attempts[0]!.baseSequence);
    expect(attempts[1]!.producerId).toBe(attempts[0]!.producerId);
    expect(fake.initProducerIds).toBe(1);
    // sequences of the appended batches are contiguous from 0
    const firsts = new Map<number, number>();
    for (const b of fake.arrived) firsts.set(b.baseSequence, b.values.length);
    let next = 0;
    for (const [seq, count] of [...firsts].sort((a, b) => a[0] - b[0])) {
      expect(seq).toBe(next);
      next += count;
    }
    expect(next).toBe(20);
  });

  it('idempotent: a batch appended but unanswered (connection broken) is resent with the same sequence and kept once', async () => {
    const { fake, producer } = await setup({ acks: -1, idempotent: true });
    await producer.send({ topic: 't', messages: msgs(0, 1) });
    let breaks = 0;
    fake.fault = () => (breaks++ === 0 ? 'appendThenBreak' : undefined);
    const res = await producer.send({ topic: 't', messages: msgs(1, 3) });
    // the broker recognised the resent batch: the original offsets, one copy in the log
    expect(res.map((r) => r.offset)).toEqual([1, 2, 3]);
    expect(fake.logs.get('t-0')).toEqual(['v0', 'v1', 'v2', 'v3']);
    const [first, retry] = fake.arrived.slice(1);
    expect(retry!.baseSequence).toBe(first!.baseSequence);
    expect(retry!.producerId).toBe(first!.producerId);
    expect(retry!.values).toEqual(first!.values);
  });

  it('non-idempotent: a connection broken after the write fails the records rather than risk a duplicate', async () => {
    const { fake, producer } = await setup({ acks: 1 });
    fake.fault = () => 'appendThenBreak';
    const err = await producer.send({ topic: 't', messages: msgs(0, 2) }).catch((e: unknown) => e);
    expect(isSluiceError(err) && err.code).toBe('SLUICE_ERR_BROKER_UNREACHABLE');
    expect(fake.arrived.length).toBe(1);
    expect(fake.logs.get('t-0')).toEqual(['v0', 'v1']);
  });

  it('OUT_OF_ORDER_SEQUENCE_NUMBER fails the batch and the next batch takes a new producer id from sequence 0', async () => {
    const { fake, producer } = await setup({ acks: -1, idempotent: true });
    await producer.send({ topic: 't', messages: msgs(0, 2) });
    fake.fault = (b) => (b.values.includes('v2') ? { errorCode: WireError.OUT_OF_ORDER_SEQUENCE_NUMBER } : undefined);
    const err = await producer.send({ topic: 't', messages: msgs(2, 1) }).catch((e: unknown) => e);
    expect(isSluiceError(err) && err.message).toMatch(/OUT_OF_ORDER_SEQUENCE|sequence/i);
    fake.fault = () => undefined;
    const res = await producer.send({ topic: 't', messages: msgs(3, 1) });
    expect(res[0]!.offset).toBe(2);
    const last = fake.arrived.at(-1)!;
    expect(fake.initProducerIds).toBe(2);
    expect(last.baseSequence).toBe(0);
    expect(last.producerId).not.toBe(fake.arrived[0]!.producerId);
  });

  it('idempotent, 5 in flight: a failed batch leaves a gap; the batches behind it are refused out of order and resent in order', async () => {
    const { fake, producer } = await setup({ acks: -1, idempotent: true, batchSize: 100 });
    let failed = false;
    fake.fault = (b) => {
      if (b.values.includes('v0') && !failed) {
        failed = true;
        return { errorCode: WireError.NOT_ENOUGH_REPLICAS };
      }
      return undefined;
    };
    const res = await producer.send({ topic: 't', messages: msgs(0, 20) });
    expect(res.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(fake.logs.get('t-0')).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    expect(fake.initProducerIds).toBe(1);
    // several batches were in flight behind v0's, and were sent again (same sequence numbers)
    const firstArrivals = fake.arrived.slice(0, 5);
    expect(firstArrivals.map((b) => b.baseSequence)).toEqual([0, 1, 2, 3, 4]);
    const v1 = fake.arrived.filter((b) => b.values.includes('v1'));
    expect(v1.length).toBe(2);
    expect(v1[1]!.baseSequence).toBe(v1[0]!.baseSequence);
  });

  it('defaults: batches grow with the backlog while the pipeline is full', async () => {
    const { fake, producer } = await setup({ acks: 1 });
    let holds = 0;
    fake.fault = () => (holds++ === 0 ? 'hold' : undefined);
    const value = 'x'.repeat(100);
    const sent = producer.send({ topic: 't', messages: Array.from({ length: 3000 }, () => ({ value, partition: 0 })) });
    // the fake answers a connection's requests in order: the first held holds the rest; wait until every
    // record is queued in the producer (its accumulator seen from inside)
    const acc = (producer as unknown as { accumulator: RecordAccumulator }).accumulator;
    const queued = (): number => {
      let n = 0;
      for (const q of acc.partitionQueues) {
        for (const b of [...q.inFlight, ...q.ready, ...(q.open ? [q.open] : [])]) n += b.count;
      }
      return n;
    };
    while (fake.arrived.length < 1 || queued() < 3000) await new Promise((r) => setTimeout(r, 2));
    fake.release();
    const res = await sent;
    expect(res.at(-1)!.offset).toBe(2999);
    const sizes = fake.arrived.map((b) => b.values.length);
    // five batches of the 16 KiB floor filled the pipeline; the rest went in one grown batch
    for (const n of sizes.slice(0, 5)) expect(n).toBeLessThan(200);
    expect(sizes.length).toBe(6);
    expect(sizes[5]).toBe(3000 - sizes.slice(0, 5).reduce((a, b) => a + b, 0));
  });

  it('a grown batch refused as too large (MESSAGE_TOO_LARGE) is split into batchSize batches, order kept', async () => {
    const { fake, producer } = await setup({ acks: 1, batchSize: 1000, maxInFlightPerPartition: 1 });
    // the "topic" takes at most 50 records a batch; the floor batches hold fewer
    fake.fault = (b) => (b.values.length > 50 ? { errorCode: WireError.MESSAGE_TOO_LARGE } : undefined);
    const res = await producer.send({ topic: 't', messages: msgs(0, 200) });
    expect(res.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(fake.logs.get('t-0')).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
    expect(fake.arrived.some((b) => b.values.length > 50)).toBe(true);
  });

  it('bufferMemory bounds send(): a send that does not fit fails with Timeout after maxBlockMs', async () => {
    const { fake, producer } = await setup({ acks: 1, bufferMemory: 1024, maxBlockMs: 20 });
    fake.fault = () => 'hold';
    const big = 'x'.repeat(700);
    const first = producer.send({ topic: 't', messages: [{ value: big }] });
    const err = await producer.send({ topic: 't', messages: [{ value: big }] }).catch((e: unknown) => e);
    expect(isSluiceError(err) && err.code).toBe('SLUICE_ERR_TIMEOUT');
    fake.fault = () => undefined;
    fake.release();
    expect((await first)[0]!.offset).toBe(0);
    // the memory came back: the same send fits now
    expect((await producer.send({ topic: 't', messages: [{ value: big }] }))[0]!.offset).toBe(1);
  });

  it('bufferMemory counts batch buffers, not record bytes: one-record batches of many partitions fill it', async () => {
    // each one-record batch holds the smallest buffer (512 bytes): 8 of them fill 4096 bytes, though
    // their records take about 25 bytes each
    const { fake, producer } = await setup({ acks: 1, bufferMemory: 4096, maxBlockMs: 20 }, { t: 16 });
    fake.fault = () => 'hold';
    const first = Array.from({ length: 8 }, (_, p) =>
      producer.send({ topic: 't', messages: [{ value: 'v', partition: p }] }),
    );
    const ninth = producer.send({ topic: 't', messages: [{ value: 'v', partition: 8 }] });
    const pending = new Promise((r) => setTimeout(() => r('still pending'), 5000));
    const err = await Promise.race([
      ninth.then(
        () => 'sent',
        (e: unknown) => e,
      ),
      pending,
    ]);
    expect(isSluiceError(err) && err.code).toBe('SLUICE_ERR_TIMEOUT');
    fake.fault = () => undefined;
    fake.release();
    expect((await Promise.all(first)).map((r) => r[0]!.partition)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // the buffers came back: the same send fits now
    expect((await producer.send({ topic: 't', messages: [{ value: 'v', partition: 8 }] }))[0]!.offset).toBe(0);
  });

  it('lingerMs gathers records of separate sends into one batch', async () => {
    const { fake, producer } = await setup({ acks: 1, lingerMs: 200 });
    const a = producer.send({ topic: 't', messages: msgs(0, 1) });
    await new Promise((r) => setTimeout(r, 5));
    const b = producer.send({ topic: 't', messages: msgs(1, 1) });
    await Promise.all([a, b]);
    expect(fake.arrived.length).toBe(1);
    expect(fake.arrived[0]!.values).toEqual(['v0', 'v1']);
  });

  it('a Metadata request whose connection breaks after it was written delays a batch, and fails none', async () => {
    const { fake, producer } = await setup({ acks: 1 }, { t: 1 }, 2);
    await producer.send({ topic: 't', messages: msgs(0, 1) });
    // the leader moves; the refresh that follows meets a broken connection once (a broker restarting)
    fake.leaders.set('t-0', 1);
    let breaks = 0;
    fake.metadataFault = () => (breaks++ === 0 ? 'break' : undefined);
    const res = await producer.send({ topic: 't', messages: msgs(1, 2) });
    expect(breaks).toBeGreaterThan(1);
    expect(res.map((r) => r.offset)).toEqual([1, 2]);
    expect(fake.logs.get('t-0')).toEqual(['v0', 'v1', 'v2']);
  });

  it('follows a leader move: NOT_LEADER_OR_FOLLOWER, metadata refresh, resend to the new leader', async () => {
    const { fake, producer } = await setup({ acks: 1 }, { t: 1 }, 2);
    await producer.send({ topic: 't', messages: msgs(0, 1) });
    fake.leaders.set('t-0', 1);
    const res = await producer.send({ topic: 't', messages: msgs(1, 2) });
    expect(res.map((r) => r.offset)).toEqual([1, 2]);
    expect(fake.arrived.map((b) => b.node)).toEqual([0, 0, 1]);
    expect(fake.logs.get('t-0')).toEqual(['v0', 'v1', 'v2']);
  });

  it('refuses a timestamp that is not a non-negative integer, and sends nothing of that send()', async () => {
    const { fake, producer } = await setup({ acks: 1 });
    for (const timestamp of [-5, 1.5, Number.POSITIVE_INFINITY, Number.NaN]) {
      const err = await producer
        .send({ topic: 't', messages: [{ value: 'ok' }, { value: 'bad', timestamp }] })
        .catch((e: unknown) => e);
      expect(isSluiceError(err) && err.code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
    }
    await producer.send({ topic: 't', messages: [{ value: 'v', timestamp: 0 }] });
    expect(fake.logs.get('t-0')).toEqual(['v']);
  });

  it('close() sends what lingers and settles every send', async () => {
    const { fake, producer } = await setup({ acks: 1, lingerMs: 60_000 });
    const sent = producer.send({ topic: 't', messages: msgs(0, 3) });
    await new Promise((r) => setTimeout(r, 5));
    expect(fake.arrived.length).toBe(0);
    await producer.close();
    expect((await sent).map((r) => r.offset)).toEqual([0, 1, 2]);
    await expect(producer.send({ topic: 't', messages: msgs(3, 1) })).rejects.toThrow(/closed/);
  });
});

describe('Sender: bytes in flight per broker', () => {
  it('keeps at most inFlightBytesPerBroker in flight to one broker (one batch always goes), the rest in order after', async () => {
    const fake = await fakeProduceCluster({ t: 2 });
    cleanups.push(fake.close);
    const cluster = fake.cluster();
    const memory = new MemoryPool(1 << 20);
    const acc = new RecordAccumulator(
      { batchSize: 1000, batchSizeMax: 1000, lingerMs: 0, maxInFlightPerPartition: 5 },
      new StickyPartitioner(),
      memory,
    );
    const sender = new Sender(cluster, acc, memory, undefined, {
      acks: 1,
      compression: Compression.none,
      retries: 0,
      retryBackoffMs: 1,
      timeoutMs: 5000,
      inFlightBytesPerBroker: 2500,
      batchSize: 1000,
    });
    cleanups.push(async () => sender.stop());
    await cluster.topic('t');
    let held = true;
    fake.fault = () => (held ? 'hold' : undefined);
    let done = 0;
    const call: SendCall = {
      offsets: [],
      remaining: 40,
      error: null,
      resolve: () => undefined,
      reject: () => undefined,
    };
    const value = Buffer.alloc(200, 120);
    for (let i = 0; i < 40; i++) {
      const r: PendingRecord = { key: null, value, timestamp: 0, bytes: 0, call, index: i, partition: i % 2 };
      r.bytes = recordBytes(r);
      expect(memory.tryAcquire(r.bytes)).toBe(true);
      acc.append('t', i % 2, 2, r);
    }
    call.resolve = () => {
      done = 40;
    };
    sender.wake();
    while (fake.arrived.length < 1) await new Promise((r) => setTimeout(r, 2));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    const inFlight = [...acc.partitionQueues].flatMap((q) => [...q.inFlight]);
    const bytes = inFlight.reduce((n, b) => n + b.bytes, 0);
    // ~4 records (~1000 bytes) a batch: two batches fit in 2500 bytes, the third waits
    expect(inFlight.length).toBe(2);
    expect(bytes).toBeLessThanOrEqual(2500);
    held = false;
    fake.release();
    while (done < 40) await new Promise((r) => setTimeout(r, 2));
    expect(fake.logs.get('t-0')?.length).toBe(20);
    expect(fake.logs.get('t-1')?.length).toBe(20);
    expect(memory.free).toBe(1 << 20);
  });
});
