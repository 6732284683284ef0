/**
 * The producer: records are partitioned (explicit, murmur2 of the key, or
 * sticky for null keys), gathered into one open batch per partition, and sent
 * when the batch reaches batchSize, after lingerMs, on flush(), or at once
 * when send() is waiting for buffer memory. Batches of several partitions led
 * by one broker share a request, at most one batch per partition in a request
 * (Kafka's rule: the answer names partitions, so it could not tell two batches
 * of one partition apart); see produce-requests.ts.
 *
 * Bounds: buffer memory (send() waits, FIFO, up to maxBlockMs — backpressure,
 * never unbounded growth), one batch in flight per partition (so a retry can
 * never reorder a partition), requests in flight per connection, retries.
 *
 * Retries: errors the broker returns for a partition that Kafka calls
 * retriable (e.g. NOT_LEADER_OR_FOLLOWER) mean the batch was not appended, so
 * it is retried after a metadata refresh. A connection that breaks before
 * the request is written is retried too. A connection that breaks after the
 * request was written leaves the outcome unknown: without idempotence a retry
 * could duplicate, so those records fail with BrokerUnreachable.
 *
 * Idempotence (`idempotent: true`, which needs acks -1): on first use the
 * producer asks any broker for a producer id (InitProducerId). Each batch is
 * stamped with the id, its epoch and the partition's next sequence number when
 * it is first encoded; the sequence then advances by the batch's record count.
 * A retry resends the same bytes, so a broker that already appended the batch
 * recognises it and answers with the original offsets: a connection that breaks
 * after the request was written is then retried too (failover without
 * duplicates). OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH and
 * UNKNOWN_PRODUCER_ID fail the batch. When a stamped batch fails for good its
 * sequence numbers may or may not have been used, so the producer takes a new
 * producer id for the batches encoded after it (sequences restart at 0, which
 * a broker accepts from a producer id it does not know).
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { InitProducerIdRequest, ProduceRequest, ProduceResponse } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError, WireError } from '../shared/errors.js';
import {
  batchBytesMax,
  batchHeaderBytes,
  clientRequestTimeoutMsDefault,
  clientRetriesMax,
  producerBatchBytesDefault,
  producerBufferBytesDefault,
  producerBufferBytesMax,
  producerIdempotentRetriesDefault,
  producerInFlightPerPartitionDefault,
  producerInFlightPerPartitionMax,
  producerLingerMsMax,
  producerMaxBlockMsDefault,
  producerMemoryWaitersMax,
  producerMessagesPerSendMax,
  producerRequestBytesMax,
} from '../shared/limits.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import type { RecordHeader, RecordInput } from '../wire/record.js';
import { Compression } from '../wire/record-batch.js';
import { type BatchOptions, encodeRecordBatch } from '../wire/record-batch-encoder.js';
import { initZstd } from '../wire/zstd.js';
import type { Cluster } from './cluster.js';
import { type Connection, wasSent } from './connection.js';
import { checkTopLevel, closedError, invalidArgument, isRetriableError, wireError } from './errors.js';
import { boundedInt } from './options.js';
import { partitionForKey, StickyPartitioner } from './partitioner.js';
import { ambiguousAnswer, answersByPartition, planProduceRequests } from './produce-requests.js';
import type { Acks, ProducerMessage, ProducerOptions, ProducerRecord, RecordMetadata } from './types.js';

/**
 * One send() call: its records share it instead of a promise each (a promise
 * and two closures per record were the producer's biggest cost).
 */
