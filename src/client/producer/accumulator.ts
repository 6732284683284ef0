/**
 * The record accumulator (the Java client's RecordAccumulator): one queue per
 * partition holding an open batch that records are appended to, sealed
 * batches waiting to be sent in send order, and the batches in flight.
 *
 * Batches grow with the backlog: batchSize is a floor, not a fixed size. While
 * a partition could send a batch at once (fewer than maxInFlightPerPartition
 * batches in flight or sealed), its open batch is sealed at batchSize, so a
 * light load is sent in small batches without waiting. While the partition's
 * pipeline is full, nothing could be sent anyway: its open batch keeps taking
 * records up to batchSizeMax and goes out whole as soon as a slot frees. A
 * backlog is thus sent in few large batches (fewer requests, appends and
 * answers per record) without the user choosing a batch size. An open batch
 * also goes when it has lingered lingerMs, or at once when someone is waiting
 * (flush(), close(), a send() waiting for buffer memory).
 *
 * takeDue() hands the sender the sealed batches a partition may send now (at
 * most maxInFlightPerPartition in flight), in send order; a batch to retry
 * goes back among its partition's ready batches in the order it was first
 * sent, and is sent again only once nothing of its partition is in flight, so
 * a retry is not overtaken by the batches behind it.
 */

import { assert } from '../../shared/assert.js';
import { batchHeaderBytes, producerFreeBatchBuffersBytesMax } from '../../shared/limits.js';
import { topicPartitionKey } from '../../shared/topic-partition.js';
import type { RecordHeader, RecordInput } from '../../wire/record.js';
import { decodeBatchRecords } from '../../wire/record-batch-decoder.js';
import type { StickyPartitioner } from '../partitioner.js';
import { BatchBuffers } from './batch-buffers.js';
import { type BatchBytes, byteLengthOf, finishedBatchBytes, type RecordFields, writeRecord } from './batch-writer.js';
import type { ProducerIdentity } from './idempotence.js';
import type { MemoryPool } from './memory-pool.js';

/**
 * One send() call: its records share it instead of a promise each (a promise
 * and two closures per record were the producer's biggest cost).
 */
