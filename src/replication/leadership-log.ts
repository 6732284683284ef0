/**
 * The log lines of partition role changes ("leading partition", "following partition"), bounded:
 * a topic created with 50 partitions (the first consumer group's __consumer_offsets) or a failover
 * that moves hundreds of leaders would otherwise write one info line per partition. Per topic and
 * role, the first few changes of a window are logged at once (an operator watching one partition
 * sees it immediately); the rest of the window's changes go to debug and into one summary line
 * ("leading partitions", with how many and which) when the window closes.
 */
import type { Logger } from '../shared/logger.js';

export type PartitionRole = 'leading' | 'following';

export interface RoleChange {
  topic: string;
  partition: number;
  epoch: number;
  leader?: number;
  isr?: number[];
}

interface Window {
  logged: number;
  /** partitions whose line was folded into the summary (at most the topic's partition count) */
  folded: number[];
  timer: NodeJS.Timeout;
}

/** Lines logged at once per topic and role in one window, before the rest are summarised. */
export const roleLinesPerWindow = 8;
/** How long a window lasts. */
export const roleWindowMs = 1_000;

export class LeadershipLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = roleWindowMs,
    private readonly linesPerWindow = roleLinesPerWindow,
  ) {}

  /** A role change; `quiet` (the partitions a broker already had, applied at start) goes to debug only. */
  record(role: PartitionRole, change: RoleChange, quiet: boolean): void {
    const msg = `${role} partition`;
    if (quiet) {
      this.logger.debug(change, msg);
      return;
    }
    const key = `${role}\u0000${change.topic}`;
    let window = this.windows.get(key);
    if (!window) {
      const timer = setTimeout(() => this.close(key, role, change.topic), this.windowMs);
      timer.unref();
      window = { logged: 0, folded: [], timer };
      this.windows.set(key, window);
    }
    if (window.logged < this.linesPerWindow) {
      window.logged++;
      this.logger.info(change, msg);
    } else {
      window.folded.push(change.partition);
      this.logger.debug(change, msg);
    }
  }

  /** Writes every open window's summary now (the broker is stopping). */
  flush(): void {
    for (const key of [...this.windows.keys()]) {
      const [role, topic] = key.split('\u0000') as [PartitionRole, string];
      this.close(key, role, topic);
    }
  }

  private close(key: string, role: PartitionRole, topic: string): void {
    const window = this.windows.get(key);
    if (!window) return;
    clearTimeout(window.timer);
    this.windows.delete(key);
    if (window.folded.length === 0) return;
    this.logger.info({ topic, count: window.folded.length, partitions: ranges(window.folded) }, `${role} partitions`);
  }
}

/** "0-3,7,9-11": sorted partition numbers as ranges, so a summary line stays short. */
export function ranges(partitions: number[]): string {
  const sorted = [...new Set(partitions)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
