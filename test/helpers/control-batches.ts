/**
 * Transaction markers for unit tests (issue 21): a control batch as the
 * partition leader writes one (src/wire/txn-marker.ts), placed at `offset`.
 */
import { setBaseOffset } from '../../src/wire/record-batch.js';
import { encodeTxnMarker } from '../../src/wire/txn-marker.js';

export const markerAbort = 0;
export const markerCommit = 1;

export function controlBatch(offset: number, producerId: number, type: number, producerEpoch = 0): Buffer {
  const b = encodeTxnMarker({ producerId, producerEpoch, committed: type === markerCommit, coordinatorEpoch: 0 });
  // the base offset lies outside the CRC: set in place, as a leader's append does
  setBaseOffset(b, 0, offset);
  return b;
}
