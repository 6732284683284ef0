/**
 * Transactions on the partition side (issue 21, KIP-98) against a real standalone broker
 * process, through bare native requests (there is no transactional client yet): transactional
 * batches produced, WriteTxnMarkers ending them, Fetch with read_uncommitted and read_committed
 * (last stable offset, aborted transactions), ListOffsets by isolation level, a long-polling
 * read_committed fetch woken by a marker, and a kill -9 and restart that keeps the open
 * transaction and the aborted-transaction index.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { decodeRecords } from '../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { encodeTxnMarker } from '../../src/wire/txn-marker.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

const brokers: BrokerProcess[] = [];
const raws: RawClient[] = [];

afterEach(async () => {
  for (const c of raws.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.destroy();
});

async function raw(broker: BrokerProcess): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  raws.push(c);
  return c;
}

const topic = 'txn-part';
const producerA = 1000;
const producerB = 2000;
const producerC = 3000;

function values(vals: string[], options: Parameters<typeof encodeRecordBatch>[1] = {}): Buffer {
  return encodeRecordBatch(
    vals.map((v) => ({ key: Buffer.from(v), value: Buffer.from(v) })),
    options,
  );
}

const tx = (pid: number, seq: number, vals: string[]): Buffer =>
  values(vals, { producerId: pid, producerEpoch: 0, baseSequence: seq, transactional: true });

async function produce(c: RawClient, records: Buffer): Promise<Body> {
  const r = await c.call<Body>(ApiKey.Produce, {
    acks: -1,
    timeoutMs: 5000,
    topics: [{ name: topic, partitions: [{ partition: 0, records }] }],
  });
  return r.topics[0].partitions[0];
}

async function fetch(c: RawClient, offset: number, isolationLevel: 0 | 1, maxWaitMs = 0): Promise<Body> {
  const r = await c.call<Body>(
    ApiKey.Fetch,
    {
      maxWaitMs,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel,
      topics: [{ name: topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
    },
    maxWaitMs + 10_000,
  );
  const p = r.topics[0].partitions[0];
  expect(p.errorCode).toBe(0);
  return p;
}

/** The data records' values a fetch returned (control records left out), by offset. */
function dataOf(p: Body): string[] {
  return decodeRecords(p.records ?? Buffer.alloc(0))
    .filter((r) => r.key?.length !== 4 || /^[a-z]/.test(r.key.toString()))
    .map((r) => `${r.offset}:${r.value?.toString()}`);
}

async function latest(c: RawClient, isolationLevel: 0 | 1): Promise<number> {
  const r = await c.call<Body>(ApiKey.ListOffsets, {
    isolationLevel,
    topics: [{ name: topic, partitions: [{ partition: 0, timestamp: -1 }] }],
  });
  expect(r.topics[0].partitions[0].errorCode).toBe(0);
  return Number(r.topics[0].partitions[0].offset);
}

async function marker(
  c: RawClient,
  producerId: number,
  committed: boolean,
  coordinatorEpoch = 0,
): Promise<{ errorCode: number; errorMessage?: string }> {
  const r = await c.call<Body>(ApiKey.WriteTxnMarkers, {
    markers: [
      { producerId, producerEpoch: 0, committed, coordinatorEpoch, topics: [{ name: topic, partitions: [0] }] },
    ],
  });
  expect(r.markers[0].producerId).toBe(producerId);
  return r.markers[0].topics[0].partitions[0];
}

describe('transactions on a partition (standalone broker)', () => {
  it('read_committed stops at the open transaction, lists aborted ones, and survives kill -9', async () => {
    const broker = await BrokerProcess.start();
    brokers.push(broker);
    let c = await raw(broker);
    const created = await c.call<Body>(ApiKey.CreateTopics, { topics: [{ name: topic, numPartitions: 1 }] });
    expect(created.topics[0].errorCode).toBe(0);

    expect((await produce(c, values(['p0', 'p1']))).errorCode).toBe(0); // 0-1
    expect((await produce(c, tx(producerA, 0, ['a0', 'a1']))).baseOffset).toBe(2); // 2-3
    expect((await produce(c, tx(producerB, 0, ['b0']))).baseOffset).toBe(4); // 4
    expect((await produce(c, values(['p2']))).baseOffset).toBe(5); // 5
    // clients may not write markers, nor transactional batches without a producer id
    const forged = encodeTxnMarker({ producerId: producerA, producerEpoch: 0, committed: true, coordinatorEpoch: 0 });
    expect((await produce(c, forged)).errorCode).toBe(WireError.INVALID_RECORD);
    expect((await produce(c, values(['x'], { transactional: true }))).errorCode).toBe(WireError.INVALID_RECORD);

    const uncommitted = await fetch(c, 0, 0);
    expect(dataOf(uncommitted)).toEqual(['0:p0', '1:p1', '2:a0', '3:a1', '4:b0', '5:p2']);
    expect(Number(uncommitted.lastStableOffset)).toBe(2);
    const committed = await fetch(c, 0, 1);
    expect(dataOf(committed)).toEqual(['0:p0', '1:p1']);
    expect(Number(committed.lastStableOffset)).toBe(2);
    expect(committed.abortedTransactions).toEqual([]);
    expect(await latest(c, 0)).toBe(6);
    expect(await latest(c, 1)).toBe(2);

    // A aborts (marker at 6), B commits (marker at 7): everything is stable
    expect(await marker(c, producerA, false)).toMatchObject({ errorCode: 0 });
    expect(await marker(c, producerB, true)).toMatchObject({ errorCode: 0 });
    expect(await latest(c, 1)).toBe(8);
    const after = await fetch(c, 0, 1);
    expect(Number(after.lastStableOffset)).toBe(8);
    expect(after.abortedTransactions.map((t: Body) => [Number(t.producerId), Number(t.firstOffset)])).toEqual([
      [producerA, 2],
    ]);
    // a retried marker changes nothing; one from an older coordinator is fenced
    expect(await marker(c, producerB, true, 3)).toMatchObject({ errorCode: 0 });
    expect((await marker(c, producerB, true, 2)).errorCode).toBe(WireError.TRANSACTION_COORDINATOR_FENCED);
    expect(await latest(c, 1)).toBe(9);

    // C opens a transaction at 9 and the broker is killed
    expect((await produce(c, tx(producerC, 0, ['c0']))).baseOffset).toBe(9);
    expect(await latest(c, 1)).toBe(9);
    await broker.restart('SIGKILL');
    c = await raw(broker);
    expect(await latest(c, 0)).toBe(10);
    expect(await latest(c, 1)).toBe(9);
    const recovered = await fetch(c, 0, 1);
    expect(Number(recovered.lastStableOffset)).toBe(9);
    expect(recovered.abortedTransactions.map((t: Body) => Number(t.firstOffset))).toEqual([2]);

    // a read_committed long poll at the LSO is woken by the marker that ends C's transaction
    const poll = fetch(c, 9, 1, 30_000);
    const other = await raw(broker);
    expect(await marker(other, producerC, true)).toMatchObject({ errorCode: 0 });
    const woken = await poll;
    expect(dataOf(woken)).toContain('9:c0');
    expect(Number(woken.lastStableOffset)).toBe(11);
  }, 90_000);
});
