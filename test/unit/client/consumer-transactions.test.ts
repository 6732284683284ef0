/**
 * The consumer's transaction rules (src/client/consumer/transaction-filter.ts
 * through records.ts), on real encoded batches: control batches (COMMIT /
 * ABORT markers) are never surfaced in either isolation level; read_committed
 * skips a producer's transactional batches from its aborted transaction's
 * first offset up to its ABORT marker, and keeps its committed ones and other
 * producers' interleaved ones.
 */
import { describe, expect, it } from 'vitest';
import { completeFetch, FetchBuffer } from '../../../src/client/consumer/records.js';
import { newState } from '../../../src/client/consumer/subscription-state.js';
import { AbortedTransactionFilter, isControlBatch } from '../../../src/client/consumer/transaction-filter.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { readTxnMarker } from '../../../src/wire/txn-marker.js';
import { controlBatch, markerAbort, markerCommit } from '../../helpers/control-batches.js';

const ControlType = { abort: markerAbort, commit: markerCommit };

/** A transactional data batch of `producerId` at `base`. */
function data(base: number, producerId: number, values: string[], transactional = true): Buffer {
  return encodeRecordBatch(
    values.map((v) => ({ key: null, value: Buffer.from(v) })),
    { baseOffset: base, producerId, producerEpoch: 0, baseSequence: 0, transactional },
  );
}

const marker = controlBatch;

function read(bytes: Buffer, aborted?: { producerId: number; firstOffset: number }[]): string[] {
  const s = newState('t', 0, { kind: 'earliest' }, 1 << 20);
  s.position = 0;
  const c = completeFetch(s, 0, bytes, aborted);
  const buf = new FetchBuffer();
  if (c) buf.push(c);
  const out: string[] = [];
  for (;;) {
    const got = buf.take(100);
    if (got.length === 0) break;
    out.push(...got.map((r) => `${r.offset}:${r.value?.toString()}`));
  }
  return out;
}

describe('consumer transaction filter', () => {
  it('hand-made markers: control batches at their offset, read as the leader writes them', () => {
    const abort = marker(5, 7, ControlType.abort);
    const commit = marker(5, 7, ControlType.commit);
    expect(isControlBatch(abort, 0)).toBe(true);
    expect(isControlBatch(data(0, 7, ['a']), 0)).toBe(false);
    expect(readTxnMarker(abort, 0)?.committed).toBe(false);
    expect(readTxnMarker(commit, 0)?.committed).toBe(true);
    expect(abort.readBigInt64BE(0)).toBe(5n);
  });

  it('never surfaces control batches, read_uncommitted: aborted data is returned', () => {
    const bytes = Buffer.concat([
      data(0, 1, ['a', 'b']),
      marker(2, 1, ControlType.commit),
      data(3, 2, ['x']),
      marker(4, 2, ControlType.abort),
      data(5, 3, ['plain'], false),
    ]);
    expect(read(bytes)).toEqual(['0:a', '1:b', '3:x', '5:plain']);
  });

  it('read_committed: skips an aborted transaction up to its marker, keeps commits and interleaved producers', () => {
    const bytes = Buffer.concat([
      data(0, 1, ['p1-committed']), // producer 1's first transaction: committed at 2
      data(1, 2, ['p2-aborted-a']), // producer 2's transaction from 1: aborted at 5
      marker(2, 1, ControlType.commit),
      data(3, 1, ['p1-next']), // producer 1's next transaction: committed at 7
      data(4, 2, ['p2-aborted-b', 'p2-aborted-c']),
      marker(6, 2, ControlType.abort),
      data(7, 2, ['p2-after']), // producer 2's next transaction: not aborted
      marker(8, 1, ControlType.commit),
      data(9, 4, ['idempotent-only'], false),
      marker(10, 2, ControlType.commit),
    ]);
    const aborted = [{ producerId: 2, firstOffset: 1 }];
    expect(read(bytes, aborted)).toEqual(['0:p1-committed', '3:p1-next', '7:p2-after', '9:idempotent-only']);
    // without the list (read_uncommitted) every data record is there
    expect(read(bytes)).toHaveLength(7);
  });

  it('read_committed: a producer aborted twice in one answer, its committed transaction between kept', () => {
    const bytes = Buffer.concat([
      data(0, 9, ['a1']),
      marker(1, 9, ControlType.abort),
      data(2, 9, ['c1']),
      marker(3, 9, ControlType.commit),
      data(4, 9, ['a2']),
      marker(5, 9, ControlType.abort),
    ]);
    const aborted = [
      { producerId: 9, firstOffset: 4 },
      { producerId: 9, firstOffset: 0 },
    ];
    expect(read(bytes, aborted)).toEqual(['2:c1']);
  });

  it('read_committed: a fetch starting inside an aborted transaction (its first offset before the answer)', () => {
    const bytes = Buffer.concat([data(10, 3, ['late-aborted']), marker(11, 3, ControlType.abort), data(12, 3, ['ok'])]);
    expect(read(bytes, [{ producerId: 3, firstOffset: 4 }])).toEqual(['12:ok']);
  });

  it('the filter alone: a non-transactional batch of an aborted producer id is kept', () => {
    const f = new AbortedTransactionFilter([{ producerId: 5, firstOffset: 0 }]);
    const plain = data(0, 5, ['x'], false);
    const txn = data(1, 5, ['y']);
    expect(f.skip(plain, 0)).toBe(false);
    expect(f.skip(txn, 0)).toBe(true);
  });
});
