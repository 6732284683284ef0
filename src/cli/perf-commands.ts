/**
 * `sluice perf produce|consume|e2e`: throughput and latency, after Kafka's
 * kafka-producer-perf-test, kafka-consumer-perf-test and end-to-end latency
 * tools. A progress line every 5 s, then the CONTRACT's final line; --json
 * adds one JSON object after it.
 *
 * produce: fixed-size payloads built once; records go out in chunks (one
 * send() call each) with a bounded number of chunks unacknowledged, so the
 * producer always has work without the perf tool queueing without bound. A
 * record's latency is its chunk's acknowledgement time minus the time its
 * send() was called. With --throughput R the chunks are paced to R records/s
 * against the start time (Kafka's ThroughputThrottler: sleep when ahead).
 *
 * e2e: the producer writes its send time (epoch ms, a float64) into the first
 * 8 bytes of each value; a consumer assigned to every partition at its log end
 * reads them back and records receive time minus that stamp. With
 * --warmup-records W (Kafka's producer perf test option, KIP-1052) the first W
 * records are sent and received the same way but left out of the final line's
 * figures: a fresh process runs its first few hundred milliseconds unoptimised
 * (JIT), which at 100,000 records/s is several percent of a 5 s run's records
 * and would otherwise decide its p99.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { Consumer } from '../client/consumer.js';
import type { Producer } from '../client/producer.js';
import type { Sluice } from '../client/sluice.js';
import type { ProducerMessage, ProducerOptions, RecordMetadata, TopicDescription } from '../client/types.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { perfKeysMax, perfVerifyRecordsMax } from '../shared/limits.js';
import { badValue, parseAcks, parseInteger } from './cli-args.js';
import { describeExisting, globalsOf, withClient } from './cli-client.js';
import { flushStdout, writeLine } from './cli-output.js';
import type { LatencyHistogram, LatencySummary } from './perf-histogram.js';
import {
  AcknowledgementLog,
  recordIdBytes,
  stampRecordId,
  type VerifyCounts,
  verifyAcknowledgements,
  verifyLine,
} from './perf-verify.js';

/** Kafka's perf tools report every 5 s. */
const reportIntervalMs = 5_000;
const mebibyte = 1024 * 1024;
/** Records per send() call when unthrottled. */
const chunkRecordsMax = 1_000;
/** Bytes of records sent and not yet acknowledged that the tool allows itself (the producer's own buffer bounds it too). */
const inFlightBytesMax = 16 * mebibyte;
const inFlightChunksMin = 2;
const inFlightChunksMax = 64;
/** Distinct payloads cycled through by perf produce (fewer for large records). */
const payloadPoolMax = 16;
const payloadPoolBytesMax = 16 * mebibyte;
/** Kafka's default max.request.size. */
const recordSizeMax = 1024 * 1024;
const numRecordsMax = Number.MAX_SAFE_INTEGER;
const throughputMax = 1_000_000_000;
const timeoutMsMax = 24 * 3600 * 1000;
/** Kafka's consumer perf test gives up after 10 s without a record. */
const idleTimeoutMsDefault = 10_000;
/** perf consume with --group: the longest the first join may take. */
const groupJoinWaitMsMax = 60_000;
/** Longest one poll waits, so idle timeouts are noticed promptly. */
const pollWaitMs = 500;
/** e2e polls briefly: a poll's wait is the fetch's long-poll wait, not added latency, but ends the loop promptly. */
const e2ePollWaitMs = 100;
const pollRecordsMax = 10_000;
/** Bytes of the e2e send-time stamp at the start of each value. */
const stampBytes = 8;

/** Epoch milliseconds with sub-millisecond precision. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Loaded by the perf commands only: hdr-histogram-js takes tens of ms to load, which no other command should pay. */
async function newHistogram(): Promise<LatencyHistogram> {
  const { LatencyHistogram } = await import('./perf-histogram.js');
  return new LatencyHistogram();
}

function fixed(n: number): string {
  return Number.isFinite(n) ? n.toFixed(2) : '0.00';
}

function perSecond(amount: number, ms: number): number {
  return ms > 0 ? (amount * 1000) / ms : 0;
}

/** `N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency` (no period). */
function rateAndLatency(verb: string, records: number, ms: number, bytes: number, avgMs: number, maxMs: number) {
  return (
    `${records} records ${verb}, ${fixed(perSecond(records, ms))} records/sec ` +
    `(${fixed(perSecond(bytes, ms) / mebibyte)} MB/sec), ${fixed(avgMs)} ms avg latency, ${fixed(maxMs)} ms max latency`
  );
}

