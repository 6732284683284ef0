import { describe, expect, it } from 'vitest';
import { ErrorCode, SluiceError } from '../../../src/shared/errors.js';
import {
  addPartitions,
  complete,
  decideEnd,
  decideInit,
  expired,
  fenceAndAbort,
  newTxnMetadata,
  producerEpochMax,
  type TxnMetadata,
  type TxnState,
  timedOut,
  transition,
  txnStates,
} from '../../../src/transactions/txn-metadata.js';

const noNewId = (): number => {
  throw new Error('no new producer id expected');
};

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (err instanceof SluiceError) return err.code;
    throw err;
  }
}

/** A fresh id initialised once: producer 10, epoch 0, state Empty. */
function initialised(): TxnMetadata {
  const decision = decideInit(newTxnMetadata('tx', 10, 60_000, 1), 60_000, undefined, noNewId, 2);
  if (decision.kind !== 'bump') throw new Error('expected a bump');
  return decision.next;
}

function ongoing(): TxnMetadata {
  const next = addPartitions(initialised(), 10, 0, [{ topic: 't', partition: 0 }], 100, 5);
  if (!next) throw new Error('expected a change');
  return next;
}

describe('transaction state transitions (Kafka TransactionMetadata)', () => {
  const allowed: Record<TxnState, TxnState[]> = {
    Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
    Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
    PrepareCommit: ['Ongoing'],
    PrepareAbort: ['Ongoing', 'PrepareEpochFence'],
    CompleteCommit: ['PrepareCommit'],
    CompleteAbort: ['PrepareAbort'],
    Dead: ['Empty', 'CompleteCommit', 'CompleteAbort'],
    PrepareEpochFence: ['Ongoing'],
  };
  for (const to of txnStates) {
    for (const from of txnStates) {
      const ok = allowed[to].includes(from);
      it(`${from} → ${to} is ${ok ? 'allowed' : 'refused'}`, () => {
        const meta = { ...initialised(), state: from };
        if (ok) expect(transition(meta, to, {}, 9).state).toBe(to);
        else expect(codeOf(() => transition(meta, to, {}, 9))).toBe(ErrorCode.InvalidTxnState);
      });
    }
  }
});

describe('InitProducerId', () => {
  it('gives a new id epoch 0, then bumps the epoch on each init', () => {
    const first = initialised();
    expect(first).toMatchObject({ producerId: 10, producerEpoch: 0, state: 'Empty', startTimeMs: -1 });
    const again = decideInit(first, 30_000, undefined, noNewId, 3);
    expect(again).toMatchObject({ kind: 'bump', next: { producerId: 10, producerEpoch: 1, timeoutMs: 30_000 } });
  });

  it('asks to abort an open transaction first, and answers concurrent while one completes', () => {
    expect(decideInit(ongoing(), 60_000, undefined, noNewId, 6).kind).toBe('abortOpen');
    for (const state of ['PrepareCommit', 'PrepareAbort', 'PrepareEpochFence'] as const) {
      expect(decideInit({ ...ongoing(), state }, 60_000, undefined, noNewId, 6).kind).toBe('concurrent');
    }
  });

  it('takes a new producer id when the epoch is exhausted', () => {
    const worn = { ...initialised(), producerEpoch: producerEpochMax - 1 };
    const decision = decideInit(worn, 60_000, undefined, () => 77, 4);
    expect(decision).toMatchObject({ kind: 'bump', next: { producerId: 77, producerEpoch: 0, lastProducerId: -1 } });
    // KIP-360: the client's pair given, the old one is kept so a retry is recognised
    const kip360 = decideInit(worn, 60_000, { producerId: 10, producerEpoch: producerEpochMax - 1 }, () => 78, 4);
    expect(kip360).toMatchObject({
      kind: 'bump',
      next: { producerId: 78, producerEpoch: 0, lastProducerId: 10, lastProducerEpoch: producerEpochMax - 1 },
    });
    if (kip360.kind !== 'bump') return;
    const retried = decideInit(
      kip360.next,
      60_000,
      { producerId: 10, producerEpoch: producerEpochMax - 1 },
      noNewId,
      5,
    );
    expect(retried).toMatchObject({ kind: 'bump', next: { producerId: 78, producerEpoch: 0 } });
  });

  it('KIP-360: bumps from the current pair, repeats the answer to a retry, fences any other pair', () => {
    const meta = { ...initialised(), producerEpoch: 4 };
    const bumped = decideInit(meta, 60_000, { producerId: 10, producerEpoch: 4 }, noNewId, 5);
    expect(bumped).toMatchObject({
      kind: 'bump',
      next: { producerEpoch: 5, lastProducerId: 10, lastProducerEpoch: 4 },
    });
    if (bumped.kind !== 'bump') return;
    const retry = decideInit(bumped.next, 60_000, { producerId: 10, producerEpoch: 4 }, noNewId, 6);
    expect(retry).toMatchObject({ kind: 'bump', next: { producerEpoch: 5 } });
    expect(codeOf(() => decideInit(bumped.next, 60_000, { producerId: 10, producerEpoch: 2 }, noNewId, 6))).toBe(
      ErrorCode.ProducerFenced,
    );
    expect(codeOf(() => decideInit(bumped.next, 60_000, { producerId: 99, producerEpoch: 5 }, noNewId, 6))).toBe(
      ErrorCode.ProducerFenced,
    );
  });
});

