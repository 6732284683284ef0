/**
 * PRODUCER_FENCED (90) is newer than the transaction APIs' first versions:
 * Kafka answers INVALID_PRODUCER_EPOCH (47) instead to a request older than
 * the version that introduced it (InitProducerId v4; AddPartitionsToTxn,
 * AddOffsetsToTxn and EndTxn v2), which its older clients treat as fencing.
 */
import { WireError } from '../../error-codes.js';

export function fencedForVersion(errorCode: number, version: number, firstVersionWithProducerFenced: number): number {
  return errorCode === WireError.PRODUCER_FENCED && version < firstVersionWithProducerFenced
    ? WireError.INVALID_PRODUCER_EPOCH
    : errorCode;
}
