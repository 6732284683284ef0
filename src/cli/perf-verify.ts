/**
 * The invariant "every acknowledged offset holds the record it was
 * acknowledged for", checked after a run (`sluice perf produce --verify`; the
 * chaos suite's checker reuses it).
 *
 * Each record carries an id: its value starts with a run tag (4 random bytes,
 * so records of an earlier run on the same topic are never mistaken for this
 * run's) and the record's sequence number (uint32 BE). Every acknowledgement's
 * (partition, offset) is kept in typed arrays indexed by that sequence number,
 * allocated once for the run's records (at most perfVerifyRecordsMax). After
 * the run the acknowledged offsets are read back in offset order, partition by partition:
 * an offset holding another record (a foreign one, or another id) is "wrong",
 * an offset that cannot be read (beyond the log's end, below its start, or
 * skipped) is "missing".
 */
import type { Consumer } from '../client/consumer.js';
import type { ConsumerRecord } from '../client/types.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { perfVerifyRecordsMax } from '../shared/limits.js';

/** Bytes of the id at the start of each value: run tag (uint32) and sequence number (uint32). */
export const recordIdBytes = 8;
const unacknowledged = -1;

/** Writes record `id` of run `runTag` into the first recordIdBytes of `value`. */
export function stampRecordId(value: Buffer, runTag: number, id: number): void {
  value.writeUInt32BE(runTag, 0);
  value.writeUInt32BE(id, 4);
}

/** The record's id when its value carries `runTag`; -1 for any other record. */
export function recordIdOf(value: Buffer | null, runTag: number): number {
  if (value === null || value.length < recordIdBytes || value.readUInt32BE(0) !== runTag) return -1;
  return value.readUInt32BE(4);
}

export interface VerifyCounts {
  /** Acknowledgements checked. */
  verified: number;
  /** Acknowledged offsets that hold another record. */
  wrong: number;
  /** Acknowledged offsets that could not be read back. */
  missing: number;
}

/** The acknowledged (partition, offset) of records 0..capacity-1, in typed arrays allocated once. */
export class AcknowledgementLog {
  private readonly partitions: Int32Array;
  private readonly offsets: Float64Array;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > perfVerifyRecordsMax) {
      throw new SluiceError(
        ErrorCode.InvalidArgument,
        `verification keeps at most ${perfVerifyRecordsMax} acknowledgements, not ${capacity}`,
      );
    }
    this.partitions = new Int32Array(capacity).fill(unacknowledged);
    this.offsets = new Float64Array(capacity);
  }

  /** Acknowledgements recorded. */
  get size(): number {
    return this.count;
  }

  /** Record `id` was acknowledged at (partition, offset). An id acknowledged twice is a bug of the producer. */
  record(id: number, partition: number, offset: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.capacity) {
      throw new SluiceError(ErrorCode.InvalidArgument, `record id ${id} is outside 0..${this.capacity - 1}`);
    }
    if (!Number.isInteger(partition) || partition < 0 || !Number.isSafeInteger(offset) || offset < 0) {
      throw new SluiceError(
        ErrorCode.InvalidArgument,
        `record ${id} was acknowledged at partition ${partition} offset ${offset}: not a place in a log`,
      );
    }
    if (this.partitions[id] !== unacknowledged) {
      throw new SluiceError(ErrorCode.InvalidArgument, `record ${id} was acknowledged twice`);
    }
    this.partitions[id] = partition;
    this.offsets[id] = offset;
    this.count++;
  }

  /** The partitions acknowledged to, ascending. */
  partitionsAcknowledged(): number[] {
    const seen = new Set<number>();
    for (let id = 0; id < this.capacity; id++) {
      const p = this.partitions[id] as number;
      if (p !== unacknowledged) seen.add(p);
    }
    return [...seen].sort((a, b) => a - b);
  }

  /** A checker for one partition's acknowledgements, which are fed the partition's records in offset order. */
  checker(partition: number, runTag: number): PartitionChecker {
    let n = 0;
    for (let id = 0; id < this.capacity; id++) if (this.partitions[id] === partition) n++;
    const ids = new Uint32Array(n);
    let i = 0;
    for (let id = 0; id < this.capacity; id++) if (this.partitions[id] === partition) ids[i++] = id;
    const offsets = this.offsets;
    ids.sort((a, b) => (offsets[a] as number) - (offsets[b] as number) || a - b);
    const sortedOffsets = new Float64Array(n);
    for (let k = 0; k < n; k++) sortedOffsets[k] = offsets[ids[k] as number] as number;
    return new PartitionChecker(partition, runTag, ids, sortedOffsets);
  }
}

