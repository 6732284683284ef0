/**
 * The chaos suite's verdict and its summary table. The run fails on any
 * loss, wrong offset, duplicate in the log, reordering or replica
 * divergence; on a consumer-group delivery the log contradicts or an
 * acknowledged record the group never got; and for queues on a loss, a
 * redelivery after an acknowledgement or an unflagged redelivery (the
 * defects issue 14 names); for the transactional worker on any break of
 * exactly-once (txn-checker.ts). Dead letters before their limit, unacknowledged
 * sends and the longest time without an acknowledgement are reported only.
 */
import type { LogFindings } from './log-checker.js';
import type { QueueFindings } from './queue-checker.js';
import { type TxnFindings, txnFailing } from './txn-checker.js';

const logFailing = [
  'lost',
  'wrongOffset',
  'duplicated',
  'reordered',
  'divergent',
  'groupReadDiverged',
  'groupMissed',
] as const;
const queueFailing = [
  ['queueLost', 'lost'],
  ['ackedThenRedelivered', 'ackedThenRedelivered'],
  ['unflaggedRedeliveries', 'unflaggedRedeliveries'],
] as const;

/** The names of the failing checks (empty: the run passed). */
export function failedChecks(
  log: LogFindings | undefined,
  queue: QueueFindings | undefined,
  txn?: TxnFindings,
): string[] {
  const failed: string[] = [];
  if (log) for (const k of logFailing) if (log[k] > 0) failed.push(k);
  if (queue) for (const [name, k] of queueFailing) if (queue[k] > 0) failed.push(name);
  if (txn) for (const k of txnFailing) if (txn[k] > 0) failed.push(`txn.${k}`);
  return failed;
}

export interface ChaosSummary {
  seed: number;
  rounds: number;
  faults: string[];
  log: LogFindings;
  queue: QueueFindings;
  /** The transactional worker's check (absent when the run had none). */
  transactions?: TxnFindings;
  /** Things the run saw that are no check's business but worth reading (worker errors, refused restarts). */
  notes: string[];
  failed: string[];
  elapsedMs: number;
  /** The runner's peak resident memory (it streams every log file through the checkers). */
  runnerRssMaxMb: number;
}

function row(name: string, value: number | string, failing: boolean): string {
  return `${name.padEnd(38)} ${String(value).padStart(10)}${failing ? '   FAIL' : ''}`;
}