function percentiles(s: LatencySummary): string {
  return `${fixed(s.p50)} ms 50th, ${fixed(s.p95)} ms 95th, ${fixed(s.p99)} ms 99th, ${fixed(s.p999)} ms 99.9th`;
}

function round2(n: number): number {
  return Number(fixed(n));
}

/** Counts of one 5 s reporting window (Kafka prints per-window figures while running). */
class Window {
  private start = performance.now();
  private records = 0;
  private bytes = 0;
  private latencySum = 0;
  private latencyMax = 0;

  constructor(
    private readonly verb: string,
    private readonly withLatency: boolean,
  ) {}

  /** `count` records of `bytes` in all, whose latencies add up to `latencySum` ms, the largest `latencyMax`. */
  add(count: number, bytes: number, latencySum = 0, latencyMax = 0): void {
    this.records += count;
    this.bytes += bytes;
    this.latencySum += latencySum;
    if (latencyMax > this.latencyMax) this.latencyMax = latencyMax;
    const now = performance.now();
    if (now - this.start >= reportIntervalMs) {
      this.print(now);
      this.start = now;
      this.records = 0;
      this.bytes = 0;
      this.latencySum = 0;
      this.latencyMax = 0;
    }
  }

  private print(now: number): void {
    const ms = now - this.start;
    if (!this.withLatency) {
      void writeLine(
        `${this.records} records ${this.verb}, ${fixed(perSecond(this.records, ms))} records/sec ` +
          `(${fixed(perSecond(this.bytes, ms) / mebibyte)} MB/sec).`,
      );
      return;
    }
    const avg = this.records === 0 ? 0 : this.latencySum / this.records;
    void writeLine(`${rateAndLatency(this.verb, this.records, ms, this.bytes, avg, this.latencyMax)}.`);
  }
}

/**
 * Paces records to `rate` per second from the start (rate < 0: no pacing):
 * before record `sent` goes out, sleeps until `sent / rate` seconds have passed.
 */
class Pacer {
  private start = performance.now();

  constructor(private readonly rate: number) {}

  /** The schedule starts now (call it right before the first send). */
  begin(): void {
    this.start = performance.now();
  }

  async wait(sent: number): Promise<void> {
    if (this.rate < 0) return;
    const due = this.start + (sent * 1000) / this.rate;
    const ahead = due - performance.now();
    if (ahead >= 1) await sleep(Math.floor(ahead));
  }

  /** Records per send() call: unthrottled, the most; paced, about one millisecond's worth. */
  chunkRecords(numRecords: number): number {
    const perMs = this.rate < 0 ? chunkRecordsMax : Math.ceil(this.rate / 1000);
    return Math.max(1, Math.min(chunkRecordsMax, perMs, numRecords));
  }
}

/** A bound on outstanding chunks: take() waits while `max` are out. */
class InFlight {
  private out = 0;
  private wake: (() => void) | null = null;

  constructor(readonly max: number) {}

  get count(): number {
    return this.out;
  }

  async take(): Promise<void> {
    while (this.out >= this.max) await this.changed();
    this.out++;
  }

