/**
 * A leader's transactional checks of the batches of one append, before any byte is written
 * (Kafka's LogValidator and ProducerAppendInfo rules for transactions):
 *  - a control batch from a client: INVALID_RECORD (only the broker writes markers);
 *  - a transactional batch without a producer id: INVALID_RECORD;
 *  - a control batch that is not a transaction marker: INVALID_RECORD;
 *  - a marker whose producer epoch is older than the partition's, or whose coordinator epoch is
 *    older than the last one seen for its producer: INVALID_PRODUCER_EPOCH /
 *    TRANSACTION_COORDINATOR_FENCED (txn-state.ts);
 *  - a coordinator-origin transactional batch (the group coordinator's offset commit, written with
 *    the producer's id and epoch and no sequence) whose epoch is older than the partition's known
 *    one: INVALID_PRODUCER_EPOCH (Kafka checks the epoch, not the sequence, of non-client appends),
 *    so a fenced zombie's TxnOffsetCommit is not completed by its successor's marker;
 *  - the first batch of one transaction too many: CONCURRENT_TRANSACTIONS.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { batchSizeOf, producerEpochOf, producerIdOf } from '../wire/record-batch.js';
import { isControlBatch, isTransactionalBatch, readTxnMarker } from '../wire/txn-marker.js';
import type { ProducerStateTable } from './producer-state.js';
import type { TxnState } from './txn-state.js';

export function checkTxnBatches(
  batches: Buffer,
  fromCoordinator: boolean,
  txns: TxnState,
  producers: ProducerStateTable,
): void {
  for (let pos = 0; pos < batches.length; pos += batchSizeOf(batches, pos)) {
    const control = isControlBatch(batches, pos);
    if (!control && !isTransactionalBatch(batches, pos)) continue;
    const producerId = producerIdOf(batches, pos);
    if (control && !fromCoordinator) {
      throw new SluiceError(ErrorCode.InvalidRecord, 'clients may not write control batches (transaction markers)');
    }
    if (producerId < 0) {
      throw new SluiceError(ErrorCode.InvalidRecord, 'a transactional batch needs a producer id');
    }
    if (!control) {
      if (fromCoordinator) checkCoordinatorEpoch(batches, pos, producerId, txns, producers);
      txns.checkData(producerId);
      continue;
    }
    const marker = readTxnMarker(batches, pos);
    if (!marker) throw new SluiceError(ErrorCode.InvalidRecord, 'a control batch that is no transaction marker');
    const epoch = producerEpochOf(batches, pos);
    txns.checkMarker(producerId, epoch, marker.coordinatorEpoch, producers.get(producerId)?.producerEpoch);
  }
}

/** The epoch check of a coordinator-origin data batch (its sequence is not checked: it has none). */
function checkCoordinatorEpoch(
  batches: Buffer,
  pos: number,
  producerId: number,
  txns: TxnState,
  producers: ProducerStateTable,
): void {
  const epoch = producerEpochOf(batches, pos);
  const known = Math.max(producers.get(producerId)?.producerEpoch ?? -1, txns.openTxn(producerId)?.producerEpoch ?? -1);
  if (epoch < known) {
    throw new SluiceError(
      ErrorCode.InvalidProducerEpoch,
      `producer ${producerId} (epoch ${epoch}): epoch ${epoch} is older than the partition's ${known}`,
    );
  }
}
