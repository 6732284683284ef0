/**
 * Log compaction of one partition (Kafka's LogCleaner, one pass of a
 * cleaner thread): keep only the latest record of every key.
 *
 * The log's closed segments split at the cleaner checkpoint (the first dirty
 * offset, kept in the partition's metadata) into a clean part and a dirty
 * part; the active segment is never touched, nor any segment from the first
 * one with a record younger than min.compaction.lag.ms on. A pass runs when
 * the dirty share of those bytes reaches min.cleanable.dirty.ratio (or a
 * dirty record is older than max.compaction.lag.ms):
 *
 *  1. map every key of the dirty part to its latest offset (offset-map.ts,
 *     bounded: when it fills, the pass cleans only up to where it reached),
 *     leaving out control batches and the batches of aborted transactions
 *     (cleaner-aborted.ts: an aborted write must not shadow its key's
 *     committed value);
 *  2. rewrite every segment from the log start up to there into
 *     `<base>.log.cleaned`, keeping a record when it is its key's latest (or
 *     lies past the mapped part), dropping records without a key (as Kafka),
 *     and dropping a tombstone once its batch's delete horizon has passed
 *     (batch-filter.ts), and dropping the batches of aborted transactions
 *     (as Kafka; committed transactional batches are cleaned as any other).
 *     A transaction marker stays while a record of its transaction does;
 *     once none does, it goes after delete.retention.ms, with its index
 *     entry (cleaner-markers.ts). A batch left empty
 *     is kept as an empty batch when it is its producer's last (Kafka keeps
 *     it for the producer's sequence state) or the last batch of its segment
 *     (so the segment still ends where the next one starts: Sluice's
 *     segments are contiguous);
 *  3. fsync each file, then swap segment by segment, oldest first:
 *     forget the segment's summary in LevelDB (a stop from here on recovers
 *     the segment from its file), rename `.cleaned` → `.swap`, fsync the
 *     directory, rename `.swap` → `.log` (atomic), fsync the directory, swap
 *     the open segment in memory, and write its new index entries and summary;
 *  4. move the checkpoint to the end of the mapped part.
 *
 * A stop at any point leaves each segment either old or new (the loader
 * deletes `.cleaned` files and finishes a `.swap`: log-loader.ts), and since
 * segments are swapped oldest first, a record is only ever dropped when a
 * later record of its key stays: every key keeps its latest value.
 * Offsets never change; the bytes stay Kafka RecordBatch v2, with gaps.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { batchHeaderBytes, cleanerSliceMs } from '../shared/limits.js';
import {
  attributesOf,
  baseOffsetOf,
  batchSizeOf,
  controlFlag,
  lastOffsetOf,
  maxTimestampOf,
  producerIdOf,
  recordsCountOf,
} from '../wire/record-batch.js';
import { isTransactionalBatch, readTxnMarker } from '../wire/txn-marker.js';
import { batchRecords, type CleanerRecord, deleteHorizonOf, rewriteBatch } from './batch-filter.js';
import { type AbortedRanges, abortedRangesOf } from './cleaner-aborted.js';
import { MarkerRetention } from './cleaner-markers.js';
import { compacts, type LogConfig } from './log-config.js';
import { segmentFileName } from './names.js';
import { OffsetMap } from './offset-map.js';
import type { IndexEntry, PartitionIndex } from './partition-index.js';
import { Segment, type SegmentSummary } from './segment.js';
import type { SegmentList } from './segment-list.js';

export const cleanedSuffix = '.cleaned';
export const swapSuffix = '.swap';

/** The steps of a swap after which a test may stop the pass, as a crash would. */
export type CleanStep = 'cleaned-written' | 'summary-forgotten' | 'swap-renamed' | 'replaced' | 'indexed';