describe('AddPartitionsToTxn', () => {
  it('opens the transaction with its start time, adds only new partitions, and writes nothing when none is new', () => {
    const open = ongoing();
    expect(open).toMatchObject({ state: 'Ongoing', startTimeMs: 5, partitions: [{ topic: 't', partition: 0 }] });
    const more = addPartitions(
      open,
      10,
      0,
      [
        { topic: 't', partition: 0 },
        { topic: 'u', partition: 1 },
      ],
      100,
      9,
    );
    expect(more).toMatchObject({
      startTimeMs: 5,
      partitions: [
        { topic: 't', partition: 0 },
        { topic: 'u', partition: 1 },
      ],
    });
    expect(addPartitions(open, 10, 0, [{ topic: 't', partition: 0 }], 100, 9)).toBeUndefined();
  });

  it('refuses a wrong producer id, an old epoch, a completing transaction and too many partitions', () => {
    const open = ongoing();
    const p = [{ topic: 'x', partition: 0 }];
    expect(codeOf(() => addPartitions(open, 11, 0, p, 100, 9))).toBe(ErrorCode.InvalidProducerIdMapping);
    expect(codeOf(() => addPartitions({ ...open, producerEpoch: 1 }, 10, 0, p, 100, 9))).toBe(ErrorCode.ProducerFenced);
    expect(codeOf(() => addPartitions({ ...open, state: 'PrepareCommit' }, 10, 0, p, 100, 9))).toBe(
      ErrorCode.ConcurrentTransactions,
    );
    expect(codeOf(() => addPartitions(open, 10, 0, p, 1, 9))).toBe(ErrorCode.InvalidArgument);
  });

  it('starts a new transaction after a completed one', () => {
    const done = { ...ongoing(), state: 'CompleteCommit' as const, partitions: [] };
    expect(addPartitions(done, 10, 0, [{ topic: 'y', partition: 3 }], 100, 20)).toMatchObject({
      state: 'Ongoing',
      startTimeMs: 20,
      partitions: [{ topic: 'y', partition: 3 }],
    });
  });
});

describe('EndTxn', () => {
  it('prepares a commit or an abort of the open transaction, then completes it', () => {
    const commit = decideEnd(ongoing(), 10, 0, true, 7);
    expect(commit).toMatchObject({ kind: 'prepare', next: { state: 'PrepareCommit' } });
    if (commit.kind !== 'prepare') return;
    expect(complete(commit.next, 8)).toMatchObject({ state: 'CompleteCommit', partitions: [] });
    const abort = decideEnd(ongoing(), 10, 0, false, 7);
    if (abort.kind !== 'prepare') throw new Error('expected prepare');
    expect(complete(abort.next, 8).state).toBe('CompleteAbort');
  });

  it("answers Kafka's errors: retries, concurrent completion, wrong outcome, nothing open, fenced", () => {
    const base = ongoing();
    expect(decideEnd({ ...base, state: 'CompleteCommit' }, 10, 0, true, 9).kind).toBe('done');
    expect(decideEnd({ ...base, state: 'CompleteAbort' }, 10, 0, false, 9).kind).toBe('done');
    expect(codeOf(() => decideEnd({ ...base, state: 'CompleteCommit' }, 10, 0, false, 9))).toBe(
      ErrorCode.InvalidTxnState,
    );
    expect(codeOf(() => decideEnd({ ...base, state: 'PrepareCommit' }, 10, 0, true, 9))).toBe(
      ErrorCode.ConcurrentTransactions,
    );
    expect(codeOf(() => decideEnd({ ...base, state: 'PrepareAbort' }, 10, 0, true, 9))).toBe(ErrorCode.InvalidTxnState);
    expect(codeOf(() => decideEnd(initialised(), 10, 0, true, 9))).toBe(ErrorCode.InvalidTxnState);
    expect(codeOf(() => decideEnd(base, 10, 1, true, 9))).toBe(ErrorCode.ProducerFenced);
    expect(codeOf(() => decideEnd(base, 3, 0, true, 9))).toBe(ErrorCode.InvalidProducerIdMapping);
    expect(codeOf(() => complete(initialised(), 9))).toBe(ErrorCode.InvalidTxnState);
  });
});

describe('timeouts and expiry', () => {
  it('aborts at a bumped epoch (the producer is fenced)', () => {
    const open = ongoing();
    expect(timedOut(open, 5 + 60_000)).toBe(false);
    expect(timedOut(open, 5 + 60_001)).toBe(true);
    expect(timedOut(initialised(), 10 ** 12)).toBe(false);
    const aborting = fenceAndAbort(open, 70_000);
    expect(aborting).toMatchObject({ state: 'PrepareAbort', producerEpoch: 1, partitions: open.partitions });
    expect(codeOf(() => decideEnd(aborting, 10, 0, false, 70_001))).toBe(ErrorCode.ProducerFenced);
  });

  it('expires only an idle id with nothing open', () => {
    expect(expired(initialised(), 1000, 1003)).toBe(true);
    expect(expired(initialised(), 1000, 1002)).toBe(false);
    expect(expired(ongoing(), 1000, 10 ** 12)).toBe(false);
  });
});
