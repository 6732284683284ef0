/**
 * OffsetFetch (key 9), v1-v7 (flexible from v6): a group's committed offsets, for the named
 * partitions or (v2+, topics null) for every partition it has one for.
 * Offset -1 means nothing is committed. v5+ answers the leader epoch committed
 * with the offset (KIP-320), -1 when none was (or before Sluice kept them).
 * v7's require_stable is met by every offset: Sluice has no transactions, so
 * no commit is ever pending. v8 (several groups in one request) is not spoken.
 * A request refused as a whole (this broker does not coordinate the group)
 * carries its error on every requested partition and, v2+, at the top.
 */

import {
  array,
  bool,
  field,
  type Infer,
  int16,
  int32,
  int64,
  nullableArray,
  nullableString,
  string,
  struct,
  topicsOf,
} from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  groupId: field(string, ''),
  topics: field(nullableArray(struct({ name: field(string, ''), partitionIndexes: field(array(int32), []) })), null),
  requireStable: field(bool, false, 7),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 3),
  topics: field(
    topicsOf(
      struct({
        partitionIndex: field(int32, 0),
        committedOffset: field(int64, -1),
        committedLeaderEpoch: field(int32, -1, 5),
        metadata: field(nullableString, ''),
        errorCode: field(int16, 0),
      }),
    ),
    [],
  ),
  errorCode: field(int16, 0, 2),
});

type Request = Infer<typeof request>;

export const offsetFetchApi = kafkaApi({
  apiKey: 9,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 7,
  flexibleFrom: 6,
  request,
  response,
  toNative: (req: Request) => ({
    groupId: req.groupId,
    topics: req.topics?.map((t) => ({ name: t.name, partitions: t.partitionIndexes })) ?? null,
  }),
  fromNative: (result, req: Request) => {
    const { errorCode } = errorOf(result);
    if (errorCode !== 0 || !result.topics) {
      return {
        throttleTimeMs: 0,
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode,
          })),
        })),
        errorCode,
      };
    }
    return {
      throttleTimeMs: 0,
      topics: result.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition,
          committedOffset: p.offset,
          committedLeaderEpoch: p.leaderEpoch ?? -1,
          metadata: p.metadata,
          errorCode: p.errorCode,
        })),
      })),
      errorCode: 0,
    };
  },
});
