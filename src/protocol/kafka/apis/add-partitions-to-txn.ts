/**
 * AddPartitionsToTxn (key 24), v0-v3 (flexible from v3): partitions join a
 * producer's open transaction, answered partition by partition by the native
 * handler (a request refused as a whole carries its error on every
 * partition). Before v2, PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH.
 */

import { array, field, type Infer, int16, int32, int64, string, struct, topicsOf } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';
import { fencedForVersion } from './txn-errors.js';

const request = struct({
  transactionalId: field(string, ''),
  producerId: field(int64, -1),
  producerEpoch: field(int16, -1),
  topics: field(topicsOf(int32), []),
});

const partitionResult = struct({ partitionIndex: field(int32, 0), partitionErrorCode: field(int16, 0) });
const response = struct({
  throttleTimeMs: field(int32, 0),
  results: field(array(struct({ name: field(string, ''), results: field(array(partitionResult), []) })), []),
});

type Request = Infer<typeof request>;

export const addPartitionsToTxnApi = kafkaApi({
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request,
  response,
  toNative: (req: Request) => ({
    transactionalId: req.transactionalId,
    producerId: req.producerId,
    producerEpoch: req.producerEpoch,
    topics: req.topics,
  }),
  fromNative: (result, req: Request, version) => {
    const whole = errorOf(result).errorCode;
    const codes = new Map<string, number>();
    for (const t of result.results ?? []) {
      for (const p of t.partitions) codes.set(`${t.name}\u0000${p.partition}`, p.errorCode);
    }
    return {
      throttleTimeMs: 0,
      results: req.topics.map((t) => ({
        name: t.name,
        results: t.partitions.map((partitionIndex) => ({
          partitionIndex,
          partitionErrorCode: fencedForVersion(codes.get(`${t.name}\u0000${partitionIndex}`) ?? whole, version, 2),
        })),
      })),
    };
  },
});
