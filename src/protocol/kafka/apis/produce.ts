/**
 * Produce (key 0), v3-v9: RecordBatch v2 only (v3 is the first version that
 * carries it); v9 is flexible (KIP-482), with the same fields as v8. The batches go to the native handler unchanged, so acks,
 * idempotence and replication behave exactly as for Sluice's own clients.
 * Transactions are not supported: a transactional id is refused per partition.
 */

import {
  array,
  field,
  type Infer,
  int16,
  int32,
  int64,
  nullableBytes,
  nullableString,
  string,
  struct,
  topicsOf,
} from '../../binary/schema.js';
import { WireError } from '../../error-codes.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  transactionalId: field(nullableString, null, 3),
  acks: field(int16, 1),
  timeoutMs: field(int32, 30_000),
  topics: field(topicsOf(struct({ index: field(int32, 0), records: field(nullableBytes, null) })), []),
});

const partitionResponse = struct({
  index: field(int32, 0),
  errorCode: field(int16, 0),
  baseOffset: field(int64, -1),
  logAppendTimeMs: field(int64, -1, 2),
  logStartOffset: field(int64, -1, 5),
  recordErrors: field(
    array(struct({ batchIndex: field(int32, 0), batchIndexErrorMessage: field(nullableString, null) })),
    [],
    8,
  ),
  errorMessage: field(nullableString, null, 8),
});

const response = struct({
  responses: field(
    array(struct({ name: field(string, ''), partitionResponses: field(array(partitionResponse), []) })),
    [],
  ),
  throttleTimeMs: field(int32, 0, 1),
});

type Request = Infer<typeof request>;

/** Every requested partition answered with one error (a request refused as a whole). */
function refuseAll(req: Request, errorCode: number, errorMessage: string | null) {
  return {
    responses: req.topics.map((t) => ({
      name: t.name,
      partitionResponses: t.partitions.map((p) => ({ index: p.index, errorCode, errorMessage })),
    })),
    throttleTimeMs: 0,
  };
}

export const produceApi = kafkaApi({
  apiKey: 0,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 9,
  flexibleFrom: 9,
  request,
  response,
  // acks 0: the client reads no response, not even an error (one would break its correlation ids)
  answered: (req) => req.acks !== 0,
  toNative: (req) => ({
    acks: req.acks,
    timeoutMs: req.timeoutMs,
    // a transactional produce never reaches the log: fromNative refuses it
    topics:
      req.transactionalId === null
        ? req.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({ partition: p.index, records: p.records })),
          }))
        : [],
  }),
  fromNative: (result, req) => {
    if (req.transactionalId !== null) {
      return refuseAll(req, WireError.INVALID_REQUEST, 'transactions are not supported by Sluice');
    }
    if (!result.topics) {
      const { errorCode, errorMessage } = errorOf(result);
      return refuseAll(req, errorCode, errorMessage);
    }
    return {
      responses: result.topics.map((t) => ({
        name: t.name,
        partitionResponses: t.partitions.map((p) => ({
          index: p.partition,
          errorCode: p.errorCode,
          baseOffset: p.baseOffset,
          logAppendTimeMs: p.logAppendTimeMs,
          logStartOffset: p.logStartOffset,
          recordErrors: [],
          errorMessage: p.errorMessage ?? null,
        })),
      })),
      throttleTimeMs: 0,
    };
  },
});
