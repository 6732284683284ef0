/**
 * The engine under every queue receiver, listener and transacted session
 * receiver: one consumer id at the queue's leader, over a connection of its
 * own (the broker binds the id to it and releases everything the consumer
 * holds when it closes), a local buffer, and a fetch loop.
 *
 * Bounds: the consumer holds at most `prefetch` unacknowledged messages —
 * buffered plus handed over and not yet settled — and asks QueueFetch for no
 * more than prefetch − held. It long-polls only while a receive() waits.
 * Otherwise it tops the buffer up, once half of it is free, with fetches that
 * do not wait (so settles on the same connection are never stuck behind a
 * long poll), and idles when the queue has nothing. Settles are batched into
 * one QueueAck per turn of the event loop, sent before the next fetch.
 *
 * A lost connection or a leader move starts a new epoch: a new consumer id
 * and connection, the buffer dropped (the broker released those messages;
 * they are redelivered), and settling a message of the old epoch fails. The
 * next fetch reports the dropped offsets (QueueFetch `returned`): the
 * application never saw them, so those deliveries are not counted — not in
 * the delivery count, not towards the DLQ.
 */
import { randomBytes } from 'node:crypto';
import { ApiKey } from '../protocol/native/api-keys.js';
import type {
  QueueAckRequest,
  QueueAckType,
  QueueDelivery,
  QueueFetchRequest,
  QueueLeaveRequest,
} from '../protocol/native/queue-messages.js';
import { queueTopic } from '../protocol/native/queue-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Cluster } from './cluster.js';
import { Connection } from './connection.js';
import { closedError, invalidArgument, isRetriableError, wireError } from './errors.js';
import { boundedInt } from './options.js';
import { checkQueueResponse, headerRecord, queueLeader } from './queue-wire.js';
import type { QueueAckMode, QueueMessage } from './types.js';

/** Largest prefetch a receiver may ask for (the broker's per-fetch bound). */
export const queuePrefetchMax = 10_000;
export const queuePrefetchDefault = 1000;
export const queueFetchWaitMsDefault = 500;
const queueFetchWaitMsMax = 30_000;
/** receive() calls that may wait at once on one receiver. */
const receiveWaitersMax = 1000;
/** Settles one QueueAck carries at most. */
const ackBatchMax = 10_000;
/** Dropped-unhanded offsets reported at most (the broker's bound per QueueFetch); beyond, the oldest go unreported. */
const droppedReportMax = 10_000;
/** The broker's default queue.lock.timeout.ms: buffered messages older than this may have been given to others. */
const brokerLockTimeoutMsDefault = 30_000;
/** Longest pause between attempts to reach a queue's (new) leader: a failover is over in seconds. */
const consumerRetryBackoffMsMax = 2000;
/** Requests in flight on a consumer's own connection (a fetch, settles, a leave). */
const consumerConnectionInFlight = 8;

export interface QueueConsumerOptions {
  prefetch?: number;
  ackMode: QueueAckMode;
  lockTimeoutMs?: number;
  maxWaitMs?: number;
}

interface Buffered {
  delivery: QueueDelivery;
  fetchedAt: number;
}

interface Waiter {
  resolve: (m: QueueMessage | null) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

interface PendingSettle {
  offset: number;
  type: QueueAckType;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A settle of a message from before the consumer's connection was lost or its queue moved. */
function staleError(queue: string, offset: number): SluiceError {
  return new SluiceError(
    ErrorCode.InvalidRequest,
    `queue ${queue}: message ${offset} was released when the receiver's connection was lost or the queue moved; it is redelivered`,
  );
}

export class QueueConsumer {
  readonly prefetch: number;
  readonly ackMode: QueueAckMode;
  private readonly capacity: number;
  private readonly maxWaitMs: number;
  private readonly lockTimeoutMs: number | undefined;
  private readonly bufferTtlMs: number;
  private consumerIdValue = '';
  private conn: Connection | null = null;
  private epoch = 0;
  private buffer: Buffered[] = [];
  /**
   * Offsets dropped from the buffer unhanded when an epoch ended (connection
   * lost, queue moved): reported once with the next fetch, so the broker
   * does not count those deliveries (a message must not reach the DLQ for
   * deliveries its application never saw).
   */
  private dropped: number[] = [];
  /** Offsets handed over and not settled yet (client mode, listeners, sessions). */
  private readonly unsettled = new Set<number>();
  private waiters: Waiter[] = [];
  private pendingSettles: PendingSettle[] = [];
  private flushScheduled = false;
  private readonly inFlightSettles = new Set<Promise<void>>();
  /** Top the buffer up without waiting (set by receive(), cleared when the queue had nothing). */
  private prefill = true;
  private wakeLoop: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private closed = false;
  private failure: Error | null = null;

