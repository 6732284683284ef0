/**
 * The log of one partition, a façade over its parts (as Kafka's UnifiedLog
 * over LocalLog and LeaderEpochFileCache): the ordered segments and the
 * offsets bounding them (segment-list.ts), the read path (segment-reader.ts),
 * the leader-epoch history (leader-epoch-cache.ts), retention
 * (log-retention.ts), truncation (log-truncation.ts), the log cleaner's
 * checkpoint and passes (log-cleaning.ts) and idempotent producers' state
 * (producer-state.ts). This file holds the lifecycle, the
 * append sequence, flushing and what is made durable in the partition's metadata.
 *
 * Append validates every batch before writing any byte, assigns offsets by
 * writing each batch's base offset into its header, writes the bytes, and adds
 * sparse index entries. Reads return whole batches as bytes of one segment.
 */
import fs from 'node:fs';
import { assert } from '../shared/assert.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { producerIdExpirationMsDefault } from '../shared/limits.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { baseOffsetOf } from '../wire/record-batch.js';
import {
  type AppendOptions,
  type AppendResult,
  type CheckedBatches,
  checkBatches,
  indexBatches,
  stampBatches,
} from './append-batches.js';
import { isDiskFullError, isSyncFailure } from './disk-space.js';
import { defaultFileCache, type FileCache } from './file-cache.js';
import type { IndexStartGroup } from './index-start-group.js';
import type { IndexDb } from './index-store.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import type { Cleanability, CleanOptions, CleanStats } from './log-cleaner.js';
import { LogCleaning } from './log-cleaning.js';
import { compacts, deletes, type LogConfig } from './log-config.js';
import { LogFlusher } from './log-flusher.js';
import { type LoadedLog, loadLog, type PreloadedLog } from './log-loader.js';
import { LogRetention } from './log-retention.js';
import { type TruncationParts, truncateSegmentsTo } from './log-truncation.js';
import { partitionDirName } from './names.js';
import { PartitionIndex } from './partition-index.js';
import { ProducerStateTable } from './producer-state.js';
import { rebuildProducerState } from './producer-state-loader.js';
import { Segment } from './segment.js';
import { SegmentList } from './segment-list.js';
import { type ReadOptions, type ReadResult, SegmentReader, type TimestampLookup } from './segment-reader.js';
import { SparseIndexer } from './sparse-indexer.js';
import { checkTxnBatches } from './txn-append-check.js';
import { type AbortedTxn, TxnState } from './txn-state.js';
import { recordTxnBatches, recordTxnsFromLog } from './txn-state-loader.js';

export type { AppendOptions, AppendResult } from './append-batches.js';

/** An append's bytes are in the segment: its answer, and whether it taught the log new leader epochs. */
interface Written {
  result: AppendResult;
  epochsChanged: boolean;
}

function noop(): void {}

export type { ReadOptions, ReadResult, TimestampLookup } from './segment-reader.js';

export class PartitionLog {
  private readonly segments: SegmentList;
  private readonly indexer: SparseIndexer;
  private readonly reader: SegmentReader;
  private readonly epochs: LeaderEpochCache;
  private readonly retention: LogRetention;
  private readonly truncation: TruncationParts;
  private readonly flusher: LogFlusher;
  private readonly cleaning: LogCleaning;
  private closed = false;
  private offline: SluiceError | undefined;
  /**
   * Set while the disk is full (a write failed with ENOSPC or EDQUOT): writes are refused with
   * `error` (LogDirFull, answered as KAFKA_STORAGE_ERROR, retriable), reads go on, and
   * retryWrites (the log manager's timer, log.dir.full.retry.ms) lifts it once space returns.
   * `probeBytes`: the largest write refused, what the log directory's probe must be able to write.
   */
  private full: { error: SluiceError; probeBytes: number; sinceMs: number } | undefined;
  /** The replica's high watermark as last noted (PartitionMeta.highWatermark), written with the metadata. */
  private highWatermarkNoted: number;
  /** Idempotent producers' sequence state (producer-state.ts); set up by open(). */
  private producers = new ProducerStateTable(producerIdExpirationMsDefault);
  /** Transactions open here, coordinator epochs (txn-state.ts): read from the log at open, kept by every append. */
  private readonly txns: TxnState;
  /**
   * What the first write needs done (prepareWrites): the producers' state read back from the log's
   * tail, and the clean-shutdown mark cleared while it is still on disk (cleanMarkOnDisk).
   */
  private writesPrepared = false;
  private preparingWrites: Promise<void> | undefined;
  /** Settles once the last append that had to wait is in the file: appends after it wait for it (call order). */
  private appendsWaiting: Promise<void> | undefined;
  /** The stored metadata still says "closed cleanly" (the log has not been written to since the start). */
  private cleanMarkOnDisk = false;
  /** The high watermark as stored at open: a close of an unwritten log rewrites nothing if it is still that. */
  private highWatermarkAtOpen = -1;

