/**
 * ListTransactions (key 66), v0 (flexible): the transactional ids this
 * broker coordinates, filtered by state and producer id.
 */

import { array, field, int16, int32, int64, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  stateFilters: field(array(string), []),
  producerIdFilters: field(array(int64), []),
});

const state = struct({
  transactionalId: field(string, ''),
  producerId: field(int64, -1),
  transactionState: field(string, ''),
});
const response = struct({
  throttleTimeMs: field(int32, 0),
  errorCode: field(int16, 0),
  unknownStateFilters: field(array(string), []),
  transactionStates: field(array(state), []),
});

export const listTransactionsApi = kafkaApi({
  apiKey: 66,
  name: 'ListTransactions',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request,
  response,
  toNative: (req) => ({ stateFilters: req.stateFilters, producerIdFilters: req.producerIdFilters }),
  fromNative: (result) => ({
    throttleTimeMs: 0,
    errorCode: errorOf(result).errorCode,
    unknownStateFilters: result.unknownStateFilters ?? [],
    transactionStates: result.transactionStates ?? [],
  }),
});
