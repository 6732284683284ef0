/**
 * Shared builders and checks for the storage tests: deterministic batches,
 * whole-log reads, segment file layouts, a simulated crash of a LogManager,
 * and a dump/consistency check of a data directory's LevelDB index.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { IndexKeys, indexDirName } from '../../src/storage/index-store.js';
import type { LogConfig } from '../../src/storage/log-config.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { parseSegmentFileName, segmentFileName } from '../../src/storage/names.js';
import { PartitionIndex, type PartitionMeta } from '../../src/storage/partition-index.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { crc32c } from '../../src/wire/crc32c.js';
import type { DecodedRecord, RecordInput } from '../../src/wire/record.js';
import {
  baseOffsetOf,
  batchSizeOf,
  checkFraming,
  crcMatches,
  lastOffsetOf,
  maxTimestampOf,
  validateBatch,
} from '../../src/wire/record-batch.js';
import { decodeBatchRecords, decodeRecords } from '../../src/wire/record-batch-decoder.js';
import { type BatchOptions, encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { tempDir } from './temp-dir.js';

/** The records of a test batch: keys and values name the tag and the record index. */
export function testRecords(tag: string, count: number, timestamp: number, valueBytes = 24): RecordInput[] {
  const records: RecordInput[] = [];
  for (let j = 0; j < count; j++) {
    const head = `${tag}#${j}:`;
    const value = head + 'v'.repeat(Math.max(0, valueBytes - head.length));
    records.push({ key: Buffer.from(`${tag}#${j}`), value: Buffer.from(value), timestamp: timestamp + j });
  }
  return records;
}

/** One RecordBatch v2 of `count` records with timestamps timestamp, timestamp+1, ... */
export function testBatch(
  tag: string,
  count: number,
  timestamp: number,
  options: BatchOptions & { valueBytes?: number } = {},
): Buffer {
  const { valueBytes, ...batchOptions } = options;
  return encodeRecordBatch(testRecords(tag, count, timestamp, valueBytes), batchOptions);
}

/** The record contents a test batch holds, in the form decodeRecords returns them (minus offsets). */
export function expectedContents(tag: string, count: number, timestamp: number, valueBytes = 24) {
  return testRecords(tag, count, timestamp, valueBytes).map((r) => ({
    key: (r.key as Buffer).toString(),
    value: (r.value as Buffer).toString(),
    timestamp: r.timestamp as number,
  }));
}

export function contentsOf(records: DecodedRecord[]) {
  return records.map((r) => ({
    key: r.key?.toString() ?? null,
    value: r.value?.toString() ?? null,
    timestamp: r.timestamp,
  }));
}

/**
 * Reads the whole log from `from` to its end in reads of `maxBytes`, decoding
 * (and so CRC-checking) every batch served. Fails on a read that makes no progress.
 */
export async function readAll(
  log: PartitionLog,
  from = log.logStartOffset,
  maxBytes = 64 * 1024,
): Promise<{ records: DecodedRecord[]; batches: Buffer[] }> {
  const records: DecodedRecord[] = [];
  const batches: Buffer[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, maxBytes);
    if (r.records.length === 0 || r.nextOffset <= offset) throw new Error(`read at ${offset} made no progress`);
    for (const b of splitBatches(r.records)) batches.push(r.records.subarray(b.position, b.position + b.size));
    for (const rec of decodeRecords(r.records)) if (rec.offset >= offset) records.push(rec);
    offset = r.nextOffset;
  }
  return { records, batches };
}

