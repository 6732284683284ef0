/**
 * One queue on the broker that leads its log: who may have which message.
 *
 * On start it replays the whole log once (messages, then what happened to
 * them), so every message not yet done is pending again with its delivery
 * count; then it follows the log as new messages become committed (up to the
 * high watermark). State records after the replay are its own, so it skips
 * them while following.
 *
 * Pending messages are light entries (offset, delivery count, lock, expiry);
 * payloads are read from the log when delivered. A message is available,
 * acquired by one consumer (with a lock that expires), or waiting out a
 * redelivery delay. Delivery is in offset order, released messages first;
 * a consumer never holds more than its prefetch. A message released (nack,
 * lock expiry, consumer gone) after 1 + queue.max.redeliveries deliveries is
 * dead-lettered, as ActiveMQ does.
 *
 * Done messages (acknowledged, dead-lettered, expired, purged) are recorded
 * with acks=-1 before the request that did it is answered. Segments wholly
 * below the oldest pending message are deleted (a stats record first, so the
 * counters survive). Bounds: pending messages (QueueSend refuses beyond),
 * consumers, waiting fetches, messages per request.
 */

import type { BrokerConfig } from '../config/broker-config.js';
import {
  DlqHeader,
  deadLetterQueueOf,
  type QueueAckType,
  type QueueDelivery,
  type QueueMessageInput,
  type QueueStats,
} from '../protocol/native/queue-messages.js';
import type { PartitionReplica } from '../replication/partition-replica.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  queueConsumersMax,
  queueFetchWaitersMax,
  queuePendingMax,
  queueReadBytes,
  queueStateFlushRecordsMax,
} from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import type { DecodedRecord, RecordInput } from '../wire/record.js';
import { decodeRecords } from '../wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../wire/record-batch-encoder.js';
import {
  type DoneReason,
  decodeStateRecord,
  expiryOf,
  isStateRecord,
  messageRecordInput,
  type QueueCounters,
  stateRecordInput,
} from './queue-records.js';

interface Entry {
  offset: number;
  deliveryCount: number;
  consumer: Consumer | undefined;
  lockedUntil: number;
  /** Not before this time (redelivery delay). */
  availableAt: number;
  expiresAt: number;
  /** Leaving the queue (an acknowledgement or a dead-lettering is being written). */
  leaving: boolean;
}

interface Consumer {
  id: string;
  connectionId: number;
  held: Set<Entry>;
  prefetch: number;
  lockTimeoutMs: number;
}

interface Waiter {
  consumer: Consumer;
  wanted: number;
  done: (entries: Entry[]) => void;
}

export interface DispatcherDeps {
  /** Appends to the queue's log as leader and waits for the ISR (acks=-1). */
  append: (batch: Buffer) => Promise<{ baseOffset: number; lastOffset: number }>;
  config: BrokerConfig;
  /** Sends messages to another queue (dead letters, redrive), wherever its leader is. */
  sendTo: (queue: string, messages: QueueMessageInput[]) => Promise<number>;
  logger: Logger;
}

export class QueueDispatcher {
  private readonly pending = new Map<number, Entry>();
  /** Never-delivered entries in offset order (a deque: `head` is the next). */
  private fresh: Entry[] = [];
  private head = 0;
  /** Released entries waiting for redelivery, in offset order. */
  private redeliver: Entry[] = [];
  private readonly consumers = new Map<string, Consumer>();
  private waiters: Waiter[] = [];
  private counters: QueueCounters = { enqueued: 0, dequeued: 0, deadLettered: 0 };
  private scanOffset: number;
  private replayEnd: number;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private closed = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  readonly ready: Promise<void>;
  private readonly maxRedeliveries: number;
  private doneSinceCompaction = 0;
  /** Decoded records of the last log read (see readRecords). */
  private recordCache = new Map<number, DecodedRecord>();
  private acquiredCounts: [number, number][] = [];
  private countFlushScheduled = false;

