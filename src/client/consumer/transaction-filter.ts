/**
 * Which fetched batches a consumer must not surface (issue 21, Kafka's
 * CompletedFetch rules):
 *
 * - a control batch (a transaction's COMMIT or ABORT marker) is never a
 *   record for the application, in either isolation level;
 * - read_committed: a transactional batch of an aborted transaction is
 *   skipped. The broker lists, with each fetched partition, the aborted
 *   transactions the answer overlaps (producer id, first offset). Walking the
 *   batches in offset order, a producer becomes "aborted" once a batch ends at
 *   or after its transaction's first offset, and stops being so at its ABORT
 *   marker: its transactional batches in between are the aborted data. A
 *   producer's batches before that first offset (an earlier, committed
 *   transaction) or after the marker (the next one) are kept.
 *
 * Pure: reads batch headers and a control batch's first key only (the
 * marker format of src/wire/txn-marker.ts).
 */
import { lastOffsetOf, producerIdOf } from '../../wire/record-batch.js';
import { isControlBatch, isTransactionalBatch, readTxnMarker } from '../../wire/txn-marker.js';

export { isControlBatch };

/** One aborted transaction of a Fetch answer (Kafka's FetchResponse aborted_transactions). */
export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

/** The read_committed filter of one fetched partition's batches, fed in offset order. */
export class AbortedTransactionFilter {
  /** The answer's aborted transactions not yet reached, by first offset (ascending). */
  private readonly pending: AbortedTransaction[];
  private next = 0;
  /** Producers whose aborted transaction the walk is inside of. */
  private readonly aborted = new Set<number>();

  constructor(abortedTransactions: readonly AbortedTransaction[]) {
    this.pending = [...abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /**
   * Whether the batch at `pos` (whole in `bytes`) is aborted data. Called for
   * every batch in order, control batches included (an ABORT marker ends its
   * producer's aborted run).
   */
  skip(bytes: Buffer, pos: number): boolean {
    const last = lastOffsetOf(bytes, pos);
    while (this.next < this.pending.length && (this.pending[this.next] as AbortedTransaction).firstOffset <= last) {
      this.aborted.add((this.pending[this.next] as AbortedTransaction).producerId);
      this.next++;
    }
    const producerId = producerIdOf(bytes, pos);
    if (isControlBatch(bytes, pos)) {
      if (readTxnMarker(bytes, pos)?.committed === false) this.aborted.delete(producerId);
      return true;
    }
    return isTransactionalBatch(bytes, pos) && this.aborted.has(producerId);
  }
}
