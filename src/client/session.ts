/**
 * Transacted sessions (JMS Session with transacted = true):
 *
 *   const session = sluice.session({ transacted: true });
 *   const orders = session.queue('orders'), audit = session.queue('audit');
 *   const r = orders.receiver({ prefetch: 10 });
 *   const m = await r.receive(1000);            // held until commit/rollback
 *   await audit.send('seen');                   // buffered until commit
 *   await session.commit();                     // or session.rollback()
 *
 * commit() sends, per queue, ONE QueueSend carrying the messages buffered
 * for it and the acknowledgements of the messages received from it: the
 * broker writes them as one batch, so on that queue they become visible
 * together or not at all. Atomicity is per queue: with several queues the
 * commits run one queue after the other, and should one fail, the queues
 * before it are committed and the rest are not (commit() rejects; rollback()
 * then drops what was not committed). rollback() drops the buffered sends
 * and releases the received messages: they are redelivered (counting as a
 * delivery towards queue.max.redeliveries).
 *
 * Buffered sends are bounded: 10,000 messages per queue and 32 MiB per session.
 */

import type { QueueMessageInput } from '../protocol/native/queue-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { queueBatchMessagesMax } from '../shared/limits.js';
import type { Cluster } from './cluster.js';
import { closedError, invalidArgument } from './errors.js';
import { queueSend } from './queue.js';
import { QueueConsumer } from './queue-consumer.js';
import { checkQueueName, messageInput } from './queue-wire.js';
import type { QueueMessage, QueueReceiverOptions, QueueSendOptions, SessionOptions } from './types.js';

/** Bytes of message keys, values and headers one session buffers at most before commit(). */
const sessionBufferedBytesMax = 32 * 1024 * 1024;

function inputBytes(m: QueueMessageInput): number {
  let n = 32 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const h of m.headers ?? []) n += 8 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}

function transactedOnly(): Promise<void> {
  return Promise.reject(
    new SluiceError(
      ErrorCode.InvalidArgument,
      'a message of a transacted session is settled by session.commit() or session.rollback()',
    ),
  );
}

interface QueueState {
  sends: QueueMessageInput[];
  receiver: SessionReceiver | null;
}

/** The receiving side of a session on one queue: messages are acknowledged by the session's commit(). */
export class SessionReceiver {
  /** Received since the last commit/rollback, with the consumer epoch they were received in. */
  private received: { offset: number; epoch: number }[] = [];

  constructor(
    readonly queue: string,
    readonly consumer: QueueConsumer,
  ) {}

  /** The next message (null on timeout); it stays held until the session commits or rolls back. */
  async receive(timeoutMs?: number): Promise<QueueMessage | null> {
    const m = await this.consumer.receive(timeoutMs);
    if (!m) return null;
    this.received.push({ offset: m.offset, epoch: this.consumer.currentEpoch });
    return { ...m, ack: transactedOnly, release: transactedOnly, nack: transactedOnly, reject: transactedOnly };
  }

  /** @internal The acknowledgements a commit carries; throws when they were released meanwhile. */
  pendingAcks(): { ack: { consumerId: string; offsets: number[] } | undefined; epoch: number; offsets: number[] } {
    const epoch = this.consumer.currentEpoch;
    const offsets = this.received.map((r) => r.offset);
    if (offsets.length === 0) return { ack: undefined, epoch, offsets };
    if (this.received.some((r) => r.epoch !== epoch)) {
      throw new SluiceError(
        ErrorCode.InvalidRequest,
        `transaction on queue '${this.queue}' cannot commit: the receiver's connection was lost and its messages were released; roll back`,
      );
    }
    return { ack: this.consumer.takeUnsettled(offsets, epoch), epoch, offsets };
  }

  /** @internal */
  committed(epoch: number, offsets: number[]): void {
    this.consumer.committed(offsets, epoch);
    this.received = this.received.slice(offsets.length);
  }

  /** @internal Releases what was received since the last commit. */
  async rollback(): Promise<void> {
    const received = this.received;
    this.received = [];
    await Promise.allSettled(received.map((r) => this.consumer.settle(r.offset, 'release', r.epoch)));
  }
}

/** A queue as seen from a session: send() buffers, receiver() receives within the transaction. */
export class SessionQueue {
  constructor(
    private readonly session: Session,
    readonly name: string,
  ) {}

