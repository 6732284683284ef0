/**
 * DescribeTransactions (key 65), v0 (flexible): the state of each
 * transactional id, answered id by id by the native handler (a request
 * refused as a whole carries its error on every id).
 */

import { array, field, type Infer, int16, int32, int64, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({ transactionalIds: field(array(string), []) });

const state = struct({
  errorCode: field(int16, 0),
  transactionalId: field(string, ''),
  transactionState: field(string, ''),
  transactionTimeoutMs: field(int32, 0),
  transactionStartTimeMs: field(int64, -1),
  producerId: field(int64, -1),
  producerEpoch: field(int16, -1),
  topics: field(array(struct({ topic: field(string, ''), partitions: field(array(int32), []) })), []),
});
const response = struct({ throttleTimeMs: field(int32, 0), transactionStates: field(array(state), []) });

type Request = Infer<typeof request>;

export const describeTransactionsApi = kafkaApi({
  apiKey: 65,
  name: 'DescribeTransactions',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request,
  response,
  toNative: (req: Request) => ({ transactionalIds: req.transactionalIds }),
  fromNative: (result, req: Request) => {
    if (!result.transactionStates) {
      const { errorCode } = errorOf(result);
      return {
        throttleTimeMs: 0,
        transactionStates: req.transactionalIds.map((transactionalId) => ({
          errorCode,
          transactionalId,
          transactionState: '',
          transactionTimeoutMs: 0,
          transactionStartTimeMs: -1,
          producerId: -1,
          producerEpoch: -1,
          topics: [],
        })),
      };
    }
    return {
      throttleTimeMs: 0,
      transactionStates: result.transactionStates.map((s) => ({
        errorCode: s.errorCode,
        transactionalId: s.transactionalId,
        transactionState: s.transactionState,
        transactionTimeoutMs: s.transactionTimeoutMs,
        transactionStartTimeMs: s.transactionStartTimeMs,
        producerId: s.producerId,
        producerEpoch: s.producerEpoch,
        topics: s.topics.map((t) => ({ topic: t.name, partitions: t.partitions })),
      })),
    };
  },
});
