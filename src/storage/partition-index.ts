/**
 * The sparse offset and time indexes of one partition, its segment summaries
 * and its metadata, kept in the data directory's LevelDB (layout in
 * index-store.ts).
 *
 * Appends must not wait for LevelDB, so new entries collect in memory and are
 * written as one block when enough are pending, on flush, or on close. Until a
 * write has completed its entries stay in memory and lookups see them. Anything
 * lost before a write reaches LevelDB is rebuilt by recovery from the segment
 * files, which are the truth.
 */
import { assert } from '../shared/assert.js';
import { indexPendingEntriesFlushAt, indexPendingEntriesMax } from '../shared/limits.js';
import { gatheredWrite, type IndexStartGroup } from './index-start-group.js';
import {
  blockEntryWidth,
  filterEntries,
  type IndexBatchOp,
  type IndexDb,
  IndexKeys,
  type IndexKind,
  packValue,
  unpackBlock,
  unpackValue,
} from './index-store.js';
import type { SegmentSummary } from './segment.js';
import type { AbortedTxn, TxnSnapshot } from './txn-state.js';

export interface PartitionMeta {
  logStartOffset: number;
  /** Offsets below this are known to be on disk (fsynced) and valid. */
  recoveryPoint: number;
  /** True only between a clean close and the next open. */
  cleanShutdown: boolean;
  /** Leader-epoch history: [epoch, startOffset] pairs, ascending. */
  leaderEpochs: [number, number][];
  /** The log cleaner's checkpoint: the first offset not yet cleaned (absent: nothing cleaned). */
  cleanerCheckpoint?: number;
  /**
   * True once the log may hold offset gaps: the cleaner rewrote a segment, or a replica copied a
   * compacted leader. Recovery then accepts a batch that starts past where the one before ended
   * (and cleaned batches); otherwise such a batch is corruption and cut off.
   */
  offsetGaps?: boolean;
  /**
   * The replica's high watermark when the metadata was last written (Kafka's
   * replication-offset-checkpoint): a restarted replica starts from it, not
   * from its log start, so if it is elected leader before hearing from anyone
   * it does not answer a high watermark below what was committed. Absent: never recorded.
   */
  highWatermark?: number;
  /**
   * The open transactions and coordinator epochs as of the log end when the metadata was written
   * (txn-state.ts): opening the log reads the transactions of the log from `asOf` on only.
   * Absent: written before transactions existed (the log holds none before the recovery point).
   */
  txns?: TxnSnapshot;
}

/** What the index database holds of a partition at open: its metadata and its segments' summaries. */
export interface StoredLog {
  meta: PartitionMeta | undefined;
  summaries: Map<number, SegmentSummary>;
}

export interface IndexEntry {
  offset: number;
  segmentBase: number;
  position: number;
}

const W = blockEntryWidth;

/** Entries in ascending key order, flat [key, offset, segment, position] quadruples: no object per entry. */
class Entries {
  data: number[] = [];

  get length(): number {
    return this.data.length / W;
  }
  push(key: number, offset: number, segment: number, position: number): void {
    this.data.push(key, offset, segment, position);
  }
  lastKey(): number {
    return this.data.length > 0 ? (this.data[this.data.length - W] as number) : Number.NEGATIVE_INFINITY;
  }
  /** Takes the first n entries out as a block value. */
  block(n: number): Float64Array {
    return Float64Array.from(this.data.slice(0, n * W));
  }
  dropFirst(n: number): void {
    this.data.splice(0, n * W);
  }
  keep(test: (offset: number) => boolean): void {
    this.data = filterEntries(this.data, test);
  }
}

/** The entry with the largest key <= bound (< bound when strict), or undefined. */
function lastAtMost(data: ArrayLike<number>, bound: number, strict: boolean): IndexEntry | undefined {
  let lo = 0;
  let hi = data.length / W - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = data[mid * W] as number;
    if (strict ? k < bound : k <= bound) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return undefined;
  const i = found * W;
  return { offset: data[i + 1] as number, segmentBase: data[i + 2] as number, position: data[i + 3] as number };
}

export class PartitionIndex {
  private readonly keys: IndexKeys;
  private readonly offsets = new Entries();
  private readonly times = new Entries();
  private readonly summaries = new Map<number, SegmentSummary>();
  private meta: PartitionMeta | undefined;
  /** Serializes writes and range deletions so they apply in order. */
  private chain: Promise<void> = Promise.resolve();
  private backgroundWrite: Promise<void> | undefined;
  /**
   * Deletions (truncateAtNextWrite) that go first into the next write's batch: recovery's
   * truncation of the index, written atomically with the rebuilt index and metadata.
   */
  private planned: IndexBatchOp[] = [];
  /** Aborted transactions not yet written, ascending by last offset (written with the next write). */
  private aborted: AbortedTxn[] = [];

