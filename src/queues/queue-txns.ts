/**
 * A queue's open transactions (issue 21: a transacted JMS session spanning
 * several queues commits through a Kafka transaction). A transactional
 * QueueSend is one transactional batch of its producer on the queue's log:
 * messages and "done" records (the session's acknowledgements). Until the
 * producer's marker on this log, both are PENDING: its messages are not
 * dispatchable and its acknowledged messages stay out of delivery (neither
 * acknowledged nor redelivered). A COMMIT marker applies both, an ABORT drops
 * both (the acknowledged messages are then released).
 *
 * Everything here is synchronous bookkeeping, fed in log order by the log
 * follower (replay and live alike); the dispatcher applies what a marker
 * resolves. Resolving twice is harmless: the second finds nothing.
 */
import { queueOpenTxnsMax } from '../shared/limits.js';
import { incrementSequence } from '../storage/producer-state.js';
import type { DoneReason } from './queue-records.js';

export interface PendingTxnMessage {
  offset: number;
  expiresAt: number;
}

export interface PendingTxn {
  producerId: number;
  producerEpoch: number;
  /** The offset of its first batch on this log (segments from there on must stay). */
  firstOffset: number;
  /** Its messages in log order. */
  messages: PendingTxnMessage[];
  /** Offsets its done records name, with their reason, in log order. */
  done: { offsets: number[]; reason: DoneReason }[];
}

export class QueueTxns {
  private readonly open = new Map<number, PendingTxn>();
  /** Offsets named by the done records of open transactions → their producer id. */
  private readonly locked = new Map<number, number>();
  private messageCount = 0;

  /** Open transactions. */
  get size(): number {
    return this.open.size;
  }

  /** Messages held by open transactions (they count towards the queue's pending bound). */
  get messages(): number {
    return this.messageCount;
  }

  has(producerId: number): boolean {
    return this.open.has(producerId);
  }

  private txn(producerId: number, producerEpoch: number, offset: number): PendingTxn {
    let txn = this.open.get(producerId);
    if (!txn) {
      txn = { producerId, producerEpoch, firstOffset: offset, messages: [], done: [] };
      this.open.set(producerId, txn);
    }
    txn.producerEpoch = Math.max(txn.producerEpoch, producerEpoch);
    return txn;
  }

  /** A message of a transactional batch. */
  addMessage(producerId: number, producerEpoch: number, message: PendingTxnMessage): void {
    this.txn(producerId, producerEpoch, message.offset).messages.push(message);
    this.messageCount++;
  }

  /** A done record of a transactional batch at `offset` (the record's own offset). */
  addDone(producerId: number, producerEpoch: number, offset: number, offsets: number[], reason: DoneReason): void {
    this.txn(producerId, producerEpoch, offset).done.push({ offsets, reason });
    for (const o of offsets) this.locked.set(o, producerId);
  }

  /** The producer id of the open transaction that acknowledges `offset`, if any. */
  lockedBy(offset: number): number | undefined {
    return this.locked.get(offset);
  }

  /** The producer's marker: its open transaction (to apply or drop), now closed; undefined when none is open. */
  resolve(producerId: number): PendingTxn | undefined {
    const txn = this.open.get(producerId);
    if (!txn) return undefined;
    this.open.delete(producerId);
    this.messageCount -= txn.messages.length;
    for (const { offsets } of txn.done) {
      for (const o of offsets) if (this.locked.get(o) === producerId) this.locked.delete(o);
    }
    return txn;
  }

  /** The lowest offset an open transaction still needs, or `upTo` when none is lower. */
  floor(upTo: number): number {
    let floor = upTo;
    for (const txn of this.open.values()) if (txn.firstOffset < floor) floor = txn.firstOffset;
    return floor;
  }
}

/**
 * The next sequence number of each transactional producer on this queue's
 * log: the dispatcher writes a session's batches, so it numbers them as a
 * Kafka producer would (the log checks them: producer-state.ts). Learnt from
 * every transactional batch the follower reads (a new leader knows them after
 * its replay) and from each append; a producer forgotten (beyond
 * queueOpenTxnsMax, least recently used first) starts again at 0, which the
 * log accepts from a producer it does not know either.
 */
export class TxnSequences {
  private readonly next = new Map<number, { epoch: number; sequence: number }>();

  /** The sequence of the next batch of (producerId, producerEpoch): 0 in a new epoch. */
  nextFor(producerId: number, producerEpoch: number): number {
    const known = this.next.get(producerId);
    return known && known.epoch === producerEpoch ? known.sequence : 0;
  }

  /** A batch of `records` records starting at `baseSequence` is in the log. */
  appended(producerId: number, producerEpoch: number, baseSequence: number, records: number): void {
    const known = this.next.get(producerId);
    if (known && known.epoch > producerEpoch) return;
    this.next.delete(producerId);
    this.next.set(producerId, { epoch: producerEpoch, sequence: incrementSequence(baseSequence, records) });
    if (this.next.size > queueOpenTxnsMax) {
      const oldest = this.next.keys().next().value as number;
      this.next.delete(oldest);
    }
  }
}
