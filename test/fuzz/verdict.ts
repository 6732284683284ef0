/**
 * The fuzz run's verdict, pure: which broker log lines show a handler failure,
 * what the well-behaved client's read-back says, and whether the run passes.
 * A run fails on a dead broker, any failure line, a lost, duplicated or
 * misplaced acknowledged record, or a well-behaved client that got nothing
 * acknowledged (then nothing was measured).
 */

export const failureKinds = ['request-failed', 'encode-failed', 'uncaught', 'js-error', 'stderr'] as const;
export type FailureKind = (typeof failureKinds)[number];

export interface LogFailure {
  kind: FailureKind;
  /** The error's class when the line names one (TypeError, RangeError...), else '-'. */
  errType: string;
  /** The API the broker was handling, when the line says. */
  api: string;
  message: string;
  /** The line's time (ms since the epoch) when it has one. */
  timeMs: number | undefined;
}

const jsErrorTypes = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);
const crashText =
  /\b(TypeError|RangeError|ReferenceError|SyntaxError)\b|unhandled ?(promise ?)?rejection|uncaught ?exception|FATAL ERROR|out of memory/i;
/** pino's numeric levels. */
const levelWarn = 40;
const levelFatal = 60;

interface PinoLine {
  level?: number;
  time?: number;
  msg?: string;
  api?: string;
  err?: { type?: string; message?: string };
}

/** The failure a broker log line shows, or undefined for an ordinary line. */
export function classifyLogLine(line: string): LogFailure | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let entry: PinoLine | undefined;
  if (text.startsWith('{')) {
    try {
      entry = JSON.parse(text) as PinoLine;
    } catch {
      entry = undefined;
    }
  }
  if (!entry || typeof entry !== 'object') {
    // not pino: Node's own report of an uncaught error, a stack line, an OOM
    if (!crashText.test(text)) return undefined;
    const type = /\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/.exec(text)?.[1] ?? '-';
    return { kind: 'stderr', errType: type, api: '-', message: text.slice(0, 300), timeMs: undefined };
  }
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  const errType = typeof entry.err?.type === 'string' ? entry.err.type : '-';
  const base = {
    errType,
    api: typeof entry.api === 'string' ? entry.api : '-',
    message: `${msg}${entry.err?.message ? `: ${entry.err.message}` : ''}`.slice(0, 300),
    timeMs: typeof entry.time === 'number' ? entry.time : undefined,
  };
  if (msg === 'request failed') return { kind: 'request-failed', ...base };
  if (msg.includes('could not be encoded')) return { kind: 'encode-failed', ...base };
  if (/unhandled ?(promise ?)?rejection|uncaught ?exception/i.test(msg) || (entry.level ?? 0) >= levelFatal)
    return { kind: 'uncaught', ...base };
  if (jsErrorTypes.has(errType) && (entry.level ?? 0) >= levelWarn) return { kind: 'js-error', ...base };
  return undefined;
}

/** Failures counted by "kind errType api", most frequent first. */
export function countFailures(failures: readonly LogFailure[]): { key: string; count: number; example: string }[] {
  const byKey = new Map<string, { count: number; example: string }>();
  for (const f of failures) {
    const key = `${f.kind} ${f.errType} ${f.api}`;
    const seen = byKey.get(key);
    if (seen) seen.count++;
    else byKey.set(key, { count: 1, example: f.message });
  }
  return [...byKey.entries()].map(([key, v]) => ({ key, ...v })).sort((a, b) => b.count - a.count);
}

/** An acknowledged record: its value (unique per send), where the broker said it is. */
export interface Acknowledged {
  value: string;
  partition: number;
  offset: number;
}
export interface ReadBack {
  value: string;
  partition: number;
  offset: number;
}
export interface LedgerResult {
  acknowledged: number;
  lost: number;
  /** Extra copies of acknowledged records in the log. */
  duplicated: number;
  /** Acknowledged records found, but not at the partition and offset they were acknowledged with. */
  wrongOffset: number;
}

/** Compares what the broker acknowledged with what the log holds. */
export function checkLedger(acked: readonly Acknowledged[], read: readonly ReadBack[]): LedgerResult {
  const copies = new Map<string, ReadBack[]>();
  for (const r of read) {
    const list = copies.get(r.value);
    if (list) list.push(r);
    else copies.set(r.value, [r]);
  }
  let lost = 0;
  let duplicated = 0;
  let wrongOffset = 0;
  for (const a of acked) {
    const found = copies.get(a.value);
    if (!found) {
      lost++;
      continue;
    }
    duplicated += found.length - 1;
    if (!found.some((r) => r.partition === a.partition && r.offset === a.offset)) wrongOffset++;
  }
  return { acknowledged: acked.length, lost, duplicated, wrongOffset };
}

export interface RunOutcome {
  /** The broker's PID still runs and it answered a Metadata request at the end. */
  brokerAlive: boolean;
  failures: readonly LogFailure[];
  ledger: LedgerResult;
}

/** Passes only with a live broker, no failure line and every acknowledged record once, where it was acknowledged. */
export function verdict(outcome: RunOutcome): { ok: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (!outcome.brokerAlive) reasons.push('broker dead or not answering');
  if (outcome.failures.length > 0) reasons.push(`${outcome.failures.length} handler failure line(s) in the broker log`);
  const l = outcome.ledger;
  if (l.acknowledged === 0) reasons.push('the well-behaved producer got no record acknowledged');
  if (l.lost > 0) reasons.push(`${l.lost} acknowledged record(s) lost`);
  if (l.duplicated > 0) reasons.push(`${l.duplicated} duplicated record(s)`);
  if (l.wrongOffset > 0) reasons.push(`${l.wrongOffset} record(s) not at their acknowledged offset`);
  return { ok: reasons.length === 0, reasons };
}
