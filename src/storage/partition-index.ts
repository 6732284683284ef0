/**
 * The sparse offset and time indexes of one partition, its segment summaries
 * and its metadata, kept in the data directory's LevelDB.
 *
 * Appends must not wait for LevelDB, so new entries collect in memory and are
 * written in one batch when enough are pending, on flush, or on close. Until a
 * write has completed its entries stay in memory and lookups see them. Anything
 * lost before a write reaches LevelDB is rebuilt by recovery from the segment
 * files, which are the truth.
 */
import { assert } from '../shared/assert.js';
import { indexPendingEntriesFlushAt, indexPendingEntriesMax } from '../shared/limits.js';
import { type IndexDb, IndexKeys, packValue, unpackValue } from './index-store.js';
import type { SegmentSummary } from './segment.js';

export interface PartitionMeta {
  logStartOffset: number;
  /** Offsets below this are known to be on disk (fsynced) and valid. */
  recoveryPoint: number;
  /** True only between a clean close and the next open. */
  cleanShutdown: boolean;
  /** Leader-epoch history: [epoch, startOffset] pairs, ascending. */
  leaderEpochs: [number, number][];
}

export interface IndexEntry {
  offset: number;
  segmentBase: number;
  position: number;
}

interface BatchOp {
  type: 'put' | 'del';
  key: string;
  value?: Uint8Array;
}

/** Entries not yet in LevelDB, in ascending order (struct of arrays, no object per entry). */
class PendingEntries {
  readonly keyNum: number[] = [];
  readonly offset: number[] = [];
  readonly segment: number[] = [];
  readonly position: number[] = [];

  get length(): number {
    return this.keyNum.length;
  }
  push(keyNum: number, offset: number, segment: number, position: number): void {
    this.keyNum.push(keyNum);
    this.offset.push(offset);
    this.segment.push(segment);
    this.position.push(position);
  }
  /** Index of the last entry whose key is <= `bound` (or < when `strict`), -1 when none. */
  lastAtMost(bound: number, strict: boolean): number {
    let lo = 0;
    let hi = this.keyNum.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const k = this.keyNum[mid] as number;
      if (strict ? k < bound : k <= bound) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
  entry(i: number): IndexEntry {
    return { offset: this.offset[i] as number, segmentBase: this.segment[i] as number, position: this.position[i] as number };
  }
  dropFirst(n: number): void {
    for (const a of [this.keyNum, this.offset, this.segment, this.position]) a.splice(0, n);
  }
  /** Keeps only entries whose offset satisfies `keep`. */
  filter(keep: (offset: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.keyNum.length; r++) {
      if (!keep(this.offset[r] as number)) continue;
      this.keyNum[w] = this.keyNum[r] as number;
      this.offset[w] = this.offset[r] as number;
      this.segment[w] = this.segment[r] as number;
      this.position[w] = this.position[r] as number;
      w++;
    }
    for (const a of [this.keyNum, this.offset, this.segment, this.position]) a.length = w;
  }
}

export class PartitionIndex {
  private readonly keys: IndexKeys;
  private readonly offsets = new PendingEntries();
  private readonly times = new PendingEntries();
  private readonly summaries = new Map<number, SegmentSummary>();
  private meta: PartitionMeta | undefined;
  /** Serializes writes and range deletions so they apply in order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: IndexDb,
    partitionId: string,
  ) {
    this.keys = new IndexKeys(partitionId);
  }

  get pendingCount(): number {
    return this.offsets.length + this.times.length;
  }

  private backgroundWrite: Promise<void> | undefined;

  /**
   * Starts a background write once enough entries wait, unless one is already
   * under way. Returns a promise to wait on only when the backlog is at its bound.
   */
  writeIfDue(onError: (err: unknown) => void): Promise<void> | undefined {
    const pending = this.pendingCount;
    if (pending >= indexPendingEntriesMax) return this.write();
    if (pending >= indexPendingEntriesFlushAt && !this.backgroundWrite) {
      this.backgroundWrite = this.write()
        .catch(onError)
        .finally(() => {
          this.backgroundWrite = undefined;
        });
    }
    return undefined;
  }

  addOffsetEntry(offset: number, segmentBase: number, position: number): void {
    const n = this.offsets.length;
    assert(n === 0 || (this.offsets.offset[n - 1] as number) < offset, 'offset index entries must ascend');
    this.offsets.push(offset, offset, segmentBase, position);
  }

  /** Records that every batch before `offset` has a timestamp <= `maxTimestampBefore`. */
  addTimeEntry(maxTimestampBefore: number, offset: number, segmentBase: number, position: number): void {
    this.times.push(maxTimestampBefore, offset, segmentBase, position);
  }

  setSegmentSummary(segmentBase: number, summary: SegmentSummary): void {
    this.summaries.set(segmentBase, { ...summary });
  }

  setMeta(meta: PartitionMeta): void {
    this.meta = { ...meta, leaderEpochs: meta.leaderEpochs.map((e) => [e[0], e[1]]) };
  }