export interface CleanOptions {
  nowMs: number;
  /** Bytes the key map may use (log.cleaner.dedupe.buffer.size). */
  dedupeBufferBytes: number;
  /** Clean whatever is dirty, whatever the ratio (tests, benchmarks). */
  force?: boolean;
  /** Tests: called after each step; a throw there stops the pass as a crash would. */
  afterStep?: (step: CleanStep, segmentBase: number) => void;
}

export interface CleanStats {
  /** Bytes of the segments rewritten, before and after. */
  bytesRead: number;
  bytesWritten: number;
  segments: number;
  recordsRead: number;
  recordsKept: number;
  /** The new cleaner checkpoint: everything below it is clean. */
  cleanedTo: number;
}

/** What the cleaner needs of the log it cleans (PartitionLog builds this). */
export interface CleanTarget {
  readonly name: string;
  readonly dir: string;
  readonly segments: SegmentList;
  readonly index: PartitionIndex;
  /** The log's config now (read at each pass: a topic config may change between passes). */
  config(): LogConfig;
  /** The first dirty offset. */
  checkpoint(): number;
  /** The last offset of a producer's latest batch, undefined when unknown. */
  producerLastOffset(producerId: number): number | undefined;
  /**
   * Kafka's last stable offset: the lower of the high watermark and the first offset of the oldest
   * open transaction. No segment holding it or after it is cleaned: a record above the high
   * watermark may still be truncated (a newer value cleaning away an acknowledged older one, then
   * truncated itself, would lose the key), and an open transaction's outcome is not known yet.
   */
  stableEnd(): number;
  /** Still open and writable. */
  usable(): boolean;
  /** Makes durable that the log may hold offset gaps from now on (before the first swap). */
  gapsBegin(): Promise<void>;
  /** Drops read state that may point into a replaced file. */
  segmentReplaced(): void;
  /** Records and persists the new checkpoint. */
  checkpointMoved(offset: number): Promise<void>;
}

export interface Cleanability {
  firstDirty: number;
  /** Index (in the segment list) of the first segment the cleaner must not touch. */
  uncleanable: number;
  dirtyBytes: number;
  totalBytes: number;
  ratio: number;
  /** A dirty record is older than max.compaction.lag.ms. */
  overdue: boolean;
}

/** How dirty a compacted log is; undefined when its policy does not compact or nothing is cleanable. */
export function cleanability(target: CleanTarget, nowMs: number): Cleanability | undefined {
  const config = target.config();
  if (!compacts(config)) return undefined;
  const segments = target.segments;
  const firstDirty = Math.max(target.checkpoint(), segments.logStartOffset);
  // never the active segment, nor one with a record younger than min.compaction.lag.ms (or any after it)
  let uncleanable = segments.length - 1;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments.at(i);
    if (
      s.nextOffset > firstDirty &&
      config.minCompactionLagMs > 0 &&
      nowMs - s.maxTimestamp < config.minCompactionLagMs
    ) {
      uncleanable = i;
      break;
    }
  }
  // nor one that reaches the last stable offset, or lies after it (CleanTarget.stableEnd)
  const stableEnd = target.stableEnd();
  for (let i = 0; i < uncleanable; i++) {
    if (segments.at(i).nextOffset > stableEnd) {
      uncleanable = i;
      break;
    }
  }
  let dirtyBytes = 0;
  let totalBytes = 0;
  let overdue = false;
  for (let i = 0; i < uncleanable; i++) {
    const s = segments.at(i);
    totalBytes += s.size;
    if (s.nextOffset > firstDirty) {
      dirtyBytes += s.size;
      if (s.maxTimestamp >= 0 && nowMs - s.maxTimestamp > config.maxCompactionLagMs) overdue = true;
    }
  }
  if (dirtyBytes === 0) return undefined;
  return { firstDirty, uncleanable, dirtyBytes, totalBytes, ratio: dirtyBytes / totalBytes, overdue };
}

