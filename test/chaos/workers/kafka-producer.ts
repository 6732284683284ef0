/**
 * A chaos load process on the Kafka listener: a kafkajs 2.2.4 idempotent
 * producer (acks -1, one request in flight) writing `name:seq` values, one
 * lane per partition, each lane sending `batch` records of its partition
 * per send() in turn. One partition per send() works around a kafkajs bug,
 * not a broker one: a multi-partition send() may resolve without re-sending
 * a partition whose leader moved (tulios/kafkajs#1798). Each lane has its
 * own producer: after a fatal idempotence error (OUT_OF_ORDER_SEQUENCE_NUMBER,
 * which kafkajs never gets over) the lane replaces it, as an application
 * would, and goes on with a new producer id. Logs every acknowledgement
 * (baseOffset + j for the send's j-th record) and every failed send.
 * SIGTERM: stops, waits for the lanes, disconnects, exits 0.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { ProducerEvent } from '../events.js';
import { recordValue } from '../events.js';
import { JsonlWriter } from '../jsonl.js';
import { describeError, pacer, report, workerOptions } from './worker-io.js';

interface Options {
  kafkaBrokers: string[];
  topic: string;
  name: string;
  partitions: number;
  perSecond: number;
  batch: number;
  out: string;
}

const o = workerOptions<Options>();
const log = new JsonlWriter(o.out);
const kafka = new Kafka({
  clientId: `chaos-${o.name}`,
  brokers: o.kafkaBrokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 10_000,
  // enough to outlast a failover (ZooKeeper session 3 s, election, ISR shrink after 3 s)
  retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
});
const newProducer = () => kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
/** Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER, after which kafkajs's producer fails every send to the partition. */
const outOfOrderSequence = 45;
let stopping = false;
let acked = 0;
let failed = 0;
let nextSeq = 0;
process.on('SIGTERM', () => {
  stopping = true;
});

// each lane paces itself at its share of the rate, counted in records
const pacers = Array.from({ length: o.partitions }, () => pacer(o.perSecond / o.partitions / o.batch));

async function lane(partition: number): Promise<void> {
  const pace = pacers[partition] as () => Promise<void>;
  let producer = newProducer();
  await producer.connect();
  while (!stopping) {
    await pace();
    if (stopping) return;
    const seqs = Array.from({ length: o.batch }, () => nextSeq++);
    try {
      const meta = await producer.send({
        topic: o.topic,
        acks: -1,
        timeout: 10_000,
        messages: seqs.map((seq) => ({ key: o.name, value: recordValue(o.name, seq), partition })),
      });
      const mine = meta.find((m) => m.partition === partition);
      if (mine?.errorCode !== 0 || mine.baseOffset === undefined)
        throw new Error(`send() resolved without an acknowledgement for partition ${partition}`);
      const base = Number(mine.baseOffset);
      const t = Date.now();
      for (const [j, seq] of seqs.entries()) {
        acked++;
        const e: ProducerEvent = { ev: 'ack', t, producer: o.name, seq, partition, offset: base + j };
        await log.write(e);
      }
    } catch (err) {
      const t = Date.now();
      for (const seq of seqs) {
        failed++;
        const e: ProducerEvent = { ev: 'fail', t, producer: o.name, seq, partition, error: describeError(err) };
        await log.write(e);
      }
      if ((err as { code?: unknown }).code === outOfOrderSequence) {
        report({ ev: 'error', error: `partition ${partition}: ${describeError(err)}; a new producer takes over` });
        await producer.disconnect().catch(() => undefined);
        producer = newProducer();
        await producer.connect().catch(() => undefined);
      }
    }
  }
  await producer.disconnect().catch(() => undefined);
}

const progress = setInterval(() => report({ ev: 'progress', acked, failed }), 1000);
report({ ev: 'ready' });
await Promise.all(Array.from({ length: o.partitions }, (_, p) => lane(p)));
await log.close();
clearInterval(progress);
report({ ev: 'done', acked, failed });
process.exit(0);