  /** Buffers a message until commit(); resolves at once. */
  send(value: string | Buffer | null, options: QueueSendOptions = {}): Promise<void> {
    return this.session.buffer(this.name, messageInput({ ...options, value }));
  }

  /** The session's receiver on this queue (one per queue and session). */
  receiver(options: Omit<QueueReceiverOptions, 'ackMode'> = {}): SessionReceiver {
    return this.session.receiverFor(this.name, options);
  }
}

export class Session {
  private readonly queues = new Map<string, QueueState>();
  private bufferedBytes = 0;
  private closed = false;
  private committing: Promise<void> | null = null;

  constructor(
    private readonly cluster: Cluster,
    options: SessionOptions | undefined,
    private readonly onClose: (s: Session) => void,
  ) {
    if (options !== undefined && options.transacted !== true)
      throw invalidArgument('only transacted sessions are supported: sluice.session({ transacted: true })');
  }

  readonly transacted = true;

  queue(name: string): SessionQueue {
    if (this.closed) throw closedError('the session');
    return new SessionQueue(this, checkQueueName(name));
  }

  private state(queue: string): QueueState {
    let s = this.queues.get(queue);
    if (!s) {
      s = { sends: [], receiver: null };
      this.queues.set(queue, s);
    }
    return s;
  }

  /** @internal */
  buffer(queue: string, message: QueueMessageInput): Promise<void> {
    if (this.closed) return Promise.reject(closedError('the session'));
    const s = this.state(queue);
    const bytes = inputBytes(message);
    if (s.sends.length >= queueBatchMessagesMax)
      return Promise.reject(
        invalidArgument(`a transaction holds at most ${queueBatchMessagesMax} messages per queue; commit first`),
      );
    if (this.bufferedBytes + bytes > sessionBufferedBytesMax)
      return Promise.reject(
        invalidArgument(`a transaction holds at most ${sessionBufferedBytesMax} bytes of messages; commit first`),
      );
    s.sends.push(message);
    this.bufferedBytes += bytes;
    return Promise.resolve();
  }

  /** @internal */
  receiverFor(queue: string, options: Omit<QueueReceiverOptions, 'ackMode'>): SessionReceiver {
    if (this.closed) throw closedError('the session');
    const s = this.state(queue);
    if (s.receiver) throw invalidArgument(`the session has a receiver on queue '${queue}' already`);
    const consumer = new QueueConsumer(this.cluster, queue, { ...options, ackMode: 'client' });
    s.receiver = new SessionReceiver(queue, consumer);
    return s.receiver;
  }

  /** Commits queue by queue (each atomically); see the file comment. */
  async commit(): Promise<void> {
    if (this.closed) throw closedError('the session');
    if (this.committing) throw invalidArgument('commit() or rollback() is already under way');
    this.committing = this.commitQueues();
    try {
      await this.committing;
    } finally {
      this.committing = null;
    }
  }

  private async commitQueues(): Promise<void> {
    for (const [queue, s] of this.queues) {
      const acks = s.receiver?.pendingAcks();
      if (s.sends.length === 0 && !acks?.ack) continue;
      const sends = s.sends;
      await queueSend(this.cluster, { queue, messages: sends, ...(acks?.ack ? { acks: acks.ack } : {}) });
      s.sends = [];
      for (const m of sends) this.bufferedBytes -= inputBytes(m);
      if (acks?.ack) s.receiver?.committed(acks.epoch, acks.offsets);
    }
  }

  /** Drops the buffered sends and releases the received messages (they are redelivered). */
  async rollback(): Promise<void> {
    if (this.closed) throw closedError('the session');
    await this.rollbackAll();
  }

  private async rollbackAll(): Promise<void> {
    for (const s of this.queues.values()) s.sends = [];
    this.bufferedBytes = 0;
    await Promise.allSettled([...this.queues.values()].map((s) => s.receiver?.rollback()));
  }

  /** Rolls back what is not committed and closes the session's receivers. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.committing) await this.committing.catch(() => undefined);
    this.closed = true;
    await this.rollbackAll();
    await Promise.allSettled([...this.queues.values()].map((s) => s.receiver?.consumer.close()));
    this.queues.clear();
    this.onClose(this);
  }
}
