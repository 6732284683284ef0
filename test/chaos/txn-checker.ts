/**
 * The chaos suite's checker for the transactional consume-transform-produce
 * worker (workers/txn-processor.ts): a pure, incremental model fed, in this
 * order, with the input log as read back, the group's final committed offsets,
 * the worker's transaction events, the output read with read_uncommitted and
 * the output read with read_committed, and the transactions left open.
 *
 * An output value names its transaction, whether that transaction was meant
 * to be aborted, and the input record it copies (txnValue), so the checker
 * needs no other bookkeeping to tell what must and must not be visible.
 *
 * What it finds (each a failing check):
 * - missing: an input record below the group's committed offset with no copy in the committed output;
 * - duplicated: an input record with more than one copy in the committed output;
 * - reordered: per input partition, a copy in the committed output after the copy of a later input record;
 * - abortedVisible: a copy from a transaction aborted on purpose in the committed output;
 * - beyondCommitted: a committed copy of an input record at or above the group's committed offset
 *   (output committed without its offsets: the transaction was not atomic);
 * - wrongValue: a copy whose input value differs from the input log's record at that offset;
 * - abortedNotStored: an acknowledged record of a transaction aborted on purpose that
 *   read_uncommitted does not show (the aborted data the check relies on is not there: the
 *   check would prove nothing, or acknowledged data was lost);
 * - openTransactions: a transaction still open once the worker stopped (the coordinator lists it,
 *   or an output partition's last stable offset is below its high watermark).
 */
import { addExample, checkerRecordsMax } from './log-checker.js';

/** What the transactional worker logs, one per transaction outcome. */
export type TxnEvent =
  | { ev: 'commit'; t: number; txn: number; records: number }
  /** `planned`: aborted on purpose (its records were acknowledged); else aborted (or abandoned) after `error`. */
  | { ev: 'abort'; t: number; txn: number; records: number; planned: boolean; error?: string }
  /** The producer was replaced (fenced or fatal): a new one with the same transactional id fenced it. */
  | { ev: 'new-producer'; t: number; error: string };

/** One record of the output topic as read back. */
export interface OutputRecord {
  partition: number;
  offset: number;
  value: string | null;
}

/** The output value copying input record (partition, offset, value) in transaction `txn`. */
export function txnValue(txn: number, plannedAbort: boolean, partition: number, offset: number, value: string): string {
  return `${txn}:${plannedAbort ? 'A' : 'C'}:${partition}:${offset}|${value}`;
}

export interface ParsedTxnValue {
  txn: number;
  plannedAbort: boolean;
  partition: number;
  offset: number;
  value: string;
}