  release(): void {
    this.out--;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async drain(): Promise<void> {
    while (this.out > 0) await this.changed();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }
}

function inFlightChunks(chunkRecords: number, recordSize: number): number {
  const byBytes = Math.floor(inFlightBytesMax / Math.max(1, chunkRecords * recordSize));
  return Math.max(inFlightChunksMin, Math.min(inFlightChunksMax, byBytes));
}

/** Random uppercase letters, as Kafka's perf producer sends. */
function payload(size: number): Buffer {
  const b = randomBytes(size);
  for (let i = 0; i < size; i++) b[i] = 65 + ((b[i] as number) % 26);
  return b;
}

function optionalInt(text: string | undefined, what: string, min: number, max: number): number | undefined {
  return text === undefined ? undefined : parseInteger(text, what, min, max);
}

function parseThroughput(text: string): number {
  const rate = parseInteger(text, '--throughput', -1, throughputMax);
  if (rate === 0) throw badValue('--throughput must be -1 (unthrottled) or a positive records/s rate, not 0');
  return rate;
}

function checkTopic(topic: string): string {
  if (topic.trim().length === 0) throw badValue('--topic must not be empty');
  return topic;
}

function producerOptions(opts: { acks: string; batchSize?: string; lingerMs?: string }): ProducerOptions {
  const options: ProducerOptions = { acks: parseAcks(opts.acks) };
  const batchSize = optionalInt(opts.batchSize, '--batch-size', 1, 64 * mebibyte);
  const lingerMs = optionalInt(opts.lingerMs, '--linger-ms', 0, 60_000);
  if (batchSize !== undefined) options.batchSize = batchSize;
  if (lingerMs !== undefined) options.lingerMs = lingerMs;
  return options;
}

// ---- perf produce ----

interface ProducePerfOptions {
  topic: string;
  numRecords: string;
  recordSize: string;
  throughput: string;
  acks: string;
  batchSize?: string;
  lingerMs?: string;
  json?: boolean;
  verify?: boolean;
  keys?: string;
}

export interface ProducePerfResult {
  records: number;
  elapsedMs: number;
  bytes: number;
  latency: LatencySummary;
}

/** --verify: each record's value starts with its id (run tag, sequence number); its acknowledgement is kept. */
export interface ProducePerfVerify {
  log: AcknowledgementLog;
  runTag: number;
}

/** Chunks of records with their own value buffers (ids stamped in), each reused once its send() has settled. */
class StampedChunks {
  private readonly free: Slot[];

  constructor(
    private readonly topic: string,
    slots: number,
    chunk: number,
    recordSize: number,
    private readonly runTag: number,
  ) {
    this.free = Array.from({ length: slots }, () => {
      const values = Array.from({ length: chunk }, () => payload(recordSize));
      return { record: { topic, messages: values.map((value) => ({ value })) }, values };
    });
  }

  /** A free slot holding records firstId..firstId+count-1 (one free slot per chunk in flight). */
  take(firstId: number, count: number): { slot: Slot; record: Slot['record'] } {
    const slot = this.free.pop() as Slot;
    for (let i = 0; i < count; i++) stampRecordId(slot.values[i] as Buffer, this.runTag, firstId + i);
    const record =
      count === slot.values.length
        ? slot.record
        : { topic: this.topic, messages: slot.record.messages.slice(0, count) };
    return { slot, record };
  }