/**
 * One partition's acknowledgements in offset order; offer() takes the
 * partition's records in offset order (gaps allowed), finish() counts what
 * was never reached as missing.
 */
export class PartitionChecker {
  private next = 0;
  private wrong = 0;
  private missing = 0;

  constructor(
    readonly partition: number,
    private readonly runTag: number,
    private readonly ids: Uint32Array,
    private readonly offsets: Float64Array,
  ) {}

  /** The first offset to read: the lowest acknowledged one (-1: nothing acknowledged here). */
  get firstOffset(): number {
    return this.offsets.length === 0 ? -1 : (this.offsets[0] as number);
  }

  /** The last offset to read (-1: nothing acknowledged here). */
  get lastOffset(): number {
    return this.offsets.length === 0 ? -1 : (this.offsets[this.offsets.length - 1] as number);
  }

  /** True once every acknowledgement of the partition has been checked. */
  get done(): boolean {
    return this.next >= this.ids.length;
  }

  /** The record at `offset` (offsets offered in ascending order). */
  offer(offset: number, value: Buffer | null): void {
    // acknowledged offsets the read went past without seeing: skipped over, so missing
    while (this.next < this.ids.length && (this.offsets[this.next] as number) < offset) {
      this.missing++;
      this.next++;
    }
    const holds = recordIdOf(value, this.runTag);
    while (this.next < this.ids.length && this.offsets[this.next] === offset) {
      if (holds !== this.ids[this.next]) this.wrong++;
      this.next++;
    }
  }

  /** Counts every acknowledgement not yet reached as missing; returns the partition's counts. */
  finish(): VerifyCounts {
    this.missing += this.ids.length - this.next;
    this.next = this.ids.length;
    return { verified: this.ids.length, wrong: this.wrong, missing: this.missing };
  }
}

/** Reads an assigned consumer's records until every checker is done or nothing arrives for idleTimeoutMs. */
async function feedCheckers(
  consumer: Consumer,
  checkers: Map<number, PartitionChecker>,
  idleTimeoutMs: number,
  pollWaitMs: number,
): Promise<void> {
  let lastRecordAt = Date.now();
  const pending = () => [...checkers.values()].some((c) => !c.done);
  while (pending()) {
    const records: ConsumerRecord[] = await consumer.poll({ maxWaitMs: pollWaitMs });
    if (records.length > 0) lastRecordAt = Date.now();
    else if (Date.now() - lastRecordAt >= idleTimeoutMs) return;
    for (const r of records) checkers.get(r.partition)?.offer(r.offset, r.value);
  }
}

export interface VerifyOptions {
  topic: string;
  runTag: number;
  /** Give up (counting the rest missing) when no record arrives for this long. */
  idleTimeoutMs: number;
  pollWaitMs: number;
}

/**
 * Reads back every acknowledged offset of `log` with `consumer` (assigned
 * here, no group) and counts the wrong and missing ones across partitions.
 */
export async function verifyAcknowledgements(
  consumer: Consumer,
  log: AcknowledgementLog,
  options: VerifyOptions,
): Promise<VerifyCounts> {
  const checkers = new Map<number, PartitionChecker>();
  for (const p of log.partitionsAcknowledged()) checkers.set(p, log.checker(p, options.runTag));
  const readable = [...checkers.values()].filter((c) => c.firstOffset >= 0);
  if (readable.length > 0) {
    consumer.assign(readable.map((c) => ({ topic: options.topic, partition: c.partition, offset: c.firstOffset })));
    await feedCheckers(consumer, checkers, options.idleTimeoutMs, options.pollWaitMs);
  }
  const total: VerifyCounts = { verified: 0, wrong: 0, missing: 0 };
  for (const c of checkers.values()) {
    const counts = c.finish();
    total.verified += counts.verified;
    total.wrong += counts.wrong;
    total.missing += counts.missing;
  }
  return total;
}

/** `verified N acknowledged offsets: W wrong, M missing` */
export function verifyLine(c: VerifyCounts): string {
  return `verified ${c.verified} acknowledged offsets: ${c.wrong} wrong, ${c.missing} missing`;
}
