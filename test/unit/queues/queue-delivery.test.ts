/**
 * The dispatcher's in-memory parts without a log: delivery order (released
 * first, offset order, delays, expiry), prefetch room and locks, fair
 * dispatch among waiting fetches, coalesced delivery counts, the state a
 * replay rebuilds, consumers, and what acknowledgements do to entries.
 */
import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, giveBackEntries, releaseEntries, sortAcks } from '../../../src/queues/acknowledgements.js';
import {
  DeliveryCountFlusher,
  DeliveryOrder,
  fetchRoom,
  lockFor,
  WaitingFetches,
} from '../../../src/queues/delivery.js';
import type { Consumer, Entry } from '../../../src/queues/queue-entry.js';
import { Consumers, QueueState } from '../../../src/queues/queue-state.js';
import { queueConsumersMax } from '../../../src/shared/limits.js';

function entry(offset: number, fields: Partial<Entry> = {}): Entry {
  return {
    offset,
    deliveryCount: 0,
    consumer: undefined,
    lockedUntil: 0,
    availableAt: 0,
    expiresAt: Number.POSITIVE_INFINITY,
    leaving: false,
    ...fields,
  };
}

function consumer(id: string, prefetch = 10): Consumer {
  return { id, connectionId: 1, held: new Set(), prefetch, lockTimeoutMs: 1000 };
}

const offsets = (entries: Entry[]) => entries.map((e) => e.offset);

