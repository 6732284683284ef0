/**
 * The index database work of many partition logs opened together at a start (log-manager.ts),
 * done in a few LevelDB calls for all of them instead of several per partition.
 *
 * A log recovered after a crash dropped its index entries and summaries past its recovery point
 * with a range clear, two reverse scans and up to two batches, and then wrote its rebuilt index
 * and metadata in one more batch: about five LevelDB calls per partition, which made a start of
 * 10,000 partitions after kill -9 CPU-bound in LevelDB calls (issue 20 item 4). Here the
 * partitions opened at the same time ask together: one keys-only scan over their key range finds
 * what is to go, one getMany reads the blocks that straddle their truncation points, and each
 * partition's deletions go into the same batch as its rebuilt index and metadata (so a crash
 * leaves either the old or the new state, both recovered by the next start); the writes of the
 * logs opened together go to LevelDB as one batch.
 *
 * Requests are gathered until the event loop's next check phase (setImmediate): the log manager
 * opens its logs several at a time, and these reach the same step in the same turn.
 */
import {
  filterEntries,
  type IndexBatchOp,
  type IndexDb,
  type IndexKeys,
  packValue,
  unpackBlock,
} from './index-store.js';

interface Gathered<T, R> {
  items: { item: T; resolve: (r: R) => void; reject: (err: unknown) => void }[];
}

/** Calls `run` once for everything asked for within one turn of the event loop. */
class Gatherer<T, R> {
  private current: Gathered<T, R> | undefined;

  constructor(private readonly run: (items: T[]) => Promise<R[]>) {}

  ask(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (!this.current) {
        const group: Gathered<T, R> = { items: [] };
        this.current = group;
        setImmediate(() => {
          this.current = undefined;
          this.run(group.items.map((g) => g.item)).then(
            (results) => {
              for (const [i, g] of group.items.entries()) g.resolve(results[i] as R);
            },
            (err) => {
              for (const g of group.items) g.reject(err);
            },
          );
        });
      }
      this.current.items.push({ item, resolve, reject });
    });
  }
}

interface TruncationAsk {
  keys: IndexKeys;
  offset: number;
}

/** Writes of one turn of the event loop as one LevelDB batch, synced if any of them asks. */
type IndexWrite = { ops: IndexBatchOp[]; sync: boolean };

function batchWriter(db: IndexDb): Gatherer<IndexWrite, void> {
  return new Gatherer<IndexWrite, void>(async (writes) => {
    const ops = writes.flatMap((w) => w.ops);
    if (ops.length > 0) await db.batch(ops as never, { sync: writes.some((w) => w.sync) });
    return writes.map(() => undefined);
  });
}

const runningWriters = new WeakMap<IndexDb, Gatherer<IndexWrite, void>>();

/**
 * Writes one partition's `ops` to `db` in one LevelDB batch with the other partitions' writes of
 * this turn of the event loop (synced if any asks). A running broker's partitions write their
 * metadata at their first append (the clean mark cleared, the new leader epoch) and at flushes:
 * a keyed produce across 10,000 partitions made 20,000 LevelDB batches of one or two puts each,
 * one call per partition (issue 20 item 4). Each partition still waits for its own write before
 * its next (PartitionIndex's chain), so its writes stay in order; a batch that fails fails every
 * write in it, and each keeps its entries for its next write, as when it fails alone.
 */
export function gatheredWrite(db: IndexDb, ops: IndexBatchOp[], sync: boolean): Promise<void> {
  let writer = runningWriters.get(db);
  if (!writer) {
    writer = batchWriter(db);
    runningWriters.set(db, writer);
  }
  return writer.ask({ ops, sync });
}

export class IndexStartGroup {
  private readonly truncations = new Gatherer<TruncationAsk, IndexBatchOp[]>((asks) => this.planTruncations(asks));
  private readonly writes: Gatherer<IndexWrite, void>;

  constructor(private readonly db: IndexDb) {
    this.writes = batchWriter(db);
  }

  /**
   * The operations that remove one partition's index entries and segment summaries at or above
   * `offset` (what PartitionIndex.truncateFrom does at once), to be written with its next batch.
   */
  truncation(keys: IndexKeys, offset: number): Promise<IndexBatchOp[]> {
    return this.truncations.ask({ keys, offset });
  }

  /** Writes `ops` in one LevelDB batch with the other logs' writes of this turn (synced if any asks). */
  write(ops: IndexBatchOp[], sync: boolean): Promise<void> {
    return this.writes.ask({ ops, sync });
  }

  private async planTruncations(asks: TruncationAsk[]): Promise<IndexBatchOp[][]> {
    const byId = new Map<string, { ask: TruncationAsk; o: string[]; t: string[]; ops: IndexBatchOp[] }>();
    for (const ask of asks) byId.set(ask.keys.partitionId, { ask, o: [], t: [], ops: [] });
    const ids = [...byId.keys()].sort();
    // '!' sorts below every character of a topic name: one partition's keys lie between `${id}!` and `${id}!~`
    const range = { gte: `${ids[0]}!`, lt: `${ids.at(-1)}!~` };
    for (const key of await this.db.keys(range).all()) {
      const bang = key.indexOf('!');
      const p = byId.get(key.slice(0, bang));
      if (!p) continue;
      const kind = key[bang + 1];
      if (kind === 's') {
        if (p.ask.keys.numberOf(key) >= p.ask.offset) p.ops.push({ type: 'del', key });
      } else if (kind === 'o') {
        // offset blocks are keyed by their first offset: those at or past the offset go whole
        if (p.ask.keys.numberOf(key) >= p.ask.offset) p.ops.push({ type: 'del', key });
        else p.o = [key];
      } else if (kind === 't') p.t.push(key);
    }
    // the last offset block below the offset may hold entries past it; time blocks (keyed by
    // timestamp, ascending in offset too) are read from the last back to the first one that starts
    // below the offset, as truncateFrom's reverse scan does
    let reading = [...byId.values()].filter((p) => p.o.length > 0 || p.t.length > 0);
    while (reading.length > 0) {
      const want = reading.map((p) => (p.o.length > 0 ? p.o : p.t).at(-1) as string);
      const values = await this.db.getMany(want);
      const next: typeof reading = [];
      for (const [i, p] of reading.entries()) {
        const fromO = p.o.length > 0;
        const key = (fromO ? p.o : p.t).pop() as string;
        const raw = values[i];
        const block = raw ? unpackBlock(raw) : undefined;
        if (!block || (block[1] as number) >= p.ask.offset) {
          // unreadable, or wholly at or past the offset (a time block: an offset block here starts below it)
          p.ops.push({ type: 'del', key });
        } else {
          const kept = filterEntries(block, (o) => o < p.ask.offset);
          if (kept.length < block.length) p.ops.push({ type: 'put', key, value: packValue(Float64Array.from(kept)) });
          if (!fromO) p.t = [];
        }
        if (p.o.length > 0 || p.t.length > 0) next.push(p);
      }
      reading = next;
    }
    return asks.map((a) => byId.get(a.keys.partitionId)?.ops ?? []);
  }
}
