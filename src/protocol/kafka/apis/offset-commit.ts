/**
 * OffsetCommit (key 8), v2-v8 (flexible from v8): a group member (or, with generation -1 and
 * no member id, an admin tool) commits offsets. The retention time (v2-v4)
 * is ignored: committed offsets live as long as the group's offsets do. The
 * committed leader epoch (v6+, KIP-320) is kept with the offset and
 * OffsetFetch v5+ returns it. v7+ carries a static member's instance id
 * (KIP-345: an old member id of a rejoined instance is FENCED_INSTANCE_ID). A request refused as a whole
 * (a negative offset, a malformed request) answers every partition with
 * its error, which is how Kafka's response can say it.
 */

import { field, type Infer, int32, int64, nullableString, string, struct, topicsOf } from '../../binary/schema.js';
import { kafkaApi } from '../api.js';
import { partitionErrorsOf, topicPartitionErrors } from './partition-errors.js';

const request = struct({
  groupId: field(string, ''),
  generationId: field(int32, -1, 1),
  memberId: field(string, '', 1),
  groupInstanceId: field(nullableString, null, 7),
  retentionTimeMs: field(int64, -1, 2, 4),
  topics: field(
    topicsOf(
      struct({
        partitionIndex: field(int32, 0),
        committedOffset: field(int64, -1),
        committedLeaderEpoch: field(int32, -1, 6),
        commitTimestamp: field(int64, -1, 1, 1),
        committedMetadata: field(nullableString, null),
      }),
    ),
    [],
  ),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 3),
  topics: field(topicPartitionErrors, []),
});

type Request = Infer<typeof request>;

export const offsetCommitApi = kafkaApi({
  apiKey: 8,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 8,
  flexibleFrom: 8,
  request,
  response,
  toNative: (req: Request) => ({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partition: p.partitionIndex,
        offset: p.committedOffset,
        metadata: p.committedMetadata ?? '',
        leaderEpoch: p.committedLeaderEpoch,
      })),
    })),
  }),
  fromNative: (result, req: Request) => ({ throttleTimeMs: 0, topics: partitionErrorsOf(result, req.topics) }),
});
