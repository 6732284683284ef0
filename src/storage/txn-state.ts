/**
 * The transactions of one partition (KIP-98, the partition side of Kafka's
 * ProducerStateManager): per producer, the first offset of its open
 * transaction here (set by its first transactional batch, cleared by its
 * marker), the last coordinator epoch its markers carried, and what the last
 * stable offset is held back by (the oldest open transaction).
 *
 * Kept apart from the idempotent producers' table (producer-state.ts): that
 * table forgets producers (expiry, eviction, a rebuild from the log's tail
 * only), while an open transaction must never be forgotten: it holds back
 * what read_committed consumers may see. Every replica feeds this the same
 * batches (a leader its appends, a follower its leader's bytes, recovery the
 * log), so a new leader has the same state.
 *
 * Truncation of the log's tail is undone from a bounded list of the
 * openings and closings seen (undo events); a truncation further back than
 * that list reaches is refused (truncateTo returns false) and the caller
 * reads the state again from the log.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { openTxnsPerPartitionMax, txnCoordinatorEpochsMax, txnUndoEventsMax } from '../shared/limits.js';
import { baseOffsetOf, lastOffsetOf, producerEpochOf, producerIdOf, recordsCountOf } from '../wire/record-batch.js';
import { isControlBatch, isTransactionalBatch, type MarkerInfo } from '../wire/txn-marker.js';

export interface OpenTxn {
  producerId: number;
  producerEpoch: number;
  /** The offset of its first batch on this partition. */
  firstOffset: number;
}

/** An entry of the aborted-transaction index (Kafka's AbortedTxn). */
export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  /** The abort marker's offset. */
  lastOffset: number;
  /**
   * The last stable offset once this transaction ended: a fetch up to an offset at or below it
   * needs no later entry (every transaction that started before it had ended by then).
   */
  lastStableOffset: number;
}

/** The state at `asOf` (the log end when taken), stored with the partition's metadata. */
export interface TxnSnapshot {
  asOf: number;
  /** [producerId, producerEpoch, firstOffset] */
  open: [number, number, number][];
  /** [producerId, coordinatorEpoch] */
  coordinatorEpochs: [number, number][];
}

type UndoEvent = { kind: 'open'; offset: number; producerId: number } | { kind: 'close'; offset: number; txn: OpenTxn };

export class TxnState {
  private readonly open = new Map<number, OpenTxn>();
  private readonly coordinatorEpochs = new Map<number, number>();
  private undo: UndoEvent[] = [];
  /** Truncations to offsets below this cannot be undone (older events were dropped, or predate a restore). */
  private undoFloor = 0;
  /** Cached smallest first offset of the open transactions (undefined: none open; null: recompute). */
  private firstUnstable: number | undefined | null;

  constructor(private readonly name = '') {}

  get openCount(): number {
    return this.open.size;
  }

  /** The open transaction of `producerId` here, if any. */
  openTxn(producerId: number): Readonly<OpenTxn> | undefined {
    return this.open.get(producerId);
  }

  /** Every open transaction (tests, diagnostics). */
  openTxns(): OpenTxn[] {
    return [...this.open.values()].map((t) => ({ ...t }));
  }

  lastCoordinatorEpoch(producerId: number): number | undefined {
    return this.coordinatorEpochs.get(producerId);
  }

  /** The first offset of the oldest open transaction; undefined when none is open. */
  firstUnstableOffset(): number | undefined {
    if (this.firstUnstable === null) {
      let min: number | undefined;
      for (const t of this.open.values()) if (min === undefined || t.firstOffset < min) min = t.firstOffset;
      this.firstUnstable = min;
    }
    return this.firstUnstable;
  }

  /**
   * A leader's check of a transactional data batch before it is written: a new transaction
   * beyond openTxnsPerPartitionMax is refused (CONCURRENT_TRANSACTIONS, which clients retry).
   */
  checkData(producerId: number): void {
    if (this.open.has(producerId) || this.open.size < openTxnsPerPartitionMax) return;
    throw new SluiceError(
      ErrorCode.ConcurrentTransactions,
      `${this.name}${this.open.size} transactions are open on this partition (at most ${openTxnsPerPartitionMax}): producer ${producerId} must wait`,
      { retriable: true },
    );
  }

  /**
   * A leader's check of a marker before it is written (Kafka's checkProducerEpoch and
   * checkCoordinatorEpoch): an epoch older than the producer's known one (`knownEpoch`, from
   * the idempotence table, or this partition's open transaction) is INVALID_PRODUCER_EPOCH; a
   * coordinator epoch older than the last one seen for the producer is
   * TRANSACTION_COORDINATOR_FENCED.
   */
  checkMarker(producerId: number, producerEpoch: number, coordinatorEpoch: number, knownEpoch?: number): void {
    const where = `${this.name}marker of producer ${producerId} (epoch ${producerEpoch})`;
    const known = Math.max(knownEpoch ?? -1, this.open.get(producerId)?.producerEpoch ?? -1);
    if (producerEpoch < known) {
      throw new SluiceError(
        ErrorCode.InvalidProducerEpoch,
        `${where}: the partition knows epoch ${known} of this producer`,
      );
    }
    const last = this.coordinatorEpochs.get(producerId);
    if (last !== undefined && coordinatorEpoch < last) {
      throw new SluiceError(
        ErrorCode.TransactionCoordinatorFenced,
        `${where}: coordinator epoch ${coordinatorEpoch} is older than the last one seen (${last})`,
      );
    }
  }

