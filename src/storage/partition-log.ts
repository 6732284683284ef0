/**
 * The log of one partition: an ordered list of segments, the last one active.
 * Append validates every batch before writing any byte, assigns offsets by
 * writing each batch's base offset into its header, writes the bytes, and adds
 * sparse index entries. Reads return whole batches as bytes of one segment.
 */
import fs from 'node:fs';
import { assert } from '../shared/assert.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import {
  batchHeaderBytes,
  producerIdExpirationMsDefault,
  producerStateRebuildBytesMax,
  scanHopsMax,
} from '../shared/limits.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import {
  baseOffsetOf,
  batchSizeOf,
  checkFraming,
  crcMatches,
  lastOffsetDeltaOf,
  lastOffsetOf,
  logOverheadBytes,
  maxTimestampOf,
  partitionLeaderEpochOf,
  recordsCountOf,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateBatch,
} from '../wire/record-batch.js';
import type { IndexDb } from './index-store.js';
import type { LogConfig } from './log-config.js';
import { loadLog } from './log-loader.js';
import { type IndexEntry, PartitionIndex, type PartitionMeta } from './partition-index.js';
import { ProducerStateTable } from './producer-state.js';
import { findRecordAtOrAfter } from './record-time.js';
import { Segment } from './segment.js';
import { scanSegment } from './segment-scanner.js';
import { SparseIndexer } from './sparse-indexer.js';

export interface AppendOptions {
  /** Stamped into every batch's partitionLeaderEpoch; defaults to the latest known epoch. */
  leaderEpoch?: number;
  /**
   * false for replicas copying a leader: batches keep their offsets, which must
   * continue the log exactly.
   */
  assignOffsets?: boolean;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  maxTimestamp: number;
  /** True when the (single) batch was a retry of one appended before: nothing was written, the offsets are the original's. */
  duplicate?: boolean;
}

export interface ReadOptions {
  /** Exclusive upper bound, e.g. the high watermark; defaults to the log end. */
  maxOffset?: number;
  /** Return the first batch even when it is larger than maxBytes (Kafka's KIP-74). Default true. */
  minOneBatch?: boolean;
}

export interface ReadResult {
  /** Whole batches; the first may start before the requested offset. Empty when nothing is there. */
  records: Buffer;
  /** Where the bytes lie: the segment's base offset and the file position. */
  segmentBaseOffset: number;
  position: number;
  /** Offset after the last returned record, or the requested offset when none. */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface TimestampLookup {
  offset: number;
  timestamp: number;
}

const headerWindowBytes = 16 * 1024;

export class PartitionLog {
  private segments: Segment[];
  private readonly indexer: SparseIndexer;
  private logStart: number;
  private recoveryPoint: number;
  private leaderEpochs: [number, number][];
  private unflushedRecords = 0;
  private lastFlushMs = Date.now();
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private offline: SluiceError | undefined;
  /** Where the last read ended: lets a sequential reader skip the index lookup. */
  private readCursor: IndexEntry | undefined;
  private readonly window = Buffer.allocUnsafe(headerWindowBytes);
  /** Idempotent producers' sequence state (producer-state.ts); set up by open(). */
  private producers = new ProducerStateTable(producerIdExpirationMsDefault);

  private constructor(
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    private config: LogConfig,
    private readonly index: PartitionIndex,
    loaded: { segments: Segment[]; meta: PartitionMeta; maxTimestampSoFar: number },
    private readonly log: Logger,
  ) {
    this.segments = loaded.segments;
    this.logStart = loaded.meta.logStartOffset;
    this.recoveryPoint = loaded.meta.recoveryPoint;
    this.leaderEpochs = loaded.meta.leaderEpochs;
    this.indexer = new SparseIndexer(index, config.indexIntervalBytes);
    this.indexer.reset(loaded.maxTimestampSoFar);
  }

