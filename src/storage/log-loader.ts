/**
 * Opening a partition log: find its segment files, trust what the index
 * database says where it agrees with the files, and recover the rest.
 *
 * Recovery starts at the segment holding the recovery point after an unclean
 * shutdown, at the first segment whose summary disagrees with its file, or at
 * the very first segment when the database knows nothing of this partition
 * (e.g. it was deleted). From there every batch is validated (length, CRC,
 * records, contiguous offsets); the first bad or partial batch and everything
 * after it is cut off, and the index is rebuilt from the files.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../shared/logger.js';
import type { FileCache } from './file-cache.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { cleanedSuffix, swapSuffix } from './log-cleaner.js';
import type { LogConfig } from './log-config.js';
import { parseSegmentFileName } from './names.js';
import type { PartitionIndex, PartitionMeta, StoredLog } from './partition-index.js';
import { Segment, type SegmentSummary } from './segment.js';
import { segmentAt } from './segment-list.js';
import { scanSegment } from './segment-scanner.js';
import { SparseIndexer } from './sparse-indexer.js';

export interface LoadedLog {
  segments: Segment[];
  meta: PartitionMeta;
  maxTimestampSoFar: number;
  /** Segments recovered (read and checked record by record) because the log was not closed cleanly. */
  recoveredSegments: number;
  /**
   * The log was closed cleanly and is exactly as its stored metadata says (nothing recovered,
   * swept or created): the clean-shutdown mark stays true until the log is first written to.
   */
  asStored: boolean;
}

/**
 * What the log manager read for many logs at once before opening them (log-manager.ts): the names
 * in the log's directory and what the index database holds of its segments (segmentBases of them).
 */
export interface PreloadedLog {
  names: string[];
  stored: StoredLog;
}

/** The segments' base offsets among a log directory's file names, ascending. */
export function segmentBases(names: readonly string[]): number[] {
  return names
    .map(parseSegmentFileName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
}

interface LoadContext {
  dir: string;
  /** The cache segment files are opened through. */
  files?: FileCache;
  index: PartitionIndex;
  config: LogConfig;
  logger: Logger;
}

export async function loadLog(ctx: LoadContext, preloaded?: PreloadedLog): Promise<LoadedLog> {
  const { dir, index, logger } = ctx;
  // read once: a start of 10,000 partitions read every directory twice (issue 20 item 5)
  let names = preloaded?.names ?? fs.readdirSync(dir);
  const finishedCleaning = finishInterruptedCleaning(dir, names, logger);
  if (finishedCleaning) names = fs.readdirSync(dir);
  const bases = segmentBases(names);
  // the preloaded summaries are those of the names listed then: read again after the files changed
  const { meta: stored, summaries: storedSummaries } =
    preloaded && !finishedCleaning ? preloaded.stored : await index.loadMetaAndSummaries(bases);
  if (!stored) {
    if (bases.length > 0)
      logger.warn({ dir }, 'no index metadata for this partition: rebuilding its index from the segment files');
    await index.deleteAll();
  }
  const segments = bases.map((base) => Segment.open(dir, base, ctx.files));
  // segments wholly below the log start were being deleted by retention when the broker stopped
  let changed = finishedCleaning;
  while (stored && segments.length > 1 && segmentAt(segments, 1).baseOffset <= stored.logStartOffset) {
    const below = segmentAt(segments, 0);
    segments.shift();
    below.delete();
    changed = true;
  }
  if (segments.length === 0) {
    segments.push(Segment.create(dir, stored?.logStartOffset ?? 0, ctx.files));
    changed = true;
  }

  const summaries = stored ? storedSummaries : new Map<number, SegmentSummary>();
  const recoverFrom = stored ? firstUntrusted(segments, summaries, stored) : 0;
  let leaderEpochs = stored?.leaderEpochs ?? [];
  const recoveryPoint = stored?.recoveryPoint ?? 0;
  if (recoverFrom < segments.length) {
    const from = segmentAt(segments, recoverFrom).baseOffset;
    // one line per partition at debug: the log manager's "logs loaded" line counts them
    logger.debug({ fromSegment: from, segments: segments.length - recoverFrom }, 'recovering segments');
    leaderEpochs = leaderEpochs.filter(([, start]) => start < from);
    const epochs = new LeaderEpochCache(leaderEpochs);
    await recoverSegments(ctx, segments, recoverFrom, epochs, stored?.offsetGaps ?? false);
    leaderEpochs = epochs.forMeta;
    // The recovery point stays where it was (below, it only follows a cut tail down): the recovered
    // bytes may be only in the page cache, and an fsync of every recovered segment here made a start
    // after a crash wait for one fsync per partition (issue 20 item 4). The next flush (a roll, a
    // close, log.flush.interval.*) makes them durable and moves it; a crash before that recovers
    // them again.
  }
  const first = segmentAt(segments, 0);
  const last = segmentAt(segments, segments.length - 1);
  const logStartOffset = Math.min(
    Math.max(stored?.logStartOffset ?? first.baseOffset, first.baseOffset),
    last.nextOffset,
  );
  let maxTimestampSoFar = -1;
  for (const s of segments) if (s.maxTimestamp > maxTimestampSoFar) maxTimestampSoFar = s.maxTimestamp;
  return {
    segments,
    meta: {
      logStartOffset,
      recoveryPoint: Math.min(recoveryPoint, last.nextOffset),
      cleanShutdown: false,
      leaderEpochs: leaderEpochs.filter(([, start]) => start <= last.nextOffset),
      cleanerCheckpoint: Math.min(stored?.cleanerCheckpoint ?? 0, last.nextOffset),
      offsetGaps: stored?.offsetGaps ?? false,
      // within the log as recovered: recovery may have cut the tail it pointed into
      highWatermark: Math.min(Math.max(stored?.highWatermark ?? logStartOffset, logStartOffset), last.nextOffset),
      // the transactions as of some offset: the log opens them and reads the rest (txn-state-loader.ts)
      ...(stored?.txns ? { txns: stored.txns } : {}),
    },
    maxTimestampSoFar,
    // closed cleanly and found as it was left: nothing of the stored metadata needs writing again
    asStored: stored?.cleanShutdown === true && recoverFrom >= segments.length && !changed,
    // a new log (no stored metadata) is "recovered" from its one empty segment: not counted
    recoveredSegments: stored && recoverFrom < segments.length ? segments.length - recoverFrom : 0,
  };
}

/**
 * The log cleaner's files left by a stop mid-pass (log-cleaner.ts): a `.cleaned` file was not yet
 * committed and goes (the old segment stays); a `.swap` file is a whole, fsynced cleaned segment
 * whose swap had begun, so the swap is finished (renamed over its segment). Its summary was
 * forgotten before the swap began, so the segment is recovered from its new file below.
 */
function finishInterruptedCleaning(dir: string, names: readonly string[], logger: Logger): boolean {
  let found = false;
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith(cleanedSuffix)) {
      logger.warn({ file }, 'removing a cleaned segment whose swap never began');
      fs.rmSync(file, { force: true });
      found = true;
    } else if (name.endsWith(swapSuffix) && parseSegmentFileName(name.slice(0, -swapSuffix.length)) !== undefined) {
      logger.warn({ file }, 'finishing an interrupted swap of a cleaned segment');
      fs.renameSync(file, file.slice(0, -swapSuffix.length));
      found = true;
    }
  }
  return found;
}