interface SendCall {
  offsets: number[];
  remaining: number;
  error: Error | null;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A record waiting in a batch: it is the encoder's input itself (no wrapper per record). */
interface PendingRecord extends RecordInput {
  bytes: number;
  call: SendCall;
  /** The record's place in its send() call. */
  index: number;
  /** The partition asked for, if any. */
  partition: number | undefined;
}

function recordDone(r: PendingRecord, offset: number): void {
  const call = r.call;
  call.offsets[r.index] = offset;
  if (--call.remaining === 0 && call.error === null) call.resolve();
}

function recordFailed(r: PendingRecord, err: Error): void {
  const call = r.call;
  if (call.error === null) {
    call.error = err;
    call.reject(err);
  }
}

interface Batch {
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

/** An idempotent producer's id and epoch from InitProducerId, with the next sequence number of each partition. */
interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
  sequences: Map<PartitionQueue, number>;
}

/** A batch taken from its partition's queue to be sent. */
interface DueBatch {
  q: PartitionQueue;
  batch: Batch;
}

/** Sequence numbers are non-negative int32s that wrap from 2^31-1 to 0 (Kafka's rule). */
const sequenceModulus = 2 ** 31;

/** The producer's `compression` names and the codecs they write. */
const producerCodecs: Record<string, Compression> = {
  none: Compression.none,
  gzip: Compression.gzip,
  snappy: Compression.snappy,
  lz4: Compression.lz4,
  zstd: Compression.zstd,
};

interface PartitionQueue {
  topic: string;
  partition: number;
  open: Batch | null;
  /** Sealed batches waiting to be sent, in send order (`seq` ascending). */
  ready: Batch[];
  /** The seq of the partition's next batch. */
  nextSeq: number;
  /** Batches sent and not yet answered (at most maxInFlightPerPartition). */
  inFlight: Set<Batch>;
  retryAt: number;
}

/**
 * Puts a batch to retry back among its partition's ready batches in send
 * order: batches of one partition that failed in several requests (answered in
 * any order) go out again in the order they were first sent.
 */
function requeue(q: PartitionQueue, batch: Batch): void {
  let at = 0;
  while (at < q.ready.length && (q.ready[at] as Batch).seq < batch.seq) at++;
  q.ready.splice(at, 0, batch);
}

/** Bytes a record takes in a batch, near enough for accounting (the encoder's own sizes are exact). */
function recordBytes(r: RecordInput): number {
  let n = 21 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers ?? []) n += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}

function toBuffer(v: string | Buffer | Uint8Array | null | undefined, what: string): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw invalidArgument(`${what} must be a string, a Buffer or null`);
}

function headersOf(h: ProducerMessage['headers']): RecordHeader[] {
  if (h === undefined || h === null) return [];
  if (Array.isArray(h)) return h.map((x) => ({ key: String(x.key), value: toBuffer(x.value, `header '${x.key}'`) }));
  const out: RecordHeader[] = [];
  for (const [key, value] of Object.entries(h)) {
    if (Array.isArray(value)) for (const v of value) out.push({ key, value: toBuffer(v, `header '${key}'`) });
    else out.push({ key, value: toBuffer(value, `header '${key}'`) });
  }
  return out;
}

function normalizeAcks(acks: Acks | undefined): 0 | 1 | -1 {
  if (acks === undefined || acks === 'all' || acks === -1) return -1;
  if (acks === 0 || acks === 1) return acks;
  throw invalidArgument(`acks must be 0, 1, -1 or 'all', not ${String(acks)}`);
}

/** Buffer memory with FIFO waiters: a sender waits until its bytes fit or maxBlockMs passes. */
class MemoryPool {
  private available: number;
  private readonly waiters: {
    bytes: number;
    resolve: () => void;
    reject: (e: Error) => void;
    timer: NodeJS.Timeout;
  }[] = [];

  constructor(readonly total: number) {
    this.available = total;
  }

  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** Takes the bytes at once when they are free and nobody waits; false otherwise. */
  tryAcquire(bytes: number): boolean {
    if (this.waiters.length === 0 && this.available >= bytes) {
      this.available -= bytes;
      return true;
    }
    return false;
  }

  acquire(bytes: number, maxBlockMs: number): Promise<void> {
    if (this.waiters.length === 0 && this.available >= bytes) {
      this.available -= bytes;
      return Promise.resolve();
    }
    if (this.waiters.length >= producerMemoryWaitersMax) {
      return Promise.reject(
        new SluiceError(ErrorCode.Timeout, `more than ${producerMemoryWaitersMax} sends wait for buffer memory`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const w = {
        bytes,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(
            new SluiceError(
              ErrorCode.Timeout,
              `no buffer memory for ${bytes} bytes after ${maxBlockMs} ms (bufferMemory ${this.total})`,
            ),
          );
          this.grant();
        }, maxBlockMs),
      };
      this.waiters.push(w);
    });
  }

  release(bytes: number): void {
    this.available += bytes;
    this.grant();
  }

  private grant(): void {
    while (this.waiters.length > 0 && this.available >= (this.waiters[0]?.bytes ?? 0)) {
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      this.available -= w.bytes;
      w.resolve();
    }
  }

  failAll(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}