/** The summary table printed at the end of a run. */
export function summaryTable(s: ChaosSummary, startMs: number): string {
  const { log, queue } = s;
  const lines = [
    `chaos: seed ${s.seed}, ${s.rounds} rounds, ${(s.elapsedMs / 1000).toFixed(0)} s, runner peak RSS ${s.runnerRssMaxMb} MiB`,
    ...s.faults.map((f) => `  ${f}`),
    '',
    'log (6 partitions, RF 3, min.insync.replicas 2)',
    row('acknowledged', log.acknowledged, false),
    row('unacknowledged (send failed)', log.unacknowledged, false),
    row('records in the log', log.recordsInLog, false),
    row('lost', log.lost, log.lost > 0),
    row('wrong offset', log.wrongOffset, log.wrongOffset > 0),
    row('duplicated in the log', log.duplicated, log.duplicated > 0),
    row('reordered', log.reordered, log.reordered > 0),
    row('divergent replica offsets', log.divergent, log.divergent > 0),
    row('group: acknowledged and delivered', log.groupDelivered, false),
    row('group: acknowledged, never delivered', log.groupMissed, log.groupMissed > 0),
    row('group: delivered, log disagrees', log.groupReadDiverged, log.groupReadDiverged > 0),
    row('longest time without an ack (ms)', log.longestNoAckMs, false),
    `  (from +${((log.longestNoAckFrom - startMs) / 1000).toFixed(1)} s to +${((log.longestNoAckTo - startMs) / 1000).toFixed(1)} s)`,
    '',
    'queues (in -> listener / client-ack receiver / transacted in->out session; out -> receiver)',
    row('sent (acknowledged to the sender)', queue.sent, false),
    row('send failed', queue.sendFailed, false),
    row('acknowledged by consumers / commits', queue.acknowledged, false),
    row('deliveries', queue.deliveries, false),
    row('commits / rollbacks', `${queue.commits}/${queue.rollbacks}`, false),
    row('left in queue / in DLQ', `${queue.remaining}/${queue.deadLettered}`, false),
    row('ack outcome unknown, gone', queue.ackOutcomeUnknown, false),
    row('lost', queue.lost, queue.lost > 0),
    row('acknowledged then redelivered', queue.ackedThenRedelivered, queue.ackedThenRedelivered > 0),
    row('unflagged redeliveries', queue.unflaggedRedeliveries, queue.unflaggedRedeliveries > 0),
    row('dead letters before their limit', queue.dlqBeforeLimit, false),
    row('acknowledged twice (two held it)', queue.ackedTwice, false),
    row('duplicate copies (a retried send)', queue.duplicateCopies, false),
    ...txnRows(s.transactions),
  ];
  const examples = {
    ...prefixed('log', log.examples),
    ...prefixed('queue', queue.examples),
    ...prefixed('txn', s.transactions?.examples ?? {}),
  };
  if (Object.keys(examples).length > 0) {
    lines.push('', 'examples:');
    for (const [kind, list] of Object.entries(examples)) for (const e of list) lines.push(`  ${kind}: ${e}`);
  }
  if (s.notes.length > 0) lines.push('', 'notes:', ...s.notes.map((n) => `  ${n}`));
  const t = s.transactions;
  const txn = t
    ? `; transactions ${t.transactionsCommitted} committed / ${t.transactionsAbortedPlanned + t.transactionsAbortedOnError} aborted, ${t.outputCommitted} records, exactly-once ${txnFailing.some((k) => t[k] > 0) ? 'NO' : 'yes'}`
    : '';
  lines.push(
    '',
    s.failed.length === 0 ? `PASS (seed ${s.seed}${txn})` : `FAIL: ${s.failed.join(', ')} (seed ${s.seed}${txn})`,
  );
  return lines.join('\n');
}

/** The transactional worker's rows: its counts, each exactly-once check, and the verdict line. */
function txnRows(t: TxnFindings | undefined): string[] {
  if (!t) return [];
  const failing = txnFailing.filter((k) => t[k] > 0);
  return [
    '',
    'transactions (chaos -> chaos-txn-out, consume-transform-produce, read_committed)',
    row('committed / aborted on purpose', `${t.transactionsCommitted}/${t.transactionsAbortedPlanned}`, false),
    row('aborted after an error / new producers', `${t.transactionsAbortedOnError}/${t.producersReplaced}`, false),
    row('input records the group committed', t.inputCommitted, false),
    row('records in the committed output', t.outputCommitted, false),
    row('aborted records (read_uncommitted only)', t.abortedStored, false),
    row('missing', t.missing, t.missing > 0),
    row('duplicated', t.duplicated, t.duplicated > 0),
    row('reordered', t.reordered, t.reordered > 0),
    row('aborted on purpose, yet visible', t.abortedVisible, t.abortedVisible > 0),
    row('committed beyond the group offsets', t.beyondCommitted, t.beyondCommitted > 0),
    row('copy differs from the input', t.wrongValue, t.wrongValue > 0),
    row('aborted, acknowledged, not stored', t.abortedNotStored, t.abortedNotStored > 0),
    row('transactions left open', t.openTransactions, t.openTransactions > 0),
    `exactly-once: ${failing.length === 0 ? 'yes' : `NO (${failing.join(', ')})`}`,
  ];
}

function prefixed(prefix: string, examples: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(examples).map(([k, v]) => [`${prefix}.${k}`, v]));
}
