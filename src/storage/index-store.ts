/**
 * The one LevelDB database of a broker data directory. It holds, per
 * partition, the sparse offset and time indexes, a summary of every segment,
 * and the partition's metadata. Keys are UTF-8 strings that sort in offset
 * order; values are msgpackr-encoded arrays.
 *
 *   <topic>-<p>!m                          partition metadata
 *   <topic>-<p>!o!<first offset, 20 digits>    offset index block
 *   <topic>-<p>!t!<first timestamp, 20 digits> time index block
 *   <topic>-<p>!s!<segmentBase, 20 digits>     [size, nextOffset, maxTimestamp]
 *   <topic>-<p>!a!<last offset, 20 digits>     [producerId, firstOffset, lastStableOffset]
 *                                              an aborted transaction (its abort marker's offset)
 *
 * Index entries are written in blocks: one value holds every entry that was
 * pending when the write happened (up to a few thousand), as a Float64Array of
 * [key, offset, segmentBase, position] quadruples ascending by key. One put per
 * block instead of one per entry keeps the index off the append path's profile.
 *
 * '!' cannot occur in a topic name, so one partition's keys never prefix another's.
 */
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Packr } from 'msgpackr';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { pad20 } from './names.js';

export const indexDirName = '.sluice-index';

export type IndexKind = 'o' | 't' | 's' | 'a';

// moreTypes: without it msgpackr has no typed-array extension and packs a Float64Array index block as
// `bin` bytes made from its element values (then uninitialized memory): every stored block came back
// as a Buffer, unpackBlock rejected it, and lookups after a write silently fell back to full scans.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true });
export const packValue = (value: unknown): Uint8Array => packr.pack(value);
export const unpackValue = <T>(bytes: Uint8Array): T => packr.unpack(bytes) as T;

/** Fields per entry in an index block: key (offset or timestamp), offset, segmentBase, position. */
export const blockEntryWidth = 4;

/**
 * Decodes an index block; undefined when the value is not one (a damaged or
 * foreign value): callers then treat the index as missing there, and the
 * files, which are the truth, take over.
 */
export function unpackBlock(bytes: Uint8Array): Float64Array | undefined {
  let block: unknown;
  try {
    block = unpackValue<unknown>(bytes);
  } catch {
    return undefined;
  }
  if (!(block instanceof Float64Array) || block.length === 0 || block.length % blockEntryWidth !== 0) return undefined;
  return block;
}

/** One operation of a LevelDB batch on the index database. */
export interface IndexBatchOp {
  type: 'put' | 'del';
  key: string;
  value?: Uint8Array;
}

/** The entries of a block (or flat entries) whose offset passes `test`. */
export function filterEntries(data: ArrayLike<number>, test: (offset: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.length; i += blockEntryWidth) {
    if (test(data[i + 1] as number))
      out.push(data[i] as number, data[i + 1] as number, data[i + 2] as number, data[i + 3] as number);
  }
  return out;
}

export class IndexKeys {
  readonly meta: string;
  readonly all: { gte: string; lt: string };
  constructor(readonly partitionId: string) {
    this.meta = `${partitionId}!m`;
    this.all = { gte: `${partitionId}!`, lt: `${partitionId}!~` };
  }
  key(kind: IndexKind, n: number): string {
    return `${this.partitionId}!${kind}!${pad20(n)}`;
  }
  /** Range over one kind: [gte, lt). */
  range(kind: IndexKind): { gte: string; lt: string } {
    return { gte: `${this.partitionId}!${kind}!`, lt: `${this.partitionId}!${kind}!~` };
  }
  numberOf(key: string): number {
    return Number(key.slice(key.length - 20));
  }
}

export type IndexDb = ClassicLevel<string, Uint8Array>;

export async function openIndexDb(dataDir: string): Promise<IndexDb> {
  const db = new ClassicLevel<string, Uint8Array>(path.join(dataDir, indexDirName), {
    keyEncoding: 'utf8',
    valueEncoding: 'view',
  });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const locked = cause?.code === 'LEVEL_LOCKED' || /lock/i.test(cause?.message ?? '');
    throw new SluiceError(
      ErrorCode.StorageError,
      locked
        ? `data directory ${dataDir} is in use by another process (its index database is locked)`
        : `cannot open the index database in ${dataDir}: ${cause?.message ?? (err as Error).message}`,
      { cause: err },
    );
  }
  return db;
}
