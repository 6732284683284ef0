/**
 * All partition logs of a broker: one LevelDB index database per data
 * directory, partition directories `<topic>-<partition>` beneath, and the
 * background work (time-based flushes, retention) on bounded timers.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { inParallel } from '../shared/in-parallel.js';
import {
  logOpensConcurrentMax,
  logStartConcurrency,
  logStartPreloadBatch,
  logStopSyncfsMin,
  logStopSyncfsTimeoutMs,
} from '../shared/limits.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { initZstd } from '../wire/zstd.js';
import { asDiskFull, type DirSpace, dirSpace, isDiskFullError, probeWritable } from './disk-space.js';
import { FileCache, openFilesMaxFor, processOpenFilesLimit } from './file-cache.js';
import { IndexStartGroup } from './index-start-group.js';
import { type IndexDb, openIndexDb } from './index-store.js';
import { defaultLogConfig, type LogConfig } from './log-config.js';
import { segmentBases } from './log-loader.js';
import { LogScrubber, type ScrubOptions } from './log-scrubber.js';
import { parsePartitionDirName, partitionDirName, validateTopicName } from './names.js';
import { PartitionIndex, type StoredLog } from './partition-index.js';
import { PartitionLog } from './partition-log.js';
import {
  readPartitionTopicId,
  readPartitionTopicIdAsync,
  writePartitionTopicIdAsync,
} from './partition-metadata-file.js';

export interface LogManagerOptions {
  logDirs: string[];
  config?: Partial<LogConfig>;
  logger?: Logger;
  /** log.retention.check.interval.ms; 0 disables the timer (tests call enforceRetention). */
  retentionCheckIntervalMs?: number;
  /** How often to look for logs due a time-based flush (Kafka's log.flush.scheduler.interval.ms). */
  flushCheckIntervalMs?: number;
  /**
   * log.dir.full.retry.ms: how often partitions refusing writes for a full disk try again
   * (retryFullLogs); 0 disables the timer (tests call retryFullLogs). Default 1000.
   */
  dirFullRetryMs?: number;
  /** log.dir.free.check.interval.ms: how often each log directory's free space is read (checkFreeSpace); 0: never. Default 10000. */
  freeSpaceCheckIntervalMs?: number;
  /** log.dir.free.warn.percent: a warning when a log directory's free space falls below this share of it; 0: never. Default 10. */
  freeSpaceWarnPercent?: number;
  metrics?: LogDirMetrics;
  /** log.scrub.*: read closed segments back in the background (log-scrubber.ts); absent: no scrubbing. */
  scrub?: ScrubOptions;
  /** log.open.files.max: segment files held open at once (file-cache.ts); 0 or absent: half the open files limit. */
  openFilesMax?: number;
  /** Called after retention deleted segments of a log (its log start moved): fetch sessions tell their followers. */
  onLogStartMoved?: (topic: string, partition: number) => void;
}

/** What the log manager reports about its directories (the broker's metrics implement it). */
export interface LogDirMetrics {
  /** A log directory's free and total bytes, at each free-space check. */
  logDirSpace(dir: string, space: DirSpace): void;
  /** Partitions refusing writes now because their disk is full. */
  partitionsDiskFull(count: number): void;
}

/** The index database key a full directory's probe deletes: a write that changes nothing ('!' is in no topic name). */
const spaceProbeKey = '!sluice-space-probe';

const deletedSuffix = '-delete';
/** The longest delay setTimeout takes (a longer one fires after 1 ms). */
const timerMsMax = 2 ** 31 - 1;

interface Held {
  log: PartitionLog;
  dataDir: string;
  /**
   * The topic id its partition.metadata records (undefined: none yet), read once when the log is
   * opened and kept as this manager writes the file: a start compares every partition's against the
   * topic's, twice (getOrCreate, deleteStaleLogs), and read the file each time. null: the file could
   * not be read at open; it is read (and its error thrown) where it is needed.
   */
  topicId: string | undefined | null;
}

