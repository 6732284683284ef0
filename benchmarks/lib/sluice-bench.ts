/**
 * Sluice workloads, driven through the client library (src/client) against
 * real broker processes: unthrottled produce with many sends outstanding,
 * consume from the beginning, end-to-end latency at a fixed rate, and a
 * producer outrunning a deliberately slow consumer.
 */
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Sluice } from '../../src/client/sluice.js';
import type { Acks, ProducerMessage, ProducerOptions } from '../../src/client/types.js';
import { sleep } from './procs.js';

export interface ThroughputRun {
  records: number;
  seconds: number;
  /** Set when the run stopped at its time cap before `records`. */
  capped: boolean;
}

let topicSeq = 0;
export function topicName(what: string): string {
  topicSeq++;
  return `bench-${what}-${process.pid}-${topicSeq}`;
}

export async function createTopic(
  client: Sluice,
  topic: string,
  partitions: number,
  replicationFactor = 1,
): Promise<void> {
  await client.admin().createTopic({ topic, partitions, replicationFactor });
}

export async function deleteTopic(client: Sluice, topic: string): Promise<void> {
  try {
    await client.admin().deleteTopic(topic);
  } catch {
    // best effort: the broker's data dir goes away at the end anyway
  }
}

/** `count` messages whose values cycle through 64 random buffers of `valueBytes` (null keys: sticky partitioning). */
function messagesOf(count: number, valueBytes: number): ProducerMessage[] {
  const values = Array.from({ length: 64 }, () => randomFillSync(Buffer.allocUnsafe(valueBytes)));
  return Array.from({ length: count }, (_, i) => ({ value: values[i % values.length] as Buffer }));
}

export interface ProduceOptions {
  topic: string;
  acks: Acks;
  valueBytes: number;
  records: number;
  maxSeconds: number;
  batchSize: number;
  /** Records handed to one send() call. */
  perSend?: number;
  /** send() calls outstanding at once. */
  window?: number;
  /** Called once per completed send (e.g. to sample memory). */
  onProgress?: (acked: number) => void;
}

/**
 * Sends `records` records (or as many as fit in `maxSeconds`) with `window`
 * send() calls outstanding; the time runs from the first send until the last
 * one resolved (acknowledged, or written for acks 0).
 */
export async function produceRun(client: Sluice, o: ProduceOptions): Promise<ThroughputRun> {
  const perSend = o.perSend ?? Math.max(50, Math.min(1000, Math.floor((128 * 1024) / (o.valueBytes + 21))));
  const window = o.window ?? 64;
  const options: ProducerOptions = {
    acks: o.acks,
    batchSize: o.batchSize,
    lingerMs: 0,
    bufferMemory: 128 * 1024 * 1024,
  };
  const producer = client.producer(options);
  const messages = messagesOf(perSend, o.valueBytes);
  try {
    // one send first: metadata and connection are set up before the clock starts
    await producer.send({ topic: o.topic, messages: messages.slice(0, 1) });
    let issued = 0;
    let acked = 0;
    let outstanding = 0;
    let failure: Error | null = null;
    let wake: (() => void) | null = null;
    const start = performance.now();
    const deadline = start + o.maxSeconds * 1000;
    let capped = false;
    while (issued < o.records && failure === null) {
      if (performance.now() > deadline) {
        capped = true;
        break;
      }
      const n = Math.min(perSend, o.records - issued);
      issued += n;
      outstanding++;
      producer.send({ topic: o.topic, messages: n === perSend ? messages : messages.slice(0, n) }).then(
        () => {
          acked += n;
          outstanding--;
          o.onProgress?.(acked);
          wake?.();
        },
        (err: Error) => {
          failure ??= err;
          outstanding--;
          wake?.();
        },
      );
      while (outstanding >= window && failure === null) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    }
    while (outstanding > 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
    const seconds = (performance.now() - start) / 1000;
    if (failure) throw failure;
    return { records: acked, seconds, capped };
  } finally {
    await producer.close().catch(() => undefined);
  }
}

/** Reads the topic's partitions from the beginning until `records` records arrived (or `maxSeconds` passed). */
export async function consumeRun(
  client: Sluice,
  topic: string,
  partitions: number,
  records: number,
  maxSeconds: number,
): Promise<ThroughputRun> {
  const consumer = client.consumer({ maxWaitMs: 100 });
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' })));
    let got = 0;
    let capped = false;
    const start = performance.now();
    const deadline = start + maxSeconds * 1000;
    while (got < records) {
      if (performance.now() > deadline) {
        capped = true;
        break;
      }
      const batch = await consumer.poll({ maxRecords: 10_000 });
      got += batch.length;
    }
    return { records: got, seconds: (performance.now() - start) / 1000, capped };
  } finally {
    await consumer.close().catch(() => undefined);
  }
}

