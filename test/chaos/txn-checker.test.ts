/**
 * The transactional worker's checker on synthetic inputs: a clean history
 * passes (an aborted transaction's records visible only to read_uncommitted),
 * and each break of exactly-once — a duplicate, a missing record, a visible
 * aborted record, a reordering, output beyond the group's offsets, a wrong
 * copy, aborted data absent from the log, a transaction left open — is found
 * and fails the verdict: a checker that cannot fail would prove nothing.
 */
import { describe, expect, it } from 'vitest';
import { type OutputRecord, parseTxnValue, TxnChecker, type TxnEvent, txnValue } from './txn-checker.js';
import { failedChecks } from './verdict.js';

const rec = (partition: number, offset: number, value: string | null): OutputRecord => ({ partition, offset, value });

interface History {
  input: OutputRecord[];
  offsets: number[];
  events: TxnEvent[];
  uncommitted: OutputRecord[];
  committed: OutputRecord[];
  open?: number;
}

/**
 * Input partition 0 holds a:0..a:2, partition 1 holds b:0..b:1; the group committed all of it.
 * Transaction 1 copied 0@0, 0@1 and 1@0 and was aborted on purpose; transaction 2 copied the
 * same and committed; transaction 3 copied 0@2 and 1@1 and committed. Output partition = input partition.
 */
function clean(): History {
  const t1 = [txnValue(1, true, 0, 0, 'a:0'), txnValue(1, true, 0, 1, 'a:1'), txnValue(1, true, 1, 0, 'b:0')];
  const t2 = [txnValue(2, false, 0, 0, 'a:0'), txnValue(2, false, 0, 1, 'a:1'), txnValue(2, false, 1, 0, 'b:0')];
  const t3 = [txnValue(3, false, 0, 2, 'a:2'), txnValue(3, false, 1, 1, 'b:1')];
  // output offsets: data, then a marker after each transaction's records on each partition
  const uncommitted = [
    rec(0, 0, t1[0] as string),
    rec(0, 1, t1[1] as string),
    rec(0, 3, t2[0] as string),
    rec(0, 4, t2[1] as string),
    rec(0, 6, t3[0] as string),
    rec(1, 0, t1[2] as string),
    rec(1, 2, t2[2] as string),
    rec(1, 4, t3[1] as string),
  ];
  return {
    input: [rec(0, 0, 'a:0'), rec(0, 1, 'a:1'), rec(0, 2, 'a:2'), rec(1, 0, 'b:0'), rec(1, 1, 'b:1')],
    offsets: [3, 2],
    events: [
      { ev: 'abort', t: 1, txn: 1, records: 3, planned: true },
      { ev: 'commit', t: 2, txn: 2, records: 3 },
      { ev: 'commit', t: 3, txn: 3, records: 2 },
    ],
    uncommitted,
    committed: uncommitted.filter((r) => !parseTxnValue(r.value)?.plannedAbort),
  };
}

function check(h: History) {
  const c = new TxnChecker();
  for (const r of h.input) c.inputRecord(r);
  for (const [p, o] of h.offsets.entries()) c.groupOffset(p, o);
  for (const e of h.events) c.event(e);
  for (const r of h.uncommitted) c.uncommittedRecord(r);
  for (const r of h.committed) c.committedRecord(r);
  c.openTransactions(h.open ?? 0, 'an open transaction');
  return c.finish();
}

const failed = (h: History): string[] => failedChecks(undefined, undefined, check(h));

describe('transactional worker checker', () => {
  it('a clean history passes; the aborted records count as stored, not as output', () => {
    const f = check(clean());
    expect(f).toMatchObject({
      transactionsCommitted: 2,
      transactionsAbortedPlanned: 1,
      inputCommitted: 5,
      outputCommitted: 5,
      abortedStored: 3,
    });
    expect(failedChecks(undefined, undefined, f)).toEqual([]);
  });

  it('a value round-trips through txnValue and parseTxnValue (input values hold colons)', () => {
    expect(parseTxnValue(txnValue(12, true, 4, 99, 'native1:7'))).toEqual({
      txn: 12,
      plannedAbort: true,
      partition: 4,
      offset: 99,
      value: 'native1:7',
    });
    expect(parseTxnValue('native1:7')).toBeUndefined();
    expect(parseTxnValue(null)).toBeUndefined();
  });

  it('fails on a duplicate: one input record copied by two committed transactions', () => {
    const h = clean();
    h.committed.push(rec(0, 8, txnValue(4, false, 0, 2, 'a:2')));
    const f = check(h);
    expect(f.duplicated).toBe(1);
    expect(f.examples.duplicated?.[0]).toContain('input 0@2');
    expect(failedChecks(undefined, undefined, f)).toEqual(['txn.duplicated']);
  });

  it('fails on a missing record: committed by the group, no committed copy', () => {
    const h = clean();
    h.committed = h.committed.filter((r) => parseTxnValue(r.value)?.offset !== 1 || r.partition !== 0);
    const f = check(h);
    expect(f.missing).toBe(1);
    expect(f.examples.missing?.[0]).toContain('input 0@1');
    expect(failedChecks(undefined, undefined, f)).toEqual(['txn.missing']);
  });

  it('fails on a visible aborted record (read_committed shows a record of a transaction aborted on purpose)', () => {
    const h = clean();
    h.committed = [...h.uncommitted];
    const f = check(h);
    expect(f.abortedVisible).toBe(3);
    expect(failedChecks(undefined, undefined, f)).toContain('txn.abortedVisible');
  });

  it('fails when read_uncommitted does not show the aborted records (the check would prove nothing)', () => {
    const h = clean();
    h.uncommitted = h.committed;
    expect(failed(h)).toEqual(['txn.abortedNotStored']);
  });

  it('fails on a reordering within an input partition', () => {
    const h = clean();
    const [a0, a1] = [h.committed[0] as OutputRecord, h.committed[1] as OutputRecord];
    h.committed[0] = { ...a0, value: a1.value };
    h.committed[1] = { ...a1, value: a0.value };
    expect(failed(h)).toEqual(['txn.reordered']);
  });

  it('fails on committed output beyond the group offsets, a wrong copy and a transaction left open', () => {
    const h = clean();
    h.offsets = [2, 2];
    expect(failed(h)).toEqual(['txn.beyondCommitted']);
    const w = clean();
    w.committed[0] = rec(0, 3, txnValue(2, false, 0, 0, 'a:1'));
    expect(failed(w)).toEqual(['txn.wrongValue']);
    expect(failed({ ...clean(), open: 1 })).toEqual(['txn.openTransactions']);
  });
});
