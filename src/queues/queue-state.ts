/**
 * A queue's bookkeeping in memory: the pending messages (light entries:
 * offset, delivery count, lock, expiry; payloads stay in the log), the
 * counters, and the consumers with what each holds (in flight).
 *
 * A message is available, acquired by one consumer (with a lock that
 * expires), or waiting out a redelivery delay; `leaving` marks one whose
 * acknowledgement or dead-lettering is being written. Everything here is
 * synchronous; writing to the log is the dispatcher's.
 */
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { queueConsumersMax } from '../shared/limits.js';
import { DeliveryOrder } from './delivery.js';
import type { Consumer, Entry } from './queue-entry.js';
import type { DoneReason, QueueCounters, StateRecord } from './queue-records.js';

export class QueueState {
  readonly pending = new Map<number, Entry>();
  /** Which available entry goes out next. */
  readonly order = new DeliveryOrder();
  counters: QueueCounters = { enqueued: 0, dequeued: 0, deadLettered: 0 };
  /** Entries done since consumed segments were last deleted. */
  doneSinceCompaction = 0;

  get size(): number {
    return this.pending.size;
  }

  /** A message read from the log: pending, never delivered. */
  addMessage(offset: number, expiresAt: number): void {
    this.counters.enqueued++;
    const entry: Entry = {
      offset,
      deliveryCount: 0,
      consumer: undefined,
      lockedUntil: 0,
      availableAt: 0,
      expiresAt,
      leaving: false,
    };
    this.pending.set(offset, entry);
    this.order.pushFresh(entry);
  }

  /** A state record read while replaying the log. */
  apply(state: StateRecord): void {
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

  /** The counters only grow (so never go negative): `n` messages left the queue for `reason`. */
  count(reason: DoneReason, n: number): void {
    assert(Number.isSafeInteger(n) && n >= 0, `queue counters cannot move by ${n}`);
    if (reason === 'ack') this.counters.dequeued += n;
    else if (reason === 'dlq') this.counters.deadLettered += n;
  }

  beginLeaving(entries: Entry[]): void {
    for (const entry of entries) {
      entry.leaving = true;
      entry.consumer?.held.delete(entry);
    }
  }

  finishLeaving(entries: Entry[], reason: DoneReason): void {
    for (const entry of entries) {
      this.pending.delete(entry.offset);
      entry.consumer = undefined;
    }
    this.count(reason, entries.length);
    this.doneSinceCompaction += entries.length;
  }

  /** A write failed: the entries are available again at once (without counting a delivery). */
  cancelLeaving(entries: Entry[]): void {
    for (const entry of entries) {
      entry.leaving = false;
      entry.consumer = undefined;
      entry.availableAt = 0;
      this.order.requeue(entry);
    }
  }

  /** The lowest pending offset, or `upTo` when none is lower. */
  floor(upTo: number): number {
    let floor = upTo;
    for (const offset of this.pending.keys()) if (offset < floor) floor = offset;
    return floor;
  }
}

/** The consumers of one queue, bound to their connection, at most queueConsumersMax. */
export class Consumers {
  private readonly byId = new Map<string, Consumer>();

  constructor(private readonly queue: string) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Consumer | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  /** The consumer `id` (created when new), with its prefetch and lock timeout updated. */
  join(id: string, connectionId: number, prefetch: number, lockTimeoutMs: number): Consumer {
    let consumer = this.byId.get(id);
    if (consumer && consumer.connectionId !== connectionId) {
      throw new SluiceError(ErrorCode.InvalidRequest, `consumer id ${id} is in use on another connection`);
    }
    if (!consumer) {
      if (this.byId.size >= queueConsumersMax) {
        throw new SluiceError(
          ErrorCode.InvalidRequest,
          `queue ${this.queue} has ${queueConsumersMax} consumers already`,
        );
      }
      consumer = { id, connectionId, held: new Set(), prefetch, lockTimeoutMs };
      this.byId.set(id, consumer);
    }
    consumer.prefetch = prefetch;
    consumer.lockTimeoutMs = lockTimeoutMs;
    return consumer;
  }

  /** Messages acquired and not yet acknowledged, over all consumers. */
  inFlight(): number {
    let inFlight = 0;
    for (const consumer of this.byId.values()) inFlight += consumer.held.size;
    return inFlight;
  }

  /** Held entries whose lock ran out by `now`. */
  expiredLocks(now: number): Entry[] {
    const expired: Entry[] = [];
    for (const consumer of this.byId.values()) {
      for (const entry of consumer.held) if (entry.lockedUntil <= now) expired.push(entry);
    }
    return expired;
  }
}