  give(slot: Slot): void {
    this.free.push(slot);
  }
}

/**
 * The chunks' messages, built once (send() reads the messages before it
 * returns, and the payloads are never changed): one chunk without keys; with
 * `keys` distinct keys, enough chunks to cycle through every key once.
 */
function perfChunks(chunk: number, recordSize: number, keys: number): ProducerMessage[][] {
  const poolSize = Math.max(1, Math.min(payloadPoolMax, Math.floor(payloadPoolBytesMax / Math.max(1, recordSize))));
  const payloads = Array.from({ length: poolSize }, () => payload(recordSize));
  if (keys <= 0) return [Array.from({ length: chunk }, (_, i) => ({ value: payloads[i % poolSize] as Buffer }))];
  const keyBytes = Array.from({ length: keys }, (_, i) => Buffer.from(`key-${i}`));
  const rounds = Math.ceil(keys / chunk);
  return Array.from({ length: rounds }, (_, r) =>
    Array.from({ length: chunk }, (_, i) => ({
      key: keyBytes[(r * chunk + i) % keys] as Buffer,
      value: payloads[i % poolSize] as Buffer,
    })),
  );
}

/**
 * Sends `numRecords` records of `recordSize` bytes; the promise of the chunk
 * in flight settles them. With `verify`, each record carries its id and each
 * acknowledgement goes into `verify.log`. With `keys` > 0 the records carry
 * keys cycling through that many distinct ones (spread over the partitions
 * by the key's hash).
 */
export async function producePerf(
  producer: Producer,
  topic: string,
  numRecords: number,
  recordSize: number,
  throughput: number,
  verify?: ProducePerfVerify,
  keys = 0,
): Promise<ProducePerfResult> {
  const pacer = new Pacer(throughput);
  const chunk = pacer.chunkRecords(numRecords);
  const chunks = verify ? [[]] : perfChunks(chunk, recordSize, keys);
  let nextChunk = 0;
  const inFlight = new InFlight(inFlightChunks(chunk, recordSize));
  const stamped = verify ? new StampedChunks(topic, inFlight.max, chunk, recordSize, verify.runTag) : undefined;
  const histogram = await newHistogram();
  const window = new Window('sent', true);
  let failure: unknown;
  const start = performance.now();
  pacer.begin();
  let sent = 0;
  while (sent < numRecords && failure === undefined) {
    await pacer.wait(sent);
    await inFlight.take();
    if (failure !== undefined) {
      inFlight.release();
      break;
    }
    const count = Math.min(chunk, numRecords - sent);
    const firstId = sent;
    const taken = stamped?.take(firstId, count);
    const messages = chunks[nextChunk] as ProducerMessage[];
    nextChunk = (nextChunk + 1) % chunks.length;
    const record = taken ? taken.record : { topic, messages: count === chunk ? messages : messages.slice(0, count) };
    const at = performance.now();
    producer.send(record).then(
      (acknowledged) => {
        const latency = performance.now() - at;
        histogram.record(latency, count);
        window.add(count, count * recordSize, latency * count, latency);
        if (verify && taken) {
          try {
            for (let i = 0; i < count; i++) {
              const a = acknowledged[i] as RecordMetadata;
              verify.log.record(firstId + i, a.partition, a.offset);
            }
          } catch (err) {
            failure ??= err;
          }
          stamped?.give(taken.slot);
        }
        inFlight.release();
      },
      (err: unknown) => {
        failure ??= err;
        if (taken) stamped?.give(taken.slot);
        inFlight.release();
      },
    );
    sent += count;
  }
  await inFlight.drain();
  await producer.flush();
  const elapsedMs = performance.now() - start;
  if (failure !== undefined) throw failure;
  return { records: histogram.count, elapsedMs, bytes: histogram.count * recordSize, latency: histogram.summary() };
}

function produceLines(r: ProducePerfResult, verb: string, json: boolean, verified?: VerifyCounts): string[] {
  const s = r.latency;
  const lines = [`${rateAndLatency(verb, r.records, r.elapsedMs, r.bytes, s.avgMs, s.maxMs)}, ${percentiles(s)}.`];
  if (verified) lines.push(verifyLine(verified));
  if (json) {
    lines.push(
      JSON.stringify({
        ...(verified ? { verified: verified.verified, wrong: verified.wrong, missing: verified.missing } : {}),
        records: r.records,
        recordsPerSec: round2(perSecond(r.records, r.elapsedMs)),
        mbPerSec: round2(perSecond(r.bytes, r.elapsedMs) / mebibyte),
        avgLatencyMs: round2(s.avgMs),
        maxLatencyMs: round2(s.maxMs),
        p50: round2(s.p50),
        p95: round2(s.p95),
        p99: round2(s.p99),
        p999: round2(s.p999),
      }),
    );
  }
  return lines;
}

// ---- perf consume ----

interface ConsumePerfOptions {
  topic: string;
  messages: string;
  group?: string;
  timeoutMs?: string;
  json?: boolean;
}

export interface ConsumePerfResult {
  records: number;
  bytes: number;
  /** From the start of the first poll that returned records to the last record's arrival. */
  elapsedMs: number;
  /** From the command's start to that first poll: connecting, joining the group, finding the offsets. */
  startupMs: number;
  timedOut: boolean;
}

/**
 * Reads through run({ eachBatch }), the consumer's batch-level API: one call
 * per partition per fetched round, no per-record callback or promise. A
 * record counts once delivered; exactly `wanted` are taken (resolved), so a
 * group commits no further.
 */
async function consumePerf(
  consumer: Consumer,
  wanted: number,
  idleTimeoutMs: number,
  inGroup: boolean,
  begun: number,
): Promise<ConsumePerfResult> {
  const window = new Window('received', false);
  // the clock starts when reading starts (without a group) or once the member joined
  let firstPollAt = inGroup ? -1 : performance.now();
  let lastRecordAt = firstPollAt < 0 ? begun : firstPollAt;
  let received = 0;
  let bytes = 0;
  let timedOut = false;
  let failure: Error | null = null;
  const watchdog = setInterval(
    () => {
      const now = performance.now();
      if (firstPollAt < 0) {
        if (consumer.groupGeneration() !== null) {
          firstPollAt = now;
          lastRecordAt = now;
        } else if (now - begun >= groupJoinWaitMsMax) {
          failure = new SluiceError(
            ErrorCode.Timeout,
            `could not join the consumer group within ${groupJoinWaitMsMax} ms`,
          );
          void consumer.close().catch(() => undefined);
        }
        return;
      }
      if (now - lastRecordAt >= idleTimeoutMs) {
        timedOut = true;
        void consumer.close().catch(() => undefined);
      }
    },
    Math.max(1, Math.min(inGroup ? 10 : 100, idleTimeoutMs)),
  );
  try {
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: ({ batch, resolveOffset }) => {
        if (received >= wanted) return;
        const messages = batch.messages;
        const take = Math.min(messages.length, wanted - received);
        let chunkBytes = 0;
        for (let i = 0; i < take; i++) {
          const m = messages[i] as (typeof messages)[number];
          chunkBytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
        }
        if (take > 0) resolveOffset((messages[take - 1] as (typeof messages)[number]).offset);
        const now = performance.now();
        if (firstPollAt < 0) firstPollAt = now;
        received += take;
        bytes += chunkBytes;
        lastRecordAt = now;
        window.add(take, chunkBytes);
        if (received >= wanted) void consumer.close().catch(() => undefined);
      },
    });
  } finally {
    clearInterval(watchdog);
  }
  if (failure) throw failure;
  const startupMs = (firstPollAt < 0 ? lastRecordAt : firstPollAt) - begun;
  return { records: received, bytes, elapsedMs: firstPollAt < 0 ? 0 : lastRecordAt - firstPollAt, startupMs, timedOut };
}

