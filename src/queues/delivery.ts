/**
 * Which message goes to whom: delivery in offset order with released
 * messages first, the lock an acquisition takes, fair dispatch among waiting
 * fetches (one message per waiter per round), and the background write of
 * delivery counts.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { queueFetchWaitersMax } from '../shared/limits.js';
import type { Consumer, Entry } from './queue-entry.js';

/** The available entries in delivery order: released ones first (in offset order), then the never-delivered ones. */
export class DeliveryOrder {
  /** Never-delivered entries in offset order (a deque: `head` is the next). */
  private fresh: Entry[] = [];
  private head = 0;
  /** Released entries waiting for redelivery, in offset order. */
  private redeliver: Entry[] = [];

  /** A new message (offsets only grow). */
  pushFresh(entry: Entry): void {
    this.fresh.push(entry);
  }

  /** A released entry, in offset order among the released ones. */
  requeue(entry: Entry): void {
    let i = this.redeliver.length;
    while (i > 0 && (this.redeliver[i - 1] as Entry).offset > entry.offset) i--;
    this.redeliver.splice(i, 0, entry);
  }

  /**
   * Takes up to `wanted` entries available at `now`; expired ones met on the
   * way are taken too (returned apart, not counted). Entries that left or
   * were acquired meanwhile are dropped; delayed ones stay.
   */
  take(wanted: number, now: number): { taken: Entry[]; expired: Entry[] } {
    const taken: Entry[] = [];
    const expired: Entry[] = [];
    // an entry may be in both lists: one a transaction's abort released before a take passed it in `fresh`
    const seen = new Set<Entry>();
    const once = (entry: Entry): boolean => {
      if (seen.has(entry)) return false;
      seen.add(entry);
      return true;
    };
    // released messages first (in offset order), then the ones never delivered
    for (let i = 0; i < this.redeliver.length && taken.length < wanted; ) {
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
      if (!once(entry)) continue;
      if (entry.expiresAt <= now) expired.push(entry);
      else taken.push(entry);
    }
    while (taken.length < wanted && this.head < this.fresh.length) {
      const entry = this.fresh[this.head++] as Entry;
      if (entry.leaving || entry.consumer || !once(entry)) continue;
      if (entry.expiresAt <= now) expired.push(entry);
      else taken.push(entry);
    }
    if (this.head > 1024 && this.head * 2 > this.fresh.length) {
      this.fresh = this.fresh.slice(this.head);
      this.head = 0;
    }
    return { taken, expired };
  }
}

/** How many messages a fetch may acquire: at most `maxMessages`, never beyond the consumer's prefetch. */
export function fetchRoom(consumer: Consumer, maxMessages: number): number {
  return Math.min(maxMessages, consumer.prefetch - consumer.held.size);
}

/** The consumer acquires `entries` (a delivery each, locked until `now` + its lock timeout); returns the new counts. */
export function lockFor(consumer: Consumer, entries: Entry[], now: number): [number, number][] {
  const counts: [number, number][] = [];
  for (const entry of entries) {
    entry.consumer = consumer;
    entry.deliveryCount++;
    entry.lockedUntil = now + consumer.lockTimeoutMs;
    consumer.held.add(entry);
    counts.push([entry.offset, entry.deliveryCount]);
  }
  return counts;
}

interface Waiter {
  consumer: Consumer;
  wanted: number;
  done: (entries: Entry[]) => void;
}

/** Fetches waiting for messages (long polling), at most queueFetchWaitersMax. */
export class WaitingFetches {
  private waiters: Waiter[] = [];

  constructor(private readonly queue: string) {}

  get size(): number {
    return this.waiters.length;
  }

  /** Resolves with what `serve` hands this fetch, or empty after `maxWaitMs`. */
  wait(consumer: Consumer, wanted: number, maxWaitMs: number): Promise<Entry[]> {
    if (this.waiters.length >= queueFetchWaitersMax) {
      throw new SluiceError(ErrorCode.Timeout, `queue ${this.queue}: too many waiting fetches`);
    }
    return new Promise<Entry[]>((resolve) => {
      const waiter: Waiter = {
        consumer,
        wanted,
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

  /**
   * Hands what is available to waiting fetches, one message per waiter per
   * round (fair dispatch); `acquireOne` acquires one message for a consumer.
   */
  serve(acquireOne: (consumer: Consumer) => Entry[]): void {
    if (this.waiters.length === 0) return;
    const got = new Map<Waiter, Entry[]>();
    let progress = true;
    while (progress) {
      progress = false;
      for (const w of this.waiters) {
        const list = got.get(w) ?? [];
        // the prefetch bounds what the consumer holds across all its fetches, not per fetch:
        // two fetches of one consumer waiting side by side must not hold twice its prefetch
        if (list.length >= w.wanted || w.consumer.held.size >= w.consumer.prefetch) continue;
        const one = acquireOne(w.consumer);
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

  /** The consumer's waiting fetches end empty. */
  endFor(consumer: Consumer): void {
    this.waiters = this.waiters.filter((w) => {
      if (w.consumer !== consumer) return true;
      w.done([]);
      return false;
    });
  }

  /** Every waiting fetch ends empty. */
  endAll(): void {
    for (const w of this.waiters) w.done([]);
    this.waiters = [];
  }
}

/**
 * Delivery counts of acquisitions are written before the deliveries leave
 * the broker: a fetch answers only once the record of its acquisitions is
 * stored by the ISR (acks=-1, so the high watermark is past it). A leader
 * that lost its leadership without knowing it yet (paused past its
 * ZooKeeper session) cannot get that record replicated — the other replicas
 * follow the new leader — so it hands nothing out; and a new leader always
 * knows a message went out before: its redelivery is flagged, and counts
 * towards the DLQ. Writes are coalesced (one record per event-loop turn,
 * shared by every fetch of that turn) to keep throughput.
 */
export class DeliveryCountFlusher {
  private counts: [number, number][] = [];
  /** The write gathering counts now (starts on the next turn of the event loop). */
  private next: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly write: (counts: [number, number][]) => Promise<void>) {}

  add(counts: [number, number][]): void {
    for (const count of counts) this.counts.push(count);
    if (counts.length === 0 || this.next) return;
    const batch = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.next = null;
      const pending = this.counts;
      this.counts = [];
      return pending.length > 0 ? this.write(pending) : undefined;
    });
    this.next = batch;
    this.inFlight.add(batch);
    const done = (): void => {
      this.inFlight.delete(batch);
    };
    batch.then(done, done);
  }

  /** Resolves once every count added so far is stored; rejects when one of those writes failed. */
  async stored(): Promise<void> {
    if (this.inFlight.size === 0) return;
    await Promise.all([...this.inFlight]);
  }
}
