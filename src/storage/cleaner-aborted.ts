/**
 * Which batches of a segment belong to aborted transactions, for the log
 * cleaner (Kafka's CleanedTransactionMetadata, simplified): their records
 * take no part in compaction. They must not enter the key map (an aborted
 * write would otherwise shadow the committed value of its key, and after a
 * clean the committed value would be gone), and the copy drops them
 * (read_committed readers never see them; read_uncommitted readers of a
 * compacted log get no promise about superseded or aborted records).
 *
 * A transactional batch of producer P at offset o is aborted when an entry
 * of the aborted-transaction index for P has firstOffset <= o <= its
 * marker's offset. The cleaner never reaches the first unstable offset, so
 * every transactional batch it sees has its marker written: one not found
 * aborted was committed, and is cleaned like any batch.
 */
import { cleanerAbortedTxnsPerSegmentMax } from '../shared/limits.js';
import type { PartitionIndex } from './partition-index.js';
import type { AbortedTxn } from './txn-state.js';

/** The aborted transactions overlapping one segment, asked about batch by batch in offset order. */
export class AbortedRanges {
  private readonly byProducer = new Map<number, { txns: AbortedTxn[]; at: number }>();

  constructor(txns: readonly AbortedTxn[]) {
    // the index lists them in marker order: per producer, ascending and disjoint
    for (const t of txns) {
      const p = this.byProducer.get(t.producerId);
      if (p) p.txns.push(t);
      else this.byProducer.set(t.producerId, { txns: [t], at: 0 });
    }
  }

  /** Whether the batch of `producerId` starting at `offset` is aborted; offsets must not go down. */
  isAborted(producerId: number, offset: number): boolean {
    const p = this.byProducer.get(producerId);
    if (!p) return false;
    while (p.at < p.txns.length && (p.txns[p.at] as AbortedTxn).lastOffset < offset) p.at++;
    const t = p.txns[p.at];
    return t !== undefined && t.firstOffset <= offset;
  }
}

/**
 * The aborted transactions overlapping the segment [baseOffset, nextOffset); undefined when there
 * are more than cleanerAbortedTxnsPerSegmentMax (the cleaner's memory stays bounded: such a
 * segment is not mapped, and its aborted batches are not dropped).
 */
export async function abortedRangesOf(
  index: PartitionIndex,
  baseOffset: number,
  nextOffset: number,
): Promise<AbortedRanges | undefined> {
  const txns = await index.abortedTxns(baseOffset, nextOffset, cleanerAbortedTxnsPerSegmentMax + 1);
  return txns.length > cleanerAbortedTxnsPerSegmentMax ? undefined : new AbortedRanges(txns);
}
