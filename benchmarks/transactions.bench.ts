/**
 * Transactional throughput against idempotent-only (`npm run bench:txn`,
 * issue 21): one standalone broker process, one client for both sides, the
 * same records sent the same way, interleaved within each round:
 *
 * - transactional: transactions of 1, 100 and 10,000 records (begin, the
 *   records in sends of at most 1,000, commit; EndTxn is answered once the
 *   decision is logged, the markers follow), one after another;
 * - idempotent-only: the same sends with an idempotent producer, no
 *   transaction.
 *
 * Both: acks=-1, 100-byte values, a fresh 1-partition topic per run, a
 * unit (a transaction, or the same sends) ended before the next begins.
 * The producer is connected and its producer id initialised before the
 * clock starts. After each run the partition's high watermark is checked:
 * the records, plus one commit marker per transaction on the transactional
 * side. Medians of BENCH_RUNS rounds.
 *
 * The client: Sluice's own on the native listener (BENCH_TXN_CLIENT=native,
 * the default) or kafkajs 2.2.4 on the Kafka listener (kafkajs).
 * Environment: BENCH_RUNS (default 3), BENCH_TXN_SIZES (default
 * 1,100,10000), BENCH_TXN_SCALE (multiplies the records per size, default 1:
 * 2,000 / 50,000 / 200,000), BENCH_VALUE_BYTES (default 100).
 */
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Sluice } from '../src/client/sluice.js';
import { BrokerProcess } from '../test/helpers/broker-process.js';
import { createTopic, topicName } from './lib/sluice-bench.js';
import { fmtFixed, fmtInt, median, renderTable } from './lib/stats.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}=${raw} is not a positive integer`);
  return n;
}

const runs = envInt('BENCH_RUNS', 3);
const valueBytes = envInt('BENCH_VALUE_BYTES', 100);
const scale = Number(process.env.BENCH_TXN_SCALE ?? '1');
if (!(scale > 0)) throw new Error(`BENCH_TXN_SCALE=${process.env.BENCH_TXN_SCALE} is not a positive number`);
const sizes = (process.env.BENCH_TXN_SIZES ?? '1,100,10000').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`BENCH_TXN_SIZES: ${s} is not a positive integer`);
  return n;
});
const clientName = process.env.BENCH_TXN_CLIENT ?? 'native';
if (clientName !== 'native' && clientName !== 'kafkajs')
  throw new Error(`BENCH_TXN_CLIENT=${clientName}: native or kafkajs`);
/** Records per send() (a 10,000-record transaction is 10 sends: a request stays under message.max.bytes). */
const sendRecordsMax = 1000;
/** Records of a run for each transaction size: enough transactions to time, a run of a few seconds here. */
const recordsFor = (size: number): number => {
  const base = size === 1 ? 2_000 : size <= 100 ? 50_000 : 200_000;
  return Math.max(size, Math.round((base * scale) / size) * size);
};

const values = Array.from({ length: 64 }, () => randomFillSync(Buffer.allocUnsafe(valueBytes)));
const messages = (from: number, count: number): { value: Buffer }[] =>
  Array.from({ length: count }, (_, i) => ({ value: values[(from + i) % values.length] as Buffer }));

/** The sends of one unit of `size` records (a transaction, or the same sends without one). */
function sendsOf(size: number): number[] {
  const out: number[] = [];
  for (let left = size; left > 0; left -= sendRecordsMax) out.push(Math.min(left, sendRecordsMax));
  return out;
}

let txnSeq = 0;

/** A producer of one run: units of records sent, each ended by end() (commit, or nothing when idempotent-only). */
interface BenchProducer {
  /** Sends one unit's sends and ends it: a transaction (begin, sends, commit) or the same sends alone. */
  unit(topic: string, sends: { value: Buffer }[][]): Promise<void>;
  close(): Promise<void>;
}

/**
 * kafkajs: one request in flight (its idempotent producer's rule), so a unit's sends go one after
 * another; the transactional id is initialised (InitProducerId) before the clock by an empty
 * transaction, which sends no EndTxn.
 */
async function kafkajsProducer(kafka: Kafka, transactional: boolean): Promise<BenchProducer> {
  const producer: Producer = transactional
    ? kafka.producer({
        transactionalId: `bench-txn-${process.pid}-${++txnSeq}`,
        idempotent: true,
        maxInFlightRequests: 1,
      })
    : kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  if (transactional) await (await producer.transaction()).abort();
  return {
    async unit(topic, sends) {
      const txn = transactional ? await producer.transaction() : undefined;
      for (const batch of sends) {
        const record = { topic, acks: -1, messages: batch };
        await (txn ? txn.send(record) : producer.send(record));
      }
      await txn?.commit();
    },
    close: () => producer.disconnect(),
  };
}