  constructor(
    readonly queue: string,
    private readonly replica: PartitionReplica,
    private readonly deps: DispatcherDeps,
  ) {
    this.scanOffset = replica.log.logStartOffset;
    this.replayEnd = replica.log.logEndOffset;
    const configured = deps.config.int('queue.max.redeliveries');
    // a dead-letter queue keeps what fails there (ActiveMQ does not dead-letter dead letters)
    this.maxRedeliveries = this.isDeadLetterQueue ? -1 : configured;
    this.ready = this.startScan();
    this.ready.catch((err) => deps.logger.error({ err, queue }, 'replaying the queue failed'));
    const lockMs = deps.config.int('queue.lock.timeout.ms');
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, Math.floor(lockMs / 4))));
    this.sweepTimer.unref();
  }

  private get isDeadLetterQueue(): boolean {
    const shared = this.deps.config.string('queue.dead.letter.queue');
    return this.queue.startsWith('DLQ.') || (shared !== '' && this.queue === shared);
  }

  private get log() {
    return this.replica.log;
  }

  /** Where dead letters of this queue go. */
  private get deadLetterQueue(): string {
    const shared = this.deps.config.string('queue.dead.letter.queue');
    return shared !== '' ? shared : deadLetterQueueOf(this.queue);
  }

  // ---- following the log ----

  /** Called when the high watermark moves: new committed messages to pick up. */
  onCommitted(): void {
    if (this.closed) return;
    this.rescan = true;
    if (!this.scanning) this.startScan();
  }

  /** One scan at a time; a notification during a scan (or just after its last pass) runs another. */
  private startScan(): Promise<void> {
    const scanning = this.scan().finally(() => {
      this.scanning = undefined;
      if (this.rescan && !this.closed) this.startScan();
    });
    this.scanning = scanning;
    return scanning;
  }

  private async scan(): Promise<void> {
    do {
      this.rescan = false;
      const upTo = this.scanOffset < this.replayEnd ? this.log.logEndOffset : this.replica.highWatermark;
      let added = false;
      while (this.scanOffset < upTo && !this.closed) {
        const read = await this.log.read(this.scanOffset, 1024 * 1024, { maxOffset: upTo });
        if (read.records.length === 0) break;
        for (const record of decodeRecords(read.records)) {
          if (record.offset < this.scanOffset || record.offset >= upTo) continue;
          if (isStateRecord(record)) {
            // our own state records (after the replay) are already applied
            if (record.offset < this.replayEnd) this.applyState(record);
          } else {
            this.counters.enqueued++;
            const entry: Entry = {
              offset: record.offset,
              deliveryCount: 0,
              consumer: undefined,
              lockedUntil: 0,
              availableAt: 0,
              expiresAt: expiryOf(record.headers),
              leaving: false,
            };
            this.pending.set(record.offset, entry);
            this.fresh.push(entry);
            added = true;
          }
        }
        this.scanOffset = Math.max(read.nextOffset, this.scanOffset);
      }
      if (added) this.serveWaiters();
    } while (this.rescan && !this.closed);
  }

  private applyState(record: DecodedRecord): void {
    const state = decodeStateRecord(record);
    if (!state) return;
    if (state.op === 'done') {
      for (const offset of state.offsets) {
        const entry = this.pending.get(offset);
        if (!entry) continue;
        this.pending.delete(offset);
        entry.leaving = true;
        this.count(state.reason, 1);
      }
    } else if (state.op === 'count') {
      for (const [offset, count] of state.counts) {
        const entry = this.pending.get(offset);
        if (entry) entry.deliveryCount = count; // records are in time order: the latest count wins
      }
    } else if (state.op === 'stats') {
      this.counters = { ...state.counters };
    }
  }

  private count(reason: DoneReason, n: number): void {
    if (reason === 'ack') this.counters.dequeued += n;
    else if (reason === 'dlq') this.counters.deadLettered += n;
  }

  // ---- sending ----

  /** Messages (and a transaction's acknowledgements) appended as one batch; resolves once the ISR has it. */
  async send(messages: QueueMessageInput[], acks?: { consumerId: string; offsets: number[] }): Promise<number> {
    await this.ready;
    if (this.pending.size + messages.length > queuePendingMax) {
      throw new SluiceError(
        ErrorCode.QueueFull,
        `queue ${this.queue} holds ${this.pending.size} messages (at most ${queuePendingMax}); consume some first`,
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
    this.beginLeaving(entries);
    let result: { baseOffset: number; lastOffset: number };
    try {
      result = await this.deps.append(encodeRecordBatch(records));
    } catch (err) {
      this.abortLeaving(entries);
      throw err;
    }
    this.finishLeaving(entries, 'ack');
    await this.scannedPast(result.lastOffset);
    return messages.length > 0 ? result.baseOffset : -1;
  }

  /** Resolves once the scanner has taken in everything up to `offset` (a send is then visible to stats and browse). */
  private async scannedPast(offset: number): Promise<void> {
    // the append was acknowledged by the ISR, so the high watermark is past `offset`: each scan makes progress
    for (let round = 0; this.scanOffset <= offset && !this.closed && round < 100; round++) {
      this.onCommitted();
      await this.scanning;
    }
  }

  // ---- consuming ----

  private consumerFor(id: string, connectionId: number, prefetch: number, lockTimeoutMs: number): Consumer {
    let consumer = this.consumers.get(id);
    if (consumer && consumer.connectionId !== connectionId) {
      throw new SluiceError(ErrorCode.InvalidRequest, `consumer id ${id} is in use on another connection`);
    }
    if (!consumer) {
      if (this.consumers.size >= queueConsumersMax) {
        throw new SluiceError(
          ErrorCode.InvalidRequest,
          `queue ${this.queue} has ${queueConsumersMax} consumers already`,
        );
      }
      consumer = { id, connectionId, held: new Set(), prefetch, lockTimeoutMs };
      this.consumers.set(id, consumer);
    }
    consumer.prefetch = prefetch;
    consumer.lockTimeoutMs = lockTimeoutMs;
    return consumer;
  }

  /** True when the consumer id is known (so the connection's close can release it). */
  hasConsumer(id: string): boolean {
    return this.consumers.has(id);
  }

  /**
   * Acquires up to `maxMessages` (and never beyond the consumer's prefetch)
   * for the consumer, waiting up to `maxWaitMs` for some to arrive.
   */
  async fetch(
    consumerId: string,
    connectionId: number,
    prefetch: number,
    maxMessages: number,
    maxWaitMs: number,
    lockTimeoutMs: number,
  ): Promise<QueueDelivery[]> {
    await this.ready;
    this.checkOpen();
    const consumer = this.consumerFor(consumerId, connectionId, prefetch, lockTimeoutMs);
    const room = Math.min(maxMessages, consumer.prefetch - consumer.held.size);
    if (room <= 0) return [];
    let entries = this.acquire(consumer, room);
    if (entries.length === 0 && maxWaitMs > 0) {
      if (this.waiters.length >= queueFetchWaitersMax) {
        throw new SluiceError(ErrorCode.Timeout, `queue ${this.queue}: too many waiting fetches`);
      }
      entries = await new Promise<Entry[]>((resolve) => {
        const waiter: Waiter = {
          consumer,
          wanted: room,
          done: (got) => {
            clearTimeout(timer);
            resolve(got);
          },
        };
        const timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve([]);
        }, maxWaitMs);
        this.waiters.push(waiter);
      });
    }
    return this.deliveries(entries);
  }

  private acquire(consumer: Consumer, wanted: number): Entry[] {
    const now = Date.now();
    const out: Entry[] = [];
    const expired: Entry[] = [];
    // released messages first (in offset order), then the ones never delivered
    for (let i = 0; i < this.redeliver.length && out.length < wanted; ) {
      const entry = this.redeliver[i] as Entry;
      if (entry.leaving || entry.consumer) {
        this.redeliver.splice(i, 1);
        continue;
      }
      if (entry.availableAt > now) {
        i++;
        continue;
      }
      this.redeliver.splice(i, 1);
      if (entry.expiresAt <= now) expired.push(entry);
      else out.push(entry);
    }
    while (out.length < wanted && this.head < this.fresh.length) {
      const entry = this.fresh[this.head++] as Entry;
      if (entry.leaving || entry.consumer) continue;
      if (entry.expiresAt <= now) expired.push(entry);
      else out.push(entry);
    }
    if (this.head > 1024 && this.head * 2 > this.fresh.length) {
      this.fresh = this.fresh.slice(this.head);
      this.head = 0;
    }
    for (const entry of out) {
      entry.consumer = consumer;
      entry.deliveryCount++;
      entry.lockedUntil = now + consumer.lockTimeoutMs;
      consumer.held.add(entry);
      this.acquiredCounts.push([entry.offset, entry.deliveryCount]);
    }
    if (out.length > 0) this.scheduleCountFlush();
    if (expired.length > 0) void this.expire(expired);
    return out;
  }

  /**
   * Delivery counts of acquisitions are written in the background, coalesced
   * (one record per event-loop turn), so a new leader after a failover still
   * knows a message was delivered: it is redelivered as such and counts
   * towards the DLQ. Not awaited: losing one only undercounts.
   */
  private scheduleCountFlush(): void {
    if (this.countFlushScheduled) return;
    this.countFlushScheduled = true;
    setImmediate(() => {
      this.countFlushScheduled = false;
      const counts = this.acquiredCounts;
      this.acquiredCounts = [];
      if (counts.length === 0 || this.closed) return;
      void this.recordDone([], 'ack', counts).catch((err) => {
        this.deps.logger.debug({ err, queue: this.queue }, 'recording delivery counts failed');
      });
    });
  }

  /** Hands what is available to waiting fetches, one message per waiter per round (fair dispatch). */
  private serveWaiters(): void {
    if (this.waiters.length === 0) return;
    const got = new Map<Waiter, Entry[]>();
    let progress = true;
    while (progress) {
      progress = false;
      for (const w of this.waiters) {
        const list = got.get(w) ?? [];
        if (list.length >= w.wanted) continue;
        const one = this.acquire(w.consumer, 1);
        if (one.length === 0) break;
        list.push(...one);
        got.set(w, list);
        progress = true;
      }
    }
    if (got.size === 0) return;
    this.waiters = this.waiters.filter((w) => !got.has(w));
    for (const [w, entries] of got) w.done(entries);
  }

  private async deliveries(entries: Entry[]): Promise<QueueDelivery[]> {
    if (entries.length === 0) return [];
    const records = await this.readRecords(entries.map((e) => e.offset));
    const out: QueueDelivery[] = [];
    for (const entry of entries) {
      const record = records.get(entry.offset);
      if (!record) continue; // deleted underneath (cannot happen for a pending message); skipped
      out.push({
        offset: entry.offset,
        key: record.key,
        value: record.value,
        headers: record.headers,
        timestamp: record.timestamp,
        deliveryCount: entry.deliveryCount,
      });
    }
    return out;
  }

  /**
   * The records at `offsets`, read from the log batch by batch. The records
   * of the last read are kept: deliveries walk the log in order, so the next
   * fetch usually wants the same batch again (a prefetch-1 consumer would
   * otherwise decode a whole batch per message).
   */
  private async readRecords(offsets: number[]): Promise<Map<number, DecodedRecord>> {
    const found = new Map<number, DecodedRecord>();
    const wanted: number[] = [];
    for (const offset of [...offsets].sort((a, b) => a - b)) {
      const cached = this.recordCache.get(offset);
      if (cached) found.set(offset, cached);
      else wanted.push(offset);
    }
    const lookup = new Set(wanted);
    let i = 0;
    while (i < wanted.length) {
      const offset = wanted[i] as number;
      const read = await this.log.read(offset, queueReadBytes);
      if (read.records.length === 0) break;
      this.recordCache = new Map();
      for (const record of decodeRecords(read.records)) {
        this.recordCache.set(record.offset, record);
        if (lookup.has(record.offset)) found.set(record.offset, record);
      }
      while (i < wanted.length && (wanted[i] as number) < read.nextOffset) i++;
      if (read.nextOffset <= offset) break;
    }
    return found;
  }

  // ---- acknowledgements ----

  private heldBy(consumer: Consumer | undefined, offset: number, consumerId: string): Entry {
    const entry = this.pending.get(offset);
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
    const results: { offset: number; error?: SluiceError }[] = [];
    const accepted: Entry[] = [];
    const released: Entry[] = [];
    const rejected: Entry[] = [];
    const returned: Entry[] = [];
    for (const { offset, type } of acks) {
      try {
        const entry = this.heldBy(consumer, offset, consumerId);
        if (type === 'accept') accepted.push(entry);
        else if (type === 'release') released.push(entry);
        else if (type === 'return') returned.push(entry);
        else rejected.push(entry);
        results.push({ offset });
      } catch (err) {
        results.push({ offset, error: err as SluiceError });
      }
    }
    const counts = [...this.release(released), ...this.giveBack(returned)];
    for (const entry of rejected) this.deadLetter(entry, 'rejected');
    if (accepted.length > 0 || counts.length > 0) await this.recordDone(accepted, 'ack', counts);
    this.serveWaiters();
    return results;
  }

  /**
   * Returns delivered, unacknowledged entries to the queue (the delivery
   * counted); past 1 + queue.max.redeliveries deliveries an entry is
   * dead-lettered instead. Returns the delivery counts to persist.
   */
  private release(entries: Entry[]): [number, number][] {
    const counts: [number, number][] = [];
    const now = Date.now();
    for (const entry of entries) {
      entry.consumer?.held.delete(entry);
      entry.consumer = undefined;
      if (this.maxRedeliveries >= 0 && entry.deliveryCount > this.maxRedeliveries) {
        this.deadLetter(entry, 'max-redeliveries');
        continue;
      }
      entry.availableAt = now + this.redeliveryDelay(entry.deliveryCount);
      this.insertRedeliver(entry);
      counts.push([entry.offset, entry.deliveryCount]);
    }
    return counts;
  }

  /** Entries fetched but never handed to the application: available again at once, the delivery not counted. */
  private giveBack(entries: Entry[]): [number, number][] {
    const counts: [number, number][] = [];
    for (const entry of entries) {
      entry.consumer?.held.delete(entry);
      entry.consumer = undefined;
      entry.deliveryCount = Math.max(0, entry.deliveryCount - 1);
      entry.availableAt = 0;
      this.insertRedeliver(entry);
      counts.push([entry.offset, entry.deliveryCount]);
    }
    return counts;
  }

  /** queue.redelivery.delay.ms, multiplied by the back-off multiplier per earlier redelivery, capped. */
  private redeliveryDelay(deliveries: number): number {
    const base = this.deps.config.int('queue.redelivery.delay.ms');
    if (base === 0) return 0;
    const multiplier = this.deps.config.int('queue.redelivery.backoff.multiplier');
    const delay = base * multiplier ** Math.max(0, Math.min(deliveries - 1, 30));
    return Math.min(delay, this.deps.config.int('queue.redelivery.delay.max.ms'));
  }

  private insertRedeliver(entry: Entry): void {
    let i = this.redeliver.length;
    while (i > 0 && (this.redeliver[i - 1] as Entry).offset > entry.offset) i--;
    this.redeliver.splice(i, 0, entry);
  }

  private beginLeaving(entries: Entry[]): void {
    for (const entry of entries) {
      entry.leaving = true;
      entry.consumer?.held.delete(entry);
    }
  }

  private finishLeaving(entries: Entry[], reason: DoneReason): void {
    for (const entry of entries) {
      this.pending.delete(entry.offset);
      entry.consumer = undefined;
    }
    this.count(reason, entries.length);
    this.doneSinceCompaction += entries.length;
  }

  /** A write failed: the entries are available again (without counting a delivery). */
  private abortLeaving(entries: Entry[]): void {
    for (const entry of entries) {
      entry.leaving = false;
      entry.consumer = undefined;
      entry.availableAt = 0;
      this.insertRedeliver(entry);
    }
    this.serveWaiters();
  }

  /** Records entries as done (and delivery counts) with acks=-1; the entries leave the queue. */
  private async recordDone(entries: Entry[], reason: DoneReason, counts: [number, number][] = []): Promise<void> {
    const now = Date.now();
    const records: RecordInput[] = [];
    for (let i = 0; i < counts.length; i += queueStateFlushRecordsMax) {
      records.push(stateRecordInput({ op: 'count', counts: counts.slice(i, i + queueStateFlushRecordsMax) }, now));
    }
    const offsets = entries.map((e) => e.offset);
    for (let i = 0; i < offsets.length; i += queueStateFlushRecordsMax) {
      records.push(
        stateRecordInput({ op: 'done', offsets: offsets.slice(i, i + queueStateFlushRecordsMax), reason }, now),
      );
    }
    if (records.length === 0) return;
    this.beginLeaving(entries);
    try {
      await this.deps.append(encodeRecordBatch(records));
    } catch (err) {
      this.abortLeaving(entries);
      throw err;
    }
    this.finishLeaving(entries, reason);
    await this.maybeDeleteConsumed();
  }

  // ---- dead letters, expiry ----

  private deadLetter(entry: Entry, reason: 'max-redeliveries' | 'rejected' | 'expired'): void {
    entry.consumer?.held.delete(entry);
    entry.consumer = undefined;
    entry.leaving = true;
    void this.moveToDeadLetterQueue([entry], reason).catch((err) => {
      this.deps.logger.warn({ err, queue: this.queue, offset: entry.offset }, 'dead-lettering failed; redelivering');
      this.abortLeaving([entry]);
    });
  }

  private async moveToDeadLetterQueue(entries: Entry[], reason: string): Promise<void> {
    const records = await this.readRecords(entries.map((e) => e.offset));
    const messages: QueueMessageInput[] = [];
    for (const entry of entries) {
      const record = records.get(entry.offset);
      if (!record) continue;
      messages.push({
        key: record.key,
        value: record.value,
        headers: [
          ...record.headers.filter((h) => !Object.values(DlqHeader).includes(h.key as never)),
          { key: DlqHeader.originalQueue, value: Buffer.from(this.queue) },
          { key: DlqHeader.reason, value: Buffer.from(reason) },
          { key: DlqHeader.deliveryCount, value: Buffer.from(String(entry.deliveryCount)) },
          { key: DlqHeader.originalOffset, value: Buffer.from(String(entry.offset)) },
        ],
      });
    }
    // the dead letter is written before the message leaves here: a crash in between duplicates, never loses
    if (messages.length > 0) await this.deps.sendTo(this.deadLetterQueue, messages);
    for (const entry of entries) entry.leaving = false;
    await this.recordDone(entries, 'dlq');
    this.deps.logger.info(
      { queue: this.queue, to: this.deadLetterQueue, count: entries.length, reason },
      'dead-lettered',
    );
  }

  private async expire(entries: Entry[]): Promise<void> {
    if (this.deps.config.bool('queue.expired.messages.dlq') && !this.isDeadLetterQueue) {
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
    const now = Date.now();
    const expired: Entry[] = [];
    for (const consumer of this.consumers.values()) {
      for (const entry of consumer.held) if (entry.lockedUntil <= now) expired.push(entry);
    }
    if (expired.length > 0) {
      const counts = this.release(expired);
      if (counts.length > 0) void this.recordDone([], 'ack', counts).catch(() => undefined);
    }
    if (this.waiters.length > 0) this.serveWaiters();
  }

  /** The consumer leaves (or its connection closed): what it holds returns to the queue. */
  async leave(consumerId: string): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) return;
    this.consumers.delete(consumerId);
    this.waiters = this.waiters.filter((w) => {
      if (w.consumer !== consumer) return true;
      w.done([]);
      return false;
    });
    const counts = this.release([...consumer.held]);
    this.serveWaiters();
    if (counts.length > 0 && !this.closed) await this.recordDone([], 'ack', counts).catch(() => undefined);
  }

  /** Deletes log segments wholly below the oldest pending message, after a stats record. */
  private async maybeDeleteConsumed(): Promise<void> {
    if (this.doneSinceCompaction < 1000) return;
    this.doneSinceCompaction = 0;
    let floor = this.scanOffset;
    for (const offset of this.pending.keys()) if (offset < floor) floor = offset;
    const bases = this.log.segmentBaseOffsets;
    if (bases.length < 2 || (bases[1] as number) > floor) return;
    await this.deps.append(
      encodeRecordBatch([stateRecordInput({ op: 'stats', counters: { ...this.counters } }, Date.now())]),
    );
    await this.log.deleteSegmentsBefore(floor);
  }

  // ---- admin ----

  stats(): QueueStats {
    let inFlight = 0;
    for (const consumer of this.consumers.values()) inFlight += consumer.held.size;
    return {
      queue: this.queue,
      depth: this.pending.size,
      inFlight,
      consumers: this.consumers.size,
      enqueued: this.counters.enqueued,
      dequeued: this.counters.dequeued,
      deadLettered: this.counters.deadLettered,
    };
  }

  /** The oldest `max` waiting messages, not acquired. */
  async browse(max: number): Promise<QueueDelivery[]> {
    await this.ready;
    const entries = [...this.pending.values()]
      .filter((e) => !e.leaving)
      .sort((a, b) => a.offset - b.offset)
      .slice(0, max);
    return this.deliveries(entries);
  }

  /** Removes every message nobody holds. */
  async purge(): Promise<number> {
    await this.ready;
    const entries = [...this.pending.values()].filter((e) => !e.consumer && !e.leaving);
    await this.recordDone(entries, 'purge');
    return entries.length;
  }

  /** Moves this dead-letter queue's messages from `queue` (all of them when not shared) back there. */
  async redrive(queue: string): Promise<number> {
    await this.ready;
    const entries = [...this.pending.values()]
      .filter((e) => !e.consumer && !e.leaving)
      .sort((a, b) => a.offset - b.offset);
    let moved = 0;
    for (let i = 0; i < entries.length; i += 500) {
      const chunk = entries.slice(i, i + 500);
      const records = await this.readRecords(chunk.map((e) => e.offset));
      const going: Entry[] = [];
      const messages: QueueMessageInput[] = [];
      for (const entry of chunk) {
        const record = records.get(entry.offset);
        if (!record) continue;
        const from = record.headers.find((h) => h.key === DlqHeader.originalQueue)?.value?.toString();
        if (from !== queue) continue;
        going.push(entry);
        messages.push({
          key: record.key,
          value: record.value,
          headers: record.headers.filter((h) => !Object.values(DlqHeader).includes(h.key as never)),
        });
      }
      if (messages.length === 0) continue;
      this.beginLeaving(going);
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
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const w of this.waiters) w.done([]);
    this.waiters = [];
  }
}
