/**
 * The record accumulator (the Java client's RecordAccumulator): one queue per
 * partition holding an open batch that records are appended to, sealed
 * batches waiting to be sent in send order, and the batches in flight.
 *
 * A batch is sealed when it reaches batchSize, when it has lingered lingerMs,
 * or at once when someone is waiting (flush(), close(), a send() waiting for
 * buffer memory). takeDue() hands the sender the sealed batches a partition
 * may send now (at most maxInFlight per partition in flight), in send order;
 * a batch to retry goes back among its partition's ready batches in the order
 * it was first sent, so a retry never reorders a partition.
 */
import { batchHeaderBytes } from '../../shared/limits.js';
import { topicPartitionKey } from '../../shared/topic-partition.js';
import type { RecordInput } from '../../wire/record.js';
import type { StickyPartitioner } from '../partitioner.js';
import type { ProducerIdentity } from './idempotence.js';

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

/** A record waiting in a batch: it is the encoder's input itself (no wrapper per record). */
export interface PendingRecord extends RecordInput {
  bytes: number;
  call: SendCall;
  /** The record's place in its send() call. */
  index: number;
  /** The partition asked for, if any. */
  partition: number | undefined;
}

export function recordDone(r: PendingRecord, offset: number): void {
  const call = r.call;
  call.offsets[r.index] = offset;
  if (--call.remaining === 0 && call.error === null) call.resolve();
}

export function recordFailed(r: PendingRecord, err: Error): void {
  const call = r.call;
  if (call.error === null) {
    call.error = err;
    call.reject(err);
  }
}

/** Bytes a record takes in a batch, near enough for accounting (the encoder's own sizes are exact). */
export function recordBytes(r: RecordInput): number {
  let n = 21 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers ?? []) n += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}

export interface Batch {
  topic: string;
  partition: number;
  records: PendingRecord[];
  bytes: number;
  createdAt: number;
  attempts: number;
  /** The batch's place among its partition's batches (ascending in send order). */
  seq: number;
  encoded: Buffer | null;
  /** The idempotent identity whose sequence numbers `encoded` carries; null when not stamped. */
  identity: ProducerIdentity | null;
  done: Promise<void>;
  finish: () => void;
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
}

/** A batch taken from its partition's queue to be sent. */
export interface DueBatch {
  q: PartitionQueue;
  batch: Batch;
}

export interface AccumulatorOptions {
  /** Bytes at which a batch is sealed. */
  batchSize: number;
  /** How long an open batch may wait for more records. */
  lingerMs: number;
  /** Batches of one partition in flight at once. */
  maxInFlightPerPartition: number;
}

export class RecordAccumulator {
  private readonly queues = new Map<string, PartitionQueue>();

  constructor(
    private readonly options: AccumulatorOptions,
    private readonly sticky: StickyPartitioner,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every partition queue (the sender walks them; tests look inside). */
  get partitionQueues(): IterableIterator<PartitionQueue> {
    return this.queues.values();
  }

  /** Appends a record (its memory already taken) to its partition's open batch, sealing at batchSize. */
  append(topic: string, partition: number, partitions: number, record: PendingRecord): void {
    const q = this.queueOf(topic, partition);
    q.partitions = partitions;
    const bytes = record.bytes;
    const batchSize = this.options.batchSize;
    if (q.open && q.open.bytes + bytes > batchSize && q.open.records.length > 0) this.seal(q);
    if (!q.open) q.open = this.newBatch(q);
    const batch = q.open;
    batch.records.push(record);
    batch.bytes += bytes;
    if (batch.bytes >= batchSize) this.seal(q);
  }

  /** Moves the open batch to the ready batches. */
  seal(q: PartitionQueue): void {
    if (!q.open) return;
    q.ready.push(q.open);
    q.open = null;
    this.sticky.onBatchClosed(q.topic, q.partition, q.partitions);
  }

  /**
   * The batches that may be sent now, each moved into its partition's
   * in-flight set, and the earliest time another may become due (a linger or
   * a backoff ending; Infinity when none). `urgent`: open batches are sealed
   * without lingering.
   */
  takeDue(urgent: boolean): { due: DueBatch[]; nextAt: number } {
    const now = this.now();
    const { lingerMs, maxInFlightPerPartition } = this.options;
    let nextAt = Number.POSITIVE_INFINITY;
    const due: DueBatch[] = [];
    for (const q of this.queues.values()) {
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
    q.inFlight.delete(batch);
    let at = 0;
    while (at < q.ready.length && (q.ready[at] as Batch).seq < batch.seq) at++;
    q.ready.splice(at, 0, batch);
    q.retryAt = retryAt;
  }

  /** A batch was answered (or failed for good): it leaves its partition's in-flight set. */
  settled(q: PartitionQueue, batch: Batch): void {
    q.inFlight.delete(batch);
  }

  /** Settles when every batch held now (open, ready or in flight) has succeeded or failed. */
  unfinished(): Promise<void>[] {
    const batches: Promise<void>[] = [];
    for (const q of this.queues.values()) {
      if (q.open) batches.push(q.open.done);
      for (const b of q.ready) batches.push(b.done);
      for (const b of q.inFlight) batches.push(b.done);
    }
    return batches;
  }

  private queueOf(topic: string, partition: number): PartitionQueue {
    const key = topicPartitionKey(topic, partition);
    let q = this.queues.get(key);
    if (!q) {
      q = { topic, partition, partitions: 1, open: null, ready: [], nextSeq: 0, inFlight: new Set(), retryAt: 0 };
      this.queues.set(key, q);
    }
    return q;
  }

  private newBatch(q: PartitionQueue): Batch {
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    return {
      topic: q.topic,
      partition: q.partition,
      records: [],
      bytes: batchHeaderBytes,
      createdAt: this.now(),
      attempts: 0,
      seq: q.nextSeq++,
      encoded: null,
      identity: null,
      done,
      finish,
    };
  }
}