export interface LatencyRun {
  rate: number;
  sent: number;
  received: number;
  /** Latencies (ms) after the warm-up, sorted. */
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/**
 * Producer → broker → consumer at `rate` records/s for `seconds` (acks 1,
 * default batching, no linger). Each 100-byte value carries its send time
 * (performance.now(), same process); the consumer computes the latency.
 * Records sent in the first `warmupSeconds` do not count.
 */
export async function latencyRun(
  client: Sluice,
  topic: string,
  rate: number,
  seconds: number,
  warmupSeconds = 0.5,
): Promise<LatencyRun> {
  const producer = client.producer({ acks: 1, lingerMs: 0 });
  const consumer = client.consumer({ maxWaitMs: 100 });
  const total = Math.round(rate * (seconds + warmupSeconds));
  const latencies = new Float64Array(total);
  let samples = 0;
  let received = 0;
  let sent = 0;
  let failure: Error | null = null;
  try {
    await producer.send({ topic, messages: [{ value: Buffer.alloc(100) }] });
    consumer.assign([{ topic, partition: 0, offset: 'latest' }]);
    // the consumer's first poll resolves 'latest' before anything is timed
    await consumer.poll({ maxWaitMs: 0 });
    let consuming = true;
    const consumeLoop = (async () => {
      while (consuming) {
        const batch = await consumer.poll({ maxWaitMs: 50 });
        const now = performance.now();
        for (const r of batch) {
          const v = r.value;
          if (!v || v.length < 9) continue;
          received++;
          if (v[8] === 1 && samples < latencies.length) latencies[samples++] = now - v.readDoubleLE(0);
        }
        if (received >= sent && sent >= total) break;
      }
    })();
    const start = performance.now();
    const warmupEnd = start + warmupSeconds * 1000;
    const body = Buffer.alloc(91, 0x78);
    while (sent < total && failure === null) {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1) - sent;
      if (due > 0) {
        const counted = now >= warmupEnd ? 1 : 0;
        const messages: ProducerMessage[] = [];
        for (let i = 0; i < due; i++) {
          const value = Buffer.allocUnsafe(100);
          value.writeDoubleLE(performance.now(), 0);
          value[8] = counted;
          body.copy(value, 9);
          messages.push({ value });
        }
        sent += due;
        producer.send({ topic, messages }).catch((err: Error) => {
          failure ??= err;
        });
      }
      await sleep(1);
    }
    // wait (bounded) for the consumer to see everything sent
    const waitUntil = performance.now() + 10_000;
    while (received < sent && performance.now() < waitUntil && failure === null) await sleep(20);
    consuming = false;
    await consumeLoop;
    if (failure) throw failure;
  } finally {
    await producer.close().catch(() => undefined);
    await consumer.close().catch(() => undefined);
  }
  const sorted = latencies.slice(0, samples).sort();
  return {
    rate,
    sent,
    received,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    samples,
  };
}

export interface BacklogRun {
  seconds: number;
  produced: number;
  consumed: number;
  /** Broker RSS samples (MiB) over the run. */
  rssStartMiB: number;
  rssMaxMiB: number;
  rssEndMiB: number;
  rssMaxFirstHalfMiB: number;
  rssMaxSecondHalfMiB: number;
  /** This (client) process's RSS at most. */
  clientRssMaxMiB: number;
  bounded: boolean;
}

/**
 * A producer at full speed (acks 1) against a consumer that reads at most
 * 1,000 records per poll and sleeps 20 ms between polls (≤ 50,000 records/s),
 * for `seconds`; the broker's RSS is sampled throughout. Bounded: the RSS
 * stays ≤ `limitMiB` and does not grow by more than 32 MiB from the first
 * half of the run to the second.
 */
export async function backlogRun(
  client: Sluice,
  topic: string,
  seconds: number,
  brokerRss: () => number,
  limitMiB: number,
): Promise<BacklogRun> {
  const mib = (b: number): number => b / (1024 * 1024);
  const consumer = client.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
  const samples: { t: number; rss: number }[] = [];
  let clientRssMax = 0;
  const start = performance.now();
  const sample = (): void => {
    const rss = brokerRss();
    if (Number.isFinite(rss)) samples.push({ t: performance.now() - start, rss });
    clientRssMax = Math.max(clientRssMax, process.memoryUsage.rss());
  };
  sample();
  const timer = setInterval(sample, 200);
  let consumed = 0;
  let reading = true;
  const slowReader = (async () => {
    while (reading) {
      const batch = await consumer.poll({ maxRecords: 1000, maxWaitMs: 100 });
      consumed += batch.length;
      await sleep(20);
    }
  })();
  let produced = 0;
  try {
    const run = await produceRun(client, {
      topic,
      acks: 1,
      valueBytes: 100,
      records: Number.MAX_SAFE_INTEGER,
      maxSeconds: seconds,
      batchSize: 1024 * 1024,
    });
    produced = run.records;
  } finally {
    reading = false;
    await slowReader.catch(() => undefined);
    clearInterval(timer);
    sample();
    await consumer.close().catch(() => undefined);
  }
  const total = (performance.now() - start) / 1000;
  const half = (total * 1000) / 2;
  const maxOf = (xs: { rss: number }[]): number => xs.reduce((m, s) => Math.max(m, s.rss), 0);
  const first = maxOf(samples.filter((s) => s.t <= half));
  const second = maxOf(samples.filter((s) => s.t > half));
  const rssMax = maxOf(samples);
  return {
    seconds: total,
    produced,
    consumed,
    rssStartMiB: mib(samples[0]?.rss ?? Number.NaN),
    rssMaxMiB: mib(rssMax),
    rssEndMiB: mib(samples[samples.length - 1]?.rss ?? Number.NaN),
    rssMaxFirstHalfMiB: mib(first),
    rssMaxSecondHalfMiB: mib(second),
    clientRssMaxMiB: mib(clientRssMax),
    bounded: mib(rssMax) <= limitMiB && mib(second) <= mib(first) + 32,
  };
}