  private constructor(
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    private config: LogConfig,
    private readonly index: PartitionIndex,
    loaded: LoadedLog,
    private readonly log: Logger,
    private readonly files: FileCache,
  ) {
    this.segments = new SegmentList(loaded.segments, loaded.meta.logStartOffset, loaded.meta.recoveryPoint);
    this.epochs = new LeaderEpochCache(loaded.meta.leaderEpochs);
    this.indexer = new SparseIndexer(index, config.indexIntervalBytes);
    this.indexer.reset(loaded.maxTimestampSoFar);
    this.reader = new SegmentReader(`${topic}-${partition}`, this.segments, log);
    this.retention = new LogRetention(this.segments, index, {
      logStartMoved: () => {
        this.reader.resetCursor();
        return this.persistMeta(false, true);
      },
      roll: () => this.roll(),
    });
    this.flusher = new LogFlusher(this.segments, {
      persist: (sync) => this.persistMeta(false, sync),
      failed: (err) => this.storageFailed(err),
    });
    this.truncation = { segments: this.segments, index, indexer: this.indexer, reader: this.reader };
    this.cleaning = new LogCleaning(
      {
        name: `${topic}-${partition}`,
        dir,
        segments: this.segments,
        index,
        config: () => this.config,
        producerLastOffset: (producerId) => this.producers.get(producerId)?.recent.at(-1)?.lastOffset,
        stableEnd: () => Math.min(this.txns.firstUnstableOffset() ?? Infinity, this.checkpointedHighWatermark),
        prepare: () => this.prepareWrites() ?? Promise.resolve(),
        // a full disk refuses the cleaner's writes too
        open: () => !this.closed && !this.offline && !this.full,
        segmentReplaced: () => this.reader.resetCursor(),
        persist: () => this.persistMeta(false, true),
      },
      loaded.meta,
    );
    this.highWatermarkNoted = loaded.meta.highWatermark ?? loaded.meta.logStartOffset;
    this.txns = new TxnState(`${topic}-${partition}: `);
    this.loadTxns(loaded);
    this.highWatermarkAtOpen = this.checkpointedHighWatermark;
    this.recoveredSegments = loaded.recoveredSegments;
  }

  /** Segments recovered when this log was opened (it had not been closed cleanly); 0 after a clean stop. */
  readonly recoveredSegments: number;

  /**
   * The transactions open at the log end, from the stored snapshot and the log after it: a log
   * closed cleanly reads nothing; after a crash the batches past the snapshot are read (their
   * headers, and markers whole). A snapshot past the log end (its tail was lost) cannot be
   * trusted: the whole log is read. No snapshot (metadata from before transactions): none was
   * open before the recovery point.
   */
  private loadTxns(loaded: LoadedLog): void {
    const snapshot = loaded.meta.txns;
    let from: number;
    if (snapshot && snapshot.asOf <= this.logEndOffset) {
      this.txns.restore(snapshot);
      from = snapshot.asOf;
    } else {
      from = snapshot ? this.logStartOffset : Math.max(loaded.meta.recoveryPoint, this.logStartOffset);
      this.txns.clear(from);
    }
    if (from < this.logEndOffset) recordTxnsFromLog(this.txns, this.index, this.segments, from);
  }

  /** The first offset of the oldest transaction open here; undefined when none is (the LSO is then the high watermark). */
  get firstUnstableOffset(): number | undefined {
    return this.txns.firstUnstableOffset();
  }

  /** Transactions open here (tests, diagnostics). */
  get openTxns(): ReturnType<TxnState['openTxns']> {
    return this.txns.openTxns();
  }

  /** The last coordinator epoch a marker of `producerId` carried here. */
  lastCoordinatorEpoch(producerId: number): number | undefined {
    return this.txns.lastCoordinatorEpoch(producerId);
  }

  /**
   * The aborted transactions a read of [from, upperBound) overlaps (Kafka's
   * collectAbortedTransactions), at most `max`, in marker order.
   */
  async abortedTxns(from: number, upperBound: number, max: number): Promise<AbortedTxn[]> {
    this.checkOpen();
    return this.index.abortedTxns(from, upperBound, max);
  }

