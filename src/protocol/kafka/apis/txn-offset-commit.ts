/**
 * TxnOffsetCommit (key 28), v0-v3 (flexible from v3): a transactional
 * producer commits a group's offsets inside its transaction (KIP-98); they
 * become visible when the transaction commits. v2+ carries each offset's
 * leader epoch; v3 (KIP-447) the consumer's generation, member id and
 * instance id, which the coordinator fences like OffsetCommit's. A request
 * refused as a whole (not authorized for the transactional id or the group,
 * malformed) answers every partition with its error, the only way Kafka's
 * response can say it.
 */

import {
  field,
  type Infer,
  int16,
  int32,
  int64,
  nullableString,
  string,
  struct,
  topicsOf,
} from '../../binary/schema.js';
import { kafkaApi } from '../api.js';
import { partitionErrorsOf, topicPartitionErrors } from './partition-errors.js';

const request = struct({
  transactionalId: field(string, ''),
  groupId: field(string, ''),
  producerId: field(int64, -1),
  producerEpoch: field(int16, -1),
  generationId: field(int32, -1, 3),
  memberId: field(string, '', 3),
  groupInstanceId: field(nullableString, null, 3),
  topics: field(
    topicsOf(
      struct({
        partitionIndex: field(int32, 0),
        committedOffset: field(int64, -1),
        committedLeaderEpoch: field(int32, -1, 2),
        committedMetadata: field(nullableString, null),
      }),
    ),
    [],
  ),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  topics: field(topicPartitionErrors, []),
});

type Request = Infer<typeof request>;

export const txnOffsetCommitApi = kafkaApi({
  apiKey: 28,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request,
  response,
  toNative: (req: Request) => ({
    transactionalId: req.transactionalId,
    groupId: req.groupId,
    producerId: req.producerId,
    producerEpoch: req.producerEpoch,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partition: p.partitionIndex,
        offset: p.committedOffset,
        metadata: p.committedMetadata,
        leaderEpoch: p.committedLeaderEpoch,
      })),
    })),
  }),
  fromNative: (result, req: Request) => ({ throttleTimeMs: 0, topics: partitionErrorsOf(result, req.topics) }),
});