  /** Opens (and if needed recovers) the log in `dir`, creating it when missing. */
  static async open(opts: {
    topic: string;
    partition: number;
    dir: string;
    db: IndexDb;
    config: LogConfig;
    logger?: Logger;
  }): Promise<PartitionLog> {
    const logger = (opts.logger ?? silentLogger).child({ topic: opts.topic, partition: opts.partition });
    fs.mkdirSync(opts.dir, { recursive: true });
    const index = new PartitionIndex(opts.db, `${opts.topic}-${opts.partition}`);
    const loaded = await loadLog({ dir: opts.dir, index, config: opts.config, logger });
    const log = new PartitionLog(opts.topic, opts.partition, opts.dir, opts.config, index, loaded, logger);
    // Not synced: a kill -9 keeps LevelDB's write (it is in the page cache); after a power loss a
    // stale "clean" mark is still caught, because segment summaries then disagree with the file sizes.
    await log.persistMeta(false, false);
    // idempotent producers: their sequence state is read back from the batch headers at the log's tail
    log.producers = new ProducerStateTable(
      opts.config.producerIdExpirationMs ?? producerIdExpirationMsDefault,
      `${opts.topic}-${opts.partition}: `,
    );
    await log.rebuildProducerState();
    return log;
  }

  get logStartOffset(): number {
    return this.logStart;
  }
  get logEndOffset(): number {
    return this.active.nextOffset;
  }
  get sizeBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }
  get segmentCount(): number {
    return this.segments.length;
  }
  get segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }
  get latestEpoch(): number {
    return this.leaderEpochs.at(-1)?.[0] ?? -1;
  }
  get epochHistory(): ReadonlyArray<readonly [number, number]> {
    return this.leaderEpochs;
  }
  private get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
    this.indexer.setInterval(config.indexIntervalBytes);
  }

  /**
   * Appends one or more concatenated batches. Nothing is written unless every
   * batch is valid. The batches' headers are rewritten in place (base offset,
   * leader epoch): the caller hands the buffer over.
   */
  async append(batches: Buffer, options: AppendOptions = {}): Promise<AppendResult> {
    this.checkWritable();
    if (batches.length === 0) throw new SluiceError(ErrorCode.InvalidRecord, 'nothing to append');
    const assignOffsets = options.assignOffsets ?? true;
    let recordCount = 0;
    let expected = this.logEndOffset;
    for (let pos = 0; pos < batches.length; ) {
      const size = validateBatch(batches, pos, batches.length);
      if (size > this.config.maxMessageBytes) {
        throw new SluiceError(
          ErrorCode.RecordTooLarge,
          `batch of ${size} bytes is larger than message.max.bytes (${this.config.maxMessageBytes})`,
        );
      }
      if (!assignOffsets && baseOffsetOf(batches, pos) !== expected) {
        throw new SluiceError(
          ErrorCode.InvalidRecord,
          `replicated batch has base offset ${baseOffsetOf(batches, pos)}, the log continues at ${expected}`,
        );
      }
      recordCount += recordsCountOf(batches, pos);
      expected += lastOffsetDeltaOf(batches, pos) + 1;
      pos += size;
    }
    // Idempotent producers (producer-state.ts): a leader checks sequences before any byte is written
    // and answers a retried single batch with its original offsets, writing nothing. A replica copies
    // its leader's bytes and only records them (below), never refuses.
    if (assignOffsets) {
      const duplicate = this.producers.checkAppend(batches);
      if (duplicate) return { ...duplicate, duplicate: true };
    }

    this.maybeRoll(batches.length);
    const segment = this.active;
    const epoch = options.leaderEpoch ?? this.latestEpoch;
    const baseOffset = this.logEndOffset;
    let offset = baseOffset;
    let epochsChanged = false;
    for (let pos = 0; pos < batches.length; pos += batchSizeOf(batches, pos)) {
      if (assignOffsets) {
        setBaseOffset(batches, pos, offset);
        setPartitionLeaderEpoch(batches, pos, epoch);
      } else {
        // a replica keeps the leader's stamps and learns the epoch history from them (KIP-101)
        const stamped = partitionLeaderEpochOf(batches, pos);
        if (stamped > this.latestEpoch) {
          this.leaderEpochs.push([stamped, offset]);
          epochsChanged = true;
        }
      }
      offset += lastOffsetDeltaOf(batches, pos) + 1;
    }
    let position: number;
    try {
      position = segment.append(batches);
    } catch (err) {
      this.goOffline(err);
      throw err;
    }
    let maxTimestamp = -1;
    for (let pos = 0; pos < batches.length; ) {
      const size = batchSizeOf(batches, pos);
      const batchMax = maxTimestampOf(batches, pos);
      this.indexer.onBatch(baseOffsetOf(batches, pos), segment.baseOffset, position + pos, size, batchMax);
      if (batchMax > maxTimestamp) maxTimestamp = batchMax;
      pos += size;
    }
    if (segment.firstAppendMs === undefined) segment.firstAppendMs = Date.now();
    // the headers now carry the final offsets: remember the idempotent batches (synchronously after the checks)
    this.producers.onAppended(batches);
    // the appended bytes were validated above; segment.appendedFrom marks where that region starts,
    // so older bytes of a segment reopened without recovery stay unchecked until read
    segment.nextOffset = offset;
    if (maxTimestamp > segment.maxTimestamp) segment.maxTimestamp = maxTimestamp;
    this.unflushedRecords += recordCount;

    if (epochsChanged) await this.persistMeta(false, false);
    const backlog = this.index.writeIfDue((err) => this.goOffline(err));
    if (backlog) await backlog;
    if (this.unflushedRecords >= this.config.flushIntervalMessages) await this.flush();
    return { baseOffset, lastOffset: offset - 1, recordCount, maxTimestamp };
  }

  private maybeRoll(incomingBytes: number): void {
    const segment = this.active;
    if (segment.size === 0) return;
    const full = segment.size + incomingBytes > this.config.segmentBytes;
    const old = segment.firstAppendMs !== undefined && Date.now() - segment.firstAppendMs >= this.config.rollMs;
    if (full || old) this.roll();
  }

  /** Closes the active segment to appends and starts a new one at the log end. */
  roll(): void {
    this.checkWritable();
    const previous = this.active;
    let next: Segment;
    try {
      next = Segment.create(this.dir, previous.nextOffset);
    } catch (err) {
      this.goOffline(err);
      throw err;
    }
    this.segments.push(next);
    this.index.setSegmentSummary(previous.baseOffset, previous.summary);
    // Kafka flushes a rolled segment in the background; so do we
    void this.flush().catch((err) => this.log.error({ err }, 'flush after roll failed'));
    this.log.debug({ baseOffset: next.baseOffset }, 'rolled segment');
  }

  /** fsyncs everything appended so far and records the new recovery point. */
  flush(): Promise<void> {
    const run = async (): Promise<void> => {
      const upTo = this.logEndOffset;
      if (upTo <= this.recoveryPoint && this.unflushedRecords === 0) return;
      this.unflushedRecords = 0;
      this.lastFlushMs = Date.now();
      for (const s of this.segments) {
        if (s.nextOffset > this.recoveryPoint || s === this.active) await s.flush();
      }
      // a truncation or retention during the awaits above may have moved the log end below upTo
      this.recoveryPoint = Math.min(Math.max(this.recoveryPoint, upTo), this.logEndOffset);
      await this.persistMeta(false, true);
    };
    const next = this.flushing.then(run);
    this.flushing = next.catch(() => undefined);
    return next.catch((err) => {
      this.goOffline(err);
      throw err;
    });
  }

  /** Flushes when log.flush.interval.ms has passed since the last flush and records wait. */
  async flushIfDue(nowMs: number): Promise<void> {
    if (this.closed || this.offline) return;
    if (this.unflushedRecords > 0 && nowMs - this.lastFlushMs >= this.config.flushIntervalMs) await this.flush();
  }

  private async persistMeta(cleanShutdown: boolean, sync: boolean): Promise<void> {
    this.index.setSegmentSummary(this.active.baseOffset, this.active.summary);
    this.index.setMeta({
      logStartOffset: this.logStart,
      recoveryPoint: this.recoveryPoint,
      cleanShutdown,
      leaderEpochs: this.leaderEpochs,
    });
    await this.index.write(sync);
  }

  async read(offset: number, maxBytes: number, options: ReadOptions = {}): Promise<ReadResult> {
    this.checkOpen();
    this.checkReadRange(offset);
    const cursor = this.readCursor;
    const hint = cursor && cursor.offset === offset ? cursor : await this.index.lookupOffset(offset);
    // everything below is synchronous: no append, roll or retention interleaves
    this.checkOpen();
    this.checkReadRange(offset);
    return this.readFrom(offset, maxBytes, options, hint);
  }

  private readFrom(offset: number, maxBytes: number, options: ReadOptions, hint: IndexEntry | undefined): ReadResult {
    const upper = Math.min(options.maxOffset ?? this.logEndOffset, this.logEndOffset);
    const segment = this.segmentFor(offset);
    const empty = (position: number): ReadResult => ({
      records: Buffer.alloc(0),
      segmentBaseOffset: segment.baseOffset,
      position,
      nextOffset: offset,
      logStartOffset: this.logStart,
      logEndOffset: this.logEndOffset,
    });
    if (offset >= upper || offset >= segment.nextOffset) return empty(segment.size);

    const position = this.positionOf(segment, offset, hint);
    const end = segment.size;
    let length = Math.min(Math.max(maxBytes, 0), end - position);
    let data = segment.read(position, length);
    let used = this.wholeBatches(segment, data, position, offset, upper);
    if (used === 0 && (options.minOneBatch ?? true) && data.length < end - position) {
      // the first batch alone is larger than maxBytes: return it whole
      const header = segment.read(position, logOverheadBytes);
      length = Math.min(batchSizeOf(header, 0), end - position);
      data = segment.read(position, length);
      used = this.wholeBatches(segment, data, position, offset, upper);
    }
    if (used === 0) {
      // a first batch whose length field cannot be right would stall a reader at this offset forever
      const header = segment.read(position, logOverheadBytes);
      const size = header.length === logOverheadBytes ? batchSizeOf(header, 0) : -1;
      if (size < batchHeaderBytes || position + size > end) {
        throw new SluiceError(
          ErrorCode.CorruptRecord,
          `${this.topic}-${this.partition}: batch at offset ${offset} has an impossible length ${size}`,
        );
      }
      return empty(position);
    }
    const records = data.subarray(0, used);
    let last = 0;
    for (let p = 0; p < used; p += batchSizeOf(records, p)) last = p;
    const nextOffset = lastOffsetOf(records, last) + 1;
    this.readCursor = { offset: nextOffset, segmentBase: segment.baseOffset, position: position + used };
    return {
      records,
      segmentBaseOffset: segment.baseOffset,
      position,
      nextOffset,
      logStartOffset: this.logStart,
      logEndOffset: this.logEndOffset,
    };
  }

  /**
   * Length of the prefix of `data` made of whole batches below `upper`.
   * Batches this process has not yet validated are checked (framing, CRC,
   * offsets) before they are served; a corrupt first batch is an error.
   */
  private wholeBatches(segment: Segment, data: Buffer, position: number, offset: number, upper: number): number {
    let p = 0;
    let expected = -1;
    while (data.length - p >= logOverheadBytes) {
      const size = batchSizeOf(data, p);
      if (p + size > data.length || size < logOverheadBytes) break;
      const base = baseOffsetOf(data, p);
      if (base >= upper) break;
      if (!segment.isVerified(position + p, position + p + size)) {
        let problem: string | undefined;
        try {
          checkFraming(data, p, p + size);
          if (!crcMatches(data, p, size)) problem = 'CRC-32C mismatch';
          else if (expected >= 0 ? base !== expected : lastOffsetOf(data, p) < offset || base > offset) {
            problem = `unexpected base offset ${base}`;
          }
        } catch (err) {
          problem = (err as Error).message;
        }
        if (problem !== undefined) {
          this.log.error({ segment: segment.path, position: position + p, problem }, 'corrupt batch in segment');
          if (p === 0) {
            throw new SluiceError(
              ErrorCode.CorruptRecord,
              `${this.topic}-${this.partition}: corrupt batch at offset ${offset} (${problem})`,
            );
          }
          break;
        }
        if (position + p <= segment.verifiedBytes) segment.verifiedBytes = position + p + size;
      }
      expected = base + lastOffsetDeltaOf(data, p) + 1;
      p += size;
    }
    return p;
  }

  /** File position of the batch containing `offset`, hopping headers from the best index entry. */
  private positionOf(segment: Segment, offset: number, hint: IndexEntry | undefined): number {
    let start = 0;
    if (hint && hint.segmentBase === segment.baseOffset && hint.position < segment.size && hint.offset <= offset) {
      const header = segment.read(hint.position, logOverheadBytes);
      if (header.length === logOverheadBytes && baseOffsetOf(header, 0) === hint.offset) start = hint.position;
      else
        this.log.warn({ hint, segment: segment.path }, 'index entry disagrees with the segment file; scanning instead');
    }
    if (start > 0 && hint?.offset === offset) return start;
    const found = this.hop(segment, start, offset);
    if (found >= 0) return found;
    throw new SluiceError(
      ErrorCode.CorruptRecord,
      `${this.topic}-${this.partition}: offset ${offset} not found in segment ${segment.baseOffset}`,
    );
  }

  /** Walks batch headers from `position`; returns the position of the batch holding `offset`, or -1. */
  private hop(segment: Segment, position: number, offset: number): number {
    let windowStart = -1;
    let windowLength = 0;
    for (let hops = 0; hops < scanHopsMax && position < segment.size; hops++) {
      if (windowStart < 0 || position + 27 > windowStart + windowLength) {
        windowStart = position;
        windowLength = segment.read(
          position,
          Math.min(this.window.length, segment.size - position),
          this.window,
        ).length;
        if (windowLength < 27) return -1;
      }
      const at = position - windowStart;
      const size = batchSizeOf(this.window, at);
      if (size < logOverheadBytes) return -1;
      if (lastOffsetOf(this.window, at) >= offset) return baseOffsetOf(this.window, at) <= offset ? position : -1;
      position += size;
    }
    return -1;
  }

  /** The first record whose timestamp is >= `timestamp`, or undefined when every record is older. */
  async offsetForTimestamp(timestamp: number): Promise<TimestampLookup | undefined> {
    this.checkOpen();
    const entry = await this.index.lookupTime(timestamp);
    this.checkOpen();
    const segment = this.segments.find((s) => s.maxTimestamp >= timestamp);
    if (!segment) return undefined;
    let start = 0;
    if (entry && entry.segmentBase === segment.baseOffset && entry.position < segment.size) {
      // The time entry is only a hint, as in positionOf: use it only when it points at the start of
      // the batch it names. An entry that disagrees with the file used to send the header walk into
      // the middle of a batch (negative sizes: an AssertionFailure, or a walk that never ends).
      const header = segment.read(entry.position, logOverheadBytes);
      if (header.length === logOverheadBytes && baseOffsetOf(header, 0) === entry.offset) start = entry.position;
      else
        this.log.warn(
          { entry, segment: segment.path },
          'time index entry disagrees with the segment file; scanning instead',
        );
    }
    for (let position = start; position < segment.size; ) {
      const header = segment.read(position, batchHeaderBytes);
      const size = header.length === batchHeaderBytes ? batchSizeOf(header, 0) : -1;
      // a corrupt length must not move the walk backwards, in place, or past the file
      if (size < batchHeaderBytes || position + size > segment.size) {
        throw new SluiceError(
          ErrorCode.CorruptRecord,
          `${this.topic}-${this.partition}: corrupt batch header at position ${position} of segment ${segment.baseOffset}`,
        );
      }
      if (maxTimestampOf(header, 0) >= timestamp) {
        const batch = segment.read(position, size);
        return findRecordAtOrAfter(batch, timestamp);
      }
      position += size;
    }
    return undefined;
  }

  /** Removes every record at or after `offset` (a follower diverging from its leader). */
  async truncateTo(offset: number): Promise<void> {
    this.checkWritable();
    if (offset >= this.logEndOffset) return;
    const target = Math.max(offset, this.logStart);
    while (this.segments.length > 1 && this.active.baseOffset >= target && this.active.baseOffset > this.logStart) {
      (this.segments.pop() as Segment).delete();
    }
    const segment = this.active;
    const position =
      segment.nextOffset > target
        ? this.positionOf(segment, target, await this.index.lookupOffset(target))
        : segment.size;
    segment.truncateTo(position);
    await this.index.truncateFrom(segment.baseOffset);
    const rescanned = this.reindexSegment(segment);
    segment.nextOffset = rescanned.nextOffset;
    segment.maxTimestamp = rescanned.maxTimestamp;
    this.recoveryPoint = Math.min(this.recoveryPoint, this.logEndOffset);
    this.leaderEpochs = this.leaderEpochs.filter(([, start]) => start < this.logEndOffset);
    this.readCursor = undefined;
    await this.persistMeta(false, true);
    // what was cut may have been some producer's latest batches
    await this.rebuildProducerState();
  }

  /**
   * Drops the whole log and starts it again, empty, at `offset` (Kafka's
   * truncateFullyAndStartAt): a follower whose log ends below its leader's
   * log start cannot fetch what the leader no longer has, so it starts over
   * where the leader's log starts. The new segment exists and the new log
   * start is durable before any old file goes; a crash in between leaves
   * files below the log start, which opening the log sweeps.
   */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    this.checkWritable();
    if (!Number.isSafeInteger(offset) || offset <= this.logEndOffset) {
      throw new SluiceError(
        ErrorCode.InvalidRequest,
        `${this.topic}-${this.partition}: a fresh start must lie past the log end ${this.logEndOffset}, got ${offset}`,
      );
    }
    let fresh: Segment;
    try {
      fresh = Segment.create(this.dir, offset);
    } catch (err) {
      this.goOffline(err);
      throw err;
    }
    const old = this.segments;
    this.segments = [fresh];
    this.logStart = offset;
    this.recoveryPoint = offset;
    this.leaderEpochs = [];
    this.readCursor = undefined;
    this.indexer.reset(-1);
    await this.persistMeta(false, true);
    for (const s of old) s.delete();
    await this.index.deleteBelow(offset);
    await this.rebuildProducerState();
    this.log.warn({ logStartOffset: offset }, 'log truncated fully and started again');
  }

  /**
   * Rebuilds the idempotent producers' state from the batch headers of the
   * last producerStateRebuildBytesMax bytes of the log (whole segments, and
   * the tail of the one that crosses the bound). Producers seen only before
   * that are unknown, which the sequence rules accept (producer-state.ts).
   */
  private async rebuildProducerState(): Promise<void> {
    let budget = producerStateRebuildBytesMax;
    let partial: Segment | undefined;
    let from = 0;
    for (let i = this.segments.length - 1; i >= 0 && !partial; i--) {
      const s = this.segments[i] as Segment;
      if (s.size <= budget) budget -= s.size;
      else {
        partial = s;
        from = await this.batchStartFrom(s, s.size - budget);
      }
    }
    // the walk is synchronous (positional reads): no append interleaves between clearing and refilling,
    // and whatever was appended while the index was consulted above lies in the walked tail
    this.producers.clear();
    const first = partial ? this.segments.indexOf(partial) : 0;
    for (let i = Math.max(first, 0); i < this.segments.length; i++) {
      const s = this.segments[i] as Segment;
      this.producers.recordHeaders(s, s === partial ? from : 0);
    }
    this.producers.removeExpired(Date.now());
  }

  /**
   * The position of a batch start at or after `minPosition` in `segment`, found
   * through the sparse index (a binary search over offsets); 0 (the whole
   * segment) when the index has no entry there or disagrees with the file.
   */
  private async batchStartFrom(segment: Segment, minPosition: number): Promise<number> {
    let lo = segment.baseOffset;
    let hi = segment.nextOffset - 1;
    let best: IndexEntry | undefined;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const entry = await this.index.lookupOffset(mid);
      if (entry && entry.segmentBase === segment.baseOffset && entry.position >= minPosition) {
        best = entry;
        hi = entry.offset - 1;
      } else {
        lo = mid + 1;
      }
    }
    if (!best || best.position >= segment.size) return 0;
    const header = segment.read(best.position, logOverheadBytes);
    return header.length === logOverheadBytes && baseOffsetOf(header, 0) === best.offset ? best.position : 0;
  }

  private reindexSegment(segment: Segment): { nextOffset: number; maxTimestamp: number } {
    let maxBefore = -1;
    for (const s of this.segments) if (s !== segment && s.maxTimestamp > maxBefore) maxBefore = s.maxTimestamp;
    this.indexer.reset(maxBefore);
    const scan = scanSegment(segment, segment.size, segment.baseOffset, (base, pos, size, ts) =>
      this.indexer.onBatch(base, segment.baseOffset, pos, size, ts),
    );
    assert(scan.validBytes === segment.size, 'a segment truncated at a batch boundary rescans whole');
    return scan;
  }

  /**
   * Deletes whole segments that are past retention (log.retention.ms by their
   * newest record, log.retention.bytes by total size). The active segment is
   * rolled first when it has itself expired. Returns the segments deleted.
   */
  async enforceRetention(nowMs: number): Promise<number> {
    if (this.closed || this.offline) return 0;
    const { retentionMs, retentionBytes } = this.config;
    const expired = (s: Segment): boolean => {
      if (retentionMs < 0 || s.size === 0) return false;
      const newest = s.maxTimestamp >= 0 ? s.maxTimestamp : fs.statSync(s.path).mtimeMs;
      return nowMs - newest > retentionMs;
    };
    if (this.segments.length === 1 && expired(this.active)) this.roll();
    let size = this.sizeBytes;
    const count = await this.deleteOldestWhile((oldest) => {
      const overSize = retentionBytes >= 0 && size - oldest.size >= retentionBytes;
      if (!expired(oldest) && !overSize) return false;
      size -= oldest.size;
      return true;
    }, expired);
    if (count > 0)
      this.log.info({ deletedSegments: count, logStartOffset: this.logStart }, 'retention deleted segments');
    return count;
  }

  /**
   * Deletes every whole segment that lies entirely below `offset` (Kafka's
   * DeleteRecords at segment granularity): the log start moves to the first
   * remaining segment. Used to drop what a snapshot has superseded.
   */
  async deleteSegmentsBefore(offset: number): Promise<number> {
    this.checkWritable();
    return this.deleteOldestWhile(
      () => (this.segments[1] as Segment).baseOffset <= offset,
      () => false,
    );
  }

  /**
   * Deletes oldest segments while `doomed` says so, never the last one; rolls
   * first when `rollIfAlone` says the last remaining (active) segment must go too.
   */
  private async deleteOldestWhile(
    doomed: (oldest: Segment) => boolean,
    rollIfAlone: (s: Segment) => boolean,
  ): Promise<number> {
    let count = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      if (!doomed(oldest)) break;
      count++;
      this.segments.shift();
      this.logStart = (this.segments[0] as Segment).baseOffset;
      this.readCursor = undefined;
      // the new log start is durable before any file goes, so a crash in between only leaves a file to sweep
      await this.persistMeta(false, true);
      oldest.delete();
      if (this.segments.length === 1 && rollIfAlone(this.active)) this.roll();
    }
    if (count > 0) await this.index.deleteBelow(this.logStart);
    return count;
  }

  /** Starts a new leader epoch at the current log end (replication bookkeeping). */
  async assignLeaderEpoch(epoch: number): Promise<void> {
    const latest = this.leaderEpochs.at(-1);
    if (latest && latest[0] >= epoch) return;
    this.leaderEpochs.push([epoch, this.logEndOffset]);
    await this.persistMeta(false, true);
  }

  /** Kafka's OffsetsForLeaderEpoch: the log end of `epoch`, i.e. where the next epoch starts. */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } | undefined {
    let found: [number, number] | undefined;
    for (let i = 0; i < this.leaderEpochs.length; i++) {
      const e = this.leaderEpochs[i] as [number, number];
      if (e[0] > epoch) break;
      found = e;
      const next = this.leaderEpochs[i + 1];
      if (e[0] === epoch || (next && next[0] > epoch)) {
        return { epoch: e[0], endOffset: next ? next[1] : this.logEndOffset };
      }
    }
    return found ? { epoch: found[0], endOffset: this.logEndOffset } : undefined;
  }

  /** Flushes, marks the log cleanly shut down, and closes its files. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.offline) {
      await this.flush();
      await this.persistMeta(true, true);
    }
    this.closed = true;
    for (const s of this.segments) s.close();
  }

  /** Closes without the clean-shutdown mark, as a crash would leave it (tests of recovery). */
  async abandon(): Promise<void> {
    this.closed = true;
    await this.flushing;
    for (const s of this.segments) s.close();
  }

  /** Removes every file and index entry of this partition. */
  async delete(): Promise<void> {
    if (!this.closed) await this.abandon();
    await this.index.deleteAll();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private segmentFor(offset: number): Segment {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.segments[mid] as Segment).baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo] as Segment;
  }

  private checkReadRange(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < this.logStart || offset > this.logEndOffset) {
      throw new SluiceError(
        ErrorCode.OffsetOutOfRange,
        `offset ${offset} is outside ${this.topic}-${this.partition}'s range [${this.logStart}, ${this.logEndOffset}]`,
      );
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError(ErrorCode.LogClosed, `${this.topic}-${this.partition} is closed`);
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.offline) throw this.offline;
  }

  private goOffline(err: unknown): void {
    if (this.offline) return;
    this.offline = isSluiceError(err)
      ? err
      : new SluiceError(ErrorCode.StorageError, `${this.topic}-${this.partition}: ${(err as Error).message}`, {
          cause: err,
        });
    this.log.error({ err }, 'log is offline after a storage error');
  }
}
