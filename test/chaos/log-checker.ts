/**
 * The chaos suite's checker for the partitioned log: a pure, incremental
 * model fed from the streamed files (producer acknowledgements, the log read
 * back after healing, the consumer group's deliveries, each broker's stored
 * copy), in that order. Memory grows with the records checked (a few map
 * entries each) and is capped by checkerRecordsMax.
 *
 * What it finds:
 * - lost: an acknowledged record that is nowhere in the log;
 * - wrong offset: an acknowledged record whose acknowledged offset (and partition) holds another record;
 * - duplicated: extra copies of one producer record in the log;
 * - reordered: per producer and partition, a record stored after one with a higher sequence number;
 * - divergent: offsets below the high watermark where the replicas' copies differ or one is missing;
 * - group: deliveries that the final log contradicts (a dirty read) and acknowledged records never delivered;
 * - the longest time without any acknowledgement.
 */
import { type GroupDelivery, type LogRecord, type ProducerEvent, parseValue, recordValue } from './events.js';

/** Records (acknowledgements + stored + delivered) one check holds at most: ~100 bytes each. */
export const checkerRecordsMax = 5_000_000;
/** Examples kept per kind of finding. */
export const examplesPerKindMax = 10;

/** Keeps `text` as an example of `kind` unless examplesPerKindMax are kept already. */
export function addExample(examples: Record<string, string[]>, kind: string, text: string): void {
  const list = examples[kind] ?? [];
  examples[kind] = list;
  if (list.length < examplesPerKindMax) list.push(text);
}

export interface ReplicaComparison {
  partition: number;
  highWatermark: number;
  /** Offsets below the high watermark where the copies differ or one lacks the record. */
  divergentOffsets: number;
  examples: string[];
}

export interface LogFindings {
  acknowledged: number;
  /** Sends that failed for good (the record may or may not be in the log). */
  unacknowledged: number;
  recordsInLog: number;
  lost: number;
  wrongOffset: number;
  duplicated: number;
  reordered: number;
  divergent: number;
  groupDelivered: number;
  groupMissed: number;
  groupReadDiverged: number;
  /** Longest stretch without any acknowledgement, from the first acknowledgement to the end of the load. */
  longestNoAckMs: number;
  longestNoAckFrom: number;
  longestNoAckTo: number;
  examples: Record<string, string[]>;
}

type Phase = 'acks' | 'log' | 'group';
const phaseOrder: Record<Phase, number> = { acks: 0, log: 1, group: 2 };

export class LogChecker {
  /** `timeOrigin`: examples give times as seconds after it (the run's start). */
  constructor(private readonly timeOrigin = 0) {}

  private when(t: number): string {
    return `+${((t - this.timeOrigin) / 1000).toFixed(1)} s`;
  }

  private phase: Phase = 'acks';
  private held = 0;
  private unacked = 0;
  /** value -> where and when it was acknowledged */
  private readonly acked = new Map<string, { partition: number; offset: number; t: number }>();
  private ackTimes = new Float64Array(1024);
  private ackCount = 0;
  /** partition -> offset -> value, as read back */
  private readonly logAt = new Map<number, Map<number, string | null>>();
  private readonly lastOffset = new Map<number, number>();
  /** value -> copies in the log */
  private readonly copies = new Map<string, number>();
  /** `${producer}/${partition}` -> highest sequence number stored so far (in offset order) */
  private readonly highestSeq = new Map<string, number>();
  private readonly groupSeen = new Set<string>();
  private recordsInLog = 0;
  private duplicated = 0;
  private reordered = 0;
  private groupReadDiverged = 0;
  private readonly replicas: ReplicaComparison[] = [];
  private readonly examples: Record<string, string[]> = {};

  private enter(phase: Phase): void {
    if (phaseOrder[phase] < phaseOrder[this.phase])
      throw new Error(
        `the checker is fed acknowledgements, then the log, then the group: ${phase} after ${this.phase}`,
      );
    this.phase = phase;
  }

  private hold(): void {
    this.held++;
    if (this.held > checkerRecordsMax) throw new Error(`more than ${checkerRecordsMax} records to check`);
  }

  private example(kind: string, text: string): void {
    addExample(this.examples, kind, text);
  }

  producerEvent(e: ProducerEvent): void {
    this.enter('acks');
    if (e.ev === 'fail') {
      this.unacked++;
      return;
    }
    if (e.offset === undefined) throw new Error(`an acknowledgement without an offset: ${JSON.stringify(e)}`);
    this.hold();
    this.acked.set(recordValue(e.producer, e.seq), { partition: e.partition, offset: e.offset, t: e.t });
    if (this.ackCount === this.ackTimes.length) {
      const grown = new Float64Array(this.ackTimes.length * 2);
      grown.set(this.ackTimes);
      this.ackTimes = grown;
    }
    this.ackTimes[this.ackCount++] = e.t;
  }

