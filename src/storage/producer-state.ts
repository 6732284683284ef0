/**
 * The idempotent producer's state of one partition (Kafka's ProducerStateManager,
 * simplified): per producer id, its epoch, the sequence number of its last
 * appended record, and its last few batches with their offsets, so that a
 * retried batch is recognised and answered with the offsets it got the first
 * time instead of being written again.
 *
 * Rules for a batch with producerId >= 0 appended by a leader (checkAppend):
 *  - unknown producer: accepted whatever its first sequence. The state may have
 *    expired (producer.id.expiration.ms), been evicted (more than
 *    producerStatesPerPartitionMax producers), or lie before the part of the log
 *    read back at open (producerStateRebuildBytesMax) or have been truncated
 *    away. Refusing would strand a producer that did nothing wrong (Kafka since
 *    KIP-360 accepts too); the price is that a retry of a batch whose state is
 *    gone cannot be recognised as a duplicate.
 *  - epoch lower than the known one: InvalidProducerEpoch (a newer instance fenced it);
 *  - epoch higher: a new epoch, whose first sequence must be 0 (else OutOfOrderSequence);
 *  - same epoch: a batch equal to one of the recent batches (same first and last
 *    sequence) is a duplicate; firstSeq == lastSequence + 1 is accepted;
 *    anything else is OutOfOrderSequence.
 * A replica (copying its leader's bytes) and the rebuild at open only record
 * what the log says (record), never refuse.
 *
 * Sequence numbers wrap from 2^31-1 to 0 as in Kafka. Entries are kept in
 * least-recently-used order (a Map's insertion order) and bounded; entries
 * whose newest batch timestamp is older than the expiration are dropped.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  producerRecentBatchesMax,
  producerStateExpiryCheckMs,
  producerStatesPerPartitionMax,
} from '../shared/limits.js';
import {
  attributesOf,
  baseOffsetOf,
  baseSequenceOf,
  batchSizeOf,
  controlFlag,
  lastOffsetDeltaOf,
  maxTimestampOf,
  producerEpochOf,
  producerIdOf,
  recordsCountOf,
  transactionalFlag,
} from '../wire/record-batch.js';

/** Kafka's largest sequence number; the next one after it is 0. */
export const sequenceMax = 2 ** 31 - 1;

/** The sequence `delta` records after `sequence`, wrapping as Kafka's DefaultRecordBatch.incrementSequence does. */
export function incrementSequence(sequence: number, delta: number): number {
  return sequence > sequenceMax - delta ? delta - (sequenceMax - sequence) - 1 : sequence + delta;
}

export interface RecentBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
}

export interface ProducerEntry {
  producerEpoch: number;
  /** Sequence of the last record appended. */
  lastSequence: number;
  /** The last batches appended, oldest first (at most producerRecentBatchesMax). */
  recent: RecentBatch[];
  /** Largest record timestamp of its batches: what expiration counts from (as in Kafka). */
  lastTimestamp: number;
  /**
   * Known only by the epoch of sequence-less transactional batches (markers, coordinator offset
   * commits): its sequences are unknown, so its client batches are checked as an unknown
   * producer's, except that an older epoch is refused.
   */
  epochOnly?: boolean;
}

/** The original offsets of a batch that was appended before. */
export interface DuplicateBatch {
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  maxTimestamp: number;
}

/** What checkAppend needs of a known producer (the table's entry, or one staged earlier in the same append). */
type Known = Pick<ProducerEntry, 'producerEpoch' | 'lastSequence' | 'recent' | 'epochOnly'>;

export class ProducerStateTable {
  private readonly entries = new Map<number, ProducerEntry>();
  private lastExpiryCheckMs = 0;