  /** Opens (and if needed recovers) the log in `dir`, creating it when missing. */
  static async open(opts: {
    topic: string;
    partition: number;
    dir: string;
    db: IndexDb;
    config: LogConfig;
    logger?: Logger;
    /** The bounded cache its segment files are opened through (file-cache.ts); the process's default when absent. */
    files?: FileCache;
    /** Its directory's names and stored summaries, read by the log manager with many others' (loadLog). */
    preloaded?: PreloadedLog;
    /** The logs opened with it at a start, whose index reads and writes are made together (index-start-group.ts). */
    startGroup?: IndexStartGroup;
  }): Promise<PartitionLog> {
    const logger = (opts.logger ?? silentLogger).child({ topic: opts.topic, partition: opts.partition });
    // a preloaded log's directory was just listed (a start): no mkdir per partition
    if (!opts.preloaded) fs.mkdirSync(opts.dir, { recursive: true });
    const index = new PartitionIndex(opts.db, partitionDirName(opts.topic, opts.partition), opts.startGroup);
    const files = opts.files ?? defaultFileCache;
    const loaded = await loadLog({ dir: opts.dir, index, config: opts.config, logger, files }, opts.preloaded);
    const log = new PartitionLog(opts.topic, opts.partition, opts.dir, opts.config, index, loaded, logger, files);
    // Not synced: a kill -9 keeps LevelDB's write (it is in the page cache); after a power loss a
    // stale "clean" mark is still caught, because segment summaries then disagree with the file sizes.
    try {
      // A log found exactly as it was closed keeps its clean-shutdown mark until its first write
      // (prepareWrites clears it before any byte changes): a start of thousands of partitions makes
      // no write for those nobody writes to (issue 20 item 4). Any other is written now.
      if (!loaded.asStored) await log.persistMeta(false, false);
      // aborted transactions whose marker a crash's torn tail took (recovery keeps the index of them)
      if (loaded.recoveredSegments > 0) await index.truncateAbortedFrom(log.logEndOffset);
      log.cleanMarkOnDisk = loaded.asStored;
      // idempotent producers: their sequence state is read back from the batch headers at the log's
      // tail, by the first append (or cleaning pass) that needs it, not here: a start with thousands
      // of partitions opens no segment file for the ones nobody writes to (issue 20 items 4 and 5)
      log.producers = new ProducerStateTable(
        opts.config.producerIdExpirationMs ?? producerIdExpirationMsDefault,
        `${opts.topic}-${opts.partition}: `,
      );
    } catch (err) {
      // an open that fails (a full disk refusing the metadata write) is tried again later: no file stays open
      for (const s of log.segments) s.close();
      throw err;
    } finally {
      index.leaveStartGroup();
    }
    return log;
  }

  get logStartOffset(): number {
    return this.segments.logStartOffset;
  }
  get logEndOffset(): number {
    return this.segments.logEndOffset;
  }
  get sizeBytes(): number {
    return this.segments.sizeBytes;
  }
  get segmentCount(): number {
    return this.segments.length;
  }
  /** Offsets below this are fsynced (Kafka's recovery point): a start after a crash recovers only what lies past it. */
  get recoveryPoint(): number {
    return this.segments.recoveryPoint;
  }
  get segmentBaseOffsets(): number[] {
    return this.segments.baseOffsets;
  }
  /** Every segment but the active one, oldest first (the scrubber reads them: log-scrubber.ts). */
  closedSegments(): readonly Segment[] {
    if (this.closed || this.offline) return [];
    return Array.from({ length: this.segments.length - 1 }, (_, i) => this.segments.at(i));
  }
  get latestEpoch(): number {
    return this.epochs.latestEpoch;
  }
  get epochHistory(): ReadonlyArray<readonly [number, number]> {
    return this.epochs.history;
  }

  /**
   * The high watermark recorded before the last close (or crash: then as of
   * the last metadata write), within the log start and end: where a reopened
   * replica's high watermark starts (Kafka's replication-offset-checkpoint).
   */
  get checkpointedHighWatermark(): number {
    return Math.min(Math.max(this.highWatermarkNoted, this.logStartOffset), this.logEndOffset);
  }

  /**
   * The replication layer's high watermark moved: it is kept in memory and
   * made durable with the next metadata write (every flush, log start move,
   * epoch change, truncation and the clean close), as Kafka checkpoints it
   * periodically and at shutdown.
   */
  noteHighWatermark(hw: number): void {
    this.highWatermarkNoted = hw;
  }

  /** The log's config now: readers take it from here, so updateConfig applies to the next use. */
  get currentConfig(): Readonly<LogConfig> {
    return this.config;
  }

