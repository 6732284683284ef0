/**
 * AddOffsetsToTxn (key 25), v0-v3 (flexible from v3): the group's offsets
 * partition joins the producer's open transaction. Before v2,
 * PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH.
 */

import { field, int16, int32, int64, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';
import { fencedForVersion } from './txn-errors.js';

const request = struct({
  transactionalId: field(string, ''),
  producerId: field(int64, -1),
  producerEpoch: field(int16, -1),
  groupId: field(string, ''),
});

const response = struct({ throttleTimeMs: field(int32, 0), errorCode: field(int16, 0) });

export const addOffsetsToTxnApi = kafkaApi({
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request,
  response,
  toNative: (req) => ({ ...req }),
  fromNative: (result, _req, version) => ({
    throttleTimeMs: 0,
    errorCode: fencedForVersion(errorOf(result).errorCode, version, 2),
  }),
});
