/**
 * InitProducerId (key 22), v0-v1: a producer id for an idempotent producer
 * (any broker allocates one). Transactional ids are refused by the native
 * handler: Sluice has no transactions.
 */

import { field, int16, int32, int64, nullableString, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  transactionalId: field(nullableString, null),
  transactionTimeoutMs: field(int32, -1),
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
  maxVersion: 1,
  flexibleFrom: 2,
  request,
  response,
  toNative: (req) => ({ transactionalId: req.transactionalId, transactionTimeoutMs: req.transactionTimeoutMs }),
  fromNative: (result) => {
    const { errorCode } = errorOf(result);
    return {
      throttleTimeMs: 0,
      errorCode,
      producerId: errorCode === 0 ? (result.producerId ?? -1) : -1,
      producerEpoch: errorCode === 0 ? (result.producerEpoch ?? -1) : -1,
    };
  },
});