  /**
   * Records the batch at `pos` of `buf`, whose header carries its final offset; `marker` is
   * what readTxnMarker found in it (for a control batch). Never refuses: the log is the truth.
   * Returns the aborted transaction an abort marker ended, for the index.
   */
  record(buf: Buffer, pos: number, marker: MarkerInfo | undefined): AbortedTxn | undefined {
    const producerId = producerIdOf(buf, pos);
    if (producerId < 0 || !isTransactionalBatch(buf, pos)) return undefined;
    if (!isControlBatch(buf, pos)) {
      // an empty batch is one the log cleaner emptied (clients never send one): its transaction
      // is over, and its marker may be gone with its records
      if (this.open.has(producerId) || recordsCountOf(buf, pos) === 0) return undefined;
      const txn = { producerId, producerEpoch: producerEpochOf(buf, pos), firstOffset: baseOffsetOf(buf, pos) };
      this.open.set(producerId, txn);
      if (this.firstUnstable !== null && (this.firstUnstable === undefined || txn.firstOffset < this.firstUnstable)) {
        this.firstUnstable = txn.firstOffset;
      }
      this.remember({ kind: 'open', offset: txn.firstOffset, producerId });
      return undefined;
    }
    if (!marker) return undefined;
    const offset = lastOffsetOf(buf, pos);
    this.noteCoordinatorEpoch(producerId, marker.coordinatorEpoch);
    const txn = this.open.get(producerId);
    // a marker for a producer with no open transaction here (a retried marker) changes nothing
    if (!txn) return undefined;
    this.open.delete(producerId);
    if (this.firstUnstable === txn.firstOffset) this.firstUnstable = null;
    this.remember({ kind: 'close', offset, txn });
    if (marker.committed) return undefined;
    return {
      producerId,
      firstOffset: txn.firstOffset,
      lastOffset: offset,
      lastStableOffset: this.firstUnstableOffset() ?? offset + 1,
    };
  }

  private noteCoordinatorEpoch(producerId: number, epoch: number): void {
    const last = this.coordinatorEpochs.get(producerId);
    this.coordinatorEpochs.delete(producerId); // re-inserted: most recently used last
    this.coordinatorEpochs.set(producerId, Math.max(last ?? epoch, epoch));
    if (this.coordinatorEpochs.size > txnCoordinatorEpochsMax) {
      this.coordinatorEpochs.delete(this.coordinatorEpochs.keys().next().value as number);
    }
  }

  private remember(event: UndoEvent): void {
    this.undo.push(event);
    if (this.undo.length > txnUndoEventsMax) {
      const dropped = this.undo.splice(0, this.undo.length - txnUndoEventsMax);
      this.undoFloor = Math.max(this.undoFloor, (dropped.at(-1) as UndoEvent).offset + 1);
    }
  }

  /**
   * The log was cut back to end before `offset`: transactions opened at or past it are
   * forgotten, those whose marker was cut are open again. Returns false (and changes nothing)
   * when the undo events do not reach back that far: the caller reads the state from the log.
   */
  truncateTo(offset: number): boolean {
    if (offset < this.undoFloor) return false;
    while (this.undo.length > 0 && (this.undo.at(-1) as UndoEvent).offset >= offset) {
      const event = this.undo.pop() as UndoEvent;
      if (event.kind === 'open') this.open.delete(event.producerId);
      else this.open.set(event.txn.producerId, event.txn);
    }
    this.firstUnstable = null;
    return true;
  }

  /** Forgets everything (before the state is read again from the log, from `from`). */
  clear(from = 0): void {
    this.open.clear();
    this.coordinatorEpochs.clear();
    this.undo = [];
    this.undoFloor = from;
    this.firstUnstable = undefined;
  }

  snapshot(asOf: number): TxnSnapshot {
    return {
      asOf,
      open: [...this.open.values()].map((t) => [t.producerId, t.producerEpoch, t.firstOffset]),
      coordinatorEpochs: [...this.coordinatorEpochs],
    };
  }

  /** Takes a stored snapshot's state; the log from snapshot.asOf on is to be recorded next. */
  restore(snapshot: TxnSnapshot): void {
    this.clear(snapshot.asOf);
    for (const [producerId, producerEpoch, firstOffset] of snapshot.open) {
      // stored bytes, not an invariant: a transaction said to start past the snapshot is not taken
      if (firstOffset < snapshot.asOf) this.open.set(producerId, { producerId, producerEpoch, firstOffset });
    }
    for (const [producerId, epoch] of snapshot.coordinatorEpochs) this.coordinatorEpochs.set(producerId, epoch);
    this.firstUnstable = null;
  }
}
