/**
 * What an append does to the caller's batches around the write: validate
 * every one before a byte is written, stamp offsets and the leader epoch into
 * their headers (a leader) or learn the leader's epochs from them (a replica),
 * and, once written, feed them to the sparse indexer.
 */
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  baseOffsetOf,
  batchSizeOf,
  lastOffsetDeltaOf,
  maxTimestampOf,
  partitionLeaderEpochOf,
  recordsCountOf,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateBatch,
} from '../wire/record-batch.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import type { SparseIndexer } from './sparse-indexer.js';

export interface AppendOptions {
  /** Stamped into every batch's partitionLeaderEpoch; defaults to the latest known epoch. */
  leaderEpoch?: number;
  /**
   * false for replicas copying a leader: batches keep their offsets, which must
   * continue the log exactly.
   */
  assignOffsets?: boolean;
  /**
   * Who appends as leader (Kafka's AppendOrigin): 'client' (a produce; the default) may not
   * write control batches; 'coordinator' (the broker itself: transaction markers, transactional
   * offset commits with baseSequence -1) may.
   */
  origin?: 'client' | 'coordinator';
}

export interface CheckRules {
  maxMessageBytes: number;
  /** A compacted topic refuses records without a key (Kafka's INVALID_RECORD). */
  requireKeys: boolean;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  maxTimestamp: number;
  /** True when the (single) batch was a retry of one appended before: nothing was written, the offsets are the original's. */
  duplicate?: boolean;
}

export interface CheckedBatches {
  /** True when a replicated batch starts past where the one before it ends (a compacted leader). */
  gaps: boolean;
  recordCount: number;
  /** The log end once the batches are appended. */
  nextOffset: number;
}

/**
 * Validates every batch (framing, CRC, records, message.max.bytes, keys on a
 * compacted topic) and, for a replica (assignOffsets false), that the batches
 * continue the log at `logEndOffset` or after it: a leader's compacted log has
 * gaps where its cleaner removed whole batches, and its rewritten batches may
 * miss records (offset deltas with gaps, even no record). Throws a SluiceError
 * on the first problem.
 */
export function checkBatches(
  batches: Buffer,
  rules: CheckRules,
  logEndOffset: number,
  assignOffsets: boolean,
): CheckedBatches {
  const { maxMessageBytes } = rules;
  if (batches.length === 0) throw new SluiceError(ErrorCode.InvalidRecord, 'nothing to append');
  let recordCount = 0;
  let expected = logEndOffset;
  let gaps = false;
  const validate = assignOffsets ? { requireKeys: rules.requireKeys } : { exactOffsets: false };
  for (let pos = 0; pos < batches.length; ) {
    const size = validateBatch(batches, pos, batches.length, validate);
    if (size > maxMessageBytes) {
      throw new SluiceError(
        ErrorCode.RecordTooLarge,
        `batch of ${size} bytes is larger than message.max.bytes (${maxMessageBytes})`,
      );
    }
    if (!assignOffsets && baseOffsetOf(batches, pos) < expected) {
      throw new SluiceError(
        ErrorCode.InvalidRecord,
        `replicated batch has base offset ${baseOffsetOf(batches, pos)}, the log continues at ${expected}`,
      );
    }
    if (!assignOffsets && baseOffsetOf(batches, pos) > expected) gaps = true;
    recordCount += recordsCountOf(batches, pos);
    expected = (assignOffsets ? expected : baseOffsetOf(batches, pos)) + lastOffsetDeltaOf(batches, pos) + 1;
    pos += size;
  }
  return { gaps, recordCount, nextOffset: expected };
}

/**
 * Walks validated batches from `baseOffset`. A leader (assignOffsets) writes
 * each batch's base offset and `epoch` into its header; a replica keeps the
 * leader's stamps and learns the epoch history from them (KIP-101). Returns
 * the offset after the last batch and whether the epoch history changed.
 */
export function stampBatches(
  batches: Buffer,
  baseOffset: number,
  assignOffsets: boolean,
  epoch: number,
  epochs: LeaderEpochCache,
): { nextOffset: number; epochsChanged: boolean } {
  let offset = baseOffset;
  let epochsChanged = false;
  for (let pos = 0; pos < batches.length; pos += batchSizeOf(batches, pos)) {
    const lastOffsetDelta = lastOffsetDeltaOf(batches, pos);
    assert(lastOffsetDelta >= 0, 'a batch ends at or after its base offset (validated before stamping)');
    if (assignOffsets) {
      setBaseOffset(batches, pos, offset);
      setPartitionLeaderEpoch(batches, pos, epoch);
    } else {
      // a replica keeps the leader's offsets, gaps included (a compacted leader)
      offset = baseOffsetOf(batches, pos);
      if (epochs.learn(partitionLeaderEpochOf(batches, pos), offset)) epochsChanged = true;
    }
    offset += lastOffsetDelta + 1;
  }
  return { nextOffset: offset, epochsChanged };
}

/**
 * Feeds the batches just written at `position` of the segment based at
 * `segmentBase` to the sparse indexer; returns their largest timestamp (-1 when none).
 */
export function indexBatches(indexer: SparseIndexer, batches: Buffer, segmentBase: number, position: number): number {
  let maxTimestamp = -1;
  for (let pos = 0; pos < batches.length; ) {
    const size = batchSizeOf(batches, pos);
    const batchMax = maxTimestampOf(batches, pos);
    indexer.onBatch(baseOffsetOf(batches, pos), segmentBase, position + pos, size, batchMax);
    if (batchMax > maxTimestamp) maxTimestamp = batchMax;
    pos += size;
  }
  return maxTimestamp;
}