/** Answers of a leader that could not replicate a batch: its view of the cluster may be stale. */
const replicationTroubles: ReadonlySet<number> = new Set([
  WireError.REQUEST_TIMED_OUT,
  WireError.NOT_ENOUGH_REPLICAS,
  WireError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  WireError.NOT_LEADER_OR_FOLLOWER,
]);

export class Producer {
  private readonly acks: 0 | 1 | -1;
  private readonly idempotent: boolean;
  /** The current producer id (idempotent producers), and its InitProducerId while under way. */
  private identity: ProducerIdentity | undefined;
  private identityInit: Promise<ProducerIdentity> | undefined;
  private readonly lingerMs: number;
  private readonly batchSize: number;
  private readonly maxBlockMs: number;
  private readonly retries: number;
  /** Batches of one partition in flight at once (Kafka's max.in.flight.requests.per.connection). */
  private readonly maxInFlightPerPartition: number;
  private readonly retryBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly compression: Compression;
  /** zstd only: its compressor's set-up (src/wire/zstd.ts), awaited before the first record is queued. */
  private readonly codecReady: Promise<void> | undefined;
  private readonly memory: MemoryPool;
  private readonly sticky = new StickyPartitioner();
  /** The enqueue phase of the latest send(); the next one starts after it. */
  private enqueueing: Promise<unknown> = Promise.resolve();
  private readonly queues = new Map<string, PartitionQueue>();
  private drainScheduled = false;
  private draining = false;
  private drainAgain = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private closed = false;
  private readonly onClose: (p: Producer) => void;

  constructor(
    private readonly cluster: Cluster,
    options: ProducerOptions = {},
    onClose: (p: Producer) => void = () => undefined,
  ) {
    if (options.idempotent !== undefined && typeof options.idempotent !== 'boolean') {
      throw invalidArgument(`idempotent must be true or false, not ${String(options.idempotent)}`);
    }
    this.idempotent = options.idempotent === true;
    this.acks = normalizeAcks(options.acks);
    if (this.idempotent && this.acks !== -1) {
      throw invalidArgument(
        `an idempotent producer needs acks -1 ('all'), not ${String(options.acks)}: only then does a retry know whether the batch is safe`,
      );
    }
    this.lingerMs = boundedInt('lingerMs', options.lingerMs, 0, producerLingerMsMax, 0);
    this.batchSize = boundedInt('batchSize', options.batchSize, 1, batchBytesMax, producerBatchBytesDefault);
    const bufferMemory = boundedInt(
      'bufferMemory',
      options.bufferMemory,
      1024,
      producerBufferBytesMax,
      producerBufferBytesDefault,
    );
    this.maxBlockMs = boundedInt('maxBlockMs', options.maxBlockMs, 0, 3_600_000, producerMaxBlockMsDefault);
    // an idempotent producer retries safely, so by default it outlasts a leader failover at the default
    // ZooKeeper session timeout (Kafka bounds its retries by delivery.timeout.ms, 2 minutes)
    const retriesDefault = options.idempotent
      ? Math.max(cluster.retries, producerIdempotentRetriesDefault)
      : cluster.retries;
    this.retries = boundedInt('retries', options.retries, 0, clientRetriesMax, retriesDefault);
    this.retryBackoffMs = boundedInt('retryBackoffMs', options.retryBackoffMs, 0, 60_000, 100);
    // idempotent: one at a time, so a retry can never be overtaken (the broker would see a sequence gap)
    this.maxInFlightPerPartition = this.idempotent
      ? 1
      : boundedInt(
          'maxInFlightPerPartition',
          options.maxInFlightPerPartition,
          1,
          producerInFlightPerPartitionMax,
          producerInFlightPerPartitionDefault,
        );
    this.timeoutMs = boundedInt('timeoutMs', options.timeoutMs, 1, 3_600_000, clientRequestTimeoutMsDefault);
    const c = options.compression ?? 'none';
    const codec = producerCodecs[c];
    if (!Object.hasOwn(producerCodecs, c) || codec === undefined) {
      throw invalidArgument(`compression must be one of ${Object.keys(producerCodecs).join(', ')}, not '${c}'`);
    }
    this.compression = codec;
    if (codec === Compression.zstd) {
      this.codecReady = initZstd();
      // a failed set-up is reported by send(); not an unhandled rejection before it
      this.codecReady.catch(() => undefined);
    }
    this.memory = new MemoryPool(bufferMemory);
    this.onClose = onClose;
  }

