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
 * Pure: reads batch headers and a control batch's first key only.
 */
import {
  attributesOf,
  controlFlag,
  Field,
  lastOffsetOf,
  producerIdOf,
  recordsCountOf,
  transactionalFlag,
} from '../../wire/record-batch.js';
import { readBytesOf, readEnd, readVarint, readVarlong } from '../../wire/varint.js';

/** A control record's key: int16 version, int16 type (Kafka's ControlRecordType). */
export const ControlType = { abort: 0, commit: 1 } as const;

/** One aborted transaction of a Fetch answer (Kafka's FetchResponse aborted_transactions). */
export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

export function isControlBatch(bytes: Buffer, pos: number): boolean {
  return (attributesOf(bytes, pos) & controlFlag) !== 0;
}

/**
 * The type of the control batch at `pos` (ControlType), read from its first
 * record's key; -1 when it holds no readable control record. Markers are
 * written uncompressed (Kafka's rule), so the key is read in place.
 */
export function controlTypeOf(bytes: Buffer, pos: number, end: number): number {
  if (recordsCountOf(bytes, pos) < 1 || (attributesOf(bytes, pos) & 0x07) !== 0) return -1;
  try {
    const at = pos + Field.records;
    const length = readVarint(bytes, at, end);
    const recordEnd = readEnd() + length;
    if (length < 0 || recordEnd > end) return -1;
    readVarlong(bytes, readEnd() + 1, recordEnd); // after the attributes byte: the timestamp delta
    readVarint(bytes, readEnd(), recordEnd); // the offset delta
    const key = readBytesOf(bytes.buffer, bytes.byteOffset, bytes, readEnd(), recordEnd);
    if (key === null || key.length < 4) return -1;
    return key.readInt16BE(2);
  } catch {
    return -1;
  }
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
   * Whether the batch at `pos` (ending at `end`) is aborted data. Called for
   * every batch in order, control batches included (an ABORT marker ends its
   * producer's aborted run).
   */
  skip(bytes: Buffer, pos: number, end: number): boolean {
    const last = lastOffsetOf(bytes, pos);
    while (this.next < this.pending.length && (this.pending[this.next] as AbortedTransaction).firstOffset <= last) {
      this.aborted.add((this.pending[this.next] as AbortedTransaction).producerId);
      this.next++;
    }
    const producerId = producerIdOf(bytes, pos);
    if (isControlBatch(bytes, pos)) {
      if (controlTypeOf(bytes, pos, end) === ControlType.abort) this.aborted.delete(producerId);
      return true;
    }
    return (attributesOf(bytes, pos) & transactionalFlag) !== 0 && this.aborted.has(producerId);
  }
}