  /** One record read back from the log; each partition's records in ascending offset order. */
  logRecord(r: LogRecord): void {
    this.enter('log');
    const last = this.lastOffset.get(r.partition) ?? -1;
    if (r.offset <= last) throw new Error(`partition ${r.partition}: offset ${r.offset} read after ${last}`);
    this.lastOffset.set(r.partition, r.offset);
    this.hold();
    this.recordsInLog++;
    let at = this.logAt.get(r.partition);
    if (!at) {
      at = new Map();
      this.logAt.set(r.partition, at);
    }
    at.set(r.offset, r.value);
    const parsed = parseValue(r.value);
    if (!parsed || r.value === null) return;
    const copies = (this.copies.get(r.value) ?? 0) + 1;
    this.copies.set(r.value, copies);
    if (copies > 1) {
      this.duplicated++;
      this.example('duplicated', `${r.value} again at ${r.partition}/${r.offset}`);
      return;
    }
    const key = `${parsed.producer}/${r.partition}`;
    const highest = this.highestSeq.get(key) ?? -1;
    if (parsed.seq < highest) {
      this.reordered++;
      this.example('reordered', `${r.value} at ${r.partition}/${r.offset} after sequence ${highest}`);
    } else {
      this.highestSeq.set(key, parsed.seq);
    }
  }

  /** One delivery to the consumer group (after the whole log was fed). */
  groupDelivery(d: GroupDelivery): void {
    this.enter('group');
    const stored = this.logAt.get(d.partition)?.get(d.offset);
    if (stored === undefined || stored !== d.value) {
      this.groupReadDiverged++;
      this.example(
        'groupReadDiverged',
        `delivered ${d.value} at ${d.partition}/${d.offset}, the log holds ${stored === undefined ? 'nothing' : stored}`,
      );
    }
    if (d.value !== null && this.acked.has(d.value) && !this.groupSeen.has(d.value)) {
      this.hold();
      this.groupSeen.add(d.value);
    }
  }

  replicaComparison(c: ReplicaComparison): void {
    this.replicas.push(c);
    for (const e of c.examples) this.example('divergent', e);
  }

  /** The findings; `loadEndMs` closes the last stretch without acknowledgements. */
  finish(loadEndMs?: number): LogFindings {
    let lost = 0;
    let wrongOffset = 0;
    let groupMissed = 0;
    for (const [value, where] of this.acked) {
      const stored = this.logAt.get(where.partition)?.get(where.offset);
      if (!this.copies.has(value)) {
        lost++;
        this.example('lost', `${value} acknowledged at ${where.partition}/${where.offset} at ${this.when(where.t)}`);
      } else if (stored !== value) {
        wrongOffset++;
        this.example(
          'wrongOffset',
          `${value} acknowledged at ${where.partition}/${where.offset}, which holds ${stored}`,
        );
      }
      if (this.phase === 'group' && !this.groupSeen.has(value)) {
        groupMissed++;
        this.example('groupMissed', `${value} (${where.partition}/${where.offset}) never delivered to the group`);
      }
    }
    const gap = this.longestGap(loadEndMs);
    return {
      acknowledged: this.acked.size,
      unacknowledged: this.unacked,
      recordsInLog: this.recordsInLog,
      lost,
      wrongOffset,
      duplicated: this.duplicated,
      reordered: this.reordered,
      divergent: this.replicas.reduce((n, c) => n + c.divergentOffsets, 0),
      groupDelivered: this.groupSeen.size,
      groupMissed,
      groupReadDiverged: this.groupReadDiverged,
      longestNoAckMs: gap.ms,
      longestNoAckFrom: gap.from,
      longestNoAckTo: gap.to,
      examples: this.examples,
    };
  }

  private longestGap(loadEndMs: number | undefined): { ms: number; from: number; to: number } {
    const times = this.ackTimes.subarray(0, this.ackCount).slice().sort();
    let best = { ms: 0, from: 0, to: 0 };
    for (let i = 1; i < times.length; i++) {
      const from = times[i - 1] as number;
      const to = times[i] as number;
      if (to - from > best.ms) best = { ms: to - from, from, to };
    }
    const lastAck = times[times.length - 1];
    if (lastAck !== undefined && loadEndMs !== undefined && loadEndMs - lastAck > best.ms)
      best = { ms: loadEndMs - lastAck, from: lastAck, to: loadEndMs };
    return best;
  }
}

/** A record as one broker stores it (key, value and timestamp: what replicas must agree on). */
export interface StoredCopyRecord {
  offset: number;
  digest: string;
}

/**
 * Compares the brokers' copies of one partition below its high watermark
 * (from `logStartOffset`): an offset where a copy lacks the record or holds
 * another one than the others counts once.
 */
export function compareReplicas(
  partition: number,
  highWatermark: number,
  copies: { broker: number; records: Iterable<StoredCopyRecord> }[],
  logStartOffset = 0,
): ReplicaComparison {
  const byBroker = copies.map(({ broker, records }) => {
    const at = new Map<number, string>();
    for (const r of records) if (r.offset >= logStartOffset && r.offset < highWatermark) at.set(r.offset, r.digest);
    return { broker, at };
  });
  let divergentOffsets = 0;
  const examples: string[] = [];
  for (let o = logStartOffset; o < highWatermark; o++) {
    const seen = byBroker.map(({ broker, at }) => ({ broker, digest: at.get(o) }));
    const first = seen[0]?.digest;
    if (seen.every((s) => s.digest !== undefined && s.digest === first)) continue;
    divergentOffsets++;
    if (examples.length < examplesPerKindMax)
      examples.push(
        `${partition}/${o}: ${seen.map((s) => `broker ${s.broker} ${s.digest === undefined ? 'missing' : JSON.stringify(s.digest)}`).join(', ')}`,
      );
  }
  return { partition, highWatermark, divergentOffsets, examples };
}
