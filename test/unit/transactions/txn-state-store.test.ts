import { describe, expect, it } from 'vitest';
import { offsetsPartitionFor } from '../../../src/groups/offset-store.js';
import type { TxnMetadata } from '../../../src/transactions/txn-metadata.js';
import {
  encodeTxnKey,
  encodeTxnValue,
  readTxnLogRecord,
  txnPartitionFor,
} from '../../../src/transactions/txn-state-store.js';

const meta: TxnMetadata = {
  transactionalId: 'tx-1',
  producerId: 2 ** 40 + 3,
  producerEpoch: 7,
  lastProducerId: -1,
  lastProducerEpoch: 6,
  timeoutMs: 60_000,
  state: 'PrepareCommit',
  partitions: [
    { topic: 'a', partition: 0 },
    { topic: 'b', partition: 12 },
  ],
  startTimeMs: 1_700_000_000_000,
  lastUpdateMs: 1_700_000_000_500,
};

describe('__transaction_state records', () => {
  it('round-trips a state, and a tombstone', () => {
    expect(readTxnLogRecord(encodeTxnKey('tx-1'), encodeTxnValue(meta))).toEqual({ transactionalId: 'tx-1', meta });
    expect(readTxnLogRecord(encodeTxnKey('tx-1'), null)).toEqual({ transactionalId: 'tx-1', meta: null });
  });

  it('skips records in another layout or version instead of failing the load', () => {
    expect(readTxnLogRecord(null, encodeTxnValue(meta))).toBeNull();
    expect(readTxnLogRecord(Buffer.from('not msgpack \xc1'), null)).toBeNull();
    const future = Buffer.from(encodeTxnValue(meta));
    // a value whose version is not 0 (msgpack map: first entry v = 0 → rewrite the fixint)
    const i = future.indexOf(Buffer.from([0xa1, 0x76, 0x00]));
    expect(i).toBeGreaterThanOrEqual(0);
    future[i + 2] = 1;
    expect(readTxnLogRecord(encodeTxnKey('tx-1'), future)).toBeNull();
    const { encode } = { encode: (x: unknown) => Buffer.from(JSON.stringify(x)) };
    expect(readTxnLogRecord(encodeTxnKey('tx-1'), encode({ v: 0 }))).toBeNull();
  });

  it('places an id as the groups are placed (Java String.hashCode)', () => {
    for (const id of ['tx-1', 'orders', 'x'.repeat(300), ''])
      expect(txnPartitionFor(id, 50)).toBe(offsetsPartitionFor(id, 50));
    expect(txnPartitionFor('tx-1', 50)).toBeLessThan(50);
  });
});
