/**
 * The scrubber (issue 18): bytes at rest rot, and a corrupt batch nobody
 * reads is found only when somebody needs it — on a follower, typically when
 * it has just become the leader. So every partition's closed segments are
 * read back in the background at a bounded rate (`log.scrub.bytes.per.second`),
 * each batch checked as a reader would (framing, CRC-32C, offsets that only
 * grow), one pass over everything every `log.scrub.interval.ms`. A corrupt
 * batch is reported (a log line, a metric, and `onCorrupt`: the replica
 * manager repairs a follower from its leader) and the pass goes on after it.
 *
 * Each step is synchronous, so no append, roll, retention or cleaner pass
 * interleaves with it; between steps the segment under the cursor may be
 * gone (retention, the cleaner): the pass then goes on at the next one.
 */

import { batchHeaderBytes } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { batchSizeOf, lastOffsetOf } from '../wire/record-batch.js';
import { resyncInSegment, validBatchAt } from './corrupt-range.js';
import type { Segment } from './segment.js';

/** A corrupt batch the scrubber found in a closed segment. */
export interface ScrubFinding {
  topic: string;
  partition: number;
  /** The first offset that cannot be read (the one after the last good batch). */
  offset: number;
  segment: number;
  position: number;
  /** Where reading goes on after it (undefined: nothing readable after it in that segment). */
  nextReadableOffset: number | undefined;
}

export interface ScrubOptions {
  bytesPerSecond: number;
  /** Pause between two passes over every partition. */
  passIntervalMs: number;
  onCorrupt: (finding: ScrubFinding) => void;
  /** Bytes checked (a metric). */
  scrubbed?: (bytes: number) => void;
}

/** What the scrubber needs of a partition log: its closed segments, oldest first. */
export interface Scrubbable {
  readonly topic: string;
  readonly partition: number;
  closedSegments(): readonly Segment[];
}

interface Cursor {
  log: string;
  segment: number;
  position: number;
  /** The last offset checked good (a batch's base must be above it). */
  lastGood: number;
}

/** Steps per second: each gets a tenth of the byte rate. */
const stepMs = 100;

export class LogScrubber {
  private cursor: Cursor | undefined;
  /** Partitions left in this pass (keys of the logs), in order. */
  private pending: string[] = [];
  private nextPassAt = 0;
  private passBytes = 0;

  constructor(
    private readonly options: ScrubOptions,
    private readonly logger: Logger,
  ) {}

  get intervalMs(): number {
    return stepMs;
  }

  /** True between passes, before the next is due: a step now would do nothing. */
  resting(now: number): boolean {
    return this.pending.length === 0 && this.cursor === undefined && now < this.nextPassAt;
  }

  /**
   * How long to wait before the next step that does something: a step's length during a pass,
   * the time left until the next pass between passes (the caller sleeps through the rest instead
   * of waking ten times a second for nothing: issue 20 item 4).
   */
  nextStepInMs(now: number): number {
    return this.resting(now) ? Math.max(this.nextPassAt - now, stepMs) : stepMs;
  }

  /** One step of at most a tenth of the byte rate; `logs` are the partitions now held, by key. */
  step(logs: ReadonlyMap<string, Scrubbable>, now: number): void {
    if (this.pending.length === 0 && this.cursor === undefined) {
      if (now < this.nextPassAt) return;
      this.pending = [...logs.keys()].sort();
      this.passBytes = 0;
      if (this.pending.length === 0) {
        this.nextPassAt = now + this.options.passIntervalMs;
        return;
      }
    }
    let budget = Math.max(batchHeaderBytes, Math.floor((this.options.bytesPerSecond * stepMs) / 1000));
    while (budget > 0) {
      const cursor = this.cursor ?? this.startNext(logs);
      if (!cursor) {
        this.logger.debug({ bytes: this.passBytes }, 'log scrub pass done');
        this.nextPassAt = now + this.options.passIntervalMs;
        return;
      }
      const log = logs.get(cursor.log);
      const segment = log?.closedSegments().find((s) => s.baseOffset >= cursor.segment);
      if (!log || !segment) {
        // the partition or the rest of its closed segments are gone (deleted, retention, cleaner)
        this.cursor = undefined;
        continue;
      }
      if (segment.baseOffset !== cursor.segment) {
        cursor.segment = segment.baseOffset;
        cursor.position = 0;
      }
      const used = this.scan(log, segment, cursor, budget);
      budget -= used;
      this.passBytes += used;
      this.options.scrubbed?.(used);
    }
  }

  private startNext(logs: ReadonlyMap<string, Scrubbable>): Cursor | undefined {
    while (this.pending.length > 0) {
      const key = this.pending.shift() as string;
      const first = logs.get(key)?.closedSegments()[0];
      if (first) {
        this.cursor = { log: key, segment: first.baseOffset, position: 0, lastGood: first.baseOffset - 1 };
        return this.cursor;
      }
    }
    return undefined;
  }

  /** Checks batches of `segment` from the cursor for about `budget` bytes; returns the bytes read. */
  private scan(log: Scrubbable, segment: Segment, cursor: Cursor, budget: number): number {
    let used = 0;
    let done = false;
    try {
      while (used < budget && cursor.position < segment.size) {
        const base = validBatchAt(segment, cursor.position, cursor.lastGood);
        if (base !== undefined) {
          const header = segment.read(cursor.position, batchHeaderBytes);
          const size = batchSizeOf(header, 0);
          cursor.lastGood = lastOffsetOf(header, 0);
          cursor.position += size;
          used += size;
          continue;
        }
        const next = resyncInSegment(segment, cursor.position, cursor.lastGood);
        const finding: ScrubFinding = {
          topic: log.topic,
          partition: log.partition,
          offset: cursor.lastGood + 1,
          segment: segment.baseOffset,
          position: cursor.position,
          nextReadableOffset: next?.offset,
        };
        this.logger.error(finding, 'log scrub found a corrupt batch');
        this.options.onCorrupt(finding);
        used += (next?.position ?? segment.size) - cursor.position;
        if (!next) {
          done = true;
          break;
        }
        cursor.position = next.position;
        // offsets after the corrupt bytes are unknown until the next good batch
        cursor.lastGood = next.offset - 1;
      }
    } catch (err) {
      // an unreadable file (EIO): said once, and the pass goes on at the next segment
      this.logger.error(
        { err, topic: log.topic, partition: log.partition, segment: segment.baseOffset },
        'log scrub could not read a segment',
      );
      done = true;
    }
    if (done || cursor.position >= segment.size) {
      // on to the next closed segment (a base above this one), or the next partition
      const following = log.closedSegments().find((s) => s.baseOffset > segment.baseOffset);
      if (following) {
        cursor.segment = following.baseOffset;
        cursor.position = 0;
        cursor.lastGood = Math.max(cursor.lastGood, following.baseOffset - 1);
      } else this.cursor = undefined;
    }
    return Math.max(used, 1);
  }
}
