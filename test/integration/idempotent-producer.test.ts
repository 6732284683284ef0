/**
 * The idempotent producer against a real standalone broker process: the
 * broker's deduplication of a resent batch seen through the bare protocol, and
 * the client's producer keeping exactly one copy of every acknowledged record,
 * in order, while the broker is SIGKILLed and restarted mid-stream.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, Sluice } from '../../src/index.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { fetchRecords, RawClient } from '../helpers/raw-client.js';
import { expectSluiceError } from '../helpers/wire-bytes.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

const brokers: BrokerProcess[] = [];
const raws: RawClient[] = [];
const clients: Sluice[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const c of raws.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.destroy();
});

async function startBroker(overrides: string[] = []): Promise<BrokerProcess> {
  const broker = await BrokerProcess.start({ overrides });
  brokers.push(broker);
  return broker;
}

async function raw(broker: BrokerProcess): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  raws.push(c);
  return c;
}

async function createTopic(c: RawClient, name: string, partitions = 1): Promise<void> {
  const r = await c.call<Body>(ApiKey.CreateTopics, { topics: [{ name, numPartitions: partitions }] });
  expect(r.topics[0].errorCode).toBe(0);
}

/** Every record value of a partition, in offset order, read with bare fetches. */
async function readValues(c: RawClient, topic: string, partition = 0): Promise<string[]> {
  const values: string[] = [];
  let offset = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const records = (await fetchRecords(c, topic, partition, offset)).records.filter((rec) => rec.offset >= offset);
    if (records.length === 0) break;
    for (const rec of records) values.push(rec.value?.toString() ?? '');
    offset = (records.at(-1)?.offset ?? offset) + 1;
  }
  return values;
}

function produceBody(topic: string, records: Buffer) {
  return { acks: -1, timeoutMs: 5000, topics: [{ name: topic, partitions: [{ partition: 0, records }] }] };
}

describe('idempotent producer: the broker', () => {
  it('appends a resent stamped batch once and answers both sends with the same offset', async () => {
    const broker = await startBroker();
    const c = await raw(broker);
    await createTopic(c, 'dedup');
    const init = await c.call<Body>(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 });
    expect(init.errorCode).toBe(0);
    expect(init.producerId).toBeGreaterThanOrEqual(0);
    expect(init.producerEpoch).toBe(0);
    const second = await c.call<Body>(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 });
    expect(second.producerId).not.toBe(init.producerId);

    const stamp = { producerId: init.producerId, producerEpoch: 0 };
    const plain = encodeRecordBatch([{ value: Buffer.from('plain') }]);
    expect((await c.call<Body>(ApiKey.Produce, produceBody('dedup', plain))).topics[0].partitions[0].errorCode).toBe(0);
    const batch = encodeRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }], {
      ...stamp,
      baseSequence: 0,
    });
    const first = (await c.call<Body>(ApiKey.Produce, produceBody('dedup', batch))).topics[0].partitions[0];
    const again = (await c.call<Body>(ApiKey.Produce, produceBody('dedup', batch))).topics[0].partitions[0];
    expect(first.errorCode).toBe(0);
    expect(again.errorCode).toBe(0);
    expect(first.baseOffset).toBe(1);
    expect(again.baseOffset).toBe(1);
    expect(await readValues(c, 'dedup')).toEqual(['plain', 'a', 'b']);

    // a gap in the sequence is refused; a transactional InitProducerId goes to the id's coordinator, found first
    const gap = encodeRecordBatch([{ value: Buffer.from('c') }], { ...stamp, baseSequence: 5 });
    const refused = (await c.call<Body>(ApiKey.Produce, produceBody('dedup', gap))).topics[0].partitions[0];
    expect(refused.errorCode).toBe(WireError.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const tx = await c.call<Body>(ApiKey.InitProducerId, { transactionalId: 'tx', transactionTimeoutMs: 60_000 });
    expect(tx.errorCode).toBe(WireError.NOT_COORDINATOR);
    expect(await readValues(c, 'dedup')).toEqual(['plain', 'a', 'b']);

    // after a crash the broker still knows the batch (state rebuilt from the log), and never reuses a producer id
    c.close();
    await broker.restart('SIGKILL');
    const d = await raw(broker);
    const afterCrash = (await d.call<Body>(ApiKey.Produce, produceBody('dedup', batch))).topics[0].partitions[0];
    expect(afterCrash).toMatchObject({ errorCode: 0, baseOffset: 1 });
    const next = encodeRecordBatch([{ value: Buffer.from('c') }], { ...stamp, baseSequence: 2 });
    expect((await d.call<Body>(ApiKey.Produce, produceBody('dedup', next))).topics[0].partitions[0]).toMatchObject({
      errorCode: 0,
      baseOffset: 3,
    });
    expect(await readValues(d, 'dedup')).toEqual(['plain', 'a', 'b', 'c']);
    const third = await d.call<Body>(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 });
    expect(third.producerId).toBeGreaterThan(Math.max(init.producerId, second.producerId));
  });
});

