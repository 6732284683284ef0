/**
 * Which transaction markers the log cleaner may remove (Kafka's
 * CleanedTransactionMetadata, the marker half). A commit or abort marker is
 * needed while a record of its transaction is in the log: readers skip an
 * aborted transaction's records up to its marker, and recovery closes the
 * transaction there. Once cleaning has removed every record of the
 * transaction (superseded keys, or an aborted transaction's dropped data),
 * the marker only costs a batch per transaction, forever, in a compacted log
 * (`__consumer_offsets` gets one per transactional offset commit). So, as
 * Kafka does:
 *
 *  - the first pass that finds a marker's transaction empty stamps the
 *    marker's delete horizon (now + delete.retention.ms, KIP-534), so a
 *    reader part-way through the transaction has that long to reach it;
 *  - a pass after the horizon removes it, and with it the aborted
 *    transaction's entry of the index (a reader would otherwise skip the
 *    producer's later, committed records looking for a marker that is gone).
 *
 * The cleaner walks the log from its start in offset order, so every record
 * of a transaction is seen before its marker. State is per pass and bounded:
 * past cleanerTxnProducersMax producers with a transaction under way, a
 * marker is kept (the safe answer).
 */
import { cleanerTxnProducersMax } from '../shared/limits.js';

export class MarkerRetention {
  /** Per producer with a transaction under way in the walk: whether a record of it stays. */
  private readonly retained = new Map<number, boolean>();
  private overflowed = false;

  /** A data batch of `producerId`'s transaction, keeping `kept` of its records after cleaning. */
  dataBatch(producerId: number, kept: number): void {
    const known = this.retained.get(producerId);
    if (known === undefined && this.retained.size >= cleanerTxnProducersMax) {
      this.overflowed = true;
      return;
    }
    if (known !== true) this.retained.set(producerId, kept > 0);
  }

  /**
   * The marker of `producerId`'s transaction: true when no record of the transaction stays in
   * the log (the marker may go once its delete horizon has passed). Ends the transaction.
   */
  markerAlone(producerId: number): boolean {
    const retained = this.retained.get(producerId);
    this.retained.delete(producerId);
    // a producer not tracked: its records lay before the log start (gone) unless the map overflowed
    if (retained === undefined) return !this.overflowed;
    return !retained;
  }
}
