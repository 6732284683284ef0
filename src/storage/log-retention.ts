/**
 * Deleting a log's oldest segments: by retention (log.retention.ms counted
 * from a segment's newest record, log.retention.bytes over the whole log) and
 * below an offset a snapshot has superseded. Only whole segments go, oldest
 * first, never the last one; the log start moves to the first one left.
 * The new log start is durable before any file goes, so a crash in between
 * only leaves a file that opening the log sweeps (log-loader.ts).
 */
import fs from 'node:fs';
import type { PartitionIndex } from './partition-index.js';
import type { Segment } from './segment.js';
import type { SegmentList } from './segment-list.js';

export interface RetentionLimits {
  /** Negative: no limit by age. */
  retentionMs: number;
  /** Negative: no limit by size. */
  retentionBytes: number;
}

/** What deleting segments needs from the log around it. */
export interface RetentionHooks {
  /** Makes the moved log start durable (and drops read state that may point into a deleted segment). */
  logStartMoved(): Promise<void>;
  /** Starts a new active segment at the log end. */
  roll(): void;
}

/** True when `segment` holds records and its newest one (the file's mtime when none is stamped) is past retentionMs. */
export function isExpired(segment: Segment, retentionMs: number, nowMs: number): boolean {
  if (retentionMs < 0 || segment.size === 0) return false;
  const newest = segment.maxTimestamp >= 0 ? segment.maxTimestamp : fs.statSync(segment.path).mtimeMs;
  return nowMs - newest > retentionMs;
}

export class LogRetention {
  constructor(
    private readonly segments: SegmentList,
    private readonly index: PartitionIndex,
    private readonly hooks: RetentionHooks,
  ) {}

  /**
   * Deletes whole segments that are past retention. The active segment is
   * rolled first when it has itself expired. Returns the segments deleted.
   */
  async enforce(limits: RetentionLimits, nowMs: number): Promise<number> {
    const { retentionMs, retentionBytes } = limits;
    const expired = (s: Segment): boolean => isExpired(s, retentionMs, nowMs);
    if (this.segments.length === 1 && expired(this.segments.active)) this.hooks.roll();
    let size = this.segments.sizeBytes;
    return this.deleteOldestWhile((oldest) => {
      const overSize = retentionBytes >= 0 && size - oldest.size >= retentionBytes;
      if (!expired(oldest) && !overSize) return false;
      size -= oldest.size;
      return true;
    }, expired);
  }

  /** Deletes every whole segment that lies entirely below `offset`. */
  deleteSegmentsBefore(offset: number): Promise<number> {
    return this.deleteOldestWhile(
      () => this.segments.at(1).baseOffset <= offset,
      () => false,
    );
  }

  /**
   * Deletes oldest segments while `doomed` says so, never the last one; rolls
   * first when `rollIfAlone` says the last remaining (active) segment must go too.
   */
  private async deleteOldestWhile(
    doomed: (oldest: Segment) => boolean,
    rollIfAlone: (s: Segment) => boolean,
  ): Promise<number> {
    let count = 0;
    while (this.segments.length > 1) {
      if (!doomed(this.segments.first)) break;
      count++;
      const oldest = this.segments.shiftOldest();
      await this.hooks.logStartMoved();
      oldest.delete();
      if (this.segments.length === 1 && rollIfAlone(this.segments.active)) this.hooks.roll();
    }
    if (count > 0) await this.index.deleteBelow(this.segments.logStartOffset);
    return count;
  }
}
