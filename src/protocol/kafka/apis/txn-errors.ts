/**
 * PRODUCER_FENCED (90) is newer than the transaction APIs' first versions:
 * Kafka answers INVALID_PRODUCER_EPOCH (47) instead to a request older than
 * the version that introduced it (InitProducerId v4; AddPartitionsToTxn,
 * AddOffsetsToTxn and EndTxn v2), which its older clients treat as fencing.
 */
import { field, int16, int32, struct } from '../../binary/schema.js';
import { WireError } from '../../error-codes.js';
import type { NativeAnswer } from '../../native/apis.js';
import { errorOf } from '../api.js';

export function fencedForVersion(errorCode: number, version: number, firstVersionWithProducerFenced: number): number {
  return errorCode === WireError.PRODUCER_FENCED && version < firstVersionWithProducerFenced
    ? WireError.INVALID_PRODUCER_EPOCH
    : errorCode;
}

/** The response of the transaction APIs that answer one error code (AddOffsetsToTxn, EndTxn), v0-v3. */
export const txnErrorResponse = struct({ throttleTimeMs: field(int32, 0), errorCode: field(int16, 0) });

/** That response from the native handler's answer; PRODUCER_FENCED is new in their v2. */
export function txnErrorAnswer(result: NativeAnswer, version: number): { throttleTimeMs: number; errorCode: number } {
  return { throttleTimeMs: 0, errorCode: fencedForVersion(errorOf(result).errorCode, version, 2) };
}