/**
 * Sluice's client on the native listener: a unit's sends are handed over at once (the producer
 * batches and pipelines them) and awaited together; commit waits for them as well. Initialised
 * before the clock likewise (an empty transaction ends without EndTxn).
 */
async function nativeProducer(client: Sluice, transactional: boolean): Promise<BenchProducer> {
  const options = { acks: -1 as const, batchSize: 1024 * 1024 };
  const producer = transactional
    ? client.producer({ ...options, transactionalId: `bench-txn-${process.pid}-${++txnSeq}` })
    : client.producer({ ...options, idempotent: true });
  if (transactional) await (await producer.transaction()).abort();
  return {
    async unit(topic, sends) {
      if (!transactional) {
        await Promise.all(sends.map((messages) => producer.send({ topic, messages })));
        return;
      }
      const txn = await producer.transaction();
      await Promise.all(sends.map((messages) => txn.send({ topic, messages })));
      await txn.commit();
    },
    close: () => producer.close(),
  };
}

/** One run: `records` records in units of `size`, transactional or idempotent-only; resolves with the seconds. */
async function runOnce(producer: BenchProducer, topic: string, size: number, records: number): Promise<number> {
  const started = performance.now();
  for (let sent = 0; sent < records; sent += size) {
    let offset = sent;
    const sends = sendsOf(size).map((count) => {
      const batch = messages(offset, count);
      offset += count;
      return batch;
    });
    await producer.unit(topic, sends);
  }
  return (performance.now() - started) / 1000;
}

async function highWatermark(client: Sluice, topic: string): Promise<number> {
  const d = await client.admin().describeTopic(topic);
  return d.partitions.reduce((sum, p) => sum + p.highWatermark, 0);
}

const broker = await BrokerProcess.start({
  overrides: [
    'log.flush.interval.messages=9223372036854775807',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
  ],
});
const client = new Sluice({ brokers: [broker.address] });
const kafka = new Kafka({
  clientId: 'sluice-txn-bench',
  brokers: [broker.kafkaBrokers],
  logLevel: logLevel.NOTHING,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
});
const rates = new Map(sizes.map((size) => [size, { idempotent: [] as number[], transactional: [] as number[] }]));
try {
  for (let round = 0; round < runs; round++) {
    for (const size of sizes) {
      const records = recordsFor(size);
      const r = rates.get(size) as { idempotent: number[]; transactional: number[] };
      for (const transactional of [false, true]) {
        const topic = topicName(transactional ? `txn-${size}` : `idem-${size}`);
        await createTopic(client, topic, 1);
        const producer =
          clientName === 'native'
            ? await nativeProducer(client, transactional)
            : await kafkajsProducer(kafka, transactional);
        const seconds = await runOnce(producer, topic, size, records).finally(() => producer.close());
        const expected = records + (transactional ? records / size : 0);
        const stored = await highWatermark(client, topic);
        if (stored !== expected) throw new Error(`${topic}: high watermark ${stored}, expected ${expected}`);
        (transactional ? r.transactional : r.idempotent).push(records / seconds);
      }
    }
    process.stderr.write(`round ${round + 1}/${runs} done\n`);
  }
} finally {
  await client.close();
  await broker.destroy();
}

const rows = sizes.map((size) => {
  const r = rates.get(size) as { idempotent: number[]; transactional: number[] };
  const idem = median(r.idempotent);
  const txn = median(r.transactional);
  return [
    fmtInt(size),
    fmtInt(recordsFor(size)),
    fmtInt(idem),
    fmtInt(txn),
    fmtInt(txn / size),
    fmtFixed(txn / idem, 2),
  ];
});
process.stdout.write(
  `${clientName === 'native' ? 'Sluice client on the native listener' : 'kafkajs on the Kafka listener'}, ${valueBytes} B values, acks=-1, 1 partition, medians of ${runs} (records/s)\n\n` +
    renderTable(['txn size', 'records', 'idempotent rec/s', 'transactional rec/s', 'txn/s', 'txn / idempotent'], rows) +
    '\n\n' +
    JSON.stringify({ client: clientName, valueBytes, runs, sizes, rates: Object.fromEntries(rates) }) +
    '\n',
);
