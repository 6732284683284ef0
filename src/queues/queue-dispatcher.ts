/**
 * One queue on the broker that leads its log: who may have which message.
 *
 * On start it replays the whole log once (messages, then what happened to
 * them), so every message not yet done is pending again with its delivery
 * count; then it follows the log as new messages become committed (up to the
 * high watermark). State records after the replay are its own, so it skips
 * them while following (log-follower.ts).
 *
 * Pending messages are light entries (offset, delivery count, lock, expiry;
 * queue-state.ts); payloads are read from the log when delivered
 * (record-reader.ts). A message is available, acquired by one consumer (with
 * a lock that expires), or waiting out a redelivery delay. Delivery is in
 * offset order, released messages first; a consumer never holds more than its
 * prefetch (delivery.ts). A message released (nack, lock expiry, consumer
 * gone) after 1 + queue.max.redeliveries deliveries is dead-lettered, as
 * ActiveMQ does (acknowledgements.ts, dead-letters.ts).
 *
 * A delivery leaves the broker only once the record of its acquisition (its
 * delivery count) is stored by the ISR, and nothing is acquired while this
 * broker's ZooKeeper connection is down (leadership in doubt): a leader that
 * lost its leadership without knowing it yet hands nothing out, so a new
 * leader always knows what was delivered and flags its redeliveries
 * (delivery.ts). Deliveries a client reports it dropped unhanded (its
 * connection was lost or the queue moved) are not counted.
 *
 * Done messages (acknowledged, dead-lettered, expired, purged) are recorded
 * with acks=-1 before the request that did it is answered. Segments wholly
 * below the oldest pending message are deleted (a stats record first, so the
 * counters survive). Bounds: pending messages (QueueSend refuses beyond),
 * consumers, waiting fetches, messages per request.
 *
 * A transacted session spanning several queues (issue 21) writes each
 * queue's sends and acknowledgements as one TRANSACTIONAL batch of its Kafka
 * producer (send with `txn`); they stay pending until that producer's commit
 * or abort marker on this log (queue-txns.ts): the messages are not
 * dispatchable and the acknowledged messages are neither acknowledged nor
 * redelivered until then. A commit applies both; an abort drops the messages
 * and releases the acknowledged ones (redelivered, counted as a delivery, as
 * a JMS rollback does). The follower resolves markers in log order, replay
 * and live alike; a transaction open at the end of the replay waits for its
 * marker (the coordinator writes it, after a timeout if need be).
 *
 * This class coordinates those parts: it owns the writes to the log and the
 * timers.
 */

import type { BrokerConfig } from '../config/broker-config.js';
import type { QueueAckType, QueueDelivery, QueueMessageInput, QueueStats } from '../protocol/native/queue-messages.js';
import type { PartitionReplica } from '../replication/partition-replica.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { queueOpenTxnsMax, queuePendingMax } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import type { RecordInput } from '../wire/record.js';
import { encodeRecordBatch } from '../wire/record-batch-encoder.js';
import { giveBackEntries, redeliveryDelay, releaseEntries, sortAcks } from './acknowledgements.js';
import {
  type DeadLetterReason,
  deadLetterMessage,
  deadLetterQueueFor,
  isDeadLetterQueue,
  maxRedeliveriesFor,
} from './dead-letters.js';
import { DeliveryCountFlusher, fetchRoom, lockFor, WaitingFetches } from './delivery.js';
import { LogFollower, type TxnBatch } from './log-follower.js';
import { browseEntries, queueStats, redriveChunk, redriveChunkMessages, unheldEntries } from './queue-admin-ops.js';
import { type Consumer, detach, type Entry } from './queue-entry.js';
import {
  type DoneReason,
  decodeStateRecord,
  doneStateRecords,
  expiryOf,
  messageRecordInput,
  stateRecordInput,
} from './queue-records.js';
import { Consumers, QueueState } from './queue-state.js';
import { QueueTxns, TxnSequences } from './queue-txns.js';
import { RecordReader } from './record-reader.js';

