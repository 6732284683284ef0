/**
 * `sluice log verify` (issue 18): walks every batch of a partition's segment
 * files as a reader would (framing, CRC-32C, offsets that only grow) and
 * reports each corrupt range — where it starts and ends in its file, the last
 * good offset before it, and the offset reading goes on at — without
 * changing anything. Reads the files only (a running broker may keep
 * appending to its active segment; a torn tail there is reported as such).
 */
import fs from 'node:fs';
import path from 'node:path';
import { batchHeaderBytes } from '../shared/limits.js';
import { batchSizeOf, lastOffsetOf } from '../wire/record-batch.js';
import { resyncInSegment, validBatchAt } from './corrupt-range.js';
import { parsePartitionDirName, parseSegmentFileName } from './names.js';
import { Segment } from './segment.js';

export interface CorruptRange {
  /** The segment's base offset and the corrupt bytes' positions in it: [from, to). */
  segment: number;
  fromPosition: number;
  toPosition: number;
  /** The last offset readable before the corrupt bytes (-1: none in this partition). */
  afterOffset: number;
  /** The offset reading goes on at: the next valid batch, the next segment, or (undefined) the log's end. */
  nextReadableOffset: number | undefined;
}

export interface PartitionVerification {
  topic: string;
  partition: number;
  segments: number;
  batches: number;
  bytes: number;
  corrupt: CorruptRange[];
}

/** Every partition directory under the log dirs (name topic-partition), sorted. */
export function partitionDirs(logDirs: readonly string[]): { dir: string; topic: string; partition: number }[] {
  const found: { dir: string; topic: string; partition: number }[] = [];
  for (const logDir of logDirs) {
    if (!fs.existsSync(logDir)) continue;
    for (const entry of fs.readdirSync(logDir, { withFileTypes: true })) {
      const name = entry.isDirectory() ? parsePartitionDirName(entry.name) : undefined;
      if (name) found.push({ dir: path.join(logDir, entry.name), ...name });
    }
  }
  return found.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

export function verifyPartitionDir(dir: string, topic: string, partition: number): PartitionVerification {
  const bases = fs
    .readdirSync(dir)
    .map(parseSegmentFileName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  const result: PartitionVerification = { topic, partition, segments: bases.length, batches: 0, bytes: 0, corrupt: [] };
  let lastGood = -1;
  for (const [i, base] of bases.entries()) {
    const segment = Segment.open(dir, base);
    try {
      result.bytes += segment.size;
      let position = 0;
      while (position < segment.size) {
        const valid = validBatchAt(segment, position, lastGood);
        if (valid !== undefined) {
          const header = segment.read(position, batchHeaderBytes);
          result.batches++;
          lastGood = lastOffsetOf(header, 0);
          position += batchSizeOf(header, 0);
          continue;
        }
        // the whole rest of the file is searched: this is the offline check, not a read in a hurry
        const next = resyncInSegment(segment, position, lastGood, segment.size);
        const following = bases[i + 1];
        result.corrupt.push({
          segment: base,
          fromPosition: position,
          toPosition: next?.position ?? segment.size,
          afterOffset: lastGood,
          nextReadableOffset: next?.offset ?? following,
        });
        if (!next) break;
        position = next.position;
      }
    } finally {
      segment.close();
    }
  }
  return result;
}