/** Yields the batches of `segment` from `from` in large reads: (buffer, position in it, file position). */
function* batchesOf(segment: Segment, from = 0): Generator<[Buffer, number, number]> {
  const chunkBytes = 1024 * 1024;
  let chunk = Buffer.allocUnsafe(chunkBytes);
  let chunkStart = 0;
  let chunkLength = 0;
  let position = from;
  const size = segment.size;
  while (position < size) {
    if (position + batchHeaderBytes > chunkStart + chunkLength) {
      chunkStart = position;
      chunkLength = segment.read(position, Math.min(chunk.length, size - position), chunk).length;
    }
    let at = position - chunkStart;
    const batchSize = batchSizeOf(chunk, at);
    if (batchSize < batchHeaderBytes || position + batchSize > size) {
      throw new SluiceError(
        ErrorCode.CorruptRecord,
        `${segment.path}: impossible batch length ${batchSize} at position ${position}`,
      );
    }
    if (at + batchSize > chunkLength) {
      if (batchSize > chunk.length) chunk = Buffer.allocUnsafe(batchSize);
      chunkStart = position;
      chunkLength = segment.read(position, Math.min(chunk.length, size - position), chunk).length;
      at = 0;
    }
    yield [chunk, at, position];
    position += batchSize;
  }
}

/** The log closed (or was deleted) under the pass: the error its own reads and appends give then. */
const closedWhileCleaned = (target: CleanTarget): SluiceError =>
  new SluiceError(ErrorCode.LogClosed, `${target.name} closed while being cleaned`);

const isControl = (buf: Buffer, pos: number): boolean => (attributesOf(buf, pos) & controlFlag) !== 0;

/** A data batch of an aborted transaction (`aborted` undefined: not known, taken as not aborted). */
const isAbortedData = (buf: Buffer, pos: number, aborted: AbortedRanges | undefined): boolean =>
  aborted !== undefined &&
  isTransactionalBatch(buf, pos) &&
  !isControl(buf, pos) &&
  aborted.isAborted(producerIdOf(buf, pos), baseOffsetOf(buf, pos));

/**
 * Lets appends and fetches run between slices of the cleaner's work (at most cleanerSliceMs of
 * synchronous work each); stops the pass when the log is closing.
 */