  /** The log cleaner's checkpoint: offsets below it have been cleaned. */
  get cleanedTo(): number {
    return this.cleaning.cleanedTo;
  }

  /** How dirty the log is for the cleaner; undefined when its policy does not compact or nothing is cleanable. */
  cleanability(nowMs: number): Cleanability | undefined {
    if (this.closed || this.offline) return undefined;
    return this.cleaning.cleanability(nowMs);
  }

  /**
   * One log-cleaner pass (log-cleaner.ts) when the log is due (or `force`): the closed segments are
   * rewritten keeping each key's latest record. Appends go on meanwhile; each segment's swap is a
   * short synchronous step. Returns what was cleaned, undefined when nothing was.
   */
  clean(
    options: Omit<CleanOptions, 'dedupeBufferBytes'> & { dedupeBufferBytes?: number },
  ): Promise<CleanStats | undefined> {
    this.checkWritable();
    return this.cleaning.clean(options);
  }

  /** Open, writable and not closing: the cleaner may work on it. */
  get cleanable(): boolean {
    return this.cleaning.usable;
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
    this.indexer.setInterval(config.indexIntervalBytes);
  }

  /**
   * Appends one or more concatenated batches. Nothing is written unless every
   * batch is valid. The batches' headers are rewritten in place (base offset,
   * leader epoch): the caller hands the buffer over.
   *
   * Appends reach the file in call order. A prepared log with no append waiting writes at once,
   * in this call (no promise chain per batch: with thousands of partitions per produce request
   * that chain was a large part of the broker's time); otherwise the append waits its turn behind
   * the ones already waiting (the first write's preparation, a compacted leader's gap allowance).
   */
  append(batches: Buffer, options: AppendOptions = {}): Promise<AppendResult> {
    try {
      const result = this.appendNow(batches, options);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * append() without a promise when none is needed: a prepared log with no append waiting writes
   * the batches in this call and, when nothing must follow before the acknowledgement (new epochs'
   * metadata, an index backlog, a due flush), returns the result itself. A keyed produce names
   * thousands of partitions per request; a promise per partition was a large part of its cost
   * (issue 20 item 4). Throws what append() would reject with when the write fails at once.
   */
  appendNow(batches: Buffer, options: AppendOptions = {}): AppendResult | Promise<AppendResult> {
    let written: Written | Promise<Written>;
    if (this.writesPrepared && this.appendsWaiting === undefined) {
      written = this.write(batches, options);
      if (!(written instanceof Promise)) return this.completeAppend(written);
    } else {
      written = (this.appendsWaiting ?? Promise.resolve()).then(async () => {
        this.checkWritable();
        await this.writesReady();
        return this.write(batches, options);
      });
    }
    // later appends wait until this one is in the file (or failed)
    const turn = written.then(noop, noop);
    this.appendsWaiting = turn;
    void turn.then(() => {
      if (this.appendsWaiting === turn) this.appendsWaiting = undefined;
    });
    return written.then((w) => this.completeAppend(w));
  }

  /** Checks, stamps and writes the batches (a promise only when something must be made durable first). */
  private write(batches: Buffer, options: AppendOptions): Written | Promise<Written> {
    this.checkWritable();
    const assignOffsets = options.assignOffsets ?? true;
    const rules = { maxMessageBytes: this.config.maxMessageBytes, requireKeys: compacts(this.config) };
    const checked = checkBatches(batches, rules, this.logEndOffset, assignOffsets);
    // Idempotent producers (producer-state.ts): a leader checks sequences before any byte is written
    // and answers a retried single batch with its original offsets, writing nothing. A replica copies
    // its leader's bytes and only records them (below), never refuses.
    if (assignOffsets) {
      // transactions: a client's control batch is refused, a marker's epochs are checked (txn-append-check.ts)
      const fromCoordinator = options.origin === 'coordinator';
      checkTxnBatches(batches, fromCoordinator, this.txns, this.producers);
      const duplicate = this.producers.checkAppend(batches, Date.now(), fromCoordinator);
      if (duplicate) return { result: { ...duplicate, duplicate: true }, epochsChanged: false };
    }
    // a compacted leader's gaps: recovery must accept them from now on, so that is durable first
    if (checked.gaps && !this.cleaning.offsetGaps) {
      return this.cleaning.allowOffsetGaps().then(() => this.writeChecked(batches, options, checked));
    }
    return this.writeChecked(batches, options, checked);
  }

  private writeChecked(batches: Buffer, options: AppendOptions, checked: CheckedBatches): Written {
    const assignOffsets = options.assignOffsets ?? true;
    this.maybeRoll(batches.length);
    const segment = this.segments.active;
    const epoch = options.leaderEpoch ?? this.latestEpoch;
    // a replica keeps its leader's offsets, which may start past the log end (a compacted leader's gap)
    const baseOffset = assignOffsets ? this.logEndOffset : baseOffsetOf(batches, 0);
    const epochsKnown = this.epochs.history.length;
    const stamped = stampBatches(batches, baseOffset, assignOffsets, epoch, this.epochs);
    assert(stamped.nextOffset === checked.nextOffset, 'stamping ends where validation did');
    let position: number;
    try {
      position = segment.append(batches);
    } catch (err) {
      // Nothing of this append is kept: the segment cut its file back to the last complete batch (a
      // cut that failed is made again before writes resume), no index entry was made, the log end did
      // not move, and the epochs a replica learned from these batches are forgotten.
      this.epochs.keepFirst(epochsKnown);
      throw this.storageFailed(err, batches.length);
    }
    const maxTimestamp = indexBatches(this.indexer, batches, segment.baseOffset, position);
    if (segment.firstAppendMs === undefined) segment.firstAppendMs = Date.now();
    // the headers now carry the final offsets: remember the idempotent batches (synchronously after the checks)
    this.producers.onAppended(batches);
    recordTxnBatches(this.txns, this.index, batches);
    // the appended bytes were validated above; segment.appendedFrom marks where that region starts,
    // so older bytes of a segment reopened without recovery stay unchecked until read
    this.segments.advance(stamped.nextOffset, maxTimestamp);
    const { recordCount } = checked;
    this.flusher.appended(recordCount);
    const result = { baseOffset, lastOffset: stamped.nextOffset - 1, recordCount, maxTimestamp };
    return { result, epochsChanged: stamped.epochsChanged };
  }

  /** What must follow a write before it is acknowledged: new epochs' metadata, an index backlog, a due flush. */
  private completeAppend(written: Written): AppendResult | Promise<AppendResult> {
    const { result } = written;
    if (result.duplicate) return result;
    let backlog: Promise<void> | undefined;
    try {
      backlog = written.epochsChanged ? undefined : this.index.writeIfDue((err) => this.storageFailed(err));
    } catch (err) {
      return this.afterIndexFailure(err, result);
    }
    if (!written.epochsChanged && !backlog && this.flusher.unflushed < this.config.flushIntervalMessages) {
      return result;
    }
    return this.completeSlowly(written, backlog);
  }

  private async completeSlowly(written: Written, backlog: Promise<void> | undefined): Promise<AppendResult> {
    try {
      if (written.epochsChanged) {
        await this.persistMeta(false, false);
        backlog = this.index.writeIfDue((err) => this.storageFailed(err));
      }
      if (backlog) await backlog;
    } catch (err) {
      await this.afterIndexFailure(err, written.result);
    }
    if (this.flusher.unflushed >= this.config.flushIntervalMessages) {
      try {
        await this.flush();
      } catch (err) {
        // the fsync log.flush.interval.messages asks for failed: the append is not acknowledged
        throw this.storageFailed(err);
      }
    }
    return written.result;
  }

  /**
   * The batches are in the segment and the log end moved past them; what failed is the index
   * (LevelDB), which recovery rebuilds from the files. A full disk: the entries wait in memory
   * (this log takes no more appends until retryWrites has written them), the append stands.
   */
  private afterIndexFailure(err: unknown, result: AppendResult): Promise<AppendResult> {
    const failure = this.storageFailed(err);
    if (!this.full || this.offline) return Promise.reject(failure);
    return Promise.resolve(result);
  }

  private maybeRoll(incomingBytes: number): void {
    const segment = this.segments.active;
    if (segment.size === 0) return;
    const full = segment.size + incomingBytes > this.config.segmentBytes;
    const old = segment.firstAppendMs !== undefined && Date.now() - segment.firstAppendMs >= this.config.rollMs;
    if (full || old) this.roll();
  }

  /** Closes the active segment to appends and starts a new one at the log end. */
  roll(): void {
    this.checkWritable();
    const previous = this.segments.active;
    const next = this.createSegment(previous.nextOffset);
    this.segments.roll(next);
    this.index.setSegmentSummary(previous.baseOffset, previous.summary);
    // Kafka flushes a rolled segment in the background; so do we
    void this.flush().catch((err) => this.log.error({ err }, 'flush after roll failed'));
    this.log.debug({ baseOffset: next.baseOffset }, 'rolled segment');
  }

  /** fsyncs everything appended so far and records the new recovery point. */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /** Offsets up to `upTo` are durable (the log manager synced the file system): see LogFlusher.durableTo. */
  durableTo(upTo: number): Promise<void> {
    return this.flusher.durableTo(upTo);
  }

  /** Records appended and not yet flushed (the log manager's stop decides how to make them durable). */
  get unflushed(): boolean {
    return this.logEndOffset > this.recoveryPoint;
  }

  /** True when log.flush.interval.ms has passed since the last flush and records wait (and the log takes writes). */
  flushDue(nowMs: number): boolean {
    return !this.closed && !this.offline && !this.full && this.flusher.due(nowMs, this.config.flushIntervalMs);
  }

  /** Flushes when log.flush.interval.ms has passed since the last flush and records wait. */
  async flushIfDue(nowMs: number): Promise<void> {
    if (this.flushDue(nowMs)) await this.flush();
  }

  private async persistMeta(cleanShutdown: boolean, sync: boolean): Promise<void> {
    // what is made durable must be a consistent log: a broken invariant here would outlive a restart
    this.segments.assertOffsets();
    if (!cleanShutdown) this.cleanMarkOnDisk = false;
    const active = this.segments.active;
    this.index.setSegmentSummary(active.baseOffset, active.summary);
    this.index.setMeta({
      logStartOffset: this.segments.logStartOffset,
      recoveryPoint: this.segments.recoveryPoint,
      cleanShutdown,
      leaderEpochs: this.epochs.forMeta,
      cleanerCheckpoint: this.cleaning.cleanedTo,
      offsetGaps: this.cleaning.offsetGaps,
      highWatermark: this.checkpointedHighWatermark,
      txns: this.txns.snapshot(this.logEndOffset),
    });
    await this.index.write(sync);
  }

  async read(offset: number, maxBytes: number, options: ReadOptions = {}): Promise<ReadResult> {
    this.checkOpen();
    this.reader.checkRange(offset);
    // At or past the read's upper bound (the log end, or a consumer's high watermark) the answer is
    // empty and needs no position: answer it now, from memory, without asking the index. Idle
    // followers and long-polling consumers read here on every fetch (issue 20 item 4).
    if (this.reader.atUpperBound(offset, options)) return this.reader.read(offset, maxBytes, options, undefined);
    const hint = this.reader.cursorAt(offset) ?? (await this.index.lookupOffset(offset));
    // everything below is synchronous: no append, roll or retention interleaves
    this.checkOpen();
    this.reader.checkRange(offset);
    return this.reader.read(offset, maxBytes, options, hint);
  }

  /** The first record whose timestamp is >= `timestamp`, or undefined when every record is older. */
  async offsetForTimestamp(timestamp: number): Promise<TimestampLookup | undefined> {
    this.checkOpen();
    const entry = await this.index.lookupTime(timestamp);
    this.checkOpen();
    return this.reader.offsetForTimestamp(timestamp, entry);
  }

  /**
   * The first record with the largest timestamp in the log (Kafka's
   * MAX_TIMESTAMP lookup, KIP-734), or undefined when the log has no record.
   */
  async offsetOfMaxTimestamp(): Promise<TimestampLookup | undefined> {
    this.checkOpen();
    const max = this.segments.maxTimestampExcept();
    return max < 0 ? undefined : this.offsetForTimestamp(max);
  }

  /** Removes every record at or after `offset` (a follower diverging from its leader). */
  async truncateTo(offset: number): Promise<void> {
    this.checkWritable();
    if (offset >= this.logEndOffset) return;
    await this.writesReady();
    if (offset >= this.logEndOffset) return;
    await truncateSegmentsTo(this.truncation, offset);
    this.epochs.truncateFromEnd(this.logEndOffset);
    this.cleaning.truncatedTo(this.logEndOffset);
    this.reader.resetCursor();
    // the transactions cut off are forgotten, those whose marker was cut are open again
    await this.index.truncateAbortedFrom(this.logEndOffset);
    if (!this.txns.truncateTo(this.logEndOffset)) {
      this.txns.clear(this.logStartOffset);
      recordTxnsFromLog(this.txns, this.index, this.segments, this.logStartOffset);
    }
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
    await this.writesReady();
    const old = this.segments.replaceAll(this.createSegment(offset));
    this.epochs.clear();
    this.txns.clear(offset);
    this.cleaning.restartAt(offset);
    this.reader.resetCursor();
    this.indexer.reset(-1);
    await this.persistMeta(false, true);
    for (const s of old) s.delete();
    await this.index.deleteBelow(offset);
    await this.rebuildProducerState();
    this.log.warn({ logStartOffset: offset }, 'log truncated fully and started again');
  }

  private rebuildProducerState(): Promise<void> {
    return rebuildProducerState(this.producers, this.segments, this.index);
  }

  /**
   * Before the first write after open (an append, a truncation, a cleaning pass): the stored
   * clean-shutdown mark is cleared (a crash from here on must recover), and the producers' state
   * is read back from the log's tail. Once; later calls return undefined. Concurrent callers share
   * the one preparation and continue in call order.
   */
  private prepareWrites(): Promise<void> | undefined {
    if (this.writesPrepared) return undefined;
    this.preparingWrites ??= (async () => {
      if (this.cleanMarkOnDisk) {
        await this.persistMeta(false, false);
        this.cleanMarkOnDisk = false;
      }
      await this.rebuildProducerState();
    })().then(
      () => {
        this.writesPrepared = true;
      },
      (err: unknown) => {
        this.preparingWrites = undefined;
        throw err;
      },
    );
    return this.preparingWrites;
  }

  /**
   * Deletes whole segments that are past retention (log.retention.ms by their
   * newest record, log.retention.bytes by total size). The active segment is
   * rolled first when it has itself expired. Returns the segments deleted.
   */
  async enforceRetention(nowMs: number): Promise<number> {
    if (this.closed || this.offline) return 0;
    // cleanup.policy=compact alone: nothing goes by age or size, the cleaner keeps the log small
    if (!deletes(this.config)) return 0;
    const count = await this.retention.enforce(this.config, nowMs);
    if (count > 0)
      this.log.info({ deletedSegments: count, logStartOffset: this.logStartOffset }, 'retention deleted segments');
    return count;
  }

  /**
   * Deletes every whole segment that lies entirely below `offset` (Kafka's
   * DeleteRecords at segment granularity): the log start moves to the first
   * remaining segment. Used to drop what a snapshot has superseded.
   */
  async deleteSegmentsBefore(offset: number): Promise<number> {
    this.checkWritable();
    return this.retention.deleteSegmentsBefore(offset);
  }

  /**
   * Moves the log start forward to `offset` (Kafka's DeleteRecords: the
   * leader's advance, or a follower following its leader's log start): reads
   * below it get OFFSET_OUT_OF_RANGE from now on, the new start is durable
   * before this resolves, and every segment wholly below it is deleted. An
   * offset at or below the current start changes nothing; one past the log
   * end is refused (OffsetOutOfRange). Returns the log start after.
   */
  async advanceLogStartOffset(offset: number): Promise<number> {
    this.checkWritable();
    if (!Number.isSafeInteger(offset) || offset > this.logEndOffset) {
      throw new SluiceError(
        ErrorCode.OffsetOutOfRange,
        `${this.topic}-${this.partition}: cannot move the log start to ${offset}, past the log end ${this.logEndOffset}`,
      );
    }
    if (offset <= this.logStartOffset) return this.logStartOffset;
    this.segments.advanceLogStart(offset);
    this.reader.resetCursor();
    await this.persistMeta(false, true);
    const deleted = await this.retention.deleteSegmentsBefore(offset);
    this.log.info({ logStartOffset: offset, deletedSegments: deleted }, 'log start moved (records deleted)');
    return this.logStartOffset;
  }

  /** Starts a new leader epoch at the current log end (replication bookkeeping). */
  async assignLeaderEpoch(epoch: number): Promise<void> {
    if (!this.epochs.assign(epoch, this.logEndOffset)) return;
    await this.persistMeta(false, true);
  }

  /** Kafka's OffsetsForLeaderEpoch: the log end of `epoch`, i.e. where the next epoch starts. */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } | undefined {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset);
  }

