/**
 * The broker's one log-cleaner loop (Kafka's LogCleaner with its cleaner
 * threads): every `backoffMs` it looks over the logs, and cleans the dirtiest
 * due ones, at most `concurrency` at a time; while passes keep finding work it
 * looks again at once. Each pass works on closed segments and swaps them in
 * short synchronous steps (log-cleaner.ts), so appends go on meanwhile.
 */
import { ErrorCode, isSluiceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CleanStats } from './log-cleaner.js';
import type { PartitionLog } from './partition-log.js';

/** What the loop reports (the broker's metrics implement it). */
export interface CleanerMetrics {
  cleaned(stats: CleanStats, seconds: number): void;
}

export interface CleanerLoopOptions {
  /** The logs to consider (read at every round: partitions come and go). */
  logs: () => PartitionLog[];
  backoffMs: number;
  concurrency: number;
  dedupeBufferBytes: number;
  logger: Logger;
  metrics?: CleanerMetrics;
}

export class LogCleanerLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Logs whose last pass failed, left alone until the broker restarts (Kafka marks them uncleanable). */
  private readonly failed = new WeakSet<PartitionLog>();

  constructor(private readonly options: CleanerLoopOptions) {}

  start(): void {
    this.schedule(this.options.backoffMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round()
        .then((busy) => this.schedule(busy ? 0 : this.options.backoffMs))
        .catch((err) => {
          this.options.logger.error({ err }, 'log cleaner round failed');
          this.schedule(this.options.backoffMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** One round: cleans the dirtiest due logs; true when it cleaned something. */
  async round(nowMs = Date.now()): Promise<boolean> {
    const due: [PartitionLog, number][] = [];
    for (const log of this.options.logs()) {
      if (this.failed.has(log)) continue;
      const c = log.cleanability(nowMs);
      if (!c) continue;
      if (c.ratio >= log.currentConfig.minCleanableDirtyRatio || c.overdue) due.push([log, c.ratio]);
    }
    due.sort((a, b) => b[1] - a[1]);
    const picked = due.slice(0, this.options.concurrency).map(([log]) => log);
    const results = await Promise.all(picked.map((log) => this.cleanOne(log, nowMs)));
    return results.some(Boolean);
  }

  private async cleanOne(log: PartitionLog, nowMs: number): Promise<boolean> {
    if (this.stopped) return false;
    const started = process.hrtime.bigint();
    try {
      const stats = await log.clean({ nowMs, dedupeBufferBytes: this.options.dedupeBufferBytes });
      if (!stats) return false;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.options.metrics?.cleaned(stats, seconds);
      this.options.logger.info(
        {
          topic: log.topic,
          partition: log.partition,
          segments: stats.segments,
          bytesRead: stats.bytesRead,
          bytesWritten: stats.bytesWritten,
          recordsRead: stats.recordsRead,
          recordsKept: stats.recordsKept,
          cleanedTo: stats.cleanedTo,
          seconds: Number(seconds.toFixed(3)),
          mbPerSecond: Number((stats.bytesRead / 1e6 / Math.max(seconds, 1e-6)).toFixed(1)),
        },
        'log cleaned',
      );
      return true;
    } catch (err) {
      // a log closed or deleted meanwhile is not a failure of the cleaner
      if (this.stopped || !log.cleanable) return false;
      // a segment retention deleted under the pass (compact,delete) fails it with a StorageError: try again later
      if (isSluiceError(err) && err.code === ErrorCode.StorageError) {
        this.options.logger.warn({ err, topic: log.topic, partition: log.partition }, 'log cleaning interrupted');
        return false;
      }
      this.failed.add(log);
      this.options.logger.error(
        { err, topic: log.topic, partition: log.partition },
        'log cleaning failed; log left uncleaned',
      );
      return false;
    }
  }

  /** Stops scheduling and waits for the round under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