function consumeLines(r: ConsumePerfResult, json: boolean): string[] {
  const lines = [
    `${r.records} records received, ${fixed(perSecond(r.records, r.elapsedMs))} records/sec ` +
      `(${fixed(perSecond(r.bytes, r.elapsedMs) / mebibyte)} MB/sec).`,
  ];
  if (json) {
    lines.push(
      JSON.stringify({
        records: r.records,
        bytes: r.bytes,
        elapsedMs: round2(r.elapsedMs),
        startupMs: round2(r.startupMs),
        recordsPerSec: round2(perSecond(r.records, r.elapsedMs)),
        mbPerSec: round2(perSecond(r.bytes, r.elapsedMs) / mebibyte),
      }),
    );
  }
  return lines;
}

// ---- perf e2e ----

/** perf produce's options, plus how long the consumer may wait for the last record. */
interface E2ePerfOptions extends ProducePerfOptions {
  timeoutMs?: string;
  warmupRecords?: string;
}

/** When the steady state began: records stamped before it are warm-up records. */
interface SteadyStart {
  /** Epoch ms (the stamps' clock) of the first steady record's send; Infinity until then. */
  stampMs: number;
  /** performance.now() at that send. */
  at: number;
}

/** The topic's description, creating it (broker defaults) when it does not exist. */
async function describeOrCreate(sluice: Sluice, topic: string): Promise<TopicDescription> {
  try {
    return await describeExisting(sluice, topic);
  } catch (err) {
    if (!isSluiceError(err, ErrorCode.UnknownTopic)) throw err;
    await sluice.admin().createTopic({ topic });
    return await describeExisting(sluice, topic);
  }
}

/** One send() call's records with their own buffers, reused once its send has settled. */
interface Slot {
  record: { topic: string; messages: ProducerMessage[] };
  values: Buffer[];
}

/** Paced sends with the send time stamped into each value; resolves when every send has settled. */
async function stampedProducer(
  producer: Producer,
  topic: string,
  numRecords: number,
  recordSize: number,
  throughput: number,
  warmupRecords = 0,
  steady: SteadyStart = { stampMs: 0, at: 0 },
): Promise<void> {
  const pacer = new Pacer(throughput);
  const chunk = pacer.chunkRecords(numRecords);
  const inFlight = new InFlight(inFlightChunks(chunk, recordSize));
  const free: Slot[] = Array.from({ length: inFlight.max }, () => {
    const values = Array.from({ length: chunk }, () => payload(recordSize));
    return { record: { topic, messages: values.map((value) => ({ value })) }, values };
  });
  let failure: unknown;
  let sent = 0;
  pacer.begin();
  while (sent < numRecords && failure === undefined) {
    await pacer.wait(sent);
    await inFlight.take();
    const slot = free.pop() as Slot;
    if (failure !== undefined) {
      free.push(slot);
      inFlight.release();
      break;
    }
    // a send() call is all warm-up or all steady: the warm-up ends at a chunk's boundary
    const count = Math.min(chunk, numRecords - sent, sent < warmupRecords ? warmupRecords - sent : numRecords);
    const record = count === chunk ? slot.record : { topic, messages: slot.record.messages.slice(0, count) };
    const stamp = nowMs();
    if (sent >= warmupRecords && steady.stampMs === Number.POSITIVE_INFINITY) {
      steady.stampMs = stamp;
      steady.at = performance.now();
    }
    for (let i = 0; i < count; i++) (slot.values[i] as Buffer).writeDoubleLE(stamp, 0);
    producer.send(record).then(
      () => {
        free.push(slot);
        inFlight.release();
      },
      (err: unknown) => {
        failure ??= err;
        free.push(slot);
        inFlight.release();
      },
    );
    sent += count;
  }
  await inFlight.drain();
  if (failure !== undefined) throw failure;
}

