/**
 * The leader-epoch history of one partition (Kafka's LeaderEpochFileCache,
 * KIP-101): [epoch, startOffset] pairs, the offset at which each leader epoch
 * began. A follower asks its leader for the end offset of its own latest
 * epoch and truncates to it, so that a log never keeps records a new leader
 * does not have.
 *
 * Invariant: epochs strictly ascend and start offsets never descend (two
 * epochs may start at the same offset when the first saw no append). The
 * history is persisted with the partition's metadata (partition-index.ts),
 * which copies it.
 */
import { assert } from '../shared/assert.js';

export type EpochEntry = [epoch: number, startOffset: number];

export class LeaderEpochCache {
  private entries: EpochEntry[];

  /** `entries` as read back at open (log-loader.ts), which keeps them in order. */
  constructor(entries: EpochEntry[] = []) {
    this.entries = entries;
  }

  /** The latest epoch, -1 when none is known. */
  get latestEpoch(): number {
    return this.entries.at(-1)?.[0] ?? -1;
  }

  /** The history, oldest first; a truncation replaces the array rather than changing it. */
  get history(): ReadonlyArray<readonly [number, number]> {
    return this.entries;
  }

  /** The array the partition metadata stores (it copies it). */
  get forMeta(): EpochEntry[] {
    return this.entries;
  }

  /**
   * A leader's new epoch starts at `startOffset` (the log end), unless the
   * latest known epoch is the same or newer; returns whether the history changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    const latest = this.entries.at(-1);
    if (latest && latest[0] >= epoch) return false;
    this.push(epoch, startOffset);
    return true;
  }

  /**
   * A replica (or recovery) learns the epoch stamped on a batch at `baseOffset`:
   * a stamp newer than the latest known epoch starts a new one, repeats and
   * unstamped batches (-1) change nothing. Returns whether the history changed.
   */
  learn(stamped: number, baseOffset: number): boolean {
    if (stamped <= this.latestEpoch) return false;
    this.push(stamped, baseOffset);
    return true;
  }

  /** Forgets the epochs that start at or after `logEndOffset` (the log was truncated there). */
  truncateFromEnd(logEndOffset: number): void {
    this.entries = this.entries.filter(([, start]) => start < logEndOffset);
  }

  /** Keeps only the first `count` epochs: forgets those a failed append had learned. */
  keepFirst(count: number): void {
    if (this.entries.length > count) this.entries = this.entries.slice(0, count);
  }

  /** Forgets every epoch (the log starts over). */
  clear(): void {
    this.entries = [];
  }

  /**
   * Kafka's OffsetsForLeaderEpoch: the largest known epoch <= `epoch` and its
   * end offset, i.e. where the next epoch starts (the log end for the latest
   * one); undefined when every known epoch is newer.
   */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } | undefined {
    let found: EpochEntry | undefined;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entryAt(i);
      if (e[0] > epoch) break;
      found = e;
      const next = this.entries[i + 1];
      if (e[0] === epoch || (next && next[0] > epoch)) {
        return { epoch: e[0], endOffset: next ? next[1] : logEndOffset };
      }
    }
    return found ? { epoch: found[0], endOffset: logEndOffset } : undefined;
  }

  private push(epoch: number, startOffset: number): void {
    const latest = this.entries.at(-1);
    assert(
      latest === undefined || startOffset >= latest[1],
      `epoch ${epoch} would start at ${startOffset}, before epoch ${latest?.[0]} at ${latest?.[1]}`,
    );
    this.entries.push([epoch, startOffset]);
  }

  private entryAt(index: number): EpochEntry {
    const entry = this.entries[index];
    assert(entry !== undefined, `no epoch entry at index ${index}`);
    return entry;
  }
}
