/**
 * The transactional producer's state machine (src/client/producer/transaction-manager.ts):
 * Uninitialized → Initializing → Ready → InTransaction → Committing/Aborting → Ready;
 * a failed send leaves a transaction abortable only; a fatal error (PRODUCER_FENCED,
 * INVALID_PRODUCER_EPOCH) refuses every later call with its own code.
 */
import { describe, expect, it } from 'vitest';
import { wireError } from '../../../src/client/errors.js';
import { TransactionManager } from '../../../src/client/producer/transaction-manager.js';
import { ErrorCode, WireError } from '../../../src/shared/errors.js';

function ready(): TransactionManager {
  const m = new TransactionManager('tx');
  m.beginInit();
  m.initialized();
  return m;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('transaction manager', () => {
  it('walks a commit and an abort back to Ready', () => {
    const m = new TransactionManager('tx');
    expect(m.state).toBe('Uninitialized');
    expect(codeOf(() => m.begin())).toBe(ErrorCode.InvalidTxnState);
    m.beginInit();
    expect(m.state).toBe('Initializing');
    m.initialized();
    m.begin();
    expect(m.isActive()).toBe(true);
    m.checkSend();
    m.beginCommit();
    expect(m.state).toBe('Committing');
    m.completed();
    expect(m.state).toBe('Ready');
    expect(m.isActive()).toBe(false);
    m.begin();
    m.beginAbort();
    m.completed();
    expect(m.state).toBe('Ready');
  });

  it('one transaction at a time; no send, commit or abort outside one', () => {
    const m = ready();
    expect(codeOf(() => m.checkSend())).toBe(ErrorCode.InvalidTxnState);
    expect(codeOf(() => m.beginCommit())).toBe(ErrorCode.InvalidTxnState);
    expect(codeOf(() => m.beginAbort())).toBe(ErrorCode.InvalidTxnState);
    m.begin();
    expect(codeOf(() => m.begin())).toBe(ErrorCode.InvalidTxnState);
  });

  it('partitions are asked once per transaction, pending ones taken in one request', () => {
    const m = ready();
    m.begin();
    expect(m.need([{ topic: 'a', partition: 0 }])).toBe(false);
    expect(
      m.need([
        { topic: 'a', partition: 0 },
        { topic: 'b', partition: 1 },
      ]),
    ).toBe(false);
    const asked = m.takePending();
    expect(asked).toEqual([
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 1 },
    ]);
    expect(m.needsEndTxn).toBe(false);
    m.partitionsAdded(asked);
    expect(m.needsEndTxn).toBe(true);
    expect(m.need([{ topic: 'b', partition: 1 }])).toBe(true);
    expect(m.takePending()).toEqual([]);
    m.beginCommit();
    m.completed();
    // the next transaction starts with none added
    m.begin();
    expect(m.isAdded('a', 0)).toBe(false);
    expect(m.needsEndTxn).toBe(false);
    m.offsetsAdded();
    expect(m.needsEndTxn).toBe(true);
  });

  it('a failed send makes the transaction abortable only, and asks for an epoch bump after the abort', () => {
    const m = ready();
    m.begin();
    m.failed(wireError(WireError.REQUEST_TIMED_OUT, 'produce'), true);
    expect(m.state).toBe('AbortableError');
    expect(m.isActive()).toBe(true);
    expect(codeOf(() => m.checkSend())).toBe(ErrorCode.InvalidTxnState);
    expect(codeOf(() => m.beginCommit())).toBe(ErrorCode.InvalidTxnState);
    m.beginAbort();
    m.completed();
    expect(m.state).toBe('Ready');
    expect(m.needsEpochBump).toBe(true);
    m.beginInit();
    m.initialized();
    expect(m.needsEpochBump).toBe(false);
  });

  it('a send failing while committing makes it abortable; a failed EndTxn(commit) too', () => {
    const m = ready();
    m.begin();
    m.beginCommit();
    m.failed(wireError(WireError.NOT_ENOUGH_REPLICAS, 'produce'));
    expect(m.state).toBe('AbortableError');
    m.beginAbort();
    m.abortFailed(wireError(WireError.REQUEST_TIMED_OUT, 'end txn'));
    expect(m.state).toBe('AbortableError');
    m.beginAbort();
    m.completed();
    m.begin();
    m.beginCommit();
    m.commitFailed(wireError(WireError.REQUEST_TIMED_OUT, 'end txn'));
    expect(m.state).toBe('AbortableError');
  });

  it('fenced: every later call fails with the fencing error code', () => {
    for (const code of [WireError.PRODUCER_FENCED, WireError.INVALID_PRODUCER_EPOCH]) {
      const m = ready();
      m.begin();
      m.failed(wireError(code, 'produce'));
      expect(m.state).toBe('Fatal');
      expect(m.isActive()).toBe(false);
      const expected = code === WireError.PRODUCER_FENCED ? ErrorCode.ProducerFenced : ErrorCode.InvalidProducerEpoch;
      expect(m.fatalError).not.toBeNull();
      expect(codeOf(() => m.checkSend())).toBe(expected);
      expect(codeOf(() => m.beginAbort())).toBe(expected);
      expect(codeOf(() => m.begin())).toBe(expected);
      expect(codeOf(() => m.beginInit())).toBe(expected);
    }
  });

  it('a failed init goes back to Uninitialized (tried again by the next transaction)', () => {
    const m = new TransactionManager('tx');
    m.beginInit();
    m.initFailed();
    expect(m.state).toBe('Uninitialized');
    m.beginInit();
    m.initialized();
    expect(m.state).toBe('Ready');
  });
});