  /** Sends messages to a topic; resolves with one { topic, partition, offset } per message, in order. */
  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.closed) throw closedError('the producer');
    const { topic, messages } = record ?? ({} as ProducerRecord);
    if (typeof topic !== 'string' || topic.length === 0) throw invalidArgument('send() needs a topic');
    if (!Array.isArray(messages)) throw invalidArgument('send() needs messages: [...]');
    if (messages.length > producerMessagesPerSendMax) {
      throw invalidArgument(`one send() takes at most ${producerMessagesPerSendMax} messages`);
    }
    if (messages.length === 0) return [];
    const now = Date.now();
    let resolveCall: () => void = () => undefined;
    let rejectCall: (err: Error) => void = () => undefined;
    const settled = new Promise<void>((resolve, reject) => {
      resolveCall = resolve;
      rejectCall = reject;
    });
    // observed here so a batch failing while later messages still wait is not an unhandled rejection
    settled.catch(() => undefined);
    const call: SendCall = {
      offsets: new Array<number>(messages.length),
      remaining: messages.length,
      error: null,
      resolve: resolveCall,
      reject: rejectCall,
    };
    const maxBytes = Math.min(batchBytesMax, this.memory.total) - batchHeaderBytes;
    const records: PendingRecord[] = new Array<PendingRecord>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (m === null || typeof m !== 'object') throw invalidArgument(`message ${i} must be an object`);
      const record: PendingRecord = {
        key: toBuffer(m.key, 'key'),
        value: toBuffer(m.value, 'value'),
        headers: m.headers === undefined || m.headers === null ? undefined : headersOf(m.headers),
        timestamp: m.timestamp ?? now,
        bytes: 0,
        call,
        index: i,
        partition: m.partition,
      };
      record.bytes = recordBytes(record);
      if (record.bytes > maxBytes) {
        throw new SluiceError(
          ErrorCode.RecordTooLarge,
          `message ${i} takes ${record.bytes} bytes, more than the buffer memory or the largest batch allows`,
        );
      }
      if (m.partition !== undefined && (!Number.isInteger(m.partition) || m.partition < 0)) {
        throw invalidArgument(`message ${i}: partition must be a non-negative integer`);
      }
      records[i] = record;
    }
    // Sends are queued in call order: the enqueue phase of one send (which may wait for
    // metadata or buffer memory) finishes before the next begins, so records of
    // overlapping send() calls keep their call order within a partition.
    const enqueue = async (): Promise<number[]> => {
      // batches are compressed synchronously when sent: zstd's must be set up before any record is queued
      if (this.codecReady) await this.codecReady;
      const info = await this.cluster.retry(() => this.cluster.topic(topic, { allowAutoTopicCreation: true }));
      const count = info.partitions.length;
      if (count === 0) throw wireError(WireError.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' has no partitions`);
      const partitions: number[] = new Array<number>(records.length);
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as PendingRecord;
        const explicit = record.partition;
        if (this.closed) throw closedError('the producer');
        let partition: number;
        if (explicit !== undefined) {
          if (explicit >= count) {
            throw new SluiceError(
              ErrorCode.UnknownPartition,
              `topic '${topic}' has no partition ${explicit} (it has ${count})`,
            );
          }
          partition = explicit;
        } else if (record.key) {
          partition = partitionForKey(record.key, count);
        } else {
          partition = this.sticky.partition(topic, count);
        }
        // waits (and yields) only when the buffer memory is exhausted
        if (!this.memory.tryAcquire(record.bytes)) await this.memory.acquire(record.bytes, this.maxBlockMs);
        partitions[i] = partition;
        this.append(topic, partition, count, record);
      }
      return partitions;
    };
    const queued = this.enqueueing.then(enqueue);
    this.enqueueing = queued.catch(() => undefined);
    let partitions: number[];
    try {
      partitions = await queued;
    } catch (err) {
      // records already queued still go out; the caller learns of the failure now
      call.error ??= err as Error;
      throw err;
    }
    await settled;
    return call.offsets.map((offset, i) => ({ topic, partition: partitions[i] as number, offset }));
  }

  private queueOf(topic: string, partition: number): PartitionQueue {
    const key = topicPartitionKey(topic, partition);
    let q = this.queues.get(key);
    if (!q) {
      q = { topic, partition, open: null, ready: [], nextSeq: 0, inFlight: new Set(), retryAt: 0 };
      this.queues.set(key, q);
    }
    return q;
  }

  private newBatch(q: PartitionQueue): Batch {
    const { topic, partition } = q;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    return {
      topic,
      partition,
      records: [],
      bytes: batchHeaderBytes,
      createdAt: Date.now(),
      attempts: 0,
      seq: q.nextSeq++,
      encoded: null,
      identity: null,
      done,
      finish,
    };
  }

  private append(topic: string, partition: number, partitions: number, record: PendingRecord): void {
    const q = this.queueOf(topic, partition);
    const bytes = record.bytes;
    if (q.open && q.open.bytes + bytes > this.batchSize && q.open.records.length > 0) this.seal(q, partitions);
    if (!q.open) q.open = this.newBatch(q);
    const batch = q.open;
    batch.records.push(record);
    batch.bytes += bytes;
    if (batch.bytes >= this.batchSize) this.seal(q, partitions);
    this.schedule();
  }

  private seal(q: PartitionQueue, partitions?: number): void {
    if (!q.open) return;
    q.ready.push(q.open);
    q.open = null;
    this.sticky.onBatchClosed(q.topic, q.partition, partitions ?? 1);
  }

  private schedule(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  private scheduleAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.schedule();
      },
      Math.max(0, at - Date.now()),
    );
  }

  /** Sends every batch that is due, grouped by leader. */
  private async drain(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        await this.drainOnce();
      } while (this.drainAgain);
    } finally {
      this.draining = false;
    }
  }

  private flushing = 0;

  private async drainOnce(): Promise<void> {
    const now = Date.now();
    const urgent = this.flushing > 0 || this.memory.waiting || this.closed;
    let nextAt = Number.POSITIVE_INFINITY;
    const due: DueBatch[] = [];
    for (const q of this.queues.values()) {
      if (q.inFlight.size >= this.maxInFlightPerPartition) continue;
      if (q.retryAt > now) {
        if (q.ready.length > 0 || q.open) nextAt = Math.min(nextAt, q.retryAt);
        continue;
      }
      if (q.ready.length === 0 && q.open) {
        if (urgent || now - q.open.createdAt >= this.lingerMs) {
          const info = await this.partitionsOf(q.topic);
          this.seal(q, info);
        } else {
          nextAt = Math.min(nextAt, q.open.createdAt + this.lingerMs);
        }
      }
      while (q.ready.length > 0 && q.inFlight.size < this.maxInFlightPerPartition) {
        const batch = q.ready.shift() as Batch;
        q.inFlight.add(batch);
        due.push({ q, batch });
      }
    }
    if (Number.isFinite(nextAt)) this.scheduleAt(nextAt);
    if (due.length === 0) return;
    const byLeader = new Map<number, DueBatch[]>();
    for (const item of due) {
      let leader: number;
      try {
        leader = await this.cluster.leaderOf(item.q.topic, item.q.partition);
      } catch (err) {
        this.failed(item.q, item.batch, err);
        continue;
      }
      const list = byLeader.get(leader) ?? [];
      list.push(item);
      byLeader.set(leader, list);
    }
    for (const [leader, items] of byLeader)
      void this.sendRequests(leader, planProduceRequests(items, producerRequestBytesMax));
  }

  private async partitionsOf(topic: string): Promise<number> {
    try {
      return (await this.cluster.topic(topic)).partitions.length;
    } catch {
      return 1;
    }
  }

  /**
   * The batch's bytes, encoded once: a retry resends exactly these. An
   * idempotent batch takes its partition's next sequence numbers here.
   */
  private encode(q: PartitionQueue, batch: Batch, identity: ProducerIdentity | undefined): Buffer {
    if (!batch.encoded) {
      const options: BatchOptions = { compression: this.compression };
      const sequence = identity?.sequences.get(q) ?? 0;
      if (identity) {
        options.producerId = identity.producerId;
        options.producerEpoch = identity.producerEpoch;
        options.baseSequence = sequence;
      }
      batch.encoded = encodeRecordBatch(batch.records, options);
      if (identity) {
        identity.sequences.set(q, (sequence + batch.records.length) % sequenceModulus);
        batch.identity = identity;
      }
    }
    return batch.encoded;
  }

  /** The producer id of an idempotent producer, from any broker (InitProducerId) on first use. */
  private producerIdentity(): Promise<ProducerIdentity> {
    if (this.identity) return Promise.resolve(this.identity);
    this.identityInit ??= this.cluster
      .retry(async () => {
        const conn = await this.cluster.anyConnection();
        const body: InitProducerIdRequest = { transactionalId: null, transactionTimeoutMs: this.timeoutMs };
        const res = await conn.request(ApiKey.InitProducerId, body);
        checkTopLevel(res, 'init producer id');
        if (!Number.isSafeInteger(res.producerId) || res.producerId < 0) {
          throw wireError(
            WireError.UNKNOWN_SERVER_ERROR,
            'init producer id',
            `the broker returned producer id ${String(res.producerId)}`,
          );
        }
        return res;
      })
      .then((res) => {
        const identity: ProducerIdentity = {
          producerId: res.producerId,
          producerEpoch: res.producerEpoch,
          sequences: new Map(),
        };
        this.identity = identity;
        return identity;
      })
      .finally(() => {
        this.identityInit = undefined;
      });
    return this.identityInit;
  }

  /**
   * Sends one leader's requests, in order, over one connection (which writes
   * them in call order and the broker handles them in order), so a partition's
   * batches in successive requests keep their order.
   */
  private async sendRequests(leader: number, requests: DueBatch[][]): Promise<void> {
    let identity: ProducerIdentity | undefined;
    if (this.idempotent && requests.some((items) => items.some((item) => !item.batch.encoded))) {
      try {
        // a batch failing for good between the answer and the encoding below retires the identity: ask again
        do {
          identity = await this.producerIdentity();
        } while (identity !== this.identity);
      } catch (err) {
        for (const items of requests) for (const item of items) this.failed(item.q, item.batch, err);
        return;
      }
    }
    const bodies: { live: DueBatch[]; body: ProduceRequest }[] = [];
    for (const items of requests) {
      const prepared = this.prepareRequest(items, identity);
      if (prepared) bodies.push(prepared);
    }
    if (bodies.length === 0) return;
    let conn: Connection;
    try {
      conn = await this.cluster.brokerConnection(leader);
    } catch (err) {
      for (const { live } of bodies) for (const item of live) this.failed(item.q, item.batch, err);
      return;
    }
    for (const { live, body } of bodies) {
      conn
        .request(ApiKey.Produce, body, {
          expectResponse: this.acks !== 0,
          timeoutMs: this.timeoutMs + 5_000,
        })
        .then(
          (res) => this.answered(live, res, conn.address),
          (err: unknown) => {
            for (const item of live) this.failed(item.q, item.batch, err);
          },
        );
    }
  }

  /** A request's body, its batches encoded (a batch that cannot be encoded fails alone); null when none is left. */
  private prepareRequest(
    items: DueBatch[],
    identity: ProducerIdentity | undefined,
  ): { live: DueBatch[]; body: ProduceRequest } | null {
    const topics = new Map<string, { partition: number; records: Buffer }[]>();
    const live: DueBatch[] = [];
    for (const item of items) {
      let records: Buffer;
      try {
        records = this.encode(item.q, item.batch, identity);
      } catch (err) {
        this.failed(item.q, item.batch, err, false);
        continue;
      }
      live.push(item);
      const list = topics.get(item.q.topic) ?? [];
      list.push({ partition: item.q.partition, records });
      topics.set(item.q.topic, list);
    }
    if (live.length === 0) return null;
    const body: ProduceRequest = {
      acks: this.acks,
      timeoutMs: this.timeoutMs,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    };
    return { live, body };
  }

  /** Completes or fails each batch of a request from its partition's own answer (one batch per partition per request). */
  private answered(live: DueBatch[], res: ProduceResponse | undefined, leaderAddress: string): void {
    // A leader that cannot replicate (it timed out, or has too few in-sync replicas) may have been
    // replaced without knowing it (cut off from ZooKeeper): its metadata would send us back to it,
    // so the next metadata comes from another broker.
    for (const t of res?.topics ?? []) {
      if (t.partitions.some((p) => replicationTroubles.has(p.errorCode))) this.cluster.distrust(leaderAddress);
    }
    if (res?.errorCode) {
      for (const item of live) this.failed(item.q, item.batch, wireError(res.errorCode, 'produce', res.errorMessage));
      return;
    }
    if (this.acks === 0 || !res) {
      for (const item of live) this.completed(item.q, item.batch, -1);
      return;
    }
    const answers = answersByPartition(res.topics);
    for (const item of live) {
      const p = answers.get(topicPartitionKey(item.q.topic, item.q.partition));
      const ctx = `produce to ${item.q.topic}-${item.q.partition}`;
      if (!p) {
        this.failed(item.q, item.batch, wireError(WireError.UNKNOWN_SERVER_ERROR, ctx, 'no result for the partition'));
      } else if (p === ambiguousAnswer) {
        // the outcome is unknown (the batch may have been appended): never retried, never given an offset
        this.failed(
          item.q,
          item.batch,
          wireError(WireError.UNKNOWN_SERVER_ERROR, ctx, 'the broker answered the partition twice'),
          false,
        );
      } else if (p.errorCode !== 0) {
        this.failed(item.q, item.batch, wireError(p.errorCode, ctx, p.errorMessage ?? undefined));
      } else if (!Number.isSafeInteger(p.baseOffset) || p.baseOffset < 0) {
        this.failed(
          item.q,
          item.batch,
          wireError(WireError.UNKNOWN_SERVER_ERROR, ctx, `the broker returned base offset ${String(p.baseOffset)}`),
          false,
        );
      } else {
        this.completed(item.q, item.batch, p.baseOffset);
      }
    }
  }

  private completed(q: PartitionQueue, batch: Batch, baseOffset: number): void {
    q.inFlight.delete(batch);
    let bytes = 0;
    const records = batch.records;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as PendingRecord;
      bytes += r.bytes;
      recordDone(r, baseOffset < 0 ? -1 : baseOffset + i);
    }
    this.memory.release(bytes);
    batch.finish();
    this.schedule();
  }

  /** A batch failed: retried when that is safe and the budget allows, otherwise its records fail. */
  private failed(q: PartitionQueue, batch: Batch, err: unknown, retry = true): void {
    q.inFlight.delete(batch);
    // a written request on a broken connection may have been appended: retrying could duplicate,
    // unless the batch carries sequence numbers (idempotence), which let the broker recognise it
    const safe = isRetriableError(err) && (!wasSent(err) || batch.identity !== null);
    if (retry && safe && batch.attempts < this.retries && !this.closedHard) {
      batch.attempts++;
      requeue(q, batch);
      q.retryAt = Date.now() + Math.min(10_000, this.retryBackoffMs * 2 ** Math.min(batch.attempts - 1, 16));
      this.cluster.invalidate(q.topic);
      this.scheduleAt(q.retryAt);
      return;
    }
    const error =
      err instanceof Error
        ? err
        : new SluiceError(ErrorCode.BrokerError, `produce to ${q.topic}-${q.partition} failed: ${String(err)}`);
    // the batch's sequence numbers may or may not have reached the log: later batches take a new producer id
    if (batch.identity !== null && batch.identity === this.identity) this.identity = undefined;
    let bytes = 0;
    for (const r of batch.records) {
      bytes += r.bytes;
      recordFailed(r, error);
    }
    this.memory.release(bytes);
    batch.finish();
    this.schedule();
  }

  /** Sends everything buffered now and waits until each of those batches has succeeded or failed. */
  async flush(): Promise<void> {
    const batches: Promise<void>[] = [];
    for (const q of this.queues.values()) {
      if (q.open) batches.push(q.open.done);
      for (const b of q.ready) batches.push(b.done);
      for (const b of q.inFlight) batches.push(b.done);
    }
    if (batches.length === 0) return;
    this.flushing++;
    try {
      this.schedule();
      await Promise.all(batches);
    } finally {
      this.flushing--;
    }
  }

  private closedHard = false;

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      this.closedHard = true;
      this.memory.failAll(closedError('the producer'));
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.onClose(this);
    }
  }
}
