/**
 * The producer, the public facade over its parts (the seams of the Java
 * client and kafkajs, each in src/client/producer/):
 *
 * - memory-pool.ts: buffer memory — send() waits, FIFO, up to maxBlockMs
 *   (backpressure, never unbounded growth);
 * - accumulator.ts: records partitioned here (explicit, murmur2 of the key,
 *   or sticky for null keys) gather into one open batch per partition, sealed
 *   at batchSize, after lingerMs, or at once when someone waits (flush(),
 *   close(), a send() waiting for memory);
 * - sender.ts: due batches grouped by leader into Produce requests (at most
 *   one batch per partition in a request, see produce-requests.ts), answers,
 *   retries with backoff after a metadata refresh;
 * - idempotence.ts (`idempotent: true`, which needs acks -1): producer id,
 *   epoch and per-partition sequence numbers, so a retry after an unknown
 *   outcome cannot duplicate.
 *
 * - transactions.ts (`transactionalId`, issue 21): transaction() → send,
 *   sendOffsets, commit, abort, with the state machine of
 *   transaction-manager.ts; a transactional producer sends only inside a
 *   transaction.
 *
 * Batches grow with the backlog (batchSize is a floor, up to 1 MiB while a
 * partition's pipeline is full; see accumulator.ts), so the defaults send a
 * heavy load in large batches and a light one without delay.
 *
 * Bounds: buffer memory, batches in flight per partition (at most 5 when
 * idempotent, Kafka's rule), bytes in flight per broker, requests in flight
 * per connection, retries.
 */
import { ErrorCode, SluiceError, WireError } from '../shared/errors.js';
import {
  batchBytesMax,
  batchHeaderBytes,
  clientRequestTimeoutMsDefault,
  clientRetriesMax,
  producerBatchBytesDefault,
  producerBatchBytesGrowMax,
  producerBufferBytesDefault,
  producerBufferBytesMax,
  producerFreeBatchBuffersBytesMax,
  producerIdempotentInFlightPerPartitionMax,
  producerIdempotentRetriesDefault,
  producerInFlightBytesPerBroker,
  producerInFlightPerPartitionDefault,
  producerInFlightPerPartitionMax,
  producerLingerMsMax,
  producerMaxBlockMsDefault,
  producerMessagesPerSendMax,
  producerTransactionTimeoutMsDefault,
  requestStringLengthMax,
} from '../shared/limits.js';
import type { RecordHeader } from '../wire/record.js';
import { Compression } from '../wire/record-batch.js';
import { initZstd } from '../wire/zstd.js';
import type { Cluster } from './cluster.js';
import { closedError, invalidArgument, wireError } from './errors.js';
import { boundedInt } from './options.js';
import { partitionForKey, StickyPartitioner } from './partitioner.js';
import { fixedRecordBytes, headersBytes, RecordAccumulator, type SendCall } from './producer/accumulator.js';
import { BatchBuffers } from './producer/batch-buffers.js';
import { byteLengthOf, type RecordBytes, type RecordFields } from './producer/batch-writer.js';
import { Idempotence } from './producer/idempotence.js';
import { MemoryPool } from './producer/memory-pool.js';
import { Sender } from './producer/sender.js';
import type { TxnOffsets } from './producer/transaction-requests.js';
import { type Transaction, Transactions } from './producer/transactions.js';
import type { Acks, ProducerMessage, ProducerOptions, ProducerRecord, RecordMetadata } from './types.js';

/** One transaction of a transactional producer: send() takes the producer's send() arguments. */
export type ProducerTransaction = Transaction<ProducerRecord, RecordMetadata[]>;
export type { TxnOffsets };

/** The producer's `compression` names and the codecs they write. */
const producerCodecs: Record<string, Compression> = {
  none: Compression.none,
  gzip: Compression.gzip,
  snappy: Compression.snappy,
  lz4: Compression.lz4,
  zstd: Compression.zstd,
};