export interface BatchInfo {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/** The whole batches in `buf` by their framing alone (stops at a partial one). */
export function splitBatches(buf: Buffer): BatchInfo[] {
  const out: BatchInfo[] = [];
  let pos = 0;
  while (buf.length - pos >= 61) {
    const size = batchSizeOf(buf, pos);
    if (size < 61 || pos + size > buf.length) break;
    out.push({
      position: pos,
      size,
      baseOffset: baseOffsetOf(buf, pos),
      lastOffset: lastOffsetOf(buf, pos),
      maxTimestamp: maxTimestampOf(buf, pos),
    });
    pos += size;
  }
  return out;
}

export function segmentPath(partitionDir: string, baseOffset: number): string {
  return path.join(partitionDir, segmentFileName(baseOffset));
}

/** Base offsets of the segment files in a partition directory, ascending. */
export function segmentFiles(partitionDir: string): number[] {
  return fs
    .readdirSync(partitionDir)
    .map(parseSegmentFileName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
}

export function segmentLayout(partitionDir: string, baseOffset: number): BatchInfo[] {
  return splitBatches(fs.readFileSync(segmentPath(partitionDir, baseOffset)));
}

export const fileSize = (file: string): number => fs.statSync(file).size;

export async function openManager(dir: string | string[], config: Partial<LogConfig> = {}): Promise<LogManager> {
  return LogManager.open({ logDirs: Array.isArray(dir) ? dir : [dir], config, retentionCheckIntervalMs: 0 });
}

/**
 * A crash of the whole manager inside this process: every log is closed
 * without its clean-shutdown mark and nothing more is flushed; only then are
 * the index databases closed (close() skips logs that are already closed).
 */
export async function crashManager(manager: LogManager): Promise<void> {
  for (const log of manager.all()) await log.abandon();
  await manager.close();
}

export interface IndexDump {
  meta: PartitionMeta | undefined;
  /** [offset, segmentBase, position] */
  offsets: [number, number, number][];
  /** [timestampKey, offset, segmentBase, position] */
  times: [number, number, number, number][];
  /** segmentBase -> [size, nextOffset, maxTimestamp] */
  summaries: Map<number, [number, number, number]>;
  /** Every key of the data directory's database (all partitions). */
  allKeys: string[];
}

type Db = ClassicLevel<string, Uint8Array>;

async function withIndexDb<T>(dataDir: string, use: (db: Db) => Promise<T>): Promise<T> {
  const db: Db = new ClassicLevel<string, Uint8Array>(path.join(dataDir, indexDirName), {
    keyEncoding: 'utf8',
    valueEncoding: 'view',
  });
  await db.open();
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

/**
 * Reads one partition's index from the LevelDB of `dataDir` (which no manager
 * may hold open) through PartitionIndex itself, so the checks do not depend on
 * how entries are laid out in the database.
 */
export async function dumpIndex(dataDir: string, partitionId: string): Promise<IndexDump> {
  return withIndexDb(dataDir, async (db) => {
    const index = new PartitionIndex(db, partitionId);
    const entries = await index.dump();
    const allKeys: string[] = [];
    for await (const key of db.keys()) allKeys.push(key);
    return {
      meta: await index.loadMeta(),
      offsets: entries.offsets.map((e) => [e.offset, e.segmentBase, e.position]),
      times: entries.times.map((e) => [e.timestamp, e.offset, e.segmentBase, e.position]),
      summaries: new Map(
        [...(await index.loadSummaries())].map(([base, s]) => [base, [s.size, s.nextOffset, s.maxTimestamp]]),
      ),
      allKeys,
    };
  });
}

/**
 * Edits the index of a partition in the LevelDB of `dataDir` (which no manager
 * may hold open), to make it disagree with the files. The callback gets the
 * raw database, the partition's key layout and a PartitionIndex to write with.
 */
export async function tamperIndex(
  dataDir: string,
  partitionId: string,
  edit: (tools: { db: Db; keys: IndexKeys; index: PartitionIndex }) => Promise<void>,
): Promise<void> {
  await withIndexDb(dataDir, async (db) => {
    const index = new PartitionIndex(db, partitionId);
    await edit({ db, keys: new IndexKeys(partitionId), index });
    await index.write(true);
  });
}

/**
 * Checks that a (closed) partition's index agrees with its files: every offset
 * and time entry points at a batch starting with its offset, time entries keep
 * their promise (no earlier batch is newer than the key), there is a summary
 * for exactly the segment files, each matching its file, and nothing lies below
 * the log start. Returns the problems found (empty when consistent).
 */
export async function indexProblems(dataDir: string, topic: string, partition: number): Promise<string[]> {
  const partitionId = `${topic}-${partition}`;
  const dir = path.join(dataDir, partitionId);
  const dump = await dumpIndex(dataDir, partitionId);
  const problems: string[] = [];
  if (!dump.meta) return ['no metadata'];
  const layouts = new Map<number, BatchInfo[]>();
  for (const base of segmentFiles(dir)) layouts.set(base, segmentLayout(dir, base));
  const all = [...layouts.values()].flat();
  const batchAt = (segment: number, position: number) => layouts.get(segment)?.find((b) => b.position === position);

  for (const [offset, segment, position] of dump.offsets) {
    const b = batchAt(segment, position);
    if (!b || b.baseOffset !== offset)
      problems.push(`offset entry ${offset} -> ${segment}@${position} is not a batch start`);
    if (offset < dump.meta.logStartOffset) problems.push(`offset entry ${offset} below the log start`);
  }
  let previousKey = -Infinity;
  for (const [key, offset, segment, position] of dump.times) {
    const b = batchAt(segment, position);
    if (!b || b.baseOffset !== offset)
      problems.push(`time entry ${key} -> ${offset} ${segment}@${position} is not a batch start`);
    const newer = all.find((x) => x.baseOffset < offset && x.maxTimestamp > key);
    if (newer)
      problems.push(
        `time entry ${key} -> ${offset}, but batch ${newer.baseOffset} before it has ${newer.maxTimestamp}`,
      );
    if (key <= previousKey) problems.push(`time keys do not ascend at ${key}`);
    if (offset < dump.meta.logStartOffset) problems.push(`time entry ${key} below the log start`);
    previousKey = key;
  }
  const files = [...layouts.keys()];
  const summarized = [...dump.summaries.keys()].sort((a, b) => a - b);
  if (JSON.stringify(files) !== JSON.stringify(summarized)) {
    problems.push(`summaries for ${JSON.stringify(summarized)}, files ${JSON.stringify(files)}`);
  }
  for (const [base, [size, nextOffset, maxTs]] of dump.summaries) {
    const layout = layouts.get(base);
    if (!layout) continue;
    const file = fileSize(segmentPath(dir, base));
    const last = layout.at(-1);
    const realNext = last ? last.lastOffset + 1 : base;
    const realMax = Math.max(-1, ...layout.map((b) => b.maxTimestamp));
    if (size !== file || nextOffset !== realNext || maxTs !== realMax) {
      problems.push(
        `summary of ${base} is [${size}, ${nextOffset}, ${maxTs}], file has [${file}, ${realNext}, ${realMax}]`,
      );
    }
  }
  return problems;
}

/** Every batch of every segment file is valid (framing, CRC, records) and offsets run on without a gap. */
export function filesProblems(partitionDir: string): string[] {
  const problems: string[] = [];
  let expected: number | undefined;
  for (const base of segmentFiles(partitionDir)) {
    const buf = fs.readFileSync(segmentPath(partitionDir, base));
    if (expected !== undefined && base !== expected) problems.push(`segment ${base} does not continue at ${expected}`);
    let next = base;
    for (let pos = 0; pos < buf.length; ) {
      try {
        const size = validateBatch(buf, pos, buf.length);
        if (baseOffsetOf(buf, pos) !== next)
          problems.push(`batch at ${base}@${pos} has base ${baseOffsetOf(buf, pos)}, expected ${next}`);
        next = lastOffsetOf(buf, pos) + 1;
        pos += size;
      } catch (err) {
        problems.push(`segment ${base} at ${pos}: ${(err as Error).message}`);
        break;
      }
    }
    expected = next;
  }
  return problems;
}

/**
 * Notes the log's high watermark at its end, as a replica whose writes every
 * in-sync replica has: the cleaner never passes the high watermark, so a test
 * of a bare PartitionLog says its writes count as replicated before cleaning.
 */
export function replicatedToEnd<T extends PartitionLog>(log: T): T {
  log.noteHighWatermark(log.logEndOffset);
  return log;
}

const fastTempRoot = ((): string | undefined => {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return fs.statSync('/dev/shm').isDirectory() ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * Per-test resources: temp directories and managers made through it are
 * closed and removed after each test (managers first), even when it fails.
 */
export function storageFixture(afterEachHook: (fn: () => Promise<void>) => void) {
  const dirs: (() => void)[] = [];
  const managers: LogManager[] = [];
  afterEachHook(async () => {
    for (const m of managers.splice(0)) await m.close().catch(() => undefined);
    for (const cleanup of dirs.splice(0)) cleanup();
  });
  return {
    dir(): string {
      const t = tempDir();
      dirs.push(t.cleanup);
      return t.dir;
    },
    /**
     * A temp directory on a RAM-backed file system when there is one (Linux
     * /dev/shm): real files and a real LevelDB, but fsync costs nothing, for
     * tests that reopen a log hundreds of times.
     */
    fastDir(): string {
      const t = tempDir('sluice-test-', fastTempRoot);
      dirs.push(t.cleanup);
      return t.dir;
    },
    async open(dir: string | string[], config: Partial<LogConfig> = {}): Promise<LogManager> {
      const m = await openManager(dir, config);
      managers.push(m);
      return m;
    },
  };
}

/** Recomputes the CRC-32C of the batch at `pos` after a test edited a covered field. */
export function fixCrc(buf: Buffer, pos = 0): Buffer {
  const size = batchSizeOf(buf, pos);
  buf.writeUInt32BE(crc32c(buf.subarray(pos + 21, pos + size)), pos + 17);
  return buf;
}

export { prng } from './prng.js';

/**
 * The records the crash test's writer appends: their contents follow from
 * their offsets alone, so any reader can check any record it is served.
 */
export function crashRecords(baseOffset: number, count: number): RecordInput[] {
  return Array.from({ length: count }, (_, j) => {
    const o = baseOffset + j;
    return {
      key: Buffer.from(`k${o}`),
      value: Buffer.from(`v${o}:${'x'.repeat((o * 7) % 50)}`),
      timestamp: 1_600_000_000_000 + o,
    };
  });
}

/** Why a served record is not what crashRecords wrote at its offset, or undefined when it is. */
export function crashRecordProblem(record: DecodedRecord): string | undefined {
  const [want] = crashRecords(record.offset, 1) as [RecordInput];
  if (record.key?.toString() !== (want.key as Buffer).toString())
    return `offset ${record.offset}: key ${record.key?.toString()}`;
  if (record.value?.toString() !== (want.value as Buffer).toString()) return `offset ${record.offset}: wrong value`;
  if (record.timestamp !== want.timestamp) return `offset ${record.offset}: timestamp ${record.timestamp}`;
  return undefined;
}

/** XORs one byte of `buf` with `mask` (a flipped bit on disk or on the wire). */
export function flipByte(buf: Buffer, index: number, mask: number): void {
  if (index < 0 || index >= buf.length) throw new RangeError(`byte ${index} is outside a buffer of ${buf.length}`);
  buf[index] = (buf[index] as number) ^ mask;
}

/**
 * Spoils the segment file at `baseOffset` in `partitionDir`: `spoil` changes
 * its bytes (given the segment's batch layout), which are then written back
 * whole (truncated first: not for a file a broker may be reading meanwhile).
 * Gives the layout.
 */
export function spoilSegment(
  partitionDir: string,
  baseOffset: number,
  spoil: (bytes: Buffer, layout: BatchInfo[]) => void,
): BatchInfo[] {
  const layout = segmentLayout(partitionDir, baseOffset);
  const file = segmentPath(partitionDir, baseOffset);
  const bytes = fs.readFileSync(file);
  spoil(bytes, layout);
  fs.writeFileSync(file, bytes);
  return layout;
}

/**
 * The whole, CRC-checked batches in a partition directory's segment files, in
 * offset order, each as (file bytes, position): what a broker holds on disk.
 * Stops at a file's torn or unreadable tail.
 */
export function storedBatches(partitionDir: string): { buf: Buffer; pos: number }[] {
  const out: { buf: Buffer; pos: number }[] = [];
  const files = fs
    .readdirSync(partitionDir)
    .filter((f) => parseSegmentFileName(f) !== undefined)
    .sort();
  for (const file of files) {
    const buf = fs.readFileSync(path.join(partitionDir, file));
    let pos = 0;
    while (pos < buf.length) {
      let size: number;
      try {
        size = checkFraming(buf, pos, buf.length);
      } catch {
        break;
      }
      if (!crcMatches(buf, pos, size)) break;
      out.push({ buf, pos });
      pos += size;
    }
  }
  return out;
}

/**
 * The records of the whole batches in a partition directory's segment files
 * (storedBatches), decoded: what a broker holds of the partition on disk.
 */
export function storedRecordsIn(partitionDir: string): DecodedRecord[] {
  return storedBatches(partitionDir).flatMap(({ buf, pos }) => decodeBatchRecords(buf, pos));
}
