/**
 * A chaos load process: an idempotent acks=-1 producer of the native client
 * writing `name:seq` values round-robin over the topic's partitions (record
 * seq to partition seq % partitions), with `concurrency` send() calls
 * overlapping, and logging every acknowledgement and every definitive
 * failure (ProducerEvent). SIGTERM: stops sending, waits for what is in
 * flight, closes, reports "done" and exits 0.
 */
import { Sluice } from '../../../src/index.js';
import type { ProducerEvent } from '../events.js';
import { recordValue } from '../events.js';
import { JsonlWriter } from '../jsonl.js';
import { describeError, pacer, report, workerOptions } from './worker-io.js';

interface Options {
  brokers: string;
  topic: string;
  name: string;
  partitions: number;
  perSecond: number;
  concurrency: number;
  out: string;
}

const o = workerOptions<Options>();
const log = new JsonlWriter(o.out);
const sluice = new Sluice({ brokers: o.brokers, clientId: `chaos-${o.name}`, requestTimeoutMs: 10_000 });
const producer = sluice.producer({ acks: -1, idempotent: true, lingerMs: 2, timeoutMs: 10_000 });
let stopping = false;
let acked = 0;
let failed = 0;
const inFlight = new Set<Promise<void>>();
process.on('SIGTERM', () => {
  stopping = true;
});

function sendOne(seq: number): Promise<void> {
  const partition = seq % o.partitions;
  return producer
    .send({ topic: o.topic, messages: [{ key: o.name, value: recordValue(o.name, seq), partition }] })
    .then(
      ([meta]) => {
        acked++;
        const e: ProducerEvent = { ev: 'ack', t: Date.now(), producer: o.name, seq, partition, offset: meta?.offset };
        return log.write(e);
      },
      (err: unknown) => {
        failed++;
        const e: ProducerEvent = {
          ev: 'fail',
          t: Date.now(),
          producer: o.name,
          seq,
          partition,
          error: describeError(err),
        };
        return log.write(e);
      },
    );
}

const progress = setInterval(() => report({ ev: 'progress', acked, failed }), 1000);
report({ ev: 'ready' });
const pace = pacer(o.perSecond);
for (let seq = 0; !stopping; seq++) {
  while (inFlight.size >= o.concurrency) await Promise.race(inFlight);
  await pace();
  if (stopping) break;
  const p: Promise<void> = sendOne(seq).finally(() => inFlight.delete(p));
  inFlight.add(p);
}
await Promise.allSettled(inFlight);
await producer.close().catch(() => undefined);
await sluice.close().catch(() => undefined);
await log.close();
clearInterval(progress);
report({ ev: 'done', acked, failed });
process.exit(0);