  /**
   * Flushes, marks the log cleanly shut down, and closes its files. `syncMeta: false` leaves the
   * mark's LevelDB write unsynced: the caller (the log manager closing every log) syncs the
   * database once afterwards; the segments are fsynced before the mark is written either way.
   */
  async close(options: { syncMeta?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    await this.cleaning.stop();
    if (this.closed) return;
    if (!this.offline) {
      try {
        const sync = options.syncMeta ?? true;
        await this.flusher.flush(sync);
        // never written to since the start, and the high watermark as stored: the stored metadata
        // says all of it already (a stop of 10,000 idle partitions writes nothing)
        const asStored = this.cleanMarkOnDisk && this.checkpointedHighWatermark === this.highWatermarkAtOpen;
        if (!asStored) await this.persistMeta(true, sync);
      } catch (err) {
        this.storageFailed(err);
        if (!this.full) throw err;
        // recovery at the next open checks what the missing clean-shutdown mark leaves unproven
        this.log.warn('closing without the clean-shutdown mark: the disk is full');
      }
    }
    this.closed = true;
    for (const s of this.segments) s.close();
  }

  /** Closes without the clean-shutdown mark, as a crash would leave it (tests of recovery). */
  async abandon(): Promise<void> {
    await this.cleaning.stop();
    this.closed = true;
    await this.flusher.idle;
    for (const s of this.segments) s.close();
  }

  /** Removes every file and index entry of this partition. */
  async delete(): Promise<void> {
    if (!this.closed) await this.abandon();
    await this.index.deleteAll();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** A new empty segment at `baseOffset`; a failure to create its file takes the log offline. */
  private createSegment(baseOffset: number): Segment {
    try {
      return Segment.create(this.dir, baseOffset, this.files);
    } catch (err) {
      throw this.storageFailed(err);
    }
  }

  /** Waits for prepareWrites (when the log was not written to yet); the log is writable after. */
  private async writesReady(): Promise<void> {
    const preparing = this.prepareWrites();
    if (!preparing) return;
    try {
      await preparing;
    } catch (err) {
      throw this.storageFailed(err);
    }
    this.checkWritable();
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError(ErrorCode.LogClosed, `${this.topic}-${this.partition} is closed`);
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.offline) throw this.offline;
    if (this.full) throw this.full.error;
  }

  /** True while the disk is full: writes are refused until retryWrites finds space again. */
  get diskFull(): boolean {
    return this.full !== undefined;
  }

  /** Bytes the log directory's probe must be able to write before this log's retryWrites is worth trying. */
  get diskFullProbeBytes(): number {
    return this.full?.probeBytes ?? 0;
  }

  /**
   * A storage operation failed: a full disk (ENOSPC, EDQUOT) makes the log refuse writes until
   * space returns, anything else, a failed segment fsync included (isSyncFailure), takes it
   * offline. Returns the error the caller should throw.
   */
  private storageFailed(err: unknown, bytes = 0): unknown {
    if (this.offline) return this.offline;
    if (!isDiskFullError(err) || isSyncFailure(err)) {
      this.goOffline(err);
      return err;
    }
    return this.markDiskFull(err, bytes);
  }

  /**
   * The disk under this log is full: it refuses writes (LogDirFull) and keeps serving reads until
   * retryWrites succeeds. The log manager also calls this for every log of a directory whose index
   * database it reopens. One log line per episode.
   */
  markDiskFull(cause: unknown, bytes = 0): SluiceError {
    if (this.full) {
      this.full.probeBytes = Math.max(this.full.probeBytes, bytes);
      return this.full.error;
    }
    const error = new SluiceError(
      ErrorCode.LogDirFull,
      `${this.topic}-${this.partition}: the log directory is full; writes are refused until space returns`,
      { cause, retriable: true },
    );
    this.full = { error, probeBytes: bytes, sinceMs: Date.now() };
    this.log.warn(
      { err: (cause as Error)?.message, logEndOffset: this.logEndOffset },
      'disk full: the partition refuses writes until space returns (reads go on)',
    );
    return error;
  }

  /**
   * A log refusing writes for a full disk tries again (the log manager calls this every
   * log.dir.full.retry.ms, once its directory's probe write succeeded): the active segment's file
   * is cut back to the last complete batch should a failed write have left bytes behind, the index
   * entries and metadata that wait are written and the segments fsynced. When all of that works the
   * log takes writes again (one log line); a full disk again leaves it refusing them. Returns true
   * when the log takes writes.
   */
  async retryWrites(): Promise<boolean> {
    const full = this.full;
    if (this.closed || this.offline) return false;
    if (!full) return true;
    try {
      this.cutTornTail();
      await this.persistMeta(false, true);
      await this.flush();
    } catch (err) {
      this.storageFailed(err);
      return false;
    }
    if (this.full !== full || this.closed || this.offline) return false;
    this.full = undefined;
    this.log.info(
      { refusedForMs: Date.now() - full.sinceMs, logEndOffset: this.logEndOffset },
      'disk space is back: the partition takes writes again',
    );
    return true;
  }

  /** Cuts what a failed write left past the last complete batch of the active segment (its cut failed). */
  private cutTornTail(): void {
    const active = this.segments.active;
    const onDisk = active.fileSize();
    if (onDisk <= active.size) return;
    this.log.warn({ segment: active.baseOffset, bytes: onDisk - active.size }, 'cutting a partial write off the log');
    active.truncateTo(active.size);
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