  constructor(
    private readonly cluster: Cluster,
    readonly queue: string,
    options: QueueConsumerOptions,
  ) {
    this.prefetch = boundedInt('prefetch', options.prefetch, 0, queuePrefetchMax, queuePrefetchDefault);
    this.capacity = Math.max(1, this.prefetch);
    if (options.ackMode !== 'auto' && options.ackMode !== 'client')
      throw invalidArgument(`ackMode must be 'auto' or 'client', not ${String(options.ackMode)}`);
    this.ackMode = options.ackMode;
    this.maxWaitMs = boundedInt('maxWaitMs', options.maxWaitMs, 1, queueFetchWaitMsMax, queueFetchWaitMsDefault);
    this.lockTimeoutMs =
      options.lockTimeoutMs === undefined
        ? undefined
        : boundedInt('lockTimeoutMs', options.lockTimeoutMs, 100, 86_400_000, 0);
    const lockMs = this.lockTimeoutMs ?? brokerLockTimeoutMsDefault;
    this.bufferTtlMs = lockMs - Math.min(1000, Math.floor(lockMs / 10));
    this.newConsumerId();
  }

  /** The id the broker knows this consumer by right now (it changes after a lost connection). */
  get consumerId(): string {
    return this.consumerIdValue;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Messages held: buffered plus handed over and not settled. */
  get held(): number {
    return this.buffer.length + this.unsettled.size;
  }

  private newConsumerId(): void {
    this.consumerIdValue = `${this.cluster.clientId}-${randomBytes(8).toString('hex')}`;
  }

  /**
   * The next message, waiting up to `timeoutMs` (undefined: until close();
   * 0: only what is buffered). Null on timeout or once closed.
   */
  receive(timeoutMs?: number): Promise<QueueMessage | null> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve(null);
    if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0))
      return Promise.reject(invalidArgument(`timeoutMs must be a non-negative integer, not ${String(timeoutMs)}`));
    this.prefill = true;
    const now = this.takeBuffered();
    if (now) {
      this.wake();
      return Promise.resolve(now);
    }
    if (timeoutMs === 0) {
      this.wake();
      return Promise.resolve(null);
    }
    if (this.waiters.length >= receiveWaitersMax)
      return Promise.reject(invalidArgument(`more than ${receiveWaitersMax} receive() calls wait at once`));
    return new Promise<QueueMessage | null>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(null);
        }, timeoutMs);
      }
      this.waiters.push(waiter);
      this.wake();
    });
  }

  /** The oldest buffered message whose lock has not run out, handed over; null when none. */
  private takeBuffered(): QueueMessage | null {
    const now = Date.now();
    for (let b = this.buffer.shift(); b; b = this.buffer.shift()) {
      if (now - b.fetchedAt < this.bufferTtlMs) return this.handOver(b.delivery);
      // held too long unseen: the broker may have given it to another consumer; give it back uncounted
      this.unsettled.add(b.delivery.offset);
      void this.settle(b.delivery.offset, 'return', this.epoch).catch(() => undefined);
    }
    return null;
  }

  private handOver(d: QueueDelivery): QueueMessage {
    const epoch = this.epoch;
    let settled: Promise<void> | null = null;
    const settle = (type: QueueAckType): Promise<void> => {
      settled ??= this.settle(d.offset, type, epoch);
      return settled;
    };
    if (this.ackMode === 'auto') {
      this.unsettled.add(d.offset);
      settled = this.settle(d.offset, 'accept', epoch);
      settled.catch(() => undefined);
    } else {
      this.unsettled.add(d.offset);
    }
    return {
      queue: this.queue,
      offset: d.offset,
      key: d.key ? Buffer.from(d.key) : null,
      value: d.value ? Buffer.from(d.value) : null,
      headers: headerRecord(d.headers),
      timestamp: d.timestamp,
      deliveryCount: d.deliveryCount,
      redelivered: d.deliveryCount > 1,
      ack: () => (this.ackMode === 'auto' ? Promise.resolve() : settle('accept')),
      release: () => settle('release'),
      nack: () => settle('release'),
      reject: () => settle('reject'),
    };
  }

  /** Whether a handed-over message is still unsettled in the current epoch. */
  isUnsettled(message: QueueMessage, epoch = this.epoch): boolean {
    return epoch === this.epoch && this.unsettled.has(message.offset);
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /**
   * Takes the unsettled messages out of the consumer's accounting, for a
   * transaction's commit that acknowledges them inside a QueueSend; `restore`
   * puts them back when the commit failed.
   */
  takeUnsettled(offsets: number[], epoch: number): { consumerId: string; offsets: number[] } {
    if (epoch !== this.epoch) throw staleError(this.queue, offsets[0] ?? -1);
    for (const o of offsets) {
      if (!this.unsettled.has(o)) throw staleError(this.queue, o);
    }
    return { consumerId: this.consumerIdValue, offsets };
  }

  /** The commit that carried these acknowledgements succeeded. */
  committed(offsets: number[], epoch: number): void {
    if (epoch !== this.epoch) return;
    for (const o of offsets) this.unsettled.delete(o);
    this.wake();
  }

  /** Settles one message (batched with the others of this tick into one QueueAck). */
  settle(offset: number, type: QueueAckType, epoch: number): Promise<void> {
    if (epoch !== this.epoch || !this.unsettled.has(offset)) return Promise.reject(staleError(this.queue, offset));
    this.unsettled.delete(offset);
    const p = new Promise<void>((resolve, reject) => {
      this.pendingSettles.push({ offset, type, resolve, reject });
    });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushSettles());
    }
    this.wake();
    return p;
  }

  /** Sends the settles gathered so far (one QueueAck per batch) on the consumer's connection. */
  private flushSettles(): void {
    this.flushScheduled = false;
    const all = this.pendingSettles;
    this.pendingSettles = [];
    if (all.length === 0) return;
    const conn = this.conn;
    if (!conn || conn.isClosed) {
      for (const s of all) s.reject(staleError(this.queue, s.offset));
      return;
    }
    for (let i = 0; i < all.length; i += ackBatchMax) {
      const batch = all.slice(i, i + ackBatchMax);
      const body: QueueAckRequest = {
        queue: this.queue,
        consumerId: this.consumerIdValue,
        acks: batch.map((s) => ({ offset: s.offset, type: s.type })),
      };
      const sent = conn
        .request(ApiKey.QueueAck, body)
        .then((res) => {
          checkQueueResponse(this.cluster, this.queue, res, `acknowledge on queue '${this.queue}'`);
          const results = new Map((res.results ?? []).map((r) => [r.offset, r]));
          for (const s of batch) {
            const r = results.get(s.offset);
            if (r && r.errorCode !== 0)
              s.reject(wireError(r.errorCode, `${s.type} ${this.queue}@${s.offset}`, r.errorMessage));
            else s.resolve();
          }
        })
        .catch((err: Error) => {
          for (const s of batch) s.reject(err);
        });
      this.inFlightSettles.add(sent);
      void sent.finally(() => this.inFlightSettles.delete(sent));
    }
  }

  private wake(): void {
    const w = this.wakeLoop;
    this.wakeLoop = null;
    w?.();
    if (!this.loop && !this.closed && !this.failure) {
      this.loop = this.run().finally(() => {
        this.loop = null;
      });
    }
  }

  private idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wakeLoop = resolve;
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed && !this.failure) {
      const room = this.capacity - this.held;
      const wanted = this.waiters.length > 0;
      // without a receive() waiting, the buffer is topped up once half of it is free (fewer, larger fetches)
      const topUp = this.prefetch > 0 && this.prefill && room >= Math.ceil(this.capacity / 2);
      if (room <= 0 || (!wanted && !topUp)) {
        await this.idle();
        continue;
      }
      const epoch = this.epoch;
      try {
        const maxMessages = this.prefetch === 0 ? Math.min(room, this.waiters.length) : room;
        const got = await this.fetch(maxMessages, wanted ? this.maxWaitMs : 0);
        failures = 0;
        if (epoch !== this.epoch) continue; // the connection broke meanwhile: those were released
        if (got.length === 0 && this.waiters.length === 0) this.prefill = false;
        const fetchedAt = Date.now();
        for (const delivery of got) this.buffer.push({ delivery, fetchedAt });
        this.serveWaiters();
      } catch (err) {
        if (this.closed) break;
        if (!isRetriableError(err)) {
          this.fail(err as Error);
          break;
        }
        this.resetEpoch();
        failures++;
        const delay = Math.min(this.cluster.backoffMs(failures - 1), consumerRetryBackoffMsMax);
        try {
          await this.cluster.pause(delay);
        } catch {
          break; // the client closed
        }
      }
    }
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0) {
      const m = this.takeBuffered();
      if (!m) return;
      const w = this.waiters.shift() as Waiter;
      if (w.timer) clearTimeout(w.timer);
      w.resolve(m);
    }
  }

  /** The consumer's own connection to the queue's leader (any broker while the queue is unknown: it creates it). */
  private async connection(): Promise<Connection> {
    if (this.conn && !this.conn.isClosed) return this.conn;
    const leader = await queueLeader(this.cluster, this.queue);
    const base = leader === null ? await this.cluster.anyConnection() : await this.cluster.brokerConnection(leader);
    if (this.closed) throw closedError('the receiver');
    const conn: Connection = new Connection({
      host: base.host,
      port: base.port,
      clientId: this.cluster.clientId,
      requestTimeoutMs: this.cluster.requestTimeoutMs,
      maxInFlight: consumerConnectionInFlight,
      ...(this.cluster.tls ? { tls: this.cluster.tls } : {}),
      ...(this.cluster.sasl ? { sasl: this.cluster.sasl } : {}),
      onClose: () => {
        // the broker released what this consumer held: start over with a new id
        if (this.conn === conn) this.resetEpoch();
      },
    });
    this.conn = conn;
    await conn.connect();
    return conn;
  }

  private async fetch(maxMessages: number, maxWaitMs: number): Promise<QueueDelivery[]> {
    const conn = await this.connection();
    // settles of this tick go first: the broker must see the room they make before the fetch
    if (this.flushScheduled) this.flushSettles();
    const body: QueueFetchRequest = {
      queue: this.queue,
      consumerId: this.consumerIdValue,
      prefetch: this.capacity,
      maxMessages,
      maxWaitMs,
    };
    if (this.lockTimeoutMs !== undefined) body.lockTimeoutMs = this.lockTimeoutMs;
    const reported = new Set(this.dropped);
    if (reported.size > 0) body.returned = [...reported];
    const res = await conn.request(ApiKey.QueueFetch, body, {
      timeoutMs: this.cluster.requestTimeoutMs + maxWaitMs,
    });
    checkQueueResponse(this.cluster, this.queue, res, `fetch from queue '${this.queue}'`);
    // reported: the next fetch carries only what was dropped since
    if (reported.size > 0) this.dropped = this.dropped.filter((o) => !reported.has(o));
    return res.messages ?? [];
  }

  /** A new epoch: new id and connection; buffered messages dropped (the broker released them). */
  private resetEpoch(): void {
    this.epoch++;
    const old = this.conn;
    this.conn = null;
    old?.close();
    for (const b of this.buffer) this.dropped.push(b.delivery.offset);
    if (this.dropped.length > droppedReportMax) this.dropped = this.dropped.slice(-droppedReportMax);
    this.buffer = [];
    this.unsettled.clear();
    for (const s of this.pendingSettles.splice(0)) s.reject(staleError(this.queue, s.offset));
    this.cluster.invalidate(queueTopic(this.queue));
    this.newConsumerId();
    this.prefill = true;
  }

  /** Ends the receive() calls waiting now (they resolve null) without closing. */
  interrupt(): void {
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(null);
    }
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(err);
    }
  }

  /**
   * Stops fetching, waits for settles under way, then leaves the queue: what
   * the consumer still holds (buffered or unsettled) goes back at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(null);
    }
    this.wake();
    // prefetched messages the application never saw go back without counting a delivery
    for (const b of this.buffer.splice(0)) {
      this.unsettled.add(b.delivery.offset);
      void this.settle(b.delivery.offset, 'return', this.epoch).catch(() => undefined);
    }
    if (this.flushScheduled) this.flushSettles();
    await Promise.allSettled([...this.inFlightSettles]);
    const conn = this.conn;
    this.conn = null;
    if (conn && !conn.isClosed) {
      const body: QueueLeaveRequest = { queue: this.queue, consumerId: this.consumerIdValue };
      try {
        await conn.request(ApiKey.QueueLeave, body);
      } catch {
        // closing the connection releases everything just the same
      }
      conn.close();
    }
    await this.loop;
    this.buffer = [];
    this.unsettled.clear();
  }
}