interface E2eResult {
  /** Steady records (after the warm-up) received. */
  records: number;
  /** From the first steady send to the last record's arrival. */
  elapsedMs: number;
  bytes: number;
  /** Of the steady records. */
  latency: LatencySummary;
  timedOut: boolean;
  /** Warm-up records received, and their latencies (left out of `latency`). */
  warmup: { records: number; avgMs: number; maxMs: number };
}

async function e2ePerf(
  sluice: Sluice,
  topic: string,
  opts: {
    numRecords: number;
    recordSize: number;
    throughput: number;
    idleTimeoutMs: number;
    producer: ProducerOptions;
    /** The first this many records are not counted in the result's rate and latencies. */
    warmupRecords?: number;
  },
): Promise<E2eResult> {
  const warmupRecords = opts.warmupRecords ?? 0;
  const description = await describeOrCreate(sluice, topic);
  const consumer = sluice.consumer({ maxWaitMs: e2ePollWaitMs });
  const producer = sluice.producer(opts.producer);
  try {
    consumer.assign(description.partitions.map((p) => ({ topic, partition: p.partition, offset: p.highWatermark })));
    // the consumer connects before the clock starts (the producer shares the client's metadata and connections)
    await consumer.poll({ maxWaitMs: 1, maxRecords: 1 });

    const histogram = await newHistogram();
    const window = new Window('received', true);
    let producing = true;
    let produceError: unknown;
    const steady: SteadyStart = { stampMs: Number.POSITIVE_INFINITY, at: 0 };
    const produced = stampedProducer(
      producer,
      topic,
      opts.numRecords,
      opts.recordSize,
      opts.throughput,
      warmupRecords,
      steady,
    ).then(
      () => {
        producing = false;
      },
      (err: unknown) => {
        producing = false;
        produceError = err;
      },
    );
    let received = 0;
    const warmup = { records: 0, latencySum: 0, maxMs: 0 };
    let lastRecordAt = performance.now();
    let timedOut = false;
    while (received + warmup.records < opts.numRecords && produceError === undefined) {
      const records = await consumer.poll({ maxWaitMs: e2ePollWaitMs, maxRecords: pollRecordsMax });
      const now = nowMs();
      let counted = 0;
      let latencySum = 0;
      let latencyMax = 0;
      for (const r of records) {
        const value = r.value;
        if (value === null || value.length !== opts.recordSize) continue;
        const stamp = value.readDoubleLE(0);
        const latency = now - stamp;
        if (stamp < steady.stampMs) {
          warmup.records++;
          warmup.latencySum += latency;
          if (latency > warmup.maxMs) warmup.maxMs = latency;
        } else {
          histogram.record(latency);
          received++;
        }
        counted++;
        latencySum += latency;
        if (latency > latencyMax) latencyMax = latency;
      }
      if (counted > 0) {
        lastRecordAt = performance.now();
        window.add(counted, counted * opts.recordSize, latencySum, latencyMax);
      } else if (!producing && performance.now() - lastRecordAt >= opts.idleTimeoutMs) {
        timedOut = true;
        break;
      }
    }
    const elapsedMs = performance.now() - steady.at;
    await produced;
    if (produceError !== undefined) throw produceError;
    return {
      records: received,
      elapsedMs,
      bytes: received * opts.recordSize,
      latency: histogram.summary(),
      timedOut,
      warmup: {
        records: warmup.records,
        avgMs: warmup.records === 0 ? 0 : warmup.latencySum / warmup.records,
        maxMs: warmup.maxMs,
      },
    };
  } finally {
    await producer.close();
    await consumer.close();
  }
}

