/**
 * Partition reassignment (KIP-455; issue 16): AlterPartitionReassignments
 * (key 45) and ListPartitionReassignments (key 46), with Kafka's numbers and
 * field meanings. Both go to the active controller; another broker answers
 * NOT_CONTROLLER for the whole request, as Kafka's brokers do.
 */
import { requestListItemsMax, requestStringLengthMax, topicPartitionsMax } from '../../shared/limits.js';
import type { ErrorFields } from './messages.js';
import { type Infer, int32, int64, list, nullable, object, optional, text } from './shape.js';

const name = text(requestStringLengthMax);
/** A replica list: a broker id at most once each, so never longer than the partitions' bound. */
const brokerIds = list(int32, topicPartitionsMax);

export const alterPartitionReassignmentsRequest = object({
  /** Kafka's TimeoutMs (the controller records the reassignment at once; it completes in the background). */
  timeoutMs: optional(int32),
  topics: list(
    object({
      name,
      partitions: list(
        /** replicas null: cancel the partition's reassignment. */
        object({ partition: int32, replicas: nullable(brokerIds) }),
        topicPartitionsMax,
      ),
    }),
    requestListItemsMax,
  ),
  /**
   * Sluice's own (native only): bytes/s the added replicas of these
   * partitions may fetch at, each broker for all its throttled replicas;
   * absent or 0: unthrottled. Dropped when the reassignment completes.
   */
  throttleBytesPerSec: optional(int64),
});

export const listPartitionReassignmentsRequest = object({
  timeoutMs: optional(int32),
  /** null or absent: every partition under reassignment. */
  topics: optional(nullable(list(object({ name, partitions: list(int32, topicPartitionsMax) }), requestListItemsMax))),
});

export type AlterPartitionReassignmentsRequest = Infer<typeof alterPartitionReassignmentsRequest>;
export type ListPartitionReassignmentsRequest = Infer<typeof listPartitionReassignmentsRequest>;

/** One result per partition named, in request order (UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT, ...). */
export interface AlterPartitionReassignmentsResponse extends ErrorFields {
  topics: { name: string; partitions: ({ partition: number } & ErrorFields)[] }[];
}

/** The partitions under reassignment: full replica set (target first), and the replicas being added and removed. */
export interface ListPartitionReassignmentsResponse extends ErrorFields {
  topics: {
    name: string;
    partitions: { partition: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }[];
  }[];
}
