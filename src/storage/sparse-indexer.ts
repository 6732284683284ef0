/**
 * Decides where sparse index entries go: one offset entry (and, when the
 * running maximum timestamp has grown, one time entry) every
 * `indexIntervalBytes` of batches. Shared by append and by recovery so both
 * produce the same index.
 */
import type { PartitionIndex } from './partition-index.js';

export class SparseIndexer {
  private bytesSinceEntry = 0;
  /** Largest batch timestamp seen in the whole log so far. */
  maxTimestampSoFar = -1;
  private lastTimeKey = -1;

  constructor(
    private readonly index: PartitionIndex,
    private intervalBytes: number,
  ) {}

  /** Restarts the running state, e.g. after recovery or truncation. */
  reset(maxTimestampSoFar: number): void {
    this.bytesSinceEntry = 0;
    this.maxTimestampSoFar = maxTimestampSoFar;
    this.lastTimeKey = maxTimestampSoFar;
  }

  setInterval(intervalBytes: number): void {
    this.intervalBytes = intervalBytes;
  }

  /** Called for every batch in log order, before its bytes count toward the interval. */
  onBatch(offset: number, segmentBase: number, position: number, size: number, batchMaxTimestamp: number): void {
    if (position === 0) {
      // lookups start a segment at position 0 anyway: no entry needed
      this.bytesSinceEntry = 0;
    } else if (this.bytesSinceEntry >= this.intervalBytes) {
      this.index.addOffsetEntry(offset, segmentBase, position);
      if (this.maxTimestampSoFar > this.lastTimeKey) {
        this.index.addTimeEntry(this.maxTimestampSoFar, offset, segmentBase, position);
        this.lastTimeKey = this.maxTimestampSoFar;
      }
      this.bytesSinceEntry = 0;
    }
    this.bytesSinceEntry += size;
    if (batchMaxTimestamp > this.maxTimestampSoFar) this.maxTimestampSoFar = batchMaxTimestamp;
  }
}