/**
 * perf e2e's final lines: with a warm-up, a line about the warm-up records first; the final line
 * (and the JSON line's figures) are the records after it.
 */
function e2eLines(r: E2eResult, withWarmup: boolean, json: boolean): string[] {
  const lines = produceLines(r, 'received', json);
  if (!withWarmup) return lines;
  const w = r.warmup;
  const warmupLine =
    `${w.records} warm-up records received, ${fixed(w.avgMs)} ms avg latency, ${fixed(w.maxMs)} ms max latency ` +
    '(not counted below).';
  const [final, jsonLine] = lines as [string, string?];
  if (jsonLine === undefined) return [warmupLine, final];
  const parsed = JSON.parse(jsonLine) as Record<string, unknown>;
  return [warmupLine, final, JSON.stringify({ ...parsed, warmupRecords: w.records })];
}

// ---- registration ----

export function registerPerfCommands(root: Command): void {
  const perf = root.command('perf').description('throughput and latency tests (after Kafka perf tools)');

  perf
    .command('produce')
    .description('send fixed-size records as fast as allowed; report records/s, MB/s and send-to-ack latency')
    .requiredOption('--topic <topic>', 'topic to send to (created by the broker when it allows auto creation)')
    .requiredOption('--num-records <n>', 'records to send')
    .requiredOption('--record-size <bytes>', 'bytes of each record value')
    .option('--throughput <r>', 'records/s to pace to; -1: unthrottled', '-1')
    .option('--acks <acks>', 'acknowledgement: 0, 1, -1 or all', '-1')
    .option('--batch-size <bytes>', "producer batch size (the producer's default: 16384)")
    .option('--linger-ms <ms>', "producer linger (the producer's default: 0)")
    .option('--keys <n>', 'give the records keys, cycling through n distinct ones (0: no keys)', '0')
    .option('--json', 'add a final JSON line')
    .option(
      '--verify',
      `stamp each record with an id, keep every acknowledged offset and read them back afterwards (at most ${perfVerifyRecordsMax} records, --record-size at least ${recordIdBytes}); exit 1 on a wrong or missing one`,
    )
    .action(async (opts: ProducePerfOptions, cmd: Command) => {
      const topic = checkTopic(opts.topic);
      const verify = opts.verify === true;
      const numRecords = parseInteger(
        opts.numRecords,
        '--num-records',
        1,
        verify ? perfVerifyRecordsMax : numRecordsMax,
      );
      const recordSize = parseInteger(opts.recordSize, '--record-size', verify ? recordIdBytes : 0, recordSizeMax);
      const throughput = parseThroughput(opts.throughput);
      const keys = parseInteger(opts.keys ?? '0', '--keys', 0, perfKeysMax);
      const options = producerOptions(opts);
      if (verify && options.acks === 0) throw badValue('--verify needs acknowledged offsets: --acks 1 or -1, not 0');
      if (verify && keys > 0) throw badValue('--keys and --verify do not go together (verified records carry no keys)');
      const { result, verified } = await withClient(globalsOf(cmd), async (sluice) => {
        const producer = sluice.producer(options);
        const check = verify
          ? { log: new AcknowledgementLog(numRecords), runTag: randomBytes(4).readUInt32BE(0) }
          : undefined;
        let produced: ProducePerfResult;
        try {
          produced = await producePerf(producer, topic, numRecords, recordSize, throughput, check, keys);
        } finally {
          await producer.close();
        }
        if (!check) return { result: produced, verified: undefined };
        const consumer = sluice.consumer({ maxWaitMs: pollWaitMs, autoOffsetReset: 'latest' });
        try {
          const counts = await verifyAcknowledgements(consumer, check.log, {
            topic,
            runTag: check.runTag,
            idleTimeoutMs: idleTimeoutMsDefault,
            pollWaitMs,
          });
          return { result: produced, verified: counts };
        } finally {
          await consumer.close();
        }
      });
      for (const line of produceLines(result, 'sent', opts.json === true, verified)) await writeLine(line);
      await flushStdout();
      if (verified && (verified.wrong > 0 || verified.missing > 0)) {
        throw new SluiceError(
          ErrorCode.BrokerError,
          `${verified.wrong} acknowledged offsets hold other records and ${verified.missing} could not be read back`,
        );
      }
    });

  perf
    .command('consume')
    .description('read records from the beginning (or as a group member); report records/s and MB/s')
    .requiredOption('--topic <topic>', 'topic to read')
    .requiredOption('--messages <n>', 'records to read')
    .option('--group <group>', 'read as a member of consumer group G (from its committed offsets, else the beginning)')
    .option('--timeout-ms <t>', `fail when no record arrives for T ms (default ${idleTimeoutMsDefault})`)
    .option('--json', 'add a final JSON line')
    .action(async (opts: ConsumePerfOptions, cmd: Command) => {
      const topic = checkTopic(opts.topic);
      const wanted = parseInteger(opts.messages, '--messages', 1, numRecordsMax);
      const idleTimeoutMs = optionalInt(opts.timeoutMs, '--timeout-ms', 1, timeoutMsMax) ?? idleTimeoutMsDefault;
      const group = opts.group;
      if (group !== undefined && group.trim().length === 0) throw badValue('--group must not be empty');
      const begun = performance.now();
      const result = await withClient(globalsOf(cmd), async (sluice) => {
        const description = await describeExisting(sluice, topic);
        const consumer = sluice.consumer({
          autoOffsetReset: 'earliest',
          maxWaitMs: pollWaitMs,
          ...(group !== undefined ? { groupId: group, autoCommit: true } : {}),
        });
        try {
          if (group !== undefined) await consumer.subscribe({ topics: [topic], fromBeginning: true });
          else
            consumer.assign(description.partitions.map((p) => ({ topic, partition: p.partition, offset: 'earliest' })));
          return await consumePerf(consumer, wanted, idleTimeoutMs, group !== undefined, begun);
        } finally {
          await consumer.close();
        }
      });
      for (const line of consumeLines(result, opts.json === true)) await writeLine(line);
      await flushStdout();
      if (result.timedOut) {
        throw new SluiceError(
          ErrorCode.Timeout,
          `received ${result.records} of ${wanted} records: none arrived for ${idleTimeoutMs} ms`,
        );
      }
    });

  perf
    .command('e2e')
    .description('end-to-end latency producer → broker → consumer at a fixed rate')
    .requiredOption('--topic <topic>', 'topic to use (created with broker defaults when missing)')
    .requiredOption('--num-records <n>', 'records to send and receive')
    .requiredOption('--record-size <bytes>', `bytes of each record value (at least ${stampBytes}: the send time)`)
    .requiredOption('--throughput <r>', 'records/s to send')
    .option('--acks <acks>', 'acknowledgement: 0, 1, -1 or all', '1')
    .option('--batch-size <bytes>', "producer batch size (the producer's default: 16384)")
    .option('--linger-ms <ms>', "producer linger (the producer's default: 0)")
    .option(
      '--timeout-ms <t>',
      `fail when no record arrives for T ms after the last send (default ${idleTimeoutMsDefault})`,
    )
    .option(
      '--warmup-records <n>',
      'of --num-records, the first n are sent and received but left out of the final figures (the process warming up)',
      '0',
    )
    .option('--json', 'add a final JSON line')
    .action(async (opts: E2ePerfOptions, cmd: Command) => {
      const topic = checkTopic(opts.topic);
      const numRecords = parseInteger(opts.numRecords, '--num-records', 1, numRecordsMax);
      const recordSize = parseInteger(opts.recordSize, '--record-size', stampBytes, recordSizeMax);
      const throughput = parseInteger(opts.throughput, '--throughput', 1, throughputMax);
      const idleTimeoutMs = optionalInt(opts.timeoutMs, '--timeout-ms', 1, timeoutMsMax) ?? idleTimeoutMsDefault;
      // at least one record is measured (Kafka's rule: fewer warm-up records than records)
      const warmupRecords = parseInteger(opts.warmupRecords ?? '0', '--warmup-records', 0, numRecords - 1);
      const producer = producerOptions(opts);
      const result = await withClient(globalsOf(cmd), (sluice) =>
        e2ePerf(sluice, topic, { numRecords, recordSize, throughput, idleTimeoutMs, producer, warmupRecords }),
      );
      for (const line of e2eLines(result, warmupRecords > 0, opts.json === true)) await writeLine(line);
      await flushStdout();
      if (result.timedOut) {
        const got = result.records + result.warmup.records;
        throw new SluiceError(
          ErrorCode.Timeout,
          `received ${got} of ${numRecords} records: none arrived for ${idleTimeoutMs} ms`,
        );
      }
    });
}