describe('idempotent producer: the client', () => {
  it('refuses acks 0 and 1', async () => {
    const sluice = new Sluice({ brokers: '127.0.0.1:1' });
    clients.push(sluice);
    expect(() => sluice.producer({ idempotent: true, acks: 1 })).toThrow(/acks -1/);
    expectSluiceError(() => sluice.producer({ idempotent: true, acks: 0 }), ErrorCode.InvalidArgument);
    sluice.producer({ idempotent: true, acks: 'all' });
    sluice.producer({ idempotent: true });
  });

  it('keeps exactly one copy of every acknowledged record, in order, across SIGKILLs of the broker', async () => {
    // an fsync before every acknowledgement: a batch is in the log (the page cache survives SIGKILL)
    // well before its response leaves, so a kill catches appended but unacknowledged batches
    const broker = await startBroker(['log.flush.interval.messages=1']);
    const partitions = 4;
    const admin = await raw(broker);
    await createTopic(admin, 'exactly', partitions);
    admin.close();
    const sluice = new Sluice({ brokers: broker.address, clientId: 'idem-test', retries: 50, retryBackoffMs: 50 });
    clients.push(sluice);
    const producer = sluice.producer({ idempotent: true, lingerMs: 1, retries: 100, retryBackoffMs: 50 });

    const total = 4000;
    const acked = new Map<string, number>();
    const failures: Error[] = [];
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < total) {
        const i = sent++;
        const value = `r${String(i).padStart(5, '0')}`;
        try {
          const [meta] = await producer.send({ topic: 'exactly', messages: [{ value, partition: i % partitions }] });
          acked.set(value, meta?.offset ?? -1);
        } catch (err) {
          failures.push(err as Error);
        }
      }
    };
    // kills at moments unrelated to any acknowledgement, while requests of every partition are under way
    let kills = 0;
    const killer = async (): Promise<void> => {
      for (const fraction of [0.25, 0.6]) {
        while (acked.size < total * fraction && failures.length === 0) await sleep(1);
        await sleep(3);
        await broker.restart('SIGKILL');
        kills++;
      }
    };
    // many sends in flight at once, so every partition has a batch under way when the broker dies
    await Promise.all([killer(), ...Array.from({ length: 40 }, worker)]);
    await producer.close();
    expect(failures.map((e) => e.message)).toEqual([]);
    expect(kills).toBe(2);
    expect(acked.size).toBe(total);

    const reader = await raw(broker);
    for (let partition = 0; partition < partitions; partition++) {
      const values = await readValues(reader, 'exactly', partition);
      const mine = [...acked.keys()].filter((v) => Number(v.slice(1)) % partitions === partition);
      // exactly once: no value twice, and every acknowledged value is there
      expect(new Set(values).size).toBe(values.length);
      expect([...values].sort()).toEqual([...mine].sort());
      // in order: one partition's sends were issued in value order and the producer keeps that order
      expect(values).toEqual([...values].sort());
      // each record sits at the offset its acknowledgement reported
      expect(values.map((v) => acked.get(v))).toEqual(values.map((_, offset) => offset));
    }
  }, 120_000);
});
