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
 * commit() writes the buffered sends and the acknowledgements of the
 * received messages with QueueSend requests. On a single queue they are one
 * batch: visible together or not at all, as before (no transaction
 * coordinator involved: one request, already atomic).
 *
 * Across queues (issue 21) a commit is a Kafka transaction (session-txn.ts):
 * the session's transactional producer (InitProducerId once per session),
 * AddPartitionsToTxn for the queues' logs, one transactional QueueSend per
 * queue (its sends and acknowledgements, pending on the broker until the
 * marker), then EndTxn(commit): every send and acknowledgement becomes
 * visible at once, or none does — a crash of this process before EndTxn
 * leaves the transaction to the coordinator's timeout
 * (`transactionTimeoutMs`), which aborts it: nothing sent is seen and the
 * received messages are redelivered. A failed commit rejects with a
 * SessionCommitError that names nothing committed; only rollback() may
 * follow (EndTxn(abort), then the received messages are released, the
 * buffered sends dropped). When EndTxn's answer was lost the outcome is the
 * coordinator's and the error says `inDoubt`: rollback() then asks for the
 * abort, and if the coordinator answers that the transaction committed, the
 * session takes it as committed (nothing is released or dropped twice).
 *
 * Topics (issue 21): `session.topic(name).publish(...)` buffers too, and a
 * commit with any publish is always a Kafka transaction (even with one queue
 * or none: a publish spread over several partitions is atomic only so). The
 * publishes are the session producer's transactional batches, in the same
 * transaction as the queues' QueueSends (session-txn.ts); JmsTopic
 * subscribers read committed messages only, so they see all of it at the
 * commit. rollback() drops the publishes. A durable topic subscriber of the
 * session (session-subscriber.ts) is acknowledged by the commit: its
 * positions become the subscription group's offsets in the same transaction.
 *
 * Buffered sends are bounded: 10,000 messages per queue or topic and 32 MiB per session.
 */

import type { QueueMessageInput } from '../protocol/native/queue-messages.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { queueBatchMessagesMax } from '../shared/limits.js';
import type { Cluster } from './cluster.js';
import { closedError, invalidArgument } from './errors.js';
import { durableGroup } from './jms-topic.js';
import { queueSend } from './queue.js';
import { QueueConsumer } from './queue-consumer.js';
import { checkQueueName, messageInput } from './queue-wire.js';
import { type CommitWrite, commitPlan, type QueueCommitStatus, SessionCommitError } from './session-commit.js';
import { SessionSubscriber, type SubscriberAcks } from './session-subscriber.js';
import { producerMessageOf, SessionTopic, type TopicPublishBuffer } from './session-topic.js';
import { type SessionProducer, SessionTxn, sessionTransactionTimeoutMsDefault } from './session-txn.js';
import type {
  QueueMessage,
  QueueReceiverOptions,
  QueueSendOptions,
  SessionOptions,
  SessionSubscriberOptions,
} from './types.js';

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

type PendingAcks = ReturnType<SessionReceiver['pendingAcks']>;

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

/** What a commit writes per queue. */
type QueueWork = Map<string, { s: QueueState; acks: PendingAcks | undefined; sends: number }>;

/** What a transactional commit wrote (to settle the session once its outcome is known). */
interface TxnWork {
  queues: QueueWork;
  /** Per topic: how many of its buffered publishes (the first ones). */
  topics: Map<string, number>;
  /** The durable topic subscribers' acknowledgements: their group offsets. */
  subscribers: [SessionSubscriber, SubscriberAcks][];
}

/** EndTxn refusals that mean the transaction did not commit (it is aborted, or will be by the coordinator). */
const notCommitted: readonly ErrorCode[] = [
  ErrorCode.ProducerFenced,
  ErrorCode.InvalidProducerEpoch,
  ErrorCode.InvalidTxnState,
  ErrorCode.InvalidProducerIdMapping,
];

export class Session implements TopicPublishBuffer {
  private readonly queues = new Map<string, QueueState>();
  /** Buffered publishes per topic. */
  private readonly topics = new Map<string, QueueMessageInput[]>();
  /** Durable topic subscribers, by group. */
  private readonly subscribers = new Map<string, SessionSubscriber>();
  private bufferedBytes = 0;
  private closed = false;
  private committing: Promise<void> | null = null;
  private readonly transactionTimeoutMs: number;
  /** The session's Kafka transactions (created by the first commit spanning queues or publishing). */
  private txn: SessionTxn | undefined;
  /** A transactional commit that failed: its transaction is open (or its outcome in doubt) until rollback(). */
  private openTxn: { producer: SessionProducer; work: TxnWork; inDoubt: boolean } | undefined;

