/**
 * TxnOffsetCommit on the group coordinator's side (KIP-98, KIP-447): who may
 * commit inside a transaction, and how a failed write is answered. The
 * coordinator (group-coordinator.ts) runs it; the offsets are written by
 * offset-store.ts and held pending until the transaction's marker.
 */
import type { TxnOffsetCommitRequest } from '../protocol/native/transaction-messages.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import type { Group } from './group.js';

/**
 * Kafka's doTxnCommitOffsets: a group the coordinator does not know is a new,
 * empty one (generation 0, no members); member and generation are checked
 * only when the request carries them (v3+).
 */
export function checkTxnCommitter(req: TxnOffsetCommitRequest, group: Group | undefined): void {
  const memberId = req.memberId ?? '';
  const generationId = req.generationId ?? -1;
  if (group) {
    group.checkTxnCommitter(memberId, generationId, req.groupInstanceId ?? null);
    return;
  }
  if (memberId !== '') throw new SluiceError(ErrorCode.UnknownMemberId, `unknown member ${memberId}`);
  if (generationId > 0) {
    throw new SluiceError(
      ErrorCode.IllegalGeneration,
      `generation ${generationId} is not group ${req.groupId}'s current one (0)`,
    );
  }
}

/**
 * The error a failed write of the offsets is answered with, as Kafka maps
 * the append's errors for a producer that retries: the offsets partition
 * moved (NOT_COORDINATOR) or cannot take the write now
 * (COORDINATOR_NOT_AVAILABLE); the producer's own refusals (fenced epoch,
 * no open transaction) as they are.
 */
export function txnCommitWriteError(err: unknown): unknown {
  if (!isSluiceError(err)) return err;
  switch (err.code) {
    case ErrorCode.NotLeader:
    case ErrorCode.LeaderNotAvailable:
      return new SluiceError(ErrorCode.NotCoordinator, `offsets write refused: ${err.message}`);
    case ErrorCode.NotEnoughReplicas:
    case ErrorCode.NotEnoughReplicasAfterAppend:
    case ErrorCode.Timeout:
    case ErrorCode.UnknownPartition:
      return new SluiceError(ErrorCode.CoordinatorNotAvailable, `offsets write failed: ${err.message}`);
    default:
      return err;
  }
}