export interface SendCall {
  offsets: number[];
  remaining: number;
  error: Error | null;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A record to append as an object (tests, and a split batch's records decoded again); send() appends without one. */
export interface PendingRecord extends RecordInput {
  bytes: number;
  call: SendCall;
  /** The record's place in its send() call. */
  index: number;
  /** The partition asked for, if any. */
  partition: number | undefined;
}

/** Bytes a record takes in a batch besides its key, value and headers, near enough for accounting. */
export const fixedRecordBytes = 21;

/** Bytes a record's headers take in a batch, near enough for accounting. */
export function headersBytes(headers: readonly RecordHeader[]): number {
  let n = 0;
  for (const h of headers) n += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}

/** Bytes a record takes in a batch, near enough for accounting (the encoder's own sizes are exact). */
export function recordBytes(r: RecordInput): number {
  const n = fixedRecordBytes + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  return r.headers ? n + headersBytes(r.headers) : n;
}

/**
 * Who learns the offsets of a batch's records: runs of consecutive records
 * of one send() call (one run per call in a batch of unkeyed records). The
 * records themselves are bytes in the batch's buffer, so a batch holds three
 * small arrays, not an object per record (records living that long were most
 * of the producer's GC).
 */
export interface AckRuns {
  calls: SendCall[];
  /** Index in its call of each run's first record. */
  first: number[];
  counts: number[];
}

/** No runs yet. */
export function emptyRuns(): AckRuns {
  return { calls: [], first: [], counts: [] };
}

/** The record `index` of `call` follows the runs' records (it extends the last run when it is the next of its call). */
export function addToRuns(runs: AckRuns, call: SendCall, index: number): void {
  const last = runs.calls.length - 1;
  if (
    last >= 0 &&
    runs.calls[last] === call &&
    (runs.first[last] as number) + (runs.counts[last] as number) === index
  ) {
    runs.counts[last] = (runs.counts[last] as number) + 1;
    return;
  }
  runs.calls.push(call);
  runs.first.push(index);
  runs.counts.push(1);
}

/** The runs of `records` (in batch order). */
export function ackRunsOf(records: readonly PendingRecord[]): AckRuns {
  const runs = emptyRuns();
  for (const r of records) addToRuns(runs, r.call, r.index);
  return runs;
}

/** Every record of the runs got its offset: baseOffset + its place in the batch (-1 for all when unknown, acks 0). */
export function runsDone(runs: AckRuns, baseOffset: number): void {
  let at = 0;
  for (let k = 0; k < runs.calls.length; k++) {
    const call = runs.calls[k] as SendCall;
    const first = runs.first[k] as number;
    const count = runs.counts[k] as number;
    const offsets = call.offsets;
    for (let j = 0; j < count; j++) offsets[first + j] = baseOffset < 0 ? -1 : baseOffset + at + j;
    at += count;
    call.remaining -= count;
    if (call.remaining === 0 && call.error === null) call.resolve();
  }
}

/** Every send() call with a record in the runs fails (once). */
export function runsFailed(runs: AckRuns, err: Error): void {
  for (const call of runs.calls) {
    if (call.error === null) {
      call.error = err;
      call.reject(err);
    }
  }
}

/**
 * A batch's records back (to split it): decoded from its bytes (as sent, or
 * given a header now), each given its call and index from the runs.
 */
function recordsOf(batch: Batch, buffers: BatchBuffers): PendingRecord[] {
  const runs = batch.runs;
  const decoded = decodeBatchRecords(batch.encoded ?? finishedBatchBytes(batch, {}, buffers));
  const records: PendingRecord[] = [];
  let at = 0;
  for (let k = 0; k < runs.calls.length; k++) {
    const call = runs.calls[k] as SendCall;
    const first = runs.first[k] as number;
    const count = runs.counts[k] as number;
    for (let j = 0; j < count; j++) {
      const d = decoded[at++];
      assert(d !== undefined, 'an encoded batch holds every record of its runs');
      const r: PendingRecord = {
        key: d.key,
        value: d.value,
        headers: d.headers.length > 0 ? d.headers : undefined,
        timestamp: d.timestamp,
        bytes: 0,
        call,
        index: first + j,
        partition: batch.partition,
      };
      r.bytes = recordBytes(r);
      records.push(r);
    }
  }
  return records;
}

/** A batch: its records' bytes (BatchBytes, batch-writer.ts) and what the accumulator and sender track. */
export interface Batch extends BatchBytes {
  topic: string;
  partition: number;
  /** Who waits for the offsets of its records (see AckRuns). */
  runs: AckRuns;
  /** Its records' bytes (see recordBytes()) plus its header's: what seals it at batchSize. */
  bytes: number;
  /** Bytes of buffer memory it holds: its buffer's size (given back when it is answered or fails). */
  reserved: number;
  createdAt: number;
  attempts: number;
  /** The batch's place among its partition's batches (ascending in send order). */
  seq: number;
  /** The idempotent identity whose sequence numbers `encoded` carries; null when not stamped. */
  identity: ProducerIdentity | null;
  /** The broker whose in-flight bytes count this batch while it is in flight; -1 when none. */
  broker: number;
  /** The batch has succeeded or failed for good. */
  finished: boolean;
  /** Who waits for it to finish (flush, close); null when nobody (no promise per batch). */
  waiters: (() => void)[] | null;
}

/** A batch of no records yet. */
export function emptyBatch(topic: string, partition: number, seq: number, createdAt: number): Batch {
  return {
    topic,
    partition,
    runs: emptyRuns(),
    count: 0,
    buf: null,
    pos: 0,
    baseTimestamp: 0,
    maxTimestamp: 0,
    bytes: batchHeaderBytes,
    reserved: 0,
    createdAt,
    attempts: 0,
    seq,
    encoded: null,
    identity: null,
    broker: -1,
    finished: false,
    waiters: null,
  };
}

/** A record object's fields to write (its timestamp `now` when it has none). */
function fieldsOf(r: PendingRecord, now: number): RecordFields {
  const key = r.key ?? null;
  return {
    key,
    keyLength: byteLengthOf(key),
    value: r.value,
    valueLength: byteLengthOf(r.value),
    headers: r.headers,
    timestamp: r.timestamp ?? now,
  };
}

/** Settles when the batch has succeeded or failed for good. */
export function batchDone(batch: Batch): Promise<void> {
  if (batch.finished) return Promise.resolve();
  return new Promise<void>((resolve) => {
    batch.waiters ??= [];
    batch.waiters.push(resolve);
  });
}

/** The batch has succeeded or failed for good: its waiters go on. */
export function finishBatch(batch: Batch): void {
  if (batch.finished) return;
  batch.finished = true;
  const waiters = batch.waiters;
  batch.waiters = null;
  if (waiters) for (const w of waiters) w();
}

export interface PartitionQueue {
  topic: string;
  partition: number;
  /** The topic's partition count at the latest append (the sticky partitioner's input). */
  partitions: number;
  open: Batch | null;
  /** Sealed batches waiting to be sent, in send order (`seq` ascending). */
  ready: Batch[];
  /** The seq of the partition's next batch. */
  nextSeq: number;
  /** Batches sent and not yet answered. */
  inFlight: Set<Batch>;
  /** No batch of the partition goes out before this time (a retry's backoff). */
  retryAt: number;
  /**
   * The bytes its last sealed batch had written (0 before any): a batch opened
   * while the pipeline is full starts in a buffer that holds this many instead
   * of doubling its way up to it (each doubling copies the records written so
   * far). Its bytes, not its buffer's size: a batch sealed early in a large
   * buffer does not make the next one hold more memory than it needs.
   */
  sealedBufferBytes: number;
}

/** A batch taken from its partition's queue to be sent. */
export interface DueBatch {
  q: PartitionQueue;
  batch: Batch;
}

export interface AccumulatorOptions {
  /** Bytes at which a batch is sealed while its partition could send it at once. */
  batchSize: number;
  /** Bytes a batch may grow to while its partition's pipeline is full (at least batchSize). */
  batchSizeMax: number;
  /** How long an open batch may wait for more records. */
  lingerMs: number;
  /** Batches of one partition in flight at once. */
  maxInFlightPerPartition: number;
}

export class RecordAccumulator {
  private readonly queues = new Map<string, PartitionQueue>();
  /** The same queues in creation order; takeDue() starts one further each time, so none is always last. */
  private readonly list: PartitionQueue[] = [];
  private drainStart = 0;
  /** The same queues by topic and partition number: found per record without building a key. */
  private readonly byTopic = new Map<string, PartitionQueue[]>();

  constructor(
    private readonly options: AccumulatorOptions,
    private readonly sticky: StickyPartitioner,
    /** The buffer memory: a record's bytes were taken before add(); its batch's buffer growth is what it keeps. */
    private readonly memory: MemoryPool,
    private readonly now: () => number = Date.now,
    /** Where batches' buffers come from and go back to once answered. */
    readonly buffers: BatchBuffers = new BatchBuffers(producerFreeBatchBuffersBytesMax),
  ) {}

  /** Every partition queue (the sender walks them; tests look inside). */
  get partitionQueues(): IterableIterator<PartitionQueue> {
    return this.queues.values();
  }

  /**
   * Appends a record (its memory already taken: `bytes`, see recordBytes())
   * to its partition's open batch, copying its key and value into the batch
   * now: sealed at batchSize while the partition could send it at once, grown
   * up to batchSizeMax while its pipeline is full.
   */
  add(
    topic: string,
    partition: number,
    partitions: number,
    r: RecordFields,
    bytes: number,
    call: SendCall,
    index: number,
  ): void {
    const q = this.queueOf(topic, partition);
    q.partitions = partitions;
    if (q.open && q.open.count > 0 && q.open.bytes + bytes > this.sealBytes(q)) this.seal(q);
    if (!q.open) q.open = this.newBatch(q);
    const batch = q.open;
    // a batch opened behind a full pipeline grows to where the last one did: start it there
    const first =
      batch.buf === null && this.sealBytes(q) === this.options.batchSizeMax
        ? Math.min(q.sealedBufferBytes, this.options.batchSizeMax)
        : 0;
    const grown = writeRecord(batch, this.buffers, r, first);
    // the memory counts buffers, not records: a record that fitted the room left gives its bytes back
    this.memory.settle(bytes, grown);
    batch.reserved += grown;
    addToRuns(batch.runs, call, index);
    batch.bytes += bytes;
    if (batch.bytes >= this.sealBytes(q)) this.seal(q);
  }

  /** add() of a record given as an object. */
  append(topic: string, partition: number, partitions: number, r: PendingRecord): void {
    this.add(topic, partition, partitions, fieldsOf(r, this.now()), r.bytes, r.call, r.index);
  }

  /** The size at which the partition's open batch is sealed now: the floor while it could go at once, else the ceiling. */
  private sealBytes(q: PartitionQueue): number {
    const { batchSize, batchSizeMax, maxInFlightPerPartition } = this.options;
    return q.inFlight.size + q.ready.length < maxInFlightPerPartition ? batchSize : batchSizeMax;
  }

  /** Moves the open batch to the ready batches. */
  seal(q: PartitionQueue): void {
    if (!q.open) return;
    q.sealedBufferBytes = q.open.pos;
    q.ready.push(q.open);
    q.open = null;
    this.sticky.onBatchClosed(q.topic, q.partition, q.partitions);
  }

  /**
   * The batches that may be sent now, each moved into its partition's
   * in-flight set, and the earliest time another may become due (a linger or
   * a backoff ending; Infinity when none). `urgent`: open batches are sealed
   * without lingering. `holdMs`: an open batch lingers at least this long (the
   * sender waits for an answer to a request in flight, which drains again
   * sooner), gathering records meanwhile.
   */
  takeDue(urgent: boolean, holdMs = 0): { due: DueBatch[]; nextAt: number } {
    const now = this.now();
    const { maxInFlightPerPartition } = this.options;
    const lingerMs = Math.max(this.options.lingerMs, holdMs);
    let nextAt = Number.POSITIVE_INFINITY;
    const due: DueBatch[] = [];
    const list = this.list;
    const n = list.length;
    // a rotating start: when a broker's in-flight bytes run short, the same partitions do not always win
    const start = n === 0 ? 0 : this.drainStart % n;
    this.drainStart = n === 0 ? 0 : (start + 1) % n;
    for (let k = 0; k < n; k++) {
      const q = list[(start + k) % n] as PartitionQueue;
      if (q.inFlight.size >= maxInFlightPerPartition) continue;
      if (q.retryAt > now) {
        if (q.ready.length > 0 || q.open) nextAt = Math.min(nextAt, q.retryAt);
        continue;
      }
      if (q.ready.length === 0 && q.open) {
        if (urgent || now - q.open.createdAt >= lingerMs) this.seal(q);
        else nextAt = Math.min(nextAt, q.open.createdAt + lingerMs);
      }
      while (q.ready.length > 0 && q.inFlight.size < maxInFlightPerPartition) {
        // a retry waits until nothing of its partition is in flight: then it goes first, the rest behind it
        if ((q.ready[0] as Batch).attempts > 0 && q.inFlight.size > 0) break;
        const batch = q.ready.shift() as Batch;
        q.inFlight.add(batch);
        due.push({ q, batch });
      }
    }
    return { due, nextAt };
  }

  /**
   * Puts a batch to retry back among its partition's ready batches in send
   * order: batches of one partition that failed in several requests (answered
   * in any order) go out again in the order they were first sent. No batch of
   * the partition goes out before `retryAt`.
   */
  requeue(q: PartitionQueue, batch: Batch, retryAt: number): void {
    this.putBack(q, batch);
    q.retryAt = retryAt;
  }

  /** Returns a batch taken by takeDue() but not sent (its broker had no room) to its place among the ready ones. */
  putBack(q: PartitionQueue, batch: Batch): void {
    q.inFlight.delete(batch);
    let at = 0;
    while (at < q.ready.length && (q.ready[at] as Batch).seq < batch.seq) at++;
    q.ready.splice(at, 0, batch);
  }

  /**
   * Splits a batch the broker found too large (MESSAGE_TOO_LARGE: a topic's
   * max.message.bytes below the size it grew to) into batches of at most
   * batchSize, back among the ready batches in its place; unstamped, so they
   * are encoded afresh. False when it cannot be split (one record).
   */
  split(q: PartitionQueue, batch: Batch): boolean {
    if (batch.count < 2) return false;
    q.inFlight.delete(batch);
    const parts: Batch[] = [];
    let part: Batch | null = null;
    for (const r of recordsOf(batch, this.buffers)) {
      if (!part || (part.count > 0 && part.bytes + r.bytes > this.options.batchSize)) {
        part = this.newBatch(q, batch.seq);
        part.createdAt = batch.createdAt;
        part.attempts = batch.attempts;
        parts.push(part);
      }
      const grown = writeRecord(part, this.buffers, fieldsOf(r, 0));
      this.memory.charge(grown);
      part.reserved += grown;
      addToRuns(part.runs, r.call, r.index);
      part.bytes += r.bytes;
    }
    // the records were copied out of the batch's bytes: they are nobody's now, and its memory is the parts'
    batch.encoded = null;
    batch.buf = null;
    this.memory.release(batch.reserved);
    batch.reserved = 0;
    // seq only orders a partition's batches: the parts sit between the batch and the next one
    parts.forEach((b, i) => {
      b.seq = batch.seq + i / parts.length;
    });
    let at = 0;
    while (at < q.ready.length && (q.ready[at] as Batch).seq < batch.seq) at++;
    q.ready.splice(at, 0, ...parts);
    // the original batch's waiters (flush, close) wait for its parts
    void Promise.all(parts.map(batchDone)).then(() => finishBatch(batch));
    return true;
  }

  /** A batch was answered (or failed for good): it leaves its partition's in-flight set. */
  settled(q: PartitionQueue, batch: Batch): void {
    q.inFlight.delete(batch);
  }

  /** Settles when every batch held now (open, ready or in flight) has succeeded or failed. */
  unfinished(): Promise<void>[] {
    const batches: Promise<void>[] = [];
    for (const q of this.queues.values()) {
      if (q.open) batches.push(batchDone(q.open));
      for (const b of q.ready) batches.push(batchDone(b));
      for (const b of q.inFlight) batches.push(batchDone(b));
    }
    return batches;
  }

  private queueOf(topic: string, partition: number): PartitionQueue {
    let topicQueues = this.byTopic.get(topic);
    if (!topicQueues) {
      topicQueues = [];
      this.byTopic.set(topic, topicQueues);
    }
    const known = topicQueues[partition];
    if (known) return known;
    const key = topicPartitionKey(topic, partition);
    let q = this.queues.get(key);
    if (!q) {
      q = {
        topic,
        partition,
        partitions: 1,
        open: null,
        ready: [],
        nextSeq: 0,
        inFlight: new Set(),
        retryAt: 0,
        sealedBufferBytes: 0,
      };
      this.queues.set(key, q);
      this.list.push(q);
    }
    topicQueues[partition] = q;
    return q;
  }

  private newBatch(q: PartitionQueue, seq = q.nextSeq++): Batch {
    return emptyBatch(q.topic, q.partition, seq, this.now());
  }
}
