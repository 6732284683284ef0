/**
 * OffsetFetch (key 9), v1-v8 (flexible from v6): a group's committed offsets, for the named
 * partitions or (v2+, topics null) for every partition it has one for.
 * Offset -1 means nothing is committed. v5+ answers the leader epoch committed
 * with the offset (KIP-320), -1 when none was (or before Sluice kept them).
 * v7+'s require_stable (KIP-447): a partition with a transactional offset
 * commit whose transaction has not ended answers UNSTABLE_OFFSET_COMMIT
 * (retriable) instead of its last committed offset.
 * A request refused as a whole (this broker does not coordinate the group)
 * carries its error on every requested partition and, v2+, at the top.
 *
 * v8 (KIP-709) asks for several groups at once: each group is answered with
 * its own error code, a refused group (not coordinated here, say) with no
 * topics, as Kafka 3.x answers; a group nobody has committed for answers -1 on
 * every requested partition. v9 (KIP-848's member id and epoch) is not spoken.
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
import type { OffsetFetchResponse } from '../../native/group-messages.js';
import { errorOf, kafkaApi } from '../api.js';

const requestTopics = nullableArray(struct({ name: field(string, ''), partitionIndexes: field(array(int32), []) }));

const request = struct({
  groupId: field(string, '', 0, 7),
  topics: field(requestTopics, null, 0, 7),
  groups: field(array(struct({ groupId: field(string, ''), topics: field(requestTopics, null) })), [], 8),
  requireStable: field(bool, false, 7),
});

const responseTopics = topicsOf(
  struct({
    partitionIndex: field(int32, 0),
    committedOffset: field(int64, -1),
    committedLeaderEpoch: field(int32, -1, 5),
    metadata: field(nullableString, ''),
    errorCode: field(int16, 0),
  }),
);

const response = struct({
  throttleTimeMs: field(int32, 0, 3),
  topics: field(responseTopics, [], 0, 7),
  errorCode: field(int16, 0, 2, 7),
  groups: field(
    array(struct({ groupId: field(string, ''), topics: field(responseTopics, []), errorCode: field(int16, 0) })),
    [],
    8,
  ),
});

type Request = Infer<typeof request>;

/** The first version that asks for several groups at once (KIP-709). */
const groupsFrom = 8;

function nativeTopics(topics: Infer<typeof requestTopics>) {
  return topics?.map((t) => ({ name: t.name, partitions: t.partitionIndexes })) ?? null;
}

/** require_stable (v7+) when asked for: absent means false to the native request. */
function stable(req: Request): { requireStable?: true } {
  return req.requireStable ? { requireStable: true } : {};
}

/** A group's committed offsets as Kafka's topics. */
function committed(topics: OffsetFetchResponse['topics']): Infer<typeof responseTopics> {
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: p.offset,
      committedLeaderEpoch: p.leaderEpoch ?? -1,
      metadata: p.metadata,
      errorCode: p.errorCode,
    })),
  }));
}

export const offsetFetchApi = kafkaApi({
  apiKey: 9,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 8,
  flexibleFrom: 6,
  request,
  response,
  toNative: (req: Request, version) =>
    version >= groupsFrom
      ? {
          groupId: '',
          topics: null,
          groups: req.groups.map((g) => ({ groupId: g.groupId, topics: nativeTopics(g.topics) })),
          ...stable(req),
        }
      : { groupId: req.groupId, topics: nativeTopics(req.topics), ...stable(req) },
  fromNative: (result, req: Request, version) => {
    const { errorCode } = errorOf(result);
    if (version >= groupsFrom) {
      // refused as a whole (no groups answered): every group carries the error
      const groups = result.groups
        ? result.groups.map((g) => ({
            groupId: g.groupId,
            topics: g.errorCode === 0 ? committed(g.topics) : [],
            errorCode: g.errorCode,
          }))
        : req.groups.map((g) => ({ groupId: g.groupId, topics: [], errorCode }));
      return { throttleTimeMs: 0, topics: [], errorCode: 0, groups };
    }
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
        groups: [],
      };
    }
    return { throttleTimeMs: 0, topics: committed(result.topics), errorCode: 0, groups: [] };
  },
});