export class LogManager {
  private readonly logs = new Map<string, Held>();
  /** Deletions under way, by partition directory name. */
  private readonly deleting = new Map<string, Promise<void>>();
  /** Logs being opened by getOrCreate: concurrent callers for one partition share the open. */
  private readonly opening = new Map<string, Promise<PartitionLog>>();
  /** Opens running now (at most logOpensConcurrentMax), and those waiting for a turn, oldest first. */
  private opensRunning = 0;
  private readonly opensWaiting: (() => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** The scrubber's next step (scrubLater), when scrubbing. */
  private scrubTimer: NodeJS.Timeout | undefined;
  private background: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Log directories whose free space is below log.dir.free.warn.percent (warned once until it is back). */
  private readonly lowOnSpace = new Set<string>();
  private readonly options: LogManagerOptions;
  /** The segment files of every log here are opened through this bounded cache. */
  readonly files: FileCache;

  private constructor(
    private readonly dbs: Map<string, IndexDb>,
    readonly defaults: LogConfig,
    private readonly logger: Logger,
    options: LogManagerOptions,
  ) {
    this.options = options;
    this.files = new FileCache(openFilesMaxFor(options.openFilesMax ?? 0, processOpenFilesLimit()));
  }

  static async open(options: LogManagerOptions): Promise<LogManager> {
    if (options.logDirs.length === 0) throw new SluiceError(ErrorCode.InvalidConfig, 'log.dirs names no directory');
    // zstd's compressor loads asynchronously and compresses synchronously afterwards: loaded here, before
    // anything of this process writes a batch (the cleaner rewriting zstd batches, the leader storing a
    // zstd topic's batches once the listeners accept)
    await initZstd();
    const logger = options.logger ?? silentLogger;
    const defaults: LogConfig = { ...defaultLogConfig, ...options.config };
    const dbs = new Map<string, IndexDb>();
    try {
      for (const dir of options.logDirs.map((d) => path.resolve(d))) {
        fs.mkdirSync(dir, { recursive: true });
        dbs.set(dir, await openIndexDb(dir));
      }
    } catch (err) {
      for (const db of dbs.values()) await db.close();
      throw err;
    }
    const manager = new LogManager(dbs, defaults, logger, options);
    try {
      await manager.loadAll();
    } catch (err) {
      // a start that fails (e.g. the index database refusing a write) leaves no database locked:
      // the process can open the directory again
      for (const db of dbs.values()) await db.close().catch(() => undefined);
      throw err;
    }
    manager.startTimers(options);
    return manager;
  }

  private async loadAll(): Promise<void> {
    for (const [dataDir, db] of this.dbs) {
      const entries = fs.readdirSync(dataDir, { withFileTypes: true }).filter((e) => e.isDirectory());
      for (const entry of entries) {
        if (!entry.name.endsWith(deletedSuffix)) continue;
        // A deletion interrupted by a crash: finish it, index entries included. delete() removes them
        // only after the rename, so a crash in between used to leave them behind, and a partition
        // created again under that name came back with the old log start offset and summaries.
        // (Done before any partition loads: a live partition of the same name is rebuilt from its files.)
        const doomed = /^(.+)\.[0-9a-f]{8}-delete$/.exec(entry.name);
        const name = doomed?.[1];
        const id = name !== undefined ? parsePartitionDirName(name) : undefined;
        if (id) await new PartitionIndex(db, partitionDirName(id.topic, id.partition)).deleteAll();
        fs.rmSync(path.join(dataDir, entry.name), { recursive: true, force: true });
      }
      const found = entries.flatMap((entry) => {
        const id = entry.name.endsWith(deletedSuffix) ? undefined : parsePartitionDirName(entry.name);
        return id ? [{ name: entry.name, id }] : [];
      });
      // In key order (a partition's index keys start with its directory name): the logs opened
      // together then hold one range of the index database, which their start group scans at once.
      found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const startGroup = new IndexStartGroup(db);
      // A batch of logs at a time: their directories listed and their partition.metadata files read
      // on the thread pool (the next batch's while this one opens), their stored summaries read in
      // one LevelDB read (PartitionIndex.loadMany), then opened several at a time
      // (logStartConcurrency): each open waits on LevelDB writes and, after a crash, on reading its
      // tail; one after another, 10,000 partitions took seconds of waiting alone, and the listing
      // and file reads, synchronous, a second of the main thread (issue 20 item 4).
      const listBatch = (from: number): Promise<ListedLog[]> =>
        Promise.all(found.slice(from, from + logStartPreloadBatch).map(({ name, id }) => listLog(dataDir, name, id)));
      let listing = found.length > 0 ? listBatch(0) : undefined;
      for (let from = 0; from < found.length; from += logStartPreloadBatch) {
        const batch = await (listing as Promise<ListedLog[]>);
        listing = from + logStartPreloadBatch < found.length ? listBatch(from + logStartPreloadBatch) : undefined;
        // a failed listing of the next batch is reported when that batch's turn comes
        listing?.catch(() => undefined);
        const stored = await PartitionIndex.loadMany(
          db,
          batch.map(({ id, names }) => ({
            partitionId: partitionDirName(id.topic, id.partition),
            bases: segmentBases(names),
          })),
        );
        const opened = await inParallel(batch, logStartConcurrency, async ({ id, dir, names, topicId }, i) => {
          const log = await PartitionLog.open({
            ...id,
            dir,
            db,
            config: this.defaults,
            logger: this.logger,
            files: this.files,
            preloaded: { names, stored: stored[i] as StoredLog },
            startGroup,
          });
          return { log, topicId };
        });
        for (const [i, { log, topicId }] of opened.entries()) {
          this.logs.set((batch[i] as { name: string }).name, { log, dataDir, topicId });
          if (log.recoveredSegments > 0) this.loaded.recovered++;
        }
      }
    }
    this.loaded.partitions = this.logs.size;
    // at debug: the broker's start-up summary line carries these numbers
    this.logger.debug({ ...this.loaded, dirs: [...this.dbs.keys()] }, 'logs loaded');
  }

  /** What opening found: the partitions loaded and how many of them were recovered (not closed cleanly). */
  readonly loaded = { partitions: 0, recovered: 0 };

  /** The data directories (log.dirs). */
  get dirs(): string[] {
    return [...this.dbs.keys()];
  }

  private startTimers(options: LogManagerOptions): void {
    const every = (ms: number, task: (now: number) => Promise<unknown>): void => {
      if (!(ms > 0 && ms < 2 ** 31)) return;
      let running = false;
      const timer = setInterval(() => {
        if (running || this.closed) return;
        running = true;
        const work = task(Date.now())
          .catch((err) => this.logger.error({ err }, 'background log task failed'))
          .finally(() => {
            running = false;
          });
        this.background = work;
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(options.retentionCheckIntervalMs ?? 300_000, (now) => this.enforceRetention(now));
    const flushMs = options.flushCheckIntervalMs ?? Math.min(this.defaults.flushIntervalMs, 1000);
    every(flushMs, (now) => this.flushDue(now));
    every(options.dirFullRetryMs ?? 1000, () => this.retryFullLogs());
    every(options.freeSpaceCheckIntervalMs ?? 10_000, async () => this.checkFreeSpace());
    if (options.scrub) {
      const scrubber = new LogScrubber(options.scrub, this.logger);
      this.scrubLater(scrubber, scrubber.intervalMs);
    }
    this.checkFreeSpace();
  }

  /**
   * The scrubber's next step, `ms` from now: a step every scrubber.intervalMs during a pass, and
   * between passes one timer for the rest until the next (an idle broker is not woken ten times a
   * second to find nothing due: issue 20 item 4). A step is synchronous: nothing interleaves with it.
   */
  private scrubLater(scrubber: LogScrubber, ms: number): void {
    if (this.closed) return;
    this.scrubTimer = setTimeout(
      () => {
        this.scrubTimer = undefined;
        if (this.closed) return;
        const now = Date.now();
        try {
          if (!scrubber.resting(now)) {
            const held = new Map<string, PartitionLog>();
            for (const [key, h] of this.logs) held.set(key, h.log);
            scrubber.step(held, now);
          }
        } catch (err) {
          this.logger.error({ err }, 'background log task failed');
        }
        this.scrubLater(scrubber, scrubber.nextStepInMs(Date.now()));
      },
      Math.min(ms, timerMsMax),
    );
    this.scrubTimer.unref();
  }

  /**
   * Partitions refusing writes for a full disk try again, a directory at a time: a probe file the
   * size of the largest refused write is written, fsynced and deleted; if the disk took it, the
   * directory's index database is checked (and reopened when it kept the full disk's error), then
   * each such partition cuts any partial tail, writes what waits for its index and takes writes
   * again (PartitionLog.retryWrites). Reports how many still refuse writes, and returns that.
   */
  async retryFullLogs(): Promise<number> {
    const byDir = new Map<string, PartitionLog[]>();
    for (const h of this.logs.values()) {
      if (h.log.diskFull) byDir.set(h.dataDir, [...(byDir.get(h.dataDir) ?? []), h.log]);
    }
    for (const [dataDir, logs] of byDir) {
      if (this.closed) break;
      try {
        probeWritable(dataDir, Math.max(...logs.map((l) => l.diskFullProbeBytes)));
        await this.healIndexDb(dataDir);
      } catch (err) {
        if (!isDiskFullError(err)) this.logger.error({ err, dir: dataDir }, 'probing a full log directory failed');
        continue;
      }
      for (const h of this.logs.values()) if (h.dataDir === dataDir && !this.closed) await h.log.retryWrites();
    }
    let full = 0;
    for (const h of this.logs.values()) if (h.log.diskFull) full++;
    this.options.metrics?.partitionsDiskFull(full);
    return full;
  }

  /**
   * LevelDB keeps the error of a background compaction that hit the full disk and refuses every
   * write until it is reopened: a write that changes nothing tells, and then the database is
   * reopened (its partitions refuse writes meanwhile; reads wait for the open).
   */
  private async healIndexDb(dataDir: string): Promise<void> {
    const db = this.dbs.get(dataDir);
    if (!db) return;
    try {
      await db.batch([{ type: 'del', key: spaceProbeKey }], { sync: true });
      return;
    } catch (err) {
      if (!isDiskFullError(err)) throw err;
      for (const h of this.logs.values()) if (h.dataDir === dataDir) h.log.markDiskFull(err);
      this.logger.warn({ dir: dataDir, err: (err as Error).message }, 'reopening the index database after a full disk');
    }
    await db.close();
    await db.open();
    await db.batch([{ type: 'del', key: spaceProbeKey }], { sync: true });
  }

  /**
   * Reads each log directory's free space (statfs), reports it, and warns once when it falls
   * below log.dir.free.warn.percent (and once when it is back above).
   */
  checkFreeSpace(): void {
    const warnPercent = this.options.freeSpaceWarnPercent ?? 10;
    for (const dir of this.dbs.keys()) {
      let space: DirSpace;
      try {
        space = dirSpace(dir);
      } catch (err) {
        this.logger.warn({ err, dir }, 'cannot read the free space of a log directory');
        continue;
      }
      this.options.metrics?.logDirSpace(dir, space);
      const percent = space.totalBytes > 0 ? (100 * space.freeBytes) / space.totalBytes : 100;
      const low = percent < warnPercent;
      const fields = { dir, freeBytes: space.freeBytes, totalBytes: space.totalBytes, warnPercent };
      if (low && !this.lowOnSpace.has(dir)) {
        this.lowOnSpace.add(dir);
        this.logger.warn(fields, 'log directory is low on free space');
      } else if (!low && this.lowOnSpace.delete(dir)) {
        this.logger.info(fields, 'log directory has free space again');
      }
    }
  }

  /**
   * Each data directory with the partitions held there and their bytes on disk, and the file
   * system's free and total bytes (undefined when statfs fails): what DescribeLogDirs answers.
   */
  dirReport(): {
    dir: string;
    space: DirSpace | undefined;
    partitions: { topic: string; partition: number; sizeBytes: number }[];
  }[] {
    return [...this.dbs.keys()].map((dir) => {
      let space: DirSpace | undefined;
      try {
        space = dirSpace(dir);
      } catch {
        space = undefined;
      }
      const partitions = [...this.logs.values()]
        .filter((h) => h.dataDir === dir)
        .map((h) => ({ topic: h.log.topic, partition: h.log.partition, sizeBytes: h.log.sizeBytes }));
      return { dir, space, partitions };
    });
  }

  /** The first data directory's database: where broker-wide metadata (standalone topics) lives. */
  get metadataDb(): IndexDb {
    const [first] = this.dbs.values();
    assert(first !== undefined, 'a log manager has at least one data directory (open checks log.dirs)');
    return first;
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(partitionDirName(topic, partition))?.log;
  }

  all(): PartitionLog[] {
    return [...this.logs.values()].map((h) => h.log);
  }

  /** The log of a partition, created (empty) if this broker has none yet. */
  async getOrCreate(
    topic: string,
    partition: number,
    overrides: Partial<LogConfig> = {},
    topicId?: string,
  ): Promise<PartitionLog> {
    this.checkOpen();
    validateTopicName(topic);
    if (!Number.isInteger(partition) || partition < 0) {
      throw new SluiceError(ErrorCode.InvalidArgument, `partition ${partition} is not a non-negative integer`);
    }
    const name = partitionDirName(topic, partition);
    // a partition being deleted is reopened (fresh) only once its old files are gone
    await this.deleting.get(name);
    const held = this.logs.get(name);
    if (held) {
      if (topicId === undefined) return held.log;
      const recorded = held.topicId === null ? readPartitionTopicId(held.log.dir) : held.topicId;
      if (recorded === topicId) return held.log;
      if (recorded === undefined) {
        // a directory from before topic ids, or one whose file was not written yet: it is this topic's
        await writePartitionTopicIdAsync(held.log.dir, topicId);
        held.topicId = topicId;
        return held.log;
      }
      // an earlier topic of the same name (deleted and created again while this broker was away)
      this.logger.warn(
        { topic, partition, recorded, current: topicId },
        'partition directory belongs to an earlier topic of this name: deleting it',
      );
      await this.delete(topic, partition);
      return this.getOrCreate(topic, partition, overrides, topicId);
    }
    // Two opens of one new partition used to race on the same directory: the second failed creating
    // the segment file that the first had just created (StorageError, EEXIST). They now share one open.
    const inFlight = this.opening.get(name);
    if (inFlight) return inFlight;
    const opening = this.inTurn(async () => {
      this.checkOpen();
      const [dataDir, db] = this.leastLoadedDir();
      // a full disk: LogDirFull (retriable); the caller tries again later (the replica manager does,
      // every log.dir.full.retry.ms), and what this open left is taken up by the next one
      const what = `cannot create the log of ${name}`;
      let log: PartitionLog;
      try {
        log = await PartitionLog.open({
          topic,
          partition,
          dir: path.join(dataDir, name),
          db,
          config: { ...this.defaults, ...overrides },
          logger: this.logger,
          files: this.files,
        });
      } catch (err) {
        throw asDiskFull(err, what);
      }
      try {
        if (topicId !== undefined) await writePartitionTopicIdAsync(log.dir, topicId);
      } catch (err) {
        await log.close();
        throw asDiskFull(err, what);
      }
      // a directory this manager did not hold has no partition.metadata unless one was given
      this.logs.set(name, { log, dataDir, topicId });
      return log;
    }).finally(() => this.opening.delete(name));
    this.opening.set(name, opening);
    return opening;
  }

  /** Partition opens running now and waiting for a turn. */
  get opens(): { running: number; waiting: number } {
    return { running: this.opensRunning, waiting: this.opensWaiting.length };
  }

  /**
   * Runs `open` when fewer than logOpensConcurrentMax opens are running (in
   * arrival order). Waiting costs a closure; a running open holds its files,
   * reads and recovery state, so a topic of thousands of partitions no longer
   * has them all live at once. An open waits for nothing else the manager
   * holds, so a turn is always given back.
   */
  private async inTurn<T>(open: () => Promise<T>): Promise<T> {
    if (this.opensRunning >= logOpensConcurrentMax) {
      await new Promise<void>((resolve) => this.opensWaiting.push(resolve));
    } else {
      this.opensRunning++;
    }
    try {
      return await open();
    } finally {
      const next = this.opensWaiting.shift();
      // the turn passes straight to the next waiter (the running count stays), else it is given back
      if (next) next();
      else this.opensRunning--;
    }
  }

  private leastLoadedDir(): [string, IndexDb] {
    // one directory: no count needed (counting every log per creation made creating n partitions
    // cost n² steps: 12 of 95 s of a broker's CPU profile creating 25,000; issue 20 item 5)
    if (this.dbs.size === 1) {
      const [only] = this.dbs;
      assert(only !== undefined, 'a log manager has at least one data directory (open checks log.dirs)');
      return only;
    }
    const counts = new Map<string, number>([...this.dbs.keys()].map((d) => [d, 0]));
    for (const h of this.logs.values()) counts.set(h.dataDir, (counts.get(h.dataDir) ?? 0) + 1);
    // the first directory holding the fewest partitions
    let dir: string | undefined;
    let fewest = Number.POSITIVE_INFINITY;
    for (const [d, count] of counts) {
      if (count < fewest) [dir, fewest] = [d, count];
    }
    const db = dir === undefined ? undefined : this.dbs.get(dir);
    assert(
      dir !== undefined && db !== undefined,
      'a log manager has at least one data directory (open checks log.dirs)',
    );
    return [dir, db];
  }

  /** Deletes a partition's files and index entries. */
  async delete(topic: string, partition: number): Promise<boolean> {
    const name = partitionDirName(topic, partition);
    const held = this.logs.get(name);
    if (!held) return false;
    this.logs.delete(name);
    const work = (async () => {
      await held.log.abandon();
      // rename first so a crash mid-delete never reloads a half-deleted partition
      const doomed = path.join(held.dataDir, `${name}.${randomUUID().slice(0, 8)}${deletedSuffix}`);
      fs.renameSync(held.log.dir, doomed);
      // the files go before the index entries: a full disk gets its space back even while its index
      // database refuses writes (the emptied directory stays until then: the next start finishes)
      for (const name of fs.readdirSync(doomed)) fs.rmSync(path.join(doomed, name), { recursive: true, force: true });
      await held.log.delete();
      fs.rmSync(doomed, { recursive: true, force: true });
    })();
    this.deleting.set(
      name,
      work.then(
        () => undefined,
        () => undefined,
      ),
    );
    try {
      await work;
    } finally {
      this.deleting.delete(name);
    }
    this.logger.info({ topic, partition }, 'deleted partition log');
    return true;
  }

  /**
   * Deletes every log whose partition.metadata names another topic id than
   * `currentId(topic)`, the id of the topic of that name now. Kept: logs
   * without the file (from before topic ids), and logs of a topic that has no
   * id yet or is unknown (undefined: a cache still filling must never cost
   * data). Run at start, before any log is served, so a broker that was away
   * while a topic was deleted and created again never serves the old records.
   */
  async deleteStaleLogs(currentId: (topic: string) => string | undefined): Promise<number> {
    let n = 0;
    for (const { log, topicId } of [...this.logs.values()]) {
      const recorded = topicId === null ? readPartitionTopicId(log.dir) : topicId;
      const current = currentId(log.topic);
      if (recorded === undefined || current === undefined || current === recorded) continue;
      this.logger.warn(
        { topic: log.topic, partition: log.partition, recorded, current },
        'partition directory belongs to an earlier topic of this name: deleting it',
      );
      if (await this.delete(log.topic, log.partition)) n++;
    }
    return n;
  }

  /** Deletes every partition of a topic this broker holds; returns how many. */
  async deleteTopic(topic: string): Promise<number> {
    let n = 0;
    for (const log of this.all()) if (log.topic === topic && (await this.delete(topic, log.partition))) n++;
    return n;
  }

  async enforceRetention(nowMs = Date.now()): Promise<number> {
    let deleted = 0;
    for (const log of this.all()) {
      const count = await log.enforceRetention(nowMs);
      if (count > 0) this.options.onLogStartMoved?.(log.topic, log.partition);
      deleted += count;
    }
    return deleted;
  }

  async flushDue(nowMs = Date.now()): Promise<void> {
    // checked synchronously, log by log, without a copy of the list or a promise per log: this runs
    // every second over every partition (100,000 idle partitions: 8 % of a core; issue 20 item 4)
    const due: PartitionLog[] = [];
    for (const h of this.logs.values()) if (h.log.flushDue(nowMs)) due.push(h.log);
    for (const log of due) await log.flushIfDue(nowMs);
  }

  async flushAll(): Promise<void> {
    for (const log of this.all()) await log.flush();
  }

  /** Clean shutdown: stop timers, flush and close every log, close the databases. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.scrubTimer) clearTimeout(this.scrubTimer);
    await this.background;
    // opens still waiting for a turn give up (LogClosed); those running finish, and are closed below
    await Promise.allSettled([...this.opening.values()]);
    await this.syncBeforeClose();
    // Several logs at a time, each fsyncing its segments and writing its clean-shutdown mark without
    // a sync of its own; one synced write per database then makes every mark durable at once (a
    // LevelDB sync write syncs its log, which holds every write before it). One synced write per
    // partition took 10.8 s to close 10,000 idle partitions (issue 20 item 4).
    await inParallel([...this.logs.values()], logStartConcurrency, async ({ log }) => {
      try {
        await log.close({ syncMeta: false });
      } catch (err) {
        this.logger.error({ err, topic: log.topic, partition: log.partition }, 'closing log failed');
      }
    });
    this.logs.clear();
    for (const [dir, db] of this.dbs) {
      try {
        await db.batch([{ type: 'del', key: spaceProbeKey }], { sync: true });
      } catch (err) {
        // the marks not made durable: the next start recovers these logs from their recovery points
        this.logger.error({ err, dir }, 'making the clean-shutdown marks durable failed');
      }
      await db.close();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError(ErrorCode.LogClosed, 'the log manager is closed');
  }

  /**
   * A stop with many logs holding unflushed records: one sync of each data directory's file system
   * (syncfs(2), through coreutils' `sync -f`: Node has no binding) makes them all durable at once,
   * instead of one fdatasync per partition on Node's 4 thread-pool threads (10,000 partitions with
   * records: 4.4 s; issue 20 item 4). The log ends are taken before the sync; what is appended after
   * is flushed by each log's close as before. When the sync fails (no `sync`, an I/O error — which
   * syncfs reports since Linux 5.8) nothing is marked and every log fsyncs its own files.
   */
  private async syncBeforeClose(): Promise<void> {
    for (const dir of this.dbs.keys()) {
      const logs = [...this.logs.values()].filter((h) => h.dataDir === dir && h.log.unflushed).map((h) => h.log);
      if (logs.length < logStopSyncfsMin) continue;
      const ends = logs.map((log) => log.logEndOffset);
      const r = spawnSync('sync', ['-f', dir], { timeout: logStopSyncfsTimeoutMs, stdio: 'ignore' });
      if (r.status !== 0) {
        this.logger.warn(
          { dir, err: r.error?.message, status: r.status },
          'syncing the log directory failed: each log fsyncs its own files',
        );
        continue;
      }
      await Promise.all(logs.map((log, i) => log.durableTo(ends[i] as number).catch(() => undefined)));
    }
  }
}

/** A partition directory found at a start: its file names and the topic id in its partition.metadata. */
interface ListedLog {
  name: string;
  id: { topic: string; partition: number };
  dir: string;
  names: string[];
  /** undefined: no partition.metadata; null: unreadable (read again where it is needed, which reports it). */
  topicId: string | undefined | null;
}

/** Lists a partition directory and reads its partition.metadata, both on the thread pool. */
async function listLog(dataDir: string, name: string, id: { topic: string; partition: number }): Promise<ListedLog> {
  const dir = path.join(dataDir, name);
  const [names, topicId] = await Promise.all([
    fs.promises.readdir(dir),
    readPartitionTopicIdAsync(dir).catch(() => null),
  ]);
  return { name, id, dir, names, topicId };
}
