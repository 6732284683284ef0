/**
 * A queue's open transactions (queue-txns.ts): what a marker resolves, once;
 * the offsets an open transaction acknowledges; the floor below which the
 * log must stay; and the producers' sequence numbers on the queue's log.
 */
import { describe, expect, it } from 'vitest';
import { QueueTxns, TxnSequences } from '../../../src/queues/queue-txns.js';
import { sequenceMax } from '../../../src/storage/producer-state.js';

const inf = Number.POSITIVE_INFINITY;

describe('queue transactions', () => {
  it('holds each producer’s messages and acknowledgements until its marker resolves them, once', () => {
    const txns = new QueueTxns();
    txns.addMessage(1, 0, { offset: 10, expiresAt: inf });
    txns.addMessage(2, 0, { offset: 11, expiresAt: inf });
    txns.addDone(1, 0, 12, [3, 4], 'ack');
    txns.addMessage(1, 0, { offset: 13, expiresAt: 99 });
    expect(txns.size).toBe(2);
    expect(txns.messages).toBe(3);
    expect(txns.lockedBy(3)).toBe(1);
    expect(txns.lockedBy(5)).toBeUndefined();
    expect(txns.floor(100)).toBe(10);

    const one = txns.resolve(1);
    expect(one?.messages).toEqual([
      { offset: 10, expiresAt: inf },
      { offset: 13, expiresAt: 99 },
    ]);
    expect(one?.done).toEqual([{ offsets: [3, 4], reason: 'ack' }]);
    expect(txns.resolve(1)).toBeUndefined(); // a second marker (or notification) changes nothing
    expect(txns.lockedBy(3)).toBeUndefined();
    expect(txns.messages).toBe(1);
    expect(txns.floor(100)).toBe(11);
    expect(txns.resolve(2)?.messages.map((m) => m.offset)).toEqual([11]);
    expect(txns.floor(100)).toBe(100);
    expect(txns.size).toBe(0);
  });

  it('a producer’s next transaction after its marker starts afresh', () => {
    const txns = new QueueTxns();
    txns.addMessage(1, 0, { offset: 1, expiresAt: inf });
    txns.resolve(1);
    txns.addMessage(1, 1, { offset: 5, expiresAt: inf });
    expect(txns.floor(100)).toBe(5);
    expect(txns.resolve(1)).toMatchObject({ producerEpoch: 1, firstOffset: 5 });
  });
});

describe('transactional producers’ sequences on a queue log', () => {
  it('continue after each batch, start at 0 in a new epoch, and wrap as Kafka’s', () => {
    const seq = new TxnSequences();
    expect(seq.nextFor(1, 0)).toBe(0);
    seq.appended(1, 0, 0, 3);
    expect(seq.nextFor(1, 0)).toBe(3);
    expect(seq.nextFor(1, 1)).toBe(0);
    seq.appended(1, 1, 0, 2);
    seq.appended(1, 0, 3, 5); // an older epoch's batch read later changes nothing
    expect(seq.nextFor(1, 1)).toBe(2);
    seq.appended(2, 0, sequenceMax, 2);
    expect(seq.nextFor(2, 0)).toBe(1);
  });
});