  constructor(
    private readonly expirationMs: number,
    private readonly name = '',
    private readonly maxProducers = producerStatesPerPartitionMax,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The state of one producer (undefined when unknown). */
  get(producerId: number): Readonly<ProducerEntry> | undefined {
    return this.entries.get(producerId);
  }

  clear(): void {
    this.entries.clear();
  }

  /**
   * The leader's check of every idempotent batch in `batches` (whole, validated
   * batches back to back), before anything is written. Throws OutOfOrderSequence,
   * InvalidProducerEpoch or InvalidRecord when a batch must be refused. Returns
   * the original offsets when `batches` is exactly one batch that was appended
   * before. A duplicate among several batches is refused (OutOfOrderSequence):
   * one append answers with one base offset, which cannot describe a mix of old
   * and new batches, and our client never sends more than one batch per
   * partition in a request.
   */
  checkAppend(batches: Buffer, nowMs = Date.now(), fromCoordinator = false): DuplicateBatch | undefined {
    this.expireIfDue(nowMs);
    let staged: Map<number, Known> | undefined;
    const single = batchSizeOf(batches, 0) === batches.length;
    for (let pos = 0; pos < batches.length; pos += batchSizeOf(batches, pos)) {
      const producerId = producerIdOf(batches, pos);
      if (producerId < 0) continue;
      const attributes = attributesOf(batches, pos);
      // a marker has no sequence (its epochs are checked by txn-append-check.ts)
      if ((attributes & controlFlag) !== 0) continue;
      const epoch = producerEpochOf(batches, pos);
      const firstSeq = baseSequenceOf(batches, pos);
      // the broker's own transactional appends (offset commits in __consumer_offsets) have no sequence, as in Kafka
      if (firstSeq < 0 && fromCoordinator && (attributes & transactionalFlag) !== 0) continue;
      const where = `${this.name}producer ${producerId} (epoch ${epoch})`;
      if (firstSeq < 0 || epoch < 0) {
        throw new SluiceError(
          ErrorCode.InvalidRecord,
          `${where}: a batch with a producer id needs a base sequence and an epoch, got sequence ${firstSeq}`,
        );
      }
      const lastSeq = incrementSequence(firstSeq, lastOffsetDeltaOf(batches, pos));
      const known = staged?.get(producerId) ?? this.entries.get(producerId);
      if (known?.epochOnly && epoch < known.producerEpoch) {
        throw new SluiceError(
          ErrorCode.InvalidProducerEpoch,
          `${where}: epoch ${epoch} is older than the partition's ${known.producerEpoch}`,
        );
      }
      if (known && !known.epochOnly) {
        if (epoch < known.producerEpoch) {
          throw new SluiceError(
            ErrorCode.InvalidProducerEpoch,
            `${where}: epoch ${epoch} is older than the partition's ${known.producerEpoch}`,
          );
        }
        if (epoch > known.producerEpoch) {
          if (firstSeq !== 0) {
            throw new SluiceError(
              ErrorCode.OutOfOrderSequence,
              `${where}: a new epoch must start at sequence 0, not ${firstSeq}`,
            );
          }
        } else {
          const original = known.recent.findLast((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
          if (original) {
            if (!single) {
              throw new SluiceError(
                ErrorCode.OutOfOrderSequence,
                `${where}: sequences ${firstSeq}..${lastSeq} were appended before; a duplicate is only recognised as the one batch of an append`,
              );
            }
            return {
              baseOffset: original.baseOffset,
              lastOffset: original.lastOffset,
              recordCount: recordsCountOf(batches, pos),
              maxTimestamp: maxTimestampOf(batches, pos),
            };
          }
          const expected = incrementSequence(known.lastSequence, 1);
          if (firstSeq !== expected) {
            throw new SluiceError(
              ErrorCode.OutOfOrderSequence,
              `${where}: expected sequence ${expected}, got ${firstSeq}..${lastSeq}`,
            );
          }
        }
      }
      // a later batch of the same producer in this append must continue this one
      staged ??= new Map();
      staged.set(producerId, { producerEpoch: epoch, lastSequence: lastSeq, recent: [] });
    }
    return undefined;
  }

  /** Records every idempotent batch of `batches`, whose headers carry their final offsets. Never refuses. */
  onAppended(batches: Buffer): void {
    for (let pos = 0; pos < batches.length; pos += batchSizeOf(batches, pos)) this.record(batches, pos);
  }

  /** Records the batch whose header is at `pos` of `buf` (only the 61 header bytes are read). */
  record(buf: Buffer, pos: number): void {
    const producerId = producerIdOf(buf, pos);
    if (producerId < 0) return;
    const firstSeq = baseSequenceOf(buf, pos);
    const epoch = producerEpochOf(buf, pos);
    if (firstSeq < 0) {
      this.recordEpochOnly(buf, pos, producerId, epoch);
      return;
    }
    const delta = lastOffsetDeltaOf(buf, pos);
    const baseOffset = baseOffsetOf(buf, pos);
    const maxTimestamp = maxTimestampOf(buf, pos);
    let entry = this.entries.get(producerId);
    if (entry) {
      this.entries.delete(producerId); // re-inserted below: most recently used last
      if (entry.producerEpoch !== epoch || entry.epochOnly) {
        // the log is the truth: a replica or a rebuild takes whatever epoch it holds (and from its
        // first sequenced batch on, an entry known by its epoch alone knows its sequences)
        entry = { producerEpoch: epoch, lastSequence: -1, recent: [], lastTimestamp: entry.lastTimestamp };
      }
    } else {
      entry = { producerEpoch: epoch, lastSequence: -1, recent: [], lastTimestamp: -1 };
    }
    const lastSeq = incrementSequence(firstSeq, delta);
    entry.lastSequence = lastSeq;
    entry.recent.push({ firstSeq, lastSeq, baseOffset, lastOffset: baseOffset + delta });
    if (entry.recent.length > producerRecentBatchesMax) entry.recent.shift();
    if (maxTimestamp > entry.lastTimestamp) entry.lastTimestamp = maxTimestamp;
    this.entries.set(producerId, entry);
    this.evictIfFull();
  }

  /**
   * A transactional batch without a sequence (a marker, or the group coordinator's offset commit):
   * it carries the producer's epoch. A newer epoch (a coordinator fencing the producer) makes it the
   * producer's: its older instance is refused from then on, its newer starts at sequence 0 (as in
   * Kafka). An unknown producer becomes known by its epoch alone (epochOnly), so that a fenced
   * zombie's later coordinator-origin append is refused (txn-append-check.ts) on a partition that
   * never saw its sequences, such as __consumer_offsets.
   */
  private recordEpochOnly(buf: Buffer, pos: number, producerId: number, epoch: number): void {
    if ((attributesOf(buf, pos) & transactionalFlag) === 0 || epoch < 0) return;
    const known = this.entries.get(producerId);
    if (known && epoch > known.producerEpoch) {
      this.entries.set(producerId, { ...known, producerEpoch: epoch, lastSequence: -1, recent: [] });
    } else if (!known) {
      this.entries.set(producerId, {
        producerEpoch: epoch,
        lastSequence: -1,
        recent: [],
        lastTimestamp: maxTimestampOf(buf, pos),
        epochOnly: true,
      });
      this.evictIfFull();
    }
  }

  private evictIfFull(): void {
    if (this.entries.size > this.maxProducers) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
    }
  }

  /** Drops producers whose newest batch is older than the expiration. */
  removeExpired(nowMs: number): number {
    this.lastExpiryCheckMs = nowMs;
    let removed = 0;
    for (const [id, entry] of this.entries) {
      // a producer whose batches carry no timestamp (-1) is only ever evicted, never expired
      if (entry.lastTimestamp >= 0 && nowMs - entry.lastTimestamp >= this.expirationMs) {
        this.entries.delete(id);
        removed++;
      }
    }
    return removed;
  }

  private expireIfDue(nowMs: number): void {
    if (nowMs - this.lastExpiryCheckMs >= producerStateExpiryCheckMs) this.removeExpired(nowMs);
  }
}
