/**
 * AlterPartitionReassignments (key 45), v0, flexible from v0 (KIP-455):
 * moves partitions to new replica lists, or cancels (replicas null), over the
 * native API of the same key. Kafka's admin client sends it to the
 * controller; another broker answers NOT_CONTROLLER as a top-level error.
 * (v1, Kafka 4.0's AllowReplicationFactorChange, is not offered.)
 */
import { array, field, int16, int32, nullableArray, nullableString, string, struct } from '../../binary/schema.js';
import { kafkaApi } from '../api.js';
import { topLevelOrTopics } from '../shapes.js';

const request = struct({
  timeoutMs: field(int32, 60_000),
  topics: field(
    array(
      struct({
        name: field(string, ''),
        partitions: field(
          array(struct({ partitionIndex: field(int32, 0), replicas: field(nullableArray(int32), null) })),
          [],
        ),
      }),
    ),
    [],
  ),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  errorCode: field(int16, 0),
  errorMessage: field(nullableString, null),
  responses: field(
    array(
      struct({
        name: field(string, ''),
        partitions: field(
          array(
            struct({
              partitionIndex: field(int32, 0),
              errorCode: field(int16, 0),
              errorMessage: field(nullableString, null),
            }),
          ),
          [],
        ),
      }),
    ),
    [],
  ),
});

export const alterPartitionReassignmentsApi = kafkaApi({
  apiKey: 45,
  name: 'AlterPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request,
  response,
  toNative: (req) => ({
    timeoutMs: req.timeoutMs,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, replicas: p.replicas })),
    })),
    throttleBytesPerSec: undefined,
  }),
  fromNative: (result) => {
    const { topics, ...head } = topLevelOrTopics(result, (p) => ({
      partitionIndex: p.partition,
      errorCode: p.errorCode,
      errorMessage: p.errorMessage ?? null,
    }));
    return { ...head, responses: topics };
  },
});