describe('delivery order', () => {
  it('delivers released entries first, each list in offset order', () => {
    const order = new DeliveryOrder();
    for (const offset of [0, 1, 2, 3]) order.pushFresh(entry(offset));
    order.take(2, 0); // 0 and 1 go out
    order.requeue(entry(9));
    order.requeue(entry(5));
    expect(offsets(order.take(10, 0).taken)).toEqual([5, 9, 2, 3]);
  });

  it('keeps delayed entries, drops left or acquired ones, and takes expired ones apart', () => {
    const order = new DeliveryOrder();
    order.requeue(entry(1, { availableAt: 100 }));
    order.requeue(entry(2, { leaving: true }));
    order.pushFresh(entry(3, { expiresAt: 50 }));
    order.pushFresh(entry(4, { consumer: consumer('c') }));
    order.pushFresh(entry(5));
    const first = order.take(10, 60);
    expect(offsets(first.taken)).toEqual([5]);
    expect(offsets(first.expired)).toEqual([3]);
    expect(offsets(order.take(10, 100).taken)).toEqual([1]);
    expect(order.take(10, 100).taken).toEqual([]);
  });

  it('takes no more than wanted and keeps the rest in order across compactions', () => {
    const order = new DeliveryOrder();
    for (let offset = 0; offset < 5000; offset++) order.pushFresh(entry(offset));
    const got: number[] = [];
    for (let round = 0; round < 50; round++) got.push(...offsets(order.take(100, 0).taken));
    expect(got).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('takes an entry once when it is in both lists (a transaction’s abort released it before a take passed it)', () => {
    const order = new DeliveryOrder();
    const e = entry(0, { leaving: true });
    order.pushFresh(e);
    order.pushFresh(entry(1));
    e.leaving = false;
    order.requeue(e);
    expect(offsets(order.take(10, 0).taken)).toEqual([0, 1]);
  });
});

describe('acquiring', () => {
  it('bounds a fetch by the prefetch and locks what it takes', () => {
    const c = consumer('c', 3);
    expect(fetchRoom(c, 10)).toBe(3);
    const entries = [entry(4), entry(7, { deliveryCount: 2 })];
    expect(lockFor(c, entries, 1000)).toEqual([
      [4, 1],
      [7, 3],
    ]);
    expect(entries.every((e) => e.consumer === c && e.lockedUntil === 2000)).toBe(true);
    expect(fetchRoom(c, 10)).toBe(1);
    expect(fetchRoom(c, 0)).toBe(0);
  });

  it('serves waiting fetches one message per waiter per round', async () => {
    const waiting = new WaitingFetches('q');
    const a = consumer('a');
    const b = consumer('b');
    const gotA = waiting.wait(a, 3, 10_000);
    const gotB = waiting.wait(b, 1, 10_000);
    const available = [entry(0), entry(1), entry(2), entry(3), entry(4)];
    waiting.serve(() => {
      const next = available.shift();
      return next ? [next] : [];
    });
    expect(offsets(await gotA)).toEqual([0, 2, 3]);
    expect(offsets(await gotB)).toEqual([1]);
    expect(waiting.size).toBe(0);
    expect(offsets(available)).toEqual([4]);
  });

  it("never lets one consumer's waiting fetches together hold more than its prefetch", async () => {
    const waiting = new WaitingFetches('q');
    const a = consumer('a', 3);
    // two fetches of the same consumer, each sized by the room it had when it started
    const first = waiting.wait(a, 3, 10_000);
    const second = waiting.wait(a, 3, 10_000);
    const available = Array.from({ length: 10 }, (_, i) => entry(i));
    waiting.serve(() => {
      const next = available.shift();
      if (!next) return [];
      a.held.add(next); // what lockFor does when the dispatcher acquires for the consumer
      return [next];
    });
    const got = [...(await first), ...(await second)];
    expect(got).toHaveLength(3);
    expect(a.held.size).toBe(3);
    expect(available).toHaveLength(7);
  });

  it('ends waiting fetches empty on timeout, when the consumer leaves, and on close', async () => {
    const waiting = new WaitingFetches('q');
    const a = consumer('a');
    const timedOut = waiting.wait(a, 1, 5);
    expect(await timedOut).toEqual([]);
    expect(waiting.size).toBe(0);
    const left = waiting.wait(a, 1, 10_000);
    const other = waiting.wait(consumer('b'), 1, 10_000);
    waiting.endFor(a);
    expect(await left).toEqual([]);
    expect(waiting.size).toBe(1);
    waiting.endAll();
    expect(await other).toEqual([]);
    expect(waiting.size).toBe(0);
  });

  it('writes delivery counts once per event-loop turn', async () => {
    const write = vi.fn(() => Promise.resolve());
    const flusher = new DeliveryCountFlusher(write);
    flusher.add([[1, 1]]);
    flusher.add([]);
    flusher.add([[2, 3]]);
    expect(write).not.toHaveBeenCalled();
    await new Promise((resolve) => setImmediate(resolve));
    expect(write).toHaveBeenCalledTimes(1);
    expect(write).toHaveBeenCalledWith([
      [1, 1],
      [2, 3],
    ]);
  });

  it('stored() resolves only once every count added so far is written, and rejects when a write failed', async () => {
    const finish: (() => void)[] = [];
    const fail: ((err: Error) => void)[] = [];
    const flusher = new DeliveryCountFlusher(
      () =>
        new Promise<void>((resolve, reject) => {
          finish.push(resolve);
          fail.push(reject);
        }),
    );
    await flusher.stored(); // nothing added: at once
    flusher.add([[1, 1]]);
    let stored = false;
    const first = flusher.stored().then(() => {
      stored = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    flusher.add([[2, 1]]); // a second write, on the next turn
    await new Promise((resolve) => setImmediate(resolve));
    expect(finish.length).toBe(2);
    expect(stored).toBe(false);
    (finish[0] as () => void)();
    await first;
    expect(stored).toBe(true);
    // the second write is still under way: a fetch after both adds waits for it, and sees it fail
    const second = flusher.stored();
    (fail[1] as (err: Error) => void)(new Error('not leader'));
    await expect(second).rejects.toThrow('not leader');
    await flusher.stored(); // a failed write is forgotten once settled
  });
});

describe('queue state', () => {
  it('rebuilds pending entries, delivery counts and counters from a replay', () => {
    const state = new QueueState();
    for (const offset of [0, 1, 2, 3]) state.addMessage(offset, Number.POSITIVE_INFINITY);
    state.apply({ op: 'done', offsets: [0, 9], reason: 'ack' });
    state.apply({ op: 'done', offsets: [1], reason: 'dlq' });
    state.apply({ op: 'count', counts: [[2, 4]] });
    expect(state.size).toBe(2);
    expect(state.pending.get(2)?.deliveryCount).toBe(4);
    expect(state.counters).toEqual({ enqueued: 4, dequeued: 1, deadLettered: 1 });
    expect(state.floor(10)).toBe(2);
    state.apply({ op: 'stats', counters: { enqueued: 7, dequeued: 5, deadLettered: 0 } });
    expect(state.counters).toEqual({ enqueued: 7, dequeued: 5, deadLettered: 0 });
    // entries that left are skipped when delivering
    expect(offsets(state.order.take(10, 0).taken)).toEqual([2, 3]);
  });

  it('lets entries leave, or come back when the write failed', () => {
    const state = new QueueState();
    state.addMessage(0, Number.POSITIVE_INFINITY);
    state.addMessage(1, Number.POSITIVE_INFINITY);
    const c = consumer('c');
    const [first, second] = state.order.take(2, 0).taken as [Entry, Entry];
    lockFor(c, [first, second], 0);
    state.beginLeaving([first, second]);
    expect(c.held.size).toBe(0);
    state.finishLeaving([first], 'ack');
    state.cancelLeaving([second]);
    expect(state.size).toBe(1);
    expect(state.counters.dequeued).toBe(1);
    expect(state.doneSinceCompaction).toBe(1);
    expect(offsets(state.order.take(10, 0).taken)).toEqual([1]);
  });

  it('binds consumers to their connection and bounds how many there are', () => {
    const consumers = new Consumers('q');
    const c = consumers.join('c', 1, 5, 1000);
    expect(consumers.join('c', 1, 7, 2000)).toBe(c);
    expect(c.prefetch).toBe(7);
    expect(() => consumers.join('c', 2, 5, 1000)).toThrow(/in use on another connection/);
    for (let i = consumers.size; i < queueConsumersMax; i++) consumers.join(`x${i}`, 1, 1, 1000);
    expect(() => consumers.join('one-more', 1, 1, 1000)).toThrow(/consumers already/);
    c.held.add(entry(3, { lockedUntil: 10 }));
    c.held.add(entry(4, { lockedUntil: 30 }));
    expect(consumers.inFlight()).toBe(2);
    expect(offsets(consumers.expiredLocks(20))).toEqual([3]);
  });
});

describe('acknowledgements', () => {
  it('backs off redeliveries by the multiplier, capped', () => {
    expect(backoffDelay(0, 2, 1000, 5)).toBe(0);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(100, 2, 1000, n))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(100, 100, 60_000, 1_000_000)).toBe(60_000);
  });

  it('releases with a delay and the delivery counted, dead-letters past the maximum, gives back uncounted', () => {
    const order = new DeliveryOrder();
    const c = consumer('c');
    const again = entry(1, { deliveryCount: 2 });
    const tooOften = entry(2, { deliveryCount: 4 });
    const unseen = entry(3, { deliveryCount: 1 });
    lockFor(c, [again, tooOften, unseen], 0);
    const deadLettered: Entry[] = [];
    const counts = releaseEntries([again, tooOften], 1000, {
      order,
      maxRedeliveries: 3,
      delay: (n) => n * 10,
      deadLetter: (e) => deadLettered.push(e),
    });
    expect(counts).toEqual([[1, 3]]);
    expect(offsets(deadLettered)).toEqual([2]);
    expect(again.availableAt).toBe(1030);
    expect(giveBackEntries([unseen], order)).toEqual([[3, 1]]);
    expect(c.held.size).toBe(0);
    expect(offsets(order.take(10, 1000).taken)).toEqual([3]);
    expect(offsets(order.take(10, 1030).taken)).toEqual([1]);
  });

  it('never dead-letters when the maximum is -1', () => {
    const deadLetter = vi.fn();
    const counts = releaseEntries([entry(1, { deliveryCount: 99 })], 0, {
      order: new DeliveryOrder(),
      maxRedeliveries: -1,
      delay: () => 0,
      deadLetter,
    });
    expect(counts).toEqual([[1, 99]]);
    expect(deadLetter).not.toHaveBeenCalled();
  });

  it('sorts acknowledgements by type and reports offsets not held', () => {
    const held = new Map([1, 2, 3, 4].map((o) => [o, entry(o)]));
    const sorted = sortAcks(
      [
        { offset: 1, type: 'accept' },
        { offset: 2, type: 'release' },
        { offset: 9, type: 'accept' },
        { offset: 3, type: 'return' },
        { offset: 4, type: 'reject' },
      ],
      (offset) => {
        const e = held.get(offset);
        if (!e) throw new Error(`not held: ${offset}`);
        return e;
      },
    );
    expect(offsets(sorted.accepted)).toEqual([1]);
    expect(offsets(sorted.released)).toEqual([2]);
    expect(offsets(sorted.returned)).toEqual([3]);
    expect(offsets(sorted.rejected)).toEqual([4]);
    expect(sorted.results.map((r) => [r.offset, r.error?.message])).toEqual([
      [1, undefined],
      [2, undefined],
      [9, 'not held: 9'],
      [3, undefined],
      [4, undefined],
    ]);
  });
});