  constructor(
    private readonly cluster: Cluster,
    options: SessionOptions | undefined,
    private readonly onClose: (s: Session) => void,
  ) {
    if (options !== undefined && options.transacted !== true)
      throw invalidArgument('only transacted sessions are supported: sluice.session({ transacted: true })');
    const timeout = options?.transactionTimeoutMs ?? sessionTransactionTimeoutMsDefault;
    if (!Number.isSafeInteger(timeout) || timeout <= 0)
      throw invalidArgument(`transactionTimeoutMs must be a positive integer, got ${timeout}`);
    this.transactionTimeoutMs = timeout;
  }

  readonly transacted = true;

  queue(name: string): SessionQueue {
    if (this.closed) throw closedError('the session');
    return new SessionQueue(this, checkQueueName(name));
  }

  /** A topic within the session: publish() buffers until commit(). */
  topic(name: string): SessionTopic {
    if (this.closed) throw closedError('the session');
    return new SessionTopic(this, name);
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
  bufferPublish(topic: string, message: QueueMessageInput): Promise<void> {
    if (this.closed) return Promise.reject(closedError('the session'));
    let publishes = this.topics.get(topic);
    const bytes = inputBytes(message);
    if ((publishes?.length ?? 0) >= queueBatchMessagesMax)
      return Promise.reject(
        invalidArgument(`a transaction holds at most ${queueBatchMessagesMax} messages per topic; commit first`),
      );
    if (this.bufferedBytes + bytes > sessionBufferedBytesMax)
      return Promise.reject(
        invalidArgument(`a transaction holds at most ${sessionBufferedBytesMax} bytes of messages; commit first`),
      );
    if (!publishes) {
      publishes = [];
      this.topics.set(topic, publishes);
    }
    publishes.push(message);
    this.bufferedBytes += bytes;
    return Promise.resolve();
  }

  /** @internal */
  subscriberFor(topic: string, options: SessionSubscriberOptions): SessionSubscriber {
    if (this.closed) throw closedError('the session');
    if (this.subscribers.has(durableGroup(topic, options?.durable)))
      throw invalidArgument(`the session has a subscriber of durable subscription '${options.durable}' already`);
    const s = new SessionSubscriber(this.cluster, topic, options);
    this.subscribers.set(s.group, s);
    return s;
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

  /**
   * Stores the buffered sends, then the acknowledgements (see the file
   * comment); rejects with a SessionCommitError that says what is stored
   * when a write fails.
   */
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
    if (this.openTxn) {
      throw invalidArgument('the last commit failed inside its transaction: call rollback() before committing again');
    }
    // every acknowledgement is checked before anything is written: a stale receiver fails the commit whole
    const work: QueueWork = new Map();
    for (const [queue, s] of this.queues) {
      const acks = s.receiver?.pendingAcks();
      const pending = acks?.ack ? acks : undefined;
      if (s.sends.length > 0 || pending) work.set(queue, { s, acks: pending, sends: s.sends.length });
    }
    const topics = new Map<string, number>();
    for (const [topic, publishes] of this.topics) if (publishes.length > 0) topics.set(topic, publishes.length);
    const subscribers: [SessionSubscriber, SubscriberAcks][] = [];
    for (const s of this.subscribers.values()) {
      const acks = s.pendingAcks();
      if (acks) subscribers.push([s, acks]);
    }
    if (work.size > 1 || topics.size > 0 || subscribers.length > 0)
      return this.commitTransaction({ queues: work, topics, subscribers });
    const status = new Map<string, QueueCommitStatus>();
    for (const [queue, w] of work) status.set(queue, { queue, sendsStored: w.sends === 0, acksStored: !w.acks });
    const plan = commitPlan([...work].map(([queue, w]) => ({ queue, hasSends: w.sends > 0, hasAcks: !!w.acks })));
    let stored = false;
    for (const phase of plan) {
      const results = await Promise.allSettled(
        phase.map(async (write) => {
          const w = work.get(write.queue) as { s: QueueState; acks: PendingAcks | undefined; sends: number };
          await this.write(write, w.s, w.sends, w.acks);
          const st = status.get(write.queue) as QueueCommitStatus;
          if (write.sends) st.sendsStored = true;
          if (write.acks) st.acksStored = true;
          stored = true;
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      // nothing after a failed phase is written: an acknowledgement never goes before the sends it follows
      if (failed) throw new SessionCommitError([...status.values()], stored, failed.reason);
    }
  }

  /** A commit spanning queues or publishing to topics, as one Kafka transaction (file comment). */
  private async commitTransaction(work: TxnWork): Promise<void> {
    if (!this.txn) this.txn = new SessionTxn(this.cluster, this.transactionTimeoutMs);
    const txn = this.txn;
    // nothing is visible before EndTxn(commit) succeeds: a failure names every queue and topic uncommitted
    const untouched = (): QueueCommitStatus[] =>
      [...work.queues].map(([queue, w]) => ({ queue, sendsStored: w.sends === 0, acksStored: !w.acks }));
    const topics = [...work.topics.keys()];
    let producer: SessionProducer;
    try {
      producer = await txn.begin();
    } catch (err) {
      await txn.reset();
      throw new SessionCommitError(untouched(), false, err, { topics });
    }
    const failed = (inDoubt: boolean, err: unknown): SessionCommitError => {
      this.openTxn = { producer, work, inDoubt };
      return new SessionCommitError(untouched(), false, err, { inDoubt, topics });
    };
    if (work.queues.size > 0) {
      try {
        await txn.addQueues(producer, [...work.queues.keys()]);
      } catch (err) {
        throw failed(false, err);
      }
    }
    // the queues' QueueSends and the topics' batches side by side, each partition added to the transaction first
    const sent = await Promise.allSettled([
      ...[...work.queues].map(([queue, w]) =>
        txn.queueWrite(producer, {
          queue,
          messages: w.s.sends.slice(0, w.sends),
          ...(w.acks?.ack ? { acks: w.acks.ack } : {}),
        }),
      ),
      ...[...work.topics].map(([topic, n]) =>
        txn.publish(producer, topic, (this.topics.get(topic) ?? []).slice(0, n).map(producerMessageOf)),
      ),
      // the subscribers' positions as the durable groups' offsets, committed with the transaction
      (async () => {
        for (const [, acks] of work.subscribers) await producer.tx.sendOffsets(acks.offsets);
      })(),
    ]);
    const sendFailed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (sendFailed) throw failed(false, sendFailed.reason);
    try {
      await txn.end(producer, true);
    } catch (err) {
      const refused = err instanceof SluiceError && notCommitted.includes(err.code);
      throw failed(!refused, err);
    }
    this.settleCommitted(work);
  }

  /** The transaction committed: its sends leave the buffer and its acknowledged messages the receivers. */
  private settleCommitted(work: TxnWork): void {
    for (const w of work.queues.values()) {
      const sends = w.s.sends.slice(0, w.sends);
      // sends buffered while the commit ran stay for the next one
      w.s.sends = w.s.sends.slice(sends.length);
      for (const m of sends) this.bufferedBytes -= inputBytes(m);
      if (w.acks) w.s.receiver?.committed(w.acks.epoch, w.acks.offsets);
    }
    for (const [s, acks] of work.subscribers) s.committed(acks);
    for (const [topic, n] of work.topics) {
      const publishes = this.topics.get(topic) ?? [];
      for (const m of publishes.slice(0, n)) this.bufferedBytes -= inputBytes(m);
      this.topics.set(topic, publishes.slice(n));
    }
  }

  /**
   * Ends the transaction a failed commit left open: EndTxn(abort). True when
   * the coordinator says it committed after all (a commit whose answer was
   * lost): the session then settles it as committed.
   */
  private async abortOpenTxn(): Promise<boolean> {
    const open = this.openTxn;
    if (!open || !this.txn) return false;
    this.openTxn = undefined;
    const txn = this.txn;
    try {
      await txn.end(open.producer, false);
      return false;
    } catch (err) {
      // fenced or timed out: the coordinator aborted it (or will)
      if (open.inDoubt && isSluiceError(err, ErrorCode.InvalidTxnState)) {
        this.settleCommitted(open.work);
        return true;
      }
      return false;
    } finally {
      // a fenced, timed-out or failed producer is replaced: the next commit's InitProducerId bumps the epoch
      if (!txn.ready) await txn.reset();
    }
  }

  /** One write of the plan; on success the stored sends leave the buffer and the acknowledged messages the receiver. */
  private async write(
    write: CommitWrite,
    s: QueueState,
    sendCount: number,
    acks: PendingAcks | undefined,
  ): Promise<void> {
    const sends = write.sends ? s.sends.slice(0, sendCount) : [];
    const ack = write.acks ? acks?.ack : undefined;
    await queueSend(this.cluster, { queue: write.queue, messages: sends, ...(ack ? { acks: ack } : {}) });
    if (write.sends) {
      // sends buffered while the commit ran stay for the next one
      s.sends = s.sends.slice(sends.length);
      for (const m of sends) this.bufferedBytes -= inputBytes(m);
    }
    if (ack && acks) s.receiver?.committed(acks.epoch, acks.offsets);
  }

  /**
   * Drops the buffered sends and releases the received messages (they are
   * redelivered). After a failed commit this is only what the commit did not
   * store: stored sends and acknowledgements are no longer the session's.
   */
  async rollback(): Promise<void> {
    if (this.closed) throw closedError('the session');
    if (this.committing) throw invalidArgument('commit() or rollback() is already under way');
    await this.rollbackAll();
  }

  private async rollbackAll(): Promise<void> {
    // the received messages a transaction acknowledged are released by the broker at its abort marker
    // (a release sent before the marker lands is refused there, harmlessly)
    await this.abortOpenTxn();
    for (const s of this.queues.values()) s.sends = [];
    this.topics.clear();
    this.bufferedBytes = 0;
    for (const s of this.subscribers.values()) s.rollback();
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
    await Promise.allSettled([...this.subscribers.values()].map((s) => s.close()));
    this.subscribers.clear();
    await this.txn?.close();
    this.onClose(this);
  }
}