/** A message's key or value as written into its batch: a string, a Buffer or other Uint8Array, or null. */
function recordBytesOf(v: unknown, what: string): RecordBytes {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  throw invalidArgument(`${what} must be a string, a Buffer or null`);
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

export class Producer {
  private readonly acks: 0 | 1 | -1;
  private readonly idempotent: boolean;
  private readonly maxBlockMs: number;
  /** zstd only: its compressor's set-up (src/wire/zstd.ts), awaited before the first record is queued. */
  private readonly codecReady: Promise<void> | undefined;
  private readonly memory: MemoryPool;
  private readonly sticky = new StickyPartitioner();
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  /** The enqueue phase of the latest send(); the next one starts after it. */
  private enqueueing: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly onClose: (p: Producer) => void;
  /** A transactional producer's transactions (undefined: not transactional). */
  private readonly transactions: Transactions | undefined;

  constructor(
    private readonly cluster: Cluster,
    options: ProducerOptions = {},
    onClose: (p: Producer) => void = () => undefined,
  ) {
    if (options.idempotent !== undefined && typeof options.idempotent !== 'boolean') {
      throw invalidArgument(`idempotent must be true or false, not ${String(options.idempotent)}`);
    }
    const transactionalId = options.transactionalId;
    if (
      transactionalId !== undefined &&
      (typeof transactionalId !== 'string' ||
        transactionalId === '' ||
        Buffer.byteLength(transactionalId) > requestStringLengthMax)
    ) {
      throw invalidArgument(`transactionalId must be a non-empty string of at most ${requestStringLengthMax} bytes`);
    }
    if (transactionalId !== undefined && options.idempotent === false) {
      throw invalidArgument(
        'a transactional producer is idempotent: idempotent: false cannot go with a transactionalId',
      );
    }
    // a transactional producer is idempotent (Kafka's rule)
    this.idempotent = options.idempotent === true || transactionalId !== undefined;
    this.acks = normalizeAcks(options.acks);
    if (this.idempotent && this.acks !== -1) {
      throw invalidArgument(
        `an idempotent producer needs acks -1 ('all'), not ${String(options.acks)}: only then does a retry know whether the batch is safe`,
      );
    }
    const lingerMs = boundedInt('lingerMs', options.lingerMs, 0, producerLingerMsMax, 0);
    const batchSize = boundedInt('batchSize', options.batchSize, 1, batchBytesMax, producerBatchBytesDefault);
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
    const retriesDefault = this.idempotent
      ? Math.max(cluster.retries, producerIdempotentRetriesDefault)
      : cluster.retries;
    const retries = boundedInt('retries', options.retries, 0, clientRetriesMax, retriesDefault);
    const retryBackoffMs = boundedInt('retryBackoffMs', options.retryBackoffMs, 0, 60_000, 100);
    const inFlight = boundedInt(
      'maxInFlightPerPartition',
      options.maxInFlightPerPartition,
      1,
      producerInFlightPerPartitionMax,
      producerInFlightPerPartitionDefault,
    );
    // idempotent: at most 5 (Kafka's rule), so a broker recognises any resent batch of the partition
    const maxInFlightPerPartition = this.idempotent
      ? Math.min(inFlight, producerIdempotentInFlightPerPartitionMax)
      : inFlight;
    const timeoutMs = boundedInt('timeoutMs', options.timeoutMs, 1, 3_600_000, clientRequestTimeoutMsDefault);
    const c = options.compression ?? 'none';
    const codec = producerCodecs[c];
    if (!Object.hasOwn(producerCodecs, c) || codec === undefined) {
      throw invalidArgument(`compression must be one of ${Object.keys(producerCodecs).join(', ')}, not '${c}'`);
    }
    if (codec === Compression.zstd) {
      this.codecReady = initZstd();
      // a failed set-up is reported by send(); not an unhandled rejection before it
      this.codecReady.catch(() => undefined);
    }
    this.memory = new MemoryPool(bufferMemory);
    // batches grow with the backlog from batchSize up to the larger of batchSize and the grow ceiling,
    // and never beyond what the buffer memory could hold
    const batchSizeMax = Math.max(batchSize, Math.min(producerBatchBytesGrowMax, bufferMemory));
    // free batch buffers kept for reuse lie outside the count: at most a quarter of it more
    const freeBuffers = new BatchBuffers(Math.min(producerFreeBatchBuffersBytesMax, Math.floor(bufferMemory / 4)));
    this.accumulator = new RecordAccumulator(
      { batchSize, batchSizeMax, lingerMs, maxInFlightPerPartition },
      this.sticky,
      this.memory,
      Date.now,
      freeBuffers,
    );
    const transactionTimeoutMs = boundedInt(
      'transactionTimeoutMs',
      options.transactionTimeoutMs,
      1,
      2_147_483_647,
      producerTransactionTimeoutMsDefault,
    );
    const idempotence = this.idempotent
      ? new Idempotence(cluster, timeoutMs, transactionalId !== undefined)
      : undefined;
    this.transactions =
      transactionalId !== undefined && idempotence
        ? new Transactions(cluster, idempotence, transactionalId, transactionTimeoutMs)
        : undefined;
    this.sender = new Sender(
      cluster,
      this.accumulator,
      this.memory,
      idempotence,
      {
        acks: this.acks,
        compression: codec,
        retries,
        retryBackoffMs,
        timeoutMs,
        inFlightBytesPerBroker: producerInFlightBytesPerBroker,
        batchSize,
      },
      this.transactions,
    );
    this.onClose = onClose;
  }

  /**
   * Begins a transaction (a transactional producer only; one at a time). The
   * first call initialises the producer at its transaction coordinator,
   * fencing any older producer with the same transactionalId.
   */
  async transaction(): Promise<ProducerTransaction> {
    if (this.closed) throw closedError('the producer');
    if (!this.transactions) throw invalidArgument('transaction() needs a producer created with a transactionalId');
    return this.transactions.begin((record: ProducerRecord) => this.sendRecords(record));
  }

  /**
   * @internal A transacted session's writes that are not this producer's
   * batches (its queues' QueueSends) inside the open transaction, and the
   * state of its transactions (session-txn.ts).
   */
  get sessionTransactions(): Transactions | undefined {
    return this.transactions;
  }

  /**
   * Sends messages to a topic; resolves with one { topic, partition, offset } per message, in order.
   * A transactional producer sends only inside its open transaction (this is its transaction's send).
   */
  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.transactions) {
      const transactions = this.transactions;
      try {
        transactions.checkSend();
      } catch (err) {
        return Promise.reject(err);
      }
      return transactions.send(() => this.sendRecords(record));
    }
    return this.sendRecords(record);
  }

  private async sendRecords(record: ProducerRecord): Promise<RecordMetadata[]> {
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
    // what each message holds, read once now, in a few arrays per call rather than an object per
    // record: the records are written straight into their batches when queued
    const n = messages.length;
    const fields = new Array<RecordBytes>(2 * n);
    const lengths = new Array<number>(2 * n);
    // only when a message gives one (most give none)
    let timestamps: number[] | undefined;
    let explicit: (number | undefined)[] | undefined;
    let headerLists: (RecordHeader[] | undefined)[] | undefined;
    for (let i = 0; i < n; i++) {
      const m = messages[i];
      if (m === null || typeof m !== 'object') throw invalidArgument(`message ${i} must be an object`);
      const key = recordBytesOf(m.key, 'key');
      const value = recordBytesOf(m.value, 'value');
      const keyLength = byteLengthOf(key);
      const valueLength = byteLengthOf(value);
      let bytes = fixedRecordBytes + Math.max(0, keyLength) + Math.max(0, valueLength);
      if (m.headers !== undefined && m.headers !== null) {
        const headers = headersOf(m.headers);
        headerLists ??= new Array<RecordHeader[] | undefined>(n);
        headerLists[i] = headers;
        bytes += headersBytes(headers);
      }
      if (bytes > maxBytes) {
        throw new SluiceError(
          ErrorCode.RecordTooLarge,
          `message ${i} takes ${bytes} bytes, more than the buffer memory or the largest batch allows`,
        );
      }
      if (
        m.timestamp !== undefined &&
        m.timestamp !== null &&
        (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0)
      ) {
        throw invalidArgument(`message ${i}: timestamp must be a non-negative integer (ms since the epoch)`);
      }
      if (m.partition !== undefined && (!Number.isInteger(m.partition) || m.partition < 0)) {
        throw invalidArgument(`message ${i}: partition must be a non-negative integer`);
      }
      fields[2 * i] = key;
      fields[2 * i + 1] = value;
      lengths[2 * i] = keyLength;
      lengths[2 * i + 1] = valueLength;
      if (m.timestamp !== undefined && m.timestamp !== null) {
        timestamps ??= new Array<number>(n).fill(now);
        timestamps[i] = m.timestamp;
      }
      if (m.partition !== undefined) {
        explicit ??= new Array<number | undefined>(n);
        explicit[i] = m.partition;
      }
    }
    // Sends are queued in call order: the enqueue phase of one send (which may wait for
    // metadata or buffer memory) finishes before the next begins, so records of
    // overlapping send() calls keep their call order within a partition.
    const enqueue = async (): Promise<number[]> => {
      // batches are compressed synchronously when sent: zstd's must be set up before any record is queued
      if (this.codecReady) await this.codecReady;
      // without a promise while the metadata is fresh (once per send() call)
      const info =
        this.cluster.freshTopic(topic) ??
        (await this.cluster.retry(() => this.cluster.topic(topic, { allowAutoTopicCreation: true })));
      const count = info.partitions.length;
      if (count === 0) throw wireError(WireError.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' has no partitions`);
      const partitions: number[] = new Array<number>(n);
      // one record's fields at a time: the accumulator copies them into the batch at once
      const r: RecordFields = {
        key: null,
        keyLength: -1,
        value: null,
        valueLength: -1,
        headers: undefined,
        timestamp: now,
      };
      for (let i = 0; i < n; i++) {
        const key = fields[2 * i] as RecordBytes;
        r.key = key;
        r.keyLength = lengths[2 * i] as number;
        r.value = fields[2 * i + 1] as RecordBytes;
        r.valueLength = lengths[2 * i + 1] as number;
        r.headers = headerLists?.[i];
        r.timestamp = timestamps === undefined ? now : (timestamps[i] as number);
        const asked = explicit?.[i];
        let partition: number;
        if (asked !== undefined) {
          if (asked >= count) {
            throw new SluiceError(
              ErrorCode.UnknownPartition,
              `topic '${topic}' has no partition ${asked} (it has ${count})`,
            );
          }
          partition = asked;
        } else if (key !== null) {
          partition = partitionForKey(typeof key === 'string' ? Buffer.from(key, 'utf8') : key, count);
        } else {
          partition = this.sticky.partition(topic, count);
        }
        const bytes =
          fixedRecordBytes +
          Math.max(0, r.keyLength) +
          Math.max(0, r.valueLength) +
          (r.headers === undefined ? 0 : headersBytes(r.headers));
        // waits (and yields) only when the buffer memory is exhausted: what is queued goes out meanwhile
        if (!this.memory.tryAcquire(bytes)) {
          this.sender.wake();
          await this.memory.acquire(bytes, this.maxBlockMs);
        }
        partitions[i] = partition;
        this.accumulator.add(topic, partition, count, r, bytes, call, i);
      }
      this.sender.wake();
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

  /** Sends everything buffered now and waits until each of those batches has succeeded or failed. */
  flush(): Promise<void> {
    return this.sender.flush();
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sender.beginClose();
    try {
      // a send() called before close() still goes: its records may still wait for metadata
      await this.enqueueing;
      await this.flush();
    } finally {
      this.sender.stop();
      this.memory.failAll(closedError('the producer'));
      this.onClose(this);
    }
  }
}
