/**
 * EndTxn (key 26), v0-v3 (flexible from v3): commit or abort the producer's
 * open transaction. Before v2, PRODUCER_FENCED is answered as
 * INVALID_PRODUCER_EPOCH.
 */

import { bool, field, int16, int64, string, struct } from '../../binary/schema.js';
import { kafkaApi } from '../api.js';
import { txnErrorAnswer, txnErrorResponse } from './txn-errors.js';

const request = struct({
  transactionalId: field(string, ''),
  producerId: field(int64, -1),
  producerEpoch: field(int16, -1),
  committed: field(bool, false),
});

export const endTxnApi = kafkaApi({
  apiKey: 26,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request,
  response: txnErrorResponse,
  toNative: (req) => ({ ...req }),
  fromNative: (result, _req, version) => txnErrorAnswer(result, version),
});