export interface DispatcherDeps {
  /** Appends to the queue's log as leader and waits for the ISR (acks=-1). */
  append: (batch: Buffer) => Promise<{ baseOffset: number; lastOffset: number }>;
  config: BrokerConfig;
  /** Sends messages to another queue (dead letters, redrive), wherever its leader is. */
  sendTo: (queue: string, messages: QueueMessageInput[]) => Promise<number>;
  logger: Logger;
}

/** The Kafka producer of a transacted session's QueueSend (its transaction coordinator added this queue's log). */
export interface QueueTxnProducer {
  producerId: number;
  producerEpoch: number;
}

export class QueueDispatcher {
  private readonly state = new QueueState();
  private readonly txns = new QueueTxns();
  private readonly sequences = new TxnSequences();
  private readonly consumers: Consumers;
  private readonly waiting: WaitingFetches;
  private readonly follower: LogFollower;
  private readonly reader: RecordReader;
  private readonly countFlusher: DeliveryCountFlusher;
  private closed = false;
  private deliveriesPaused = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  readonly ready: Promise<void>;
  private readonly maxRedeliveries: number;

  constructor(
    readonly queue: string,
    private readonly replica: PartitionReplica,
    private readonly deps: DispatcherDeps,
  ) {
    this.consumers = new Consumers(queue);
    this.waiting = new WaitingFetches(queue);
    this.reader = new RecordReader(replica.log);
    this.countFlusher = new DeliveryCountFlusher(async (counts) => {
      this.checkOpen();
      await this.recordDone([], 'ack', counts);
    });
    this.follower = new LogFollower(replica, {
      message: (record, txn) => {
        const expiresAt = expiryOf(record.headers);
        if (txn) this.txns.addMessage(txn.producerId, txn.producerEpoch, { offset: record.offset, expiresAt });
        else this.state.addMessage(record.offset, expiresAt);
      },
      state: (record, txn) => {
        const state = decodeStateRecord(record);
        if (!state) return;
        if (!txn) this.state.apply(state);
        else if (state.op === 'done') this.txnAcknowledged(txn, record.offset, state.offsets, state.reason);
      },
      txnBatch: (txn) => this.sequences.appended(txn.producerId, txn.producerEpoch, txn.baseSequence, txn.records),
      marker: (producerId, committed) => this.resolveTxn(producerId, committed),
      added: () => this.serveWaiters(),
    });
    this.maxRedeliveries = maxRedeliveriesFor(queue, deps.config);
    // ready once the replay is done, which waits for the high watermark to reach the log's end (log-follower.ts)
    this.follower.start().catch(() => undefined);
    this.ready = this.follower.replayed;
    this.ready.catch((err) => deps.logger.error({ err, queue }, 'replaying the queue failed'));
    const lockMs = deps.config.int('queue.lock.timeout.ms');
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, Math.floor(lockMs / 4))));
    this.sweepTimer.unref();
  }

  private get sharedDeadLetterQueue(): string {
    return this.deps.config.string('queue.dead.letter.queue');
  }

  /** Called when the high watermark moves: new committed messages to pick up. */
  onCommitted(): void {
    if (this.closed) return;
    this.follower.onCommitted();
  }

  // ---- sending ----

  /** A transaction marker on this log was written and replicated: the follower applies it (in log order). */
  onTxnMarker(): void {
    this.onCommitted();
  }

  // ---- sending ----

  /**
   * Messages (and a transaction's acknowledgements) appended as one batch;
   * resolves once the ISR has it. With `txn` the batch is that producer's
   * transactional batch: pending until its marker (file comment).
   */
  async send(
    messages: QueueMessageInput[],
    acks?: { consumerId: string; offsets: number[] },
    txn?: QueueTxnProducer,
  ): Promise<number> {
    await this.ready;
    const held = this.state.size + this.txns.messages;
    if (held + messages.length > queuePendingMax) {
      throw new SluiceError(
        ErrorCode.QueueFull,
        `queue ${this.queue} holds ${held} messages (at most ${queuePendingMax}); consume some first`,
      );
    }
    if (txn && !this.txns.has(txn.producerId) && this.txns.size >= queueOpenTxnsMax) {
      throw new SluiceError(
        ErrorCode.QueueFull,
        `queue ${this.queue} has ${queueOpenTxnsMax} open transactions; retry once some have ended`,
      );
    }
    const now = Date.now();
    const records: RecordInput[] = messages.map((m) => messageRecordInput(m, now));
    let entries: Entry[] = [];
    if (acks && acks.offsets.length > 0) {
      const consumer = this.consumers.get(acks.consumerId);
      entries = acks.offsets.map((offset) => this.heldBy(consumer, offset, acks.consumerId));
      records.push(stateRecordInput({ op: 'done', offsets: acks.offsets, reason: 'ack' }, now));
    }
    if (records.length === 0) return -1;
    this.state.beginLeaving(entries);
    let result: { baseOffset: number; lastOffset: number };
    try {
      result = await this.deps.append(txn ? this.txnBatch(records, txn) : encodeRecordBatch(records));
    } catch (err) {
      // a transactional batch written all the same is found by the follower (its acknowledged entries leave again)
      this.abortLeaving(entries);
      throw err;
    }
    // a transaction's acknowledgements apply at its commit marker (the follower registers them)
    if (!txn) this.state.finishLeaving(entries, 'ack');
    await this.follower.scannedPast(result.lastOffset);
    return messages.length > 0 ? result.baseOffset : -1;
  }

  /** The records as `txn`'s transactional batch, numbered after its last batch on this log. */
  private txnBatch(records: RecordInput[], txn: QueueTxnProducer): Buffer {
    const baseSequence = this.sequences.nextFor(txn.producerId, txn.producerEpoch);
    return encodeRecordBatch(records, {
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      baseSequence,
      transactional: true,
    });
  }

  /** A transaction acknowledges `offsets`: they leave delivery (neither done nor redelivered) until its marker. */
  private txnAcknowledged(txn: TxnBatch, at: number, offsets: number[], reason: DoneReason): void {
    this.txns.addDone(txn.producerId, txn.producerEpoch, at, offsets, reason);
    const entries: Entry[] = [];
    for (const offset of offsets) {
      const entry = this.state.pending.get(offset);
      if (entry) entries.push(entry);
    }
    this.state.beginLeaving(entries);
  }

  /** The producer's marker: its open transaction applied (commit) or dropped (abort); nothing when none is open. */
  private resolveTxn(producerId: number, committed: boolean): void {
    const txn = this.txns.resolve(producerId);
    if (!txn) return;
    const acknowledged: Entry[] = [];
    for (const { offsets } of txn.done) {
      for (const offset of offsets) {
        const entry = this.state.pending.get(offset);
        if (entry?.leaving) acknowledged.push(entry);
      }
    }
    if (committed) {
      for (const m of txn.messages) this.state.addMessage(m.offset, m.expiresAt);
      this.state.finishLeaving(acknowledged, 'ack');
    } else if (this.follower.replaying) {
      // no consumer holds anything yet: available again, their delivery counts are in the log
      this.state.cancelLeaving(acknowledged);
    } else {
      for (const entry of acknowledged) entry.leaving = false;
      const counts = this.release(acknowledged);
      if (counts.length > 0) this.countFlusher.add(counts);
    }
    this.deps.logger.debug(
      { queue: this.queue, producerId, committed, messages: txn.messages.length, acks: acknowledged.length },
      'queue transaction resolved',
    );
    if (!this.follower.replaying) this.serveWaiters();
  }

  // ---- consuming ----

  /** True when the consumer id is known (so the connection's close can release it). */
  hasConsumer(id: string): boolean {
    return this.consumers.has(id);
  }

  /**
   * Acquires up to `maxMessages` (and never beyond the consumer's prefetch)
   * for the consumer, waiting up to `maxWaitMs` for some to arrive; answers
   * once their delivery counts are stored (delivery.ts). `returned`: offsets
   * an earlier consumer of the same client fetched and never handed to the
   * application (its connection was lost or the queue moved): those
   * deliveries do not count.
   */
  async fetch(
    consumerId: string,
    connectionId: number,
    prefetch: number,
    maxMessages: number,
    maxWaitMs: number,
    lockTimeoutMs: number,
    returned: number[] = [],
  ): Promise<QueueDelivery[]> {
    await this.ready;
    this.checkOpen();
    const consumer = this.consumers.join(consumerId, connectionId, prefetch, lockTimeoutMs);
    if (returned.length > 0) this.uncount(returned);
    const room = fetchRoom(consumer, maxMessages);
    if (room <= 0) return [];
    let entries = this.acquire(consumer, room);
    if (entries.length === 0 && maxWaitMs > 0) entries = await this.waiting.wait(consumer, room, maxWaitMs);
    if (entries.length === 0) return [];
    try {
      // nothing leaves before the record of its acquisition is stored by the ISR
      await this.countFlusher.stored();
      this.checkOpen();
    } catch (err) {
      this.giveBack(consumer, entries);
      throw err;
    }
    return this.reader.deliveries(entries);
  }

  /** Deliveries that never reached an application: their acquisition is not counted (towards the DLQ either). */
  private uncount(offsets: number[]): void {
    const counts: [number, number][] = [];
    for (const offset of offsets) {
      const entry = this.state.pending.get(offset);
      if (!entry || entry.leaving || entry.deliveryCount === 0) continue;
      entry.deliveryCount--;
      counts.push([offset, entry.deliveryCount]);
    }
    this.countFlusher.add(counts);
  }

  /** A fetch failed before its deliveries left: what the consumer still holds of them is available again, uncounted. */
  private giveBack(consumer: Consumer, entries: Entry[]): void {
    const held = entries.filter((e) => e.consumer === consumer && !e.leaving);
    if (held.length === 0) return;
    giveBackEntries(held, this.state.order);
    this.serveWaiters();
  }

  /**
   * While this broker's leadership is in doubt (its ZooKeeper connection is
   * down: the session may be expiring and another broker leading already)
   * nothing is acquired; fetches wait, and are served when it is back.
   */
  pauseDeliveries(paused: boolean): void {
    this.deliveriesPaused = paused;
    if (!paused && !this.closed) this.serveWaiters();
  }

  private acquire(consumer: Consumer, wanted: number): Entry[] {
    if (this.deliveriesPaused) return [];
    const now = Date.now();
    const { taken, expired } = this.state.order.take(wanted, now);
    this.countFlusher.add(lockFor(consumer, taken, now));
    if (expired.length > 0) void this.expire(expired);
    return taken;
  }

  /** Hands what is available to waiting fetches, one message per waiter per round (fair dispatch). */
  private serveWaiters(): void {
    this.waiting.serve((consumer) => this.acquire(consumer, 1));
  }

  // ---- acknowledgements ----

  private heldBy(consumer: Consumer | undefined, offset: number, consumerId: string): Entry {
    const entry = this.state.pending.get(offset);
    const txn = this.txns.lockedBy(offset);
    if (txn !== undefined) {
      throw new SluiceError(
        ErrorCode.InvalidRequest,
        `queue ${this.queue}: offset ${offset} is acknowledged by the open transaction of producer ${txn} (settled by its commit or abort)`,
      );
    }
    if (!entry || !consumer || entry.consumer !== consumer || entry.leaving) {
      throw new SluiceError(
        ErrorCode.InvalidRequest,
        `queue ${this.queue}: consumer ${consumerId} does not hold offset ${offset} (acknowledged, released or lock expired)`,
      );
    }
    return entry;
  }

  /** accept / release / reject; per offset 0 or an error, the accepted ones recorded (acks=-1) first. */
  async acknowledge(
    consumerId: string,
    acks: { offset: number; type: QueueAckType }[],
  ): Promise<{ offset: number; error?: SluiceError }[]> {
    await this.ready;
    this.checkOpen();
    const consumer = this.consumers.get(consumerId);
    const { accepted, released, rejected, returned, results } = sortAcks(acks, (offset) =>
      this.heldBy(consumer, offset, consumerId),
    );
    const counts = [...this.release(released), ...giveBackEntries(returned, this.state.order)];
    for (const entry of rejected) this.deadLetter(entry, 'rejected');
    if (accepted.length > 0 || counts.length > 0) await this.recordDone(accepted, 'ack', counts);
    this.serveWaiters();
    return results;
  }

  /** Back to the queue after the redelivery delay, or dead-lettered past queue.max.redeliveries; the counts to persist. */
  private release(entries: Entry[]): [number, number][] {
    return releaseEntries(entries, Date.now(), {
      order: this.state.order,
      maxRedeliveries: this.maxRedeliveries,
      delay: (deliveries) => redeliveryDelay(this.deps.config, deliveries),
      deadLetter: (entry) => this.deadLetter(entry, 'max-redeliveries'),
    });
  }

  /** A write failed: the entries are available again (without counting a delivery). */
  private abortLeaving(entries: Entry[]): void {
    this.state.cancelLeaving(entries);
    this.serveWaiters();
  }

  /** Records entries as done (and delivery counts) with acks=-1; the entries leave the queue. */
  private async recordDone(entries: Entry[], reason: DoneReason, counts: [number, number][] = []): Promise<void> {
    const records = doneStateRecords(
      entries.map((e) => e.offset),
      reason,
      counts,
      Date.now(),
    );
    if (records.length === 0) return;
    this.state.beginLeaving(entries);
    try {
      await this.deps.append(encodeRecordBatch(records));
    } catch (err) {
      this.abortLeaving(entries);
      throw err;
    }
    this.state.finishLeaving(entries, reason);
    await this.maybeDeleteConsumed();
  }

  // ---- dead letters, expiry ----

  private deadLetter(entry: Entry, reason: DeadLetterReason): void {
    detach(entry);
    entry.leaving = true;
    void this.moveToDeadLetterQueue([entry], reason).catch((err) => {
      this.deps.logger.warn({ err, queue: this.queue, offset: entry.offset }, 'dead-lettering failed; redelivering');
      this.abortLeaving([entry]);
    });
  }

  private async moveToDeadLetterQueue(entries: Entry[], reason: string): Promise<void> {
    const records = await this.reader.read(entries.map((e) => e.offset));
    const to = deadLetterQueueFor(this.queue, this.sharedDeadLetterQueue);
    const messages: QueueMessageInput[] = [];
    for (const entry of entries) {
      const record = records.get(entry.offset);
      if (!record) continue;
      messages.push(
        deadLetterMessage(record, {
          queue: this.queue,
          reason,
          deliveryCount: entry.deliveryCount,
          offset: entry.offset,
        }),
      );
    }
    // the dead letter is written before the message leaves here: a crash in between duplicates, never loses
    if (messages.length > 0) await this.deps.sendTo(to, messages);
    for (const entry of entries) entry.leaving = false;
    await this.recordDone(entries, 'dlq');
    this.deps.logger.info({ queue: this.queue, to, count: entries.length, reason }, 'dead-lettered');
  }

  private async expire(entries: Entry[]): Promise<void> {
    if (
      this.deps.config.bool('queue.expired.messages.dlq') &&
      !isDeadLetterQueue(this.queue, this.sharedDeadLetterQueue)
    ) {
      for (const entry of entries) this.deadLetter(entry, 'expired');
      return;
    }
    await this.recordDone(entries, 'expired').catch((err) => {
      this.deps.logger.warn({ err, queue: this.queue }, 'recording expired messages failed');
    });
  }

  // ---- housekeeping ----

  /** Expired locks go back to the queue (counted as a failed delivery); delayed redeliveries wake fetches. */
  private sweep(): void {
    if (this.closed) return;
    const expired = this.consumers.expiredLocks(Date.now());
    if (expired.length > 0) {
      const counts = this.release(expired);
      if (counts.length > 0) void this.recordDone([], 'ack', counts).catch(() => undefined);
    }
    if (this.waiting.size > 0) this.serveWaiters();
  }

  /** The consumer leaves (or its connection closed): what it holds returns to the queue. */
  async leave(consumerId: string): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) return;
    this.consumers.delete(consumerId);
    this.waiting.endFor(consumer);
    const counts = this.release([...consumer.held]);
    this.serveWaiters();
    if (counts.length > 0 && !this.closed) await this.recordDone([], 'ack', counts).catch(() => undefined);
  }

  /** Deletes log segments wholly below the oldest pending message, after a stats record. */
  private async maybeDeleteConsumed(): Promise<void> {
    if (this.state.doneSinceCompaction < 1000) return;
    this.state.doneSinceCompaction = 0;
    const floor = this.txns.floor(this.state.floor(this.follower.offset));
    const log = this.replica.log;
    const bases = log.segmentBaseOffsets;
    if (bases.length < 2 || (bases[1] as number) > floor) return;
    await this.deps.append(
      encodeRecordBatch([stateRecordInput({ op: 'stats', counters: { ...this.state.counters } }, Date.now())]),
    );
    await log.deleteSegmentsBefore(floor);
  }

  // ---- admin ----

  stats(): QueueStats {
    return queueStats(this.queue, this.state, this.consumers);
  }

  /** The oldest `max` waiting messages, not acquired. */
  async browse(max: number): Promise<QueueDelivery[]> {
    await this.ready;
    return this.reader.deliveries(browseEntries(this.state.pending, max));
  }

  /** Removes every message nobody holds. */
  async purge(): Promise<number> {
    await this.ready;
    const entries = unheldEntries(this.state.pending);
    await this.recordDone(entries, 'purge');
    return entries.length;
  }

  /** Moves this dead-letter queue's messages from `queue` (all of them when not shared) back there. */
  async redrive(queue: string): Promise<number> {
    await this.ready;
    const entries = unheldEntries(this.state.pending).sort((a, b) => a.offset - b.offset);
    let moved = 0;
    for (let i = 0; i < entries.length; i += redriveChunkMessages) {
      const chunk = entries.slice(i, i + redriveChunkMessages);
      const records = await this.reader.read(chunk.map((e) => e.offset));
      // the read awaited: a dead letter acquired, acknowledged or purged meanwhile is no longer ours to move
      const stillFree = chunk.filter((e) => this.state.pending.get(e.offset) === e && !e.consumer && !e.leaving);
      const { going, messages } = redriveChunk(stillFree, records, queue);
      if (messages.length === 0) continue;
      this.state.beginLeaving(going);
      try {
        await this.deps.sendTo(queue, messages);
      } catch (err) {
        this.abortLeaving(going);
        throw err;
      }
      for (const entry of going) entry.leaving = false;
      await this.recordDone(going, 'redrive');
      moved += going.length;
    }
    return moved;
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError(ErrorCode.NotLeader, `queue ${this.queue} moved to another broker`);
  }

  /** Leadership moved: waiting fetches end empty; the new leader replays the log. */
  close(): void {
    this.closed = true;
    this.follower.stop();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.waiting.endAll();
  }
}