class Slicer {
  private sliceStart = performance.now();
  constructor(private readonly target: CleanTarget) {}
  async maybePause(): Promise<void> {
    if (performance.now() - this.sliceStart < cleanerSliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
    if (!this.target.usable()) throw closedWhileCleaned(this.target);
  }
}

/** The aborted transactions of `segment` (cleaner-aborted.ts); a log closed meanwhile stops the pass. */
async function abortedIn(target: CleanTarget, segment: Segment): Promise<AbortedRanges | undefined> {
  let aborted: AbortedRanges | undefined;
  try {
    aborted = await abortedRangesOf(target.index, segment.baseOffset, segment.nextOffset);
  } catch (err) {
    throw target.usable() ? err : closedWhileCleaned(target);
  }
  if (!target.usable()) throw closedWhileCleaned(target);
  return aborted;
}

/**
 * Step 1: maps every key of the dirty part (but those of control batches and aborted
 * transactions); returns the map and the offset the pass cleans up to (exclusive). A segment
 * overlapping too many aborted transactions to hold is not mapped: the pass ends before it.
 */
async function buildMap(target: CleanTarget, c: Cleanability, capacity: number): Promise<[OffsetMap, number]> {
  const map = new OffsetMap(capacity);
  const segments = target.segments;
  let end = c.firstDirty;
  const slicer = new Slicer(target);
  for (let i = 0; i < c.uncleanable; i++) {
    const segment = segments.at(i);
    if (segment.nextOffset <= c.firstDirty) continue;
    const aborted = await abortedIn(target, segment);
    if (!aborted) return [map, Math.max(end, segment.baseOffset)];
    for (const [buf, at] of batchesOf(segment)) {
      if (lastOffsetOf(buf, at) < c.firstDirty || isControl(buf, at) || isAbortedData(buf, at, aborted)) continue;
      for (const r of batchRecords(buf, at)) {
        if (r.offset < c.firstDirty || r.key === null) continue;
        if (!map.put(r.key, r.offset)) return [map, r.offset];
      }
      end = lastOffsetOf(buf, at) + 1;
      await slicer.maybePause();
    }
    end = segment.nextOffset;
  }
  return [map, end];
}

interface CleanedSegment {
  old: Segment;
  file: string;
  summary: SegmentSummary;
  entries: IndexEntry[];
  recordsRead: number;
  recordsKept: number;
  /** Offsets of the abort markers the copy removed: their aborted-transaction index entries go with the swap. */
  removedAborts: number[];
}

/** Step 2: writes the cleaned copy of one segment to `<base>.log.cleaned` and fsyncs it. */
async function cleanSegment(
  target: CleanTarget,
  segment: Segment,
  map: OffsetMap,
  cleanTo: number,
  markers: MarkerRetention,
  options: CleanOptions,
): Promise<CleanedSegment> {
  const config = target.config();
  // (too many to hold: its aborted batches stay; none is in the map, so keeping them is harmless)
  const aborted = await abortedIn(target, segment);
  const file = path.join(target.dir, segmentFileName(segment.baseOffset) + cleanedSuffix);
  const fd = fs.openSync(file, 'w');
  try {
    let written = 0;
    let maxTimestamp = -1;
    let sinceEntry = 0;
    let recordsRead = 0;
    let recordsKept = 0;
    const removedAborts: number[] = [];
    const entries: IndexEntry[] = [];
    const pending: Buffer[] = [];
    let pendingBytes = 0;
    const flushPending = (): void => {
      if (pendingBytes === 0) return;
      const out = Buffer.concat(pending, pendingBytes);
      let done = 0;
      while (done < out.length) done += fs.writeSync(fd, out, done, out.length - done);
      pending.length = 0;
      pendingBytes = 0;
    };
    const slicer = new Slicer(target);
    for (const [buf, at, position] of batchesOf(segment)) {
      const size = batchSizeOf(buf, at);
      const lastInSegment = position + size === segment.size;
      let out: Buffer | undefined;
      if (isControl(buf, at)) {
        const marker = { buf, at, size, lastInSegment };
        out = cleanMarker(target, marker, markers, cleanTo, options.nowMs + config.deleteRetentionMs, options.nowMs);
        if (!out || recordsCountOf(out, 0) === 0) {
          if (readTxnMarker(buf, at)?.committed === false) removedAborts.push(lastOffsetOf(buf, at));
        }
      } else if (isAbortedData(buf, at, aborted)) {
        // never read by read_committed readers: dropped (kept empty when its producer's or segment's last)
        recordsRead += recordsCountOf(buf, at);
        markers.dataBatch(producerIdOf(buf, at), 0);
        if (lastInSegment || producerKeeps(target, buf, at)) out = rewriteBatch(buf, at, []);
      } else {
        const records = batchRecords(buf, at);
        recordsRead += records.length;
        const horizon = deleteHorizonOf(buf, at);
        const tombstonesGo = horizon !== undefined && options.nowMs >= horizon;
        const kept = records.filter((r) => keep(r, map, cleanTo, tombstonesGo));
        recordsKept += kept.length;
        if (isTransactionalBatch(buf, at)) markers.dataBatch(producerIdOf(buf, at), kept.length);
        // KIP-534: the first clean that keeps a tombstone starts its delete.retention.ms
        const stampHorizon =
          horizon === undefined && kept.some((r) => r.tombstone) ? options.nowMs + config.deleteRetentionMs : undefined;
        if (kept.length === records.length && stampHorizon === undefined)
          out = Buffer.from(buf.subarray(at, at + size));
        else if (kept.length > 0 || lastInSegment || producerKeeps(target, buf, at)) {
          out = rewriteBatch(buf, at, kept, stampHorizon);
        }
      }
      if (out) {
        if (written > 0 && sinceEntry >= config.indexIntervalBytes) {
          entries.push({ offset: baseOffsetOf(out, 0), segmentBase: segment.baseOffset, position: written });
          sinceEntry = 0;
        }
        sinceEntry += out.length;
        const ts = maxTimestampOf(out, 0);
        if (ts > maxTimestamp) maxTimestamp = ts;
        pending.push(out);
        pendingBytes += out.length;
        written += out.length;
        if (pendingBytes >= 1024 * 1024) flushPending();
      }
      await slicer.maybePause();
    }
    flushPending();
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    const summary = { size: written, nextOffset: segment.nextOffset, maxTimestamp };
    return { old: segment, file, summary, entries, recordsRead, recordsKept, removedAborts };
  } finally {
    fs.closeSync(fd);
  }
}

/** Kafka's rule for a record: the latest of its key (or past the mapped part), and not an expired tombstone. */
function keep(r: CleanerRecord, map: OffsetMap, cleanTo: number, tombstonesGo: boolean): boolean {
  if (r.key === null) return false; // Kafka's cleaner drops a record without a key
  if (r.offset < cleanTo && map.get(r.key) > r.offset) return false;
  return !(r.tombstone && tombstonesGo);
}

/**
 * A control batch (a transaction marker) in the copy: kept while a record of its transaction
 * stays (or when it lies past the mapped part); once none does, the first pass stamps its delete
 * horizon and a pass after it removes it (cleaner-markers.ts), leaving Kafka's empty batch when
 * it is its producer's or its segment's last. Undefined: left out.
 */
function cleanMarker(
  target: CleanTarget,
  m: { buf: Buffer; at: number; size: number; lastInSegment: boolean },
  markers: MarkerRetention,
  cleanTo: number,
  horizonIfStamped: number,
  nowMs: number,
): Buffer | undefined {
  const { buf, at } = m;
  const alone = isTransactionalBatch(buf, at) && markers.markerAlone(producerIdOf(buf, at));
  const horizon = deleteHorizonOf(buf, at);
  if (!alone || lastOffsetOf(buf, at) >= cleanTo || (horizon !== undefined && nowMs < horizon)) {
    return Buffer.from(buf.subarray(at, at + m.size));
  }
  if (horizon === undefined) return rewriteBatch(buf, at, batchRecords(buf, at), horizonIfStamped);
  return m.lastInSegment || producerKeeps(target, buf, at) ? rewriteBatch(buf, at, []) : undefined;
}

/** Kafka keeps a producer's last batch, even empty, so its sequence state survives the clean. */
function producerKeeps(target: CleanTarget, buf: Buffer, at: number): boolean {
  const producerId = producerIdOf(buf, at);
  return producerId >= 0 && target.producerLastOffset(producerId) === lastOffsetOf(buf, at);
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Step 3 for one segment. Returns false (and deletes the cleaned file) when
 * the log changed under the pass (a truncation or retention removed or cut
 * the segment): the pass then stops, everything swapped before stays.
 */
async function swapIn(target: CleanTarget, c: CleanedSegment, options: CleanOptions): Promise<boolean> {
  const step = (s: CleanStep): void => options.afterStep?.(s, c.old.baseOffset);
  const still = (): boolean =>
    target.usable() &&
    target.segments.indexOf(c.old) >= 0 &&
    target.segments.indexOf(c.old) < target.segments.length - 1;
  if (!still()) {
    fs.rmSync(c.file, { force: true });
    return false;
  }
  await target.index.forgetSegmentSummary(c.old.baseOffset);
  // before the marker leaves the file: an index entry without its marker would make a reader skip
  // the producer's later records, a marker without its entry is harmless (its transaction is empty)
  if (c.removedAborts.length > 0) await target.index.forgetAbortedTxns(c.removedAborts);
  step('summary-forgotten');
  const size = c.old.size;
  if (!still() || c.old.size !== size) {
    fs.rmSync(c.file, { force: true });
    return false;
  }
  // from here to the in-memory swap everything is synchronous: no append, read or truncation interleaves
  const logFile = c.old.path;
  const swapFile = logFile + swapSuffix;
  fs.renameSync(c.file, swapFile);
  fsyncDir(target.dir);
  step('swap-renamed');
  fs.renameSync(swapFile, logFile);
  fsyncDir(target.dir);
  step('replaced');
  const fresh = Segment.open(target.dir, c.old.baseOffset, c.old.files);
  fresh.nextOffset = c.summary.nextOffset;
  fresh.maxTimestamp = c.summary.maxTimestamp;
  fresh.verifiedBytes = fresh.size;
  fresh.firstAppendMs = c.old.firstAppendMs;
  target.segments.replace(c.old, fresh);
  c.old.close();
  target.segmentReplaced();
  await target.index.replaceSegmentEntries(c.old.baseOffset, c.summary.nextOffset, c.entries, c.summary);
  step('indexed');
  return true;
}

/** One cleaning pass over `target`; undefined when it was not due (or had nothing to clean). */
export async function cleanLog(target: CleanTarget, options: CleanOptions): Promise<CleanStats | undefined> {
  const c = cleanability(target, options.nowMs);
  if (!c) return undefined;
  const config = target.config();
  if (!options.force && c.ratio < config.minCleanableDirtyRatio && !c.overdue) return undefined;
  const [map, cleanTo] = await buildMap(target, c, options.dedupeBufferBytes);
  if (cleanTo <= c.firstDirty) return undefined;

  // every closed segment from the log start to the one holding the last mapped offset
  const toClean: Segment[] = [];
  for (let i = 0; i < c.uncleanable; i++) {
    const s = target.segments.at(i);
    if (s.baseOffset >= cleanTo) break;
    toClean.push(s);
  }
  const stats: CleanStats = {
    bytesRead: 0,
    bytesWritten: 0,
    segments: 0,
    recordsRead: 0,
    recordsKept: 0,
    cleanedTo: cleanTo,
  };
  const cleaned: CleanedSegment[] = [];
  // segments are copied oldest first: every record of a transaction is seen before its marker
  const markers = new MarkerRetention();
  try {
    for (const s of toClean) {
      if (!target.usable()) throw closedWhileCleaned(target);
      cleaned.push(await cleanSegment(target, s, map, cleanTo, markers, options));
    }
    for (const cs of cleaned) options.afterStep?.('cleaned-written', cs.old.baseOffset);
    await target.gapsBegin();
    // whatever entries wait in memory reach LevelDB first: the swap rewrites the stored blocks
    await target.index.write();
    for (const cs of cleaned) {
      if (!(await swapIn(target, cs, options))) {
        stats.cleanedTo = Math.min(stats.cleanedTo, cs.old.baseOffset);
        break;
      }
      stats.segments++;
      stats.bytesRead += cs.old.size;
      stats.bytesWritten += cs.summary.size;
      stats.recordsRead += cs.recordsRead;
      stats.recordsKept += cs.recordsKept;
    }
  } catch (err) {
    // a failed pass leaves only files the loader also sweeps; a simulated crash leaves them to it
    if (!(err instanceof SimulatedCrash)) for (const cs of cleaned) fs.rmSync(cs.file, { force: true });
    throw err;
  }
  if (stats.segments === 0) return undefined;
  if (stats.cleanedTo > target.checkpoint()) await target.checkpointMoved(stats.cleanedTo);
  return stats;
}

/** Thrown by a test's afterStep hook: the pass stops where it is and cleans nothing up, as a crash would. */
export class SimulatedCrash extends Error {}