  /**
   * `group`: the logs opened with this one at a start (index-start-group.ts) read and write
   * together until leaveStartGroup.
   */
  constructor(
    private readonly db: IndexDb,
    readonly partitionId: string,
    private group?: IndexStartGroup,
  ) {
    this.keys = new IndexKeys(partitionId);
  }

  /** The log is open: its writes go to LevelDB on their own from now on. */
  leaveStartGroup(): void {
    this.group = undefined;
  }

  get pendingCount(): number {
    return this.offsets.length + this.times.length + this.aborted.length;
  }

  /** An abort marker was appended: its transaction joins the aborted-transaction index. */
  addAbortedTxn(txn: AbortedTxn): void {
    // in marker order; the same marker read again (a recovery walk over entries already pending) replaces its entry
    if (this.aborted.length > 0 && (this.aborted.at(-1) as AbortedTxn).lastOffset >= txn.lastOffset) {
      this.aborted = this.aborted.filter((t) => t.lastOffset < txn.lastOffset);
    }
    this.aborted.push({ ...txn });
  }

  /**
   * The aborted transactions a read of [from, upperBound) must list (Kafka's
   * collectAbortedTransactions): those whose marker is at or after `from` and whose first offset
   * is below `upperBound`. Entries are read in marker order and the walk stops at the first whose
   * last stable offset reaches `upperBound` (no transaction that started before it was still open
   * after it), or after `max` entries.
   */
  async abortedTxns(from: number, upperBound: number, max: number): Promise<AbortedTxn[]> {
    const out: AbortedTxn[] = [];
    let done = false;
    const take = (t: AbortedTxn): void => {
      if (t.lastOffset < from) return;
      if (t.firstOffset < upperBound) out.push(t);
      if (t.lastStableOffset >= upperBound || out.length >= max) done = true;
    };
    // stored entries are older than pending ones (pending entries leave only once written)
    const written = new Set<number>();
    for await (const [key, value] of this.db.iterator({ gte: this.keys.key('a', from), lt: this.keys.range('a').lt })) {
      const [producerId, firstOffset, lastStableOffset] = unpackValue<[number, number, number]>(value);
      const lastOffset = this.keys.numberOf(key);
      written.add(lastOffset);
      take({ producerId, firstOffset, lastOffset, lastStableOffset });
      if (done) return out;
    }
    for (const t of this.aborted) {
      if (written.has(t.lastOffset)) continue;
      take({ ...t });
      if (done) break;
    }
    return out;
  }

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
    assert(this.offsets.lastKey() < offset, 'offset index entries must ascend');
    this.offsets.push(offset, offset, segmentBase, position);
  }

  /** Records that every batch before `offset` has a timestamp <= `maxTimestampBefore`. */
  addTimeEntry(maxTimestampBefore: number, offset: number, segmentBase: number, position: number): void {
    assert(this.times.lastKey() < maxTimestampBefore, 'time index entries must ascend');
    this.times.push(maxTimestampBefore, offset, segmentBase, position);
  }

  setSegmentSummary(segmentBase: number, summary: SegmentSummary): void {
    this.summaries.set(segmentBase, { ...summary });
  }

  setMeta(meta: PartitionMeta): void {
    this.meta = { ...meta, leaderEpochs: meta.leaderEpochs.map((e) => [e[0], e[1]]) };
  }

  /** Writes everything pending in one LevelDB batch: one block per index, summaries, metadata. */
  write(sync = false): Promise<void> {
    return this.enqueue(async () => {
      const nOffsets = this.offsets.length;
      const nTimes = this.times.length;
      const planned = this.planned;
      this.planned = [];
      const ops: IndexBatchOp[] = [...planned];
      const nAborted = this.aborted.length;
      for (const t of this.aborted.slice(0, nAborted)) {
        ops.push({
          type: 'put',
          key: this.keys.key('a', t.lastOffset),
          value: packValue([t.producerId, t.firstOffset, t.lastStableOffset]),
        });
      }
      if (nOffsets > 0) {
        const block = this.offsets.block(nOffsets);
        ops.push({ type: 'put', key: this.keys.key('o', block[0] as number), value: packValue(block) });
      }
      if (nTimes > 0) {
        const block = this.times.block(nTimes);
        ops.push({ type: 'put', key: this.keys.key('t', block[0] as number), value: packValue(block) });
      }
      const summaries = new Map(this.summaries);
      for (const [base, s] of summaries) {
        ops.push({
          type: 'put',
          key: this.keys.key('s', base),
          value: packValue([s.size, s.nextOffset, s.maxTimestamp]),
        });
      }
      this.summaries.clear();
      const meta = this.meta;
      if (meta) ops.push({ type: 'put', key: this.keys.meta, value: packValue(meta) });
      this.meta = undefined;
      if (ops.length === 0) return;
      try {
        if (this.group) await this.group.write(ops, sync);
        else await gatheredWrite(this.db, ops, sync);
      } catch (err) {
        // kept for the next write (a full disk's retry), as the entries are; what was set meanwhile is newer
        this.planned = [...planned, ...this.planned];
        for (const [base, s] of summaries) if (!this.summaries.has(base)) this.summaries.set(base, s);
        if (meta && !this.meta) this.meta = meta;
        throw err;
      }
      this.offsets.dropFirst(nOffsets);
      this.times.dropFirst(nTimes);
      this.aborted.splice(0, nAborted);
    });
  }

  /** Largest offset entry with offset <= target. */
  async lookupOffset(target: number): Promise<IndexEntry | undefined> {
    const pending = lastAtMost(this.offsets.data, target, false);
    if (pending) return pending;
    const block = await this.blockBefore('o', this.keys.key('o', target), true);
    return block ? lastAtMost(block, target, false) : undefined;
  }

  /** The time entry with the largest timestamp < target: every batch before its offset is older than target. */
  async lookupTime(target: number): Promise<IndexEntry | undefined> {
    const pending = lastAtMost(this.times.data, target, true);
    if (pending) return pending;
    const block = await this.blockBefore('t', this.keys.key('t', Math.max(0, target)), false);
    return block ? lastAtMost(block, target, true) : undefined;
  }

  /** The block with the largest first key <= (or <) `key`. */
  private async blockBefore(kind: IndexKind, key: string, inclusive: boolean): Promise<Float64Array | undefined> {
    const bound = inclusive ? { lte: key } : { lt: key };
    const found = await this.db.iterator({ gte: this.keys.range(kind).gte, ...bound, reverse: true, limit: 1 }).all();
    const first = found[0];
    return first ? unpackBlock(first[1]) : undefined;
  }

  async loadMeta(): Promise<PartitionMeta | undefined> {
    const raw = await this.db.get(this.keys.meta);
    return raw ? unpackValue<PartitionMeta>(raw) : undefined;
  }

  /**
   * The metadata and the summaries of the segments `bases` in one read (getMany: no iterator per
   * partition, which made a start of 10,000 partitions CPU-bound in LevelDB; issue 20 item 4).
   * A segment without a summary is absent from the map.
   */
  async loadMetaAndSummaries(bases: readonly number[]): Promise<StoredLog> {
    const [stored] = await PartitionIndex.loadMany(this.db, [{ partitionId: this.partitionId, bases }]);
    return stored as StoredLog;
  }

  /**
   * loadMetaAndSummaries of many partitions in one LevelDB read: a start of 10,000 partitions
   * made one getMany per partition, and the calls' own cost was most of the time spent reading
   * (issue 20 item 4). Results in the order of `partitions`.
   */
  static async loadMany(
    db: IndexDb,
    partitions: readonly { partitionId: string; bases: readonly number[] }[],
  ): Promise<StoredLog[]> {
    const keys: string[] = [];
    for (const { partitionId, bases } of partitions) {
      const k = new IndexKeys(partitionId);
      keys.push(k.meta);
      for (const b of bases) keys.push(k.key('s', b));
    }
    const values = await db.getMany(keys);
    let at = 0;
    return partitions.map(({ bases }) => {
      const rawMeta = values[at++];
      const summaries = new Map<number, SegmentSummary>();
      for (const base of bases) {
        const raw = values[at++];
        if (!raw) continue;
        const [size, nextOffset, maxTimestamp] = unpackValue<[number, number, number]>(raw);
        summaries.set(base, { size, nextOffset, maxTimestamp });
      }
      return { meta: rawMeta ? unpackValue<PartitionMeta>(rawMeta) : undefined, summaries };
    });
  }

  async loadSummaries(): Promise<Map<number, SegmentSummary>> {
    const out = new Map<number, SegmentSummary>();
    for await (const [key, value] of this.db.iterator(this.keys.range('s'))) {
      const [size, nextOffset, maxTimestamp] = unpackValue<[number, number, number]>(value);
      out.set(this.keys.numberOf(key), { size, nextOffset, maxTimestamp });
    }
    return out;
  }

  /** Every stored and pending entry, ascending (tests and diagnostics; reads the whole index). */
  async dump(): Promise<{ offsets: IndexEntry[]; times: (IndexEntry & { timestamp: number })[] }> {
    const collect = async (kind: IndexKind, pending: Entries) => {
      const flat: number[] = [];
      for await (const [, value] of this.db.iterator(this.keys.range(kind))) flat.push(...(unpackBlock(value) ?? []));
      for (const n of pending.data) flat.push(n);
      const out: (IndexEntry & { timestamp: number })[] = [];
      for (let i = 0; i < flat.length; i += W) {
        if (out.length > 0 && (out.at(-1) as { timestamp: number }).timestamp === flat[i]) continue; // in flight and stored
        out.push({
          timestamp: flat[i] as number,
          offset: flat[i + 1] as number,
          segmentBase: flat[i + 2] as number,
          position: flat[i + 3] as number,
        });
      }
      return out;
    };
    const offsets = (await collect('o', this.offsets)).map(({ offset, segmentBase, position }) => ({
      offset,
      segmentBase,
      position,
    }));
    return { offsets, times: await collect('t', this.times) };
  }

  /**
   * Recovery: removes every entry and summary at or above `offset` as truncateFrom does, but in the
   * stored index only with the next write (which must follow before any lookup), in the same batch
   * as the rebuilt entries; in a start group, found with the other logs' (index-start-group.ts).
   */
  truncateAtNextWrite(offset: number): Promise<void> {
    const group = this.group;
    if (!group) return this.truncateFrom(offset);
    return this.enqueue(async () => {
      this.dropPendingFrom(offset);
      this.planned.push(...(await group.truncation(this.keys, offset)));
    });
  }

  private dropPendingFrom(offset: number): void {
    this.offsets.keep((o) => o < offset);
    this.times.keep((o) => o < offset);
    for (const base of [...this.summaries.keys()]) if (base >= offset) this.summaries.delete(base);
  }

  /**
   * Removes the aborted transactions whose marker is at or past `offset` (the log was cut there).
   * Apart from truncateFrom, which cuts the offset index from a segment's start (the segment is
   * indexed again) and, in recovery, from the first segment recovered: the aborted transactions
   * below the cut stay true and only the transaction state could make them again.
   */
  truncateAbortedFrom(offset: number): Promise<void> {
    return this.enqueue(async () => {
      this.aborted = this.aborted.filter((t) => t.lastOffset < offset);
      await this.db.clear({ gte: this.keys.key('a', offset), lt: this.keys.range('a').lt });
    });
  }

  /**
   * Removes the aborted transactions whose markers are at `markerOffsets` (the log cleaner
   * removed those markers, their transactions having no record left).
   */
  forgetAbortedTxns(markerOffsets: readonly number[]): Promise<void> {
    return this.enqueue(async () => {
      const gone = new Set(markerOffsets);
      this.aborted = this.aborted.filter((t) => !gone.has(t.lastOffset));
      const ops = markerOffsets.map((o) => ({ type: 'del' as const, key: this.keys.key('a', o) }));
      await this.db.batch(ops as never, { sync: true });
    });
  }

  /** Removes every offset and time entry and summary at or above `offset` (truncation, recovery); not the aborted transactions. */
  truncateFrom(offset: number): Promise<void> {
    return this.enqueue(async () => {
      this.dropPendingFrom(offset);
      await this.db.clear({ gte: this.keys.key('s', offset), lt: this.keys.range('s').lt });
      // Blocks ascend in offset for both indexes: walk back from the end, dropping
      // whole blocks and cutting the one that straddles `offset`.
      for (const kind of ['o', 't'] as const) {
        const ops: IndexBatchOp[] = [];
        for await (const [key, value] of this.db.iterator({ ...this.keys.range(kind), reverse: true })) {
          const block = unpackBlock(value);
          if (!block || (block[1] as number) >= offset) {
            ops.push({ type: 'del', key });
            continue;
          }
          const kept = filterEntries(block, (o) => o < offset);
          if (kept.length < block.length) ops.push({ type: 'put', key, value: packValue(Float64Array.from(kept)) });
          break;
        }
        if (ops.length > 0) await this.db.batch(ops as never);
      }
    });
  }

  /**
   * Makes the index of one rewritten segment, [from, to), agree with its new file (the log
   * cleaner): its offset and time entries go, `offsetEntries` (ascending, inside the range) take
   * their place, and its summary becomes `summary`. Blocks keep ascending, non-overlapping key
   * ranges: the blocks that hold entries of the range are merged with the new entries and written
   * again in blocks of at most indexPendingEntriesMax entries. Time entries of the range are only
   * dropped: a timestamp lookup then walks the segment from its start (correct, a little slower).
   */
  replaceSegmentEntries(from: number, to: number, offsetEntries: IndexEntry[], summary: SegmentSummary): Promise<void> {
    return this.enqueue(async () => {
      const outside = (o: number): boolean => o < from || o >= to;
      this.offsets.keep(outside);
      this.times.keep(outside);
      this.summaries.delete(from);
      const ops: IndexBatchOp[] = [];
      for (const kind of ['o', 't'] as const) {
        const merged: number[] = [];
        for await (const [key, value] of this.db.iterator(this.keys.range(kind))) {
          const block = unpackBlock(value);
          if (!block) continue;
          let touches = false;
          for (let i = 1; i < block.length && !touches; i += W) touches = !outside(block[i] as number);
          if (!touches) continue;
          ops.push({ type: 'del', key });
          merged.push(...filterEntries(block, outside));
        }
        if (kind === 'o') for (const e of offsetEntries) merged.push(e.offset, e.offset, e.segmentBase, e.position);
        // ascending by key (offsets for 'o', timestamps for 't'); a stable sort keeps equal keys' order
        const quads: number[][] = [];
        for (let i = 0; i < merged.length; i += W) quads.push(merged.slice(i, i + W));
        quads.sort((a, b) => (a[0] as number) - (b[0] as number));
        for (let i = 0; i < quads.length; i += indexPendingEntriesMax) {
          const chunk = quads.slice(i, i + indexPendingEntriesMax).flat();
          const key = this.keys.key(kind, chunk[0] as number);
          // a deletion of the same key earlier in this batch is overridden by this put (LevelDB applies in order)
          ops.push({ type: 'put', key, value: packValue(Float64Array.from(chunk)) });
        }
      }
      ops.push({
        type: 'put',
        key: this.keys.key('s', from),
        value: packValue([summary.size, summary.nextOffset, summary.maxTimestamp]),
      });
      await this.db.batch(ops as never, { sync: true });
    });
  }

  /**
   * Removes one segment's summary, durably, at once: a segment whose file is about to be replaced
   * (the log cleaner's swap) is then recovered from its file if the broker stops before its new
   * summary is written.
   */
  forgetSegmentSummary(segmentBase: number): Promise<void> {
    return this.enqueue(async () => {
      this.summaries.delete(segmentBase);
      await this.db.batch([{ type: 'del', key: this.keys.key('s', segmentBase) }] as never, { sync: true });
    });
  }

  /** Removes every entry and summary below `offset` (retention). */
  deleteBelow(offset: number): Promise<void> {
    return this.enqueue(async () => {
      this.offsets.keep((o) => o >= offset);
      this.times.keep((o) => o >= offset);
      for (const base of [...this.summaries.keys()]) if (base < offset) this.summaries.delete(base);
      // an aborted transaction whose marker lies below the new log start concerns no read any more
      this.aborted = this.aborted.filter((t) => t.lastOffset >= offset);
      await this.db.clear({ gte: this.keys.range('s').gte, lt: this.keys.key('s', offset) });
      await this.db.clear({ gte: this.keys.range('a').gte, lt: this.keys.key('a', offset) });
      for (const kind of ['o', 't'] as const) {
        const ops: IndexBatchOp[] = [];
        for await (const [key, value] of this.db.iterator(this.keys.range(kind))) {
          const block = unpackBlock(value);
          if (block && (block[block.length - W + 1] as number) >= offset) {
            // Cut the block that straddles `offset`, as truncateFrom does. Keeping it whole kept the
            // entries of the deleted segments, usually all of them: a partition's entries mostly sit
            // in one block (one per write), so retention removed no index entries at all.
            const kept = filterEntries(block, (o) => o >= offset);
            if (kept.length < block.length) {
              ops.push({ type: 'del', key });
              ops.push({
                type: 'put',
                key: this.keys.key(kind, kept[0] as number),
                value: packValue(Float64Array.from(kept)),
              });
            }
            break;
          }
          ops.push({ type: 'del', key });
        }
        if (ops.length > 0) await this.db.batch(ops as never);
      }
    });
  }

  /** Removes everything this partition has in the database. */
  deleteAll(): Promise<void> {
    return this.enqueue(async () => {
      this.offsets.keep(() => false);
      this.times.keep(() => false);
      this.summaries.clear();
      this.aborted = [];
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