/** The parts of a txnValue, or undefined for any other value. */
export function parseTxnValue(v: string | null): ParsedTxnValue | undefined {
  if (v === null) return undefined;
  const bar = v.indexOf('|');
  if (bar < 0) return undefined;
  const [txn, tag, partition, offset] = v
    .slice(0, bar)
    .split(':')
    .map((s, i) => (i === 1 ? s : Number(s)));
  if (tag !== 'A' && tag !== 'C') return undefined;
  if (![txn, partition, offset].every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return undefined;
  return {
    txn: txn as number,
    plannedAbort: tag === 'A',
    partition: partition as number,
    offset: offset as number,
    value: v.slice(bar + 1),
  };
}

export interface TxnFindings {
  transactionsCommitted: number;
  transactionsAbortedPlanned: number;
  transactionsAbortedOnError: number;
  producersReplaced: number;
  /** Input records below the group's committed offsets (what must be in the output once). */
  inputCommitted: number;
  /** Records in the committed output (read_committed). */
  outputCommitted: number;
  /** Records of transactions aborted on purpose that read_uncommitted shows. */
  abortedStored: number;
  missing: number;
  duplicated: number;
  reordered: number;
  abortedVisible: number;
  beyondCommitted: number;
  wrongValue: number;
  abortedNotStored: number;
  openTransactions: number;
  examples: Record<string, string[]>;
}

export const txnFailing = [
  'missing',
  'duplicated',
  'reordered',
  'abortedVisible',
  'beyondCommitted',
  'wrongValue',
  'abortedNotStored',
  'openTransactions',
] as const;

type Phase = 'input' | 'offsets' | 'events' | 'uncommitted' | 'committed' | 'done';
const phaseOrder: Record<Phase, number> = { input: 0, offsets: 1, events: 2, uncommitted: 3, committed: 4, done: 5 };

export class TxnChecker {
  private phase: Phase = 'input';
  private held = 0;
  /** input partition -> offset -> value */
  private readonly input = new Map<number, Map<number, string | null>>();
  /** input partition -> the group's committed offset (next to read) */
  private readonly committedOffset = new Map<number, number>();
  /** txn -> records acknowledged in a transaction aborted on purpose */
  private readonly plannedAborts = new Map<number, number>();
  /** txn -> records of it read_uncommitted shows */
  private readonly abortedSeen = new Map<number, number>();
  /** "partition:offset" of input -> copies in the committed output */
  private readonly copies = new Map<string, number>();
  /** input partition -> the input offset of its last copy in the committed output, and where that copy is */
  private readonly lastCopy = new Map<number, { offset: number; at: string }>();
  private readonly f: TxnFindings = {
    transactionsCommitted: 0,
    transactionsAbortedPlanned: 0,
    transactionsAbortedOnError: 0,
    producersReplaced: 0,
    inputCommitted: 0,
    outputCommitted: 0,
    abortedStored: 0,
    missing: 0,
    duplicated: 0,
    reordered: 0,
    abortedVisible: 0,
    beyondCommitted: 0,
    wrongValue: 0,
    abortedNotStored: 0,
    openTransactions: 0,
    examples: {},
  };

  private enter(phase: Phase): void {
    if (phaseOrder[phase] < phaseOrder[this.phase])
      throw new Error(
        `txn checker: ${phase} after ${this.phase} (feed input, offsets, events, uncommitted, committed)`,
      );
    this.phase = phase;
  }

  private hold(): void {
    if (++this.held > checkerRecordsMax) throw new Error(`txn checker: more than ${checkerRecordsMax} records`);
  }

  /** A record of the input topic, read back from its beginning. */
  inputRecord(r: OutputRecord): void {
    this.enter('input');
    this.hold();
    const m = this.input.get(r.partition) ?? new Map<number, string | null>();
    this.input.set(r.partition, m);
    m.set(r.offset, r.value);
  }

  /** The group's committed offset of an input partition after the worker stopped. */
  groupOffset(partition: number, offset: number): void {
    this.enter('offsets');
    this.committedOffset.set(partition, offset);
  }

  event(e: TxnEvent): void {
    this.enter('events');
    if (e.ev === 'commit') this.f.transactionsCommitted++;
    else if (e.ev === 'new-producer') this.f.producersReplaced++;
    else if (e.planned) {
      this.f.transactionsAbortedPlanned++;
      this.plannedAborts.set(e.txn, e.records);
    } else this.f.transactionsAbortedOnError++;
  }

  /** A record of the output read with read_uncommitted. */
  uncommittedRecord(r: OutputRecord): void {
    this.enter('uncommitted');
    const v = parseTxnValue(r.value);
    if (v?.plannedAbort) this.abortedSeen.set(v.txn, (this.abortedSeen.get(v.txn) ?? 0) + 1);
  }

  /** A record of the output read with read_committed, in offset order per output partition. */
  committedRecord(r: OutputRecord): void {
    this.enter('committed');
    this.hold();
    this.f.outputCommitted++;
    const at = `output ${r.partition}@${r.offset}`;
    const v = parseTxnValue(r.value);
    if (!v) {
      this.f.wrongValue++;
      addExample(this.f.examples, 'wrongValue', `${at}: not a copy (${String(r.value).slice(0, 80)})`);
      return;
    }
    const src = `input ${v.partition}@${v.offset}`;
    if (v.plannedAbort) {
      this.f.abortedVisible++;
      addExample(this.f.examples, 'abortedVisible', `${at}: ${src} from transaction ${v.txn}, aborted on purpose`);
    }
    const inputValue = this.input.get(v.partition)?.get(v.offset);
    if (inputValue !== v.value) {
      this.f.wrongValue++;
      addExample(this.f.examples, 'wrongValue', `${at}: copies ${v.value} as ${src}, which holds ${inputValue}`);
    }
    if (v.offset >= (this.committedOffset.get(v.partition) ?? 0)) {
      this.f.beyondCommitted++;
      addExample(
        this.f.examples,
        'beyondCommitted',
        `${at}: ${src} (transaction ${v.txn}) but the group committed only up to ${this.committedOffset.get(v.partition) ?? 0}`,
      );
    }
    if (v.plannedAbort) return;
    const key = `${v.partition}:${v.offset}`;
    const n = (this.copies.get(key) ?? 0) + 1;
    this.copies.set(key, n);
    if (n > 1) {
      this.f.duplicated++;
      addExample(this.f.examples, 'duplicated', `${at}: copy ${n} of ${src} (transaction ${v.txn})`);
      return;
    }
    const last = this.lastCopy.get(v.partition);
    if (last && v.offset < last.offset) {
      this.f.reordered++;
      addExample(
        this.f.examples,
        'reordered',
        `${at}: ${src} (transaction ${v.txn}) after input ${v.partition}@${last.offset} at ${last.at}`,
      );
    } else this.lastCopy.set(v.partition, { offset: v.offset, at });
  }

  /** Transactions the coordinators still list as open, or output partitions whose last stable offset lags. */
  openTransactions(count: number, what: string): void {
    if (count <= 0) return;
    this.f.openTransactions += count;
    addExample(this.f.examples, 'openTransactions', what);
  }

  finish(): TxnFindings {
    this.enter('done');
    for (const [partition, committed] of this.committedOffset) {
      const values = this.input.get(partition);
      for (let offset = 0; offset < committed; offset++) {
        this.f.inputCommitted++;
        if (values && !values.has(offset)) continue; // not in the input as read back: the log checker's business
        if (this.copies.has(`${partition}:${offset}`)) continue;
        this.f.missing++;
        addExample(
          this.f.examples,
          'missing',
          `input ${partition}@${offset} (${values?.get(offset)}) has no committed copy`,
        );
      }
    }
    for (const [txn, records] of this.plannedAborts) {
      const seen = this.abortedSeen.get(txn) ?? 0;
      this.f.abortedStored += seen;
      if (seen < records) {
        this.f.abortedNotStored += records - seen;
        addExample(
          this.f.examples,
          'abortedNotStored',
          `transaction ${txn} (aborted on purpose): ${records} records acknowledged, read_uncommitted shows ${seen}`,
        );
      }
    }
    return this.f;
  }
}