  /** Writes everything pending in one LevelDB batch. */
  write(sync = false): Promise<void> {
    return this.enqueue(async () => {
      const nOffsets = this.offsets.length;
      const nTimes = this.times.length;
      const ops: BatchOp[] = [];
      for (let i = 0; i < nOffsets; i++) {
        ops.push({
          type: 'put',
          key: this.keys.key('o', this.offsets.keyNum[i] as number),
          value: packValue([this.offsets.segment[i], this.offsets.position[i]]),
        });
      }
      for (let i = 0; i < nTimes; i++) {
        ops.push({
          type: 'put',
          key: this.keys.key('t', this.times.keyNum[i] as number),
          value: packValue([this.times.offset[i], this.times.segment[i], this.times.position[i]]),
        });
      }
      for (const [base, s] of this.summaries) {
        ops.push({ type: 'put', key: this.keys.key('s', base), value: packValue([s.size, s.nextOffset, s.maxTimestamp]) });
      }
      this.summaries.clear();
      if (this.meta) ops.push({ type: 'put', key: this.keys.meta, value: packValue(this.meta) });
      this.meta = undefined;
      if (ops.length === 0) return;
      await this.db.batch(ops as never, { sync });
      this.offsets.dropFirst(nOffsets);
      this.times.dropFirst(nTimes);
    });
  }

  /** Largest offset entry with offset <= target. */
  async lookupOffset(target: number): Promise<IndexEntry | undefined> {
    const i = this.offsets.lastAtMost(target, false);
    if (i >= 0) return this.offsets.entry(i);
    const range = this.keys.range('o');
    const found = await this.db.iterator({ gte: range.gte, lte: this.keys.key('o', target), reverse: true, limit: 1 }).all();
    const first = found[0];
    if (!first) return undefined;
    const [segmentBase, position] = unpackValue<[number, number]>(first[1]);
    return { offset: this.keys.numberOf(first[0]), segmentBase, position };
  }

  /** The time entry with the largest timestamp < target: every batch before its offset is older than target. */
  async lookupTime(target: number): Promise<IndexEntry | undefined> {
    const i = this.times.lastAtMost(target, true);
    if (i >= 0) return this.times.entry(i);
    const range = this.keys.range('t');
    const found = await this.db.iterator({ gte: range.gte, lt: this.keys.key('t', Math.max(0, target)), reverse: true, limit: 1 }).all();
    const first = found[0];
    if (!first) return undefined;
    const [offset, segmentBase, position] = unpackValue<[number, number, number]>(first[1]);
    return { offset, segmentBase, position };
  }

  async loadMeta(): Promise<PartitionMeta | undefined> {
    const raw = await this.db.get(this.keys.meta);
    return raw ? unpackValue<PartitionMeta>(raw) : undefined;
  }

  async loadSummaries(): Promise<Map<number, SegmentSummary>> {
    const out = new Map<number, SegmentSummary>();
    for await (const [key, value] of this.db.iterator(this.keys.range('s'))) {
      const [size, nextOffset, maxTimestamp] = unpackValue<[number, number, number]>(value);
      out.set(this.keys.numberOf(key), { size, nextOffset, maxTimestamp });
    }
    return out;
  }

  /** Removes every entry and summary at or above `offset` (truncation, recovery). */
  truncateFrom(offset: number): Promise<void> {
    return this.enqueue(async () => {
      this.offsets.filter((o) => o < offset);
      this.times.filter((o) => o < offset);
      for (const base of [...this.summaries.keys()]) if (base >= offset) this.summaries.delete(base);
      await this.db.clear({ gte: this.keys.key('o', offset), lt: this.keys.range('o').lt });
      await this.db.clear({ gte: this.keys.key('s', offset), lt: this.keys.range('s').lt });
      // Time keys ascend with offsets, so the doomed ones are a suffix.
      const doomed: string[] = [];
      for await (const [key, value] of this.db.iterator({ ...this.keys.range('t'), reverse: true })) {
        if ((unpackValue<[number]>(value)[0] as number) < offset) break;
        doomed.push(key);
      }
      if (doomed.length > 0) await this.db.batch(doomed.map((key) => ({ type: 'del' as const, key })));
    });
  }

  /** Removes every entry and summary below `offset` (retention). */
  deleteBelow(offset: number): Promise<void> {
    return this.enqueue(async () => {
      this.offsets.filter((o) => o >= offset);
      this.times.filter((o) => o >= offset);
      for (const base of [...this.summaries.keys()]) if (base < offset) this.summaries.delete(base);
      await this.db.clear({ gte: this.keys.range('o').gte, lt: this.keys.key('o', offset) });
      await this.db.clear({ gte: this.keys.range('s').gte, lt: this.keys.key('s', offset) });
      const doomed: string[] = [];
      for await (const [key, value] of this.db.iterator(this.keys.range('t'))) {
        if ((unpackValue<[number]>(value)[0] as number) >= offset) break;
        doomed.push(key);
      }
      if (doomed.length > 0) await this.db.batch(doomed.map((key) => ({ type: 'del' as const, key })));
    });
  }

  /** Removes everything this partition has in the database. */
  deleteAll(): Promise<void> {
    return this.enqueue(async () => {
      this.offsets.filter(() => false);
      this.times.filter(() => false);
      this.summaries.clear();
      this.meta = undefined;
      await this.db.clear(this.keys.all);
    });
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.chain.then(task);
    // a failed task must not poison later ones; its caller sees the failure
    this.chain = next.catch(() => undefined);
    return next;
  }
}
