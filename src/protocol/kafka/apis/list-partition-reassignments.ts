/**
 * ListPartitionReassignments (key 46), v0, flexible from v0 (KIP-455): the
 * partitions under reassignment (all, or those named), with their full
 * replica set and the replicas being added and removed, over the native API
 * of the same key. Answered by the controller; another broker answers
 * NOT_CONTROLLER as a top-level error.
 */
import { array, field, int16, int32, nullableArray, nullableString, string, struct } from '../../binary/schema.js';
import { kafkaApi } from '../api.js';
import { topLevelOrTopics } from '../shapes.js';

const request = struct({
  timeoutMs: field(int32, 60_000),
  topics: field(nullableArray(struct({ name: field(string, ''), partitionIndexes: field(array(int32), []) })), null),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  errorCode: field(int16, 0),
  errorMessage: field(nullableString, null),
  topics: field(
    array(
      struct({
        name: field(string, ''),
        partitions: field(
          array(
            struct({
              partitionIndex: field(int32, 0),
              replicas: field(array(int32), []),
              addingReplicas: field(array(int32), []),
              removingReplicas: field(array(int32), []),
            }),
          ),
          [],
        ),
      }),
    ),
    [],
  ),
});

export const listPartitionReassignmentsApi = kafkaApi({
  apiKey: 46,
  name: 'ListPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request,
  response,
  toNative: (req) => ({
    timeoutMs: req.timeoutMs,
    topics: req.topics === null ? null : req.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes })),
  }),
  fromNative: (result) =>
    topLevelOrTopics(result, (p) => ({
      partitionIndex: p.partition,
      replicas: p.replicas,
      addingReplicas: p.addingReplicas,
      removingReplicas: p.removingReplicas,
    })),
});
