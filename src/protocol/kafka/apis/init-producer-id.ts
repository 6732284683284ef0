/**
 * InitProducerId (key 22), v0-v4 (flexible from v2): a producer id for an
 * idempotent producer (any broker allocates one), or for a transactional id
 * from its transaction coordinator (the epoch bumped, the previous instance
 * fenced). v3 adds KIP-360's producer id and epoch; before v4, PRODUCER_FENCED
 * is answered as INVALID_PRODUCER_EPOCH (txn-errors.ts).
 */

import { field, int16, int32, int64, nullableString, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';
import { fencedForVersion } from './txn-errors.js';

const request = struct({
  transactionalId: field(nullableString, null),
  transactionTimeoutMs: field(int32, -1),
  producerId: field(int64, -1, 3),
  producerEpoch: field(int16, -1, 3),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  errorCode: field(int16, 0),
  producerId: field(int64, -1),
  producerEpoch: field(int16, -1),
});

export const initProducerIdApi = kafkaApi({
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 2,
  request,
  response,
  toNative: (req, version) => ({
    transactionalId: req.transactionalId,
    transactionTimeoutMs: req.transactionTimeoutMs,
    ...(version >= 3 ? { producerId: req.producerId, producerEpoch: req.producerEpoch } : {}),
  }),
  fromNative: (result, _req, version) => {
    const { errorCode } = errorOf(result);
    return {
      throttleTimeMs: 0,
      errorCode: fencedForVersion(errorCode, version, 4),
      producerId: errorCode === 0 ? (result.producerId ?? -1) : -1,
      producerEpoch: errorCode === 0 ? (result.producerEpoch ?? -1) : -1,
    };
  },
});