/** Index of the first segment whose stored summary cannot be trusted; segments.length when all can. */
function firstUntrusted(segments: Segment[], summaries: Map<number, SegmentSummary>, meta: PartitionMeta): number {
  let until = segments.length;
  for (let i = 0; i < segments.length; i++) {
    const segment = segmentAt(segments, i);
    const summary = summaries.get(segment.baseOffset);
    const next = segments[i + 1];
    if (!summary || summary.size !== segment.size || (next && next.baseOffset !== summary.nextOffset)) {
      until = i;
      break;
    }
    segment.nextOffset = summary.nextOffset;
    segment.maxTimestamp = summary.maxTimestamp;
  }
  if (!meta.cleanShutdown) {
    let holder = 0;
    for (let i = 0; i < segments.length; i++) if (segmentAt(segments, i).baseOffset <= meta.recoveryPoint) holder = i;
    until = Math.min(until, holder);
  }
  return until;
}

async function recoverSegments(
  ctx: LoadContext,
  segments: Segment[],
  from: number,
  epochs: LeaderEpochCache,
  allowGaps: boolean,
): Promise<void> {
  const { index, config, logger } = ctx;
  // written with the rebuilt index (and, in a start group, found and written with other logs')
  await index.truncateAtNextWrite(segmentAt(segments, from).baseOffset);
  const indexer = new SparseIndexer(index, config.indexIntervalBytes);
  let maxBefore = -1;
  for (let i = 0; i < from; i++) maxBefore = Math.max(maxBefore, segmentAt(segments, i).maxTimestamp);
  indexer.reset(maxBefore);

  for (let i = from; i < segments.length; i++) {
    const segment = segmentAt(segments, i);
    const previous = segments[i - 1];
    if (previous && segment.baseOffset !== previous.nextOffset) {
      logger.error(
        { segment: segment.path, expectedBase: previous.nextOffset },
        'segment does not continue the log; it and all later segments are removed',
      );
      discardFrom(segments, i);
      break;
    }
    const fileSize = segment.size;
    const scan = scanSegment(
      segment,
      fileSize,
      segment.baseOffset,
      (base, position, size, maxTs, epoch) => {
        indexer.onBatch(base, segment.baseOffset, position, size, maxTs);
        // the batches' stamps rebuild the epoch history past the trusted part (KIP-101)
        epochs.learn(epoch, base);
      },
      allowGaps,
    );
    segment.nextOffset = scan.nextOffset;
    segment.maxTimestamp = scan.maxTimestamp;
    segment.verifiedBytes = scan.validBytes;
    if (scan.validBytes < fileSize) {
      logger.warn(
        {
          segment: segment.path,
          problem: scan.problem,
          keptBytes: scan.validBytes,
          truncatedBytes: fileSize - scan.validBytes,
        },
        'truncating a corrupt or partial tail',
      );
      segment.truncateTo(scan.validBytes);
      if (i + 1 < segments.length) {
        logger.warn({ segments: segments.length - i - 1 }, 'removing the segments after the truncated one');
        discardFrom(segments, i + 1);
      }
    }
    index.setSegmentSummary(segment.baseOffset, segment.summary);
  }
}

function discardFrom(segments: Segment[], from: number): void {
  for (const s of segments.splice(from)) s.delete();
}
