/**
 * fsyncing a partition log's segments and moving its recovery point (Kafka's
 * LocalLog.flush): flushes run one after another, each syncing the segments
 * that hold records past the recovery point and the active one, then making
 * the new recovery point durable. Also counts what waits to be flushed, for
 * log.flush.interval.messages and log.flush.interval.ms.
 */
import type { SegmentList } from './segment-list.js';

export interface FlushHooks {
  /** Writes the partition's offsets (the new recovery point); synced unless `sync` is false. */
  persist(sync: boolean): Promise<void>;
  /** A flush failed: the log goes offline. */
  failed(err: unknown): void;
}

export class LogFlusher {
  private unflushedRecords = 0;
  private lastFlushMs = Date.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly segments: SegmentList,
    private readonly hooks: FlushHooks,
  ) {}

  /** Settles when every flush started so far has (never rejects). */
  get idle(): Promise<void> {
    return this.chain;
  }

  /** Records appended since the last flush began. */
  get unflushed(): number {
    return this.unflushedRecords;
  }

  /** Counts `records` appended. */
  appended(records: number): void {
    this.unflushedRecords += records;
  }

  /** True when records wait and `intervalMs` has passed since the last flush. */
  due(nowMs: number, intervalMs: number): boolean {
    return this.unflushedRecords > 0 && nowMs - this.lastFlushMs >= intervalMs;
  }

  /**
   * Everything up to `upTo` was made durable by other means (the log manager's one sync of the
   * whole file system at a stop): the recovery point moves there without an fsync of its own. Runs
   * in turn with the flushes; what was appended since `upTo` waits for the next flush.
   */
  durableTo(upTo: number): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.segments.logEndOffset === upTo) this.unflushedRecords = 0;
      this.segments.markFlushed(upTo);
    };
    const next = this.chain.then(run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * fsyncs everything appended so far and records the new recovery point; `syncMeta: false`
   * leaves that record's write unsynced (a close syncs the database once for every log).
   */
  flush(syncMeta = true): Promise<void> {
    const segments = this.segments;
    const run = async (): Promise<void> => {
      const upTo = segments.logEndOffset;
      if (upTo <= segments.recoveryPoint && this.unflushedRecords === 0) return;
      this.unflushedRecords = 0;
      this.lastFlushMs = Date.now();
      for (const s of segments) {
        if (s.nextOffset > segments.recoveryPoint || s === segments.active) await s.flush();
      }
      // a truncation or retention during the awaits above may have moved the log end below upTo
      segments.markFlushed(upTo);
      await this.hooks.persist(syncMeta);
    };
    const next = this.chain.then(run);
    this.chain = next.catch(() => undefined);
    return next.catch((err) => {
      this.hooks.failed(err);
      throw err;
    });
  }
}
