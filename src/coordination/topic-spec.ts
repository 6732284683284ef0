/** The checks every Coordinator makes of a topic before it records it (the interface's promise). */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { topicPartitionsMax } from '../shared/limits.js';
import type { TopicSpec } from './coordinator.js';

/** Throws InvalidPartitions or InvalidReplicationFactor when `spec` cannot be a topic. */
export function checkTopicSpec(spec: TopicSpec): void {
  if (!Number.isInteger(spec.partitions) || spec.partitions < 1 || spec.partitions > topicPartitionsMax) {
    throw new SluiceError(
      ErrorCode.InvalidPartitions,
      `partitions must be 1..${topicPartitionsMax}, got ${spec.partitions}`,
    );
  }
  if (!Number.isInteger(spec.replicationFactor) || spec.replicationFactor < 1) {
    throw new SluiceError(
      ErrorCode.InvalidReplicationFactor,
      `replication factor must be at least 1, got ${spec.replicationFactor}`,
    );
  }
}

/** Throws InvalidPartitions unless `count` grows `spec` and stays within the limit (CreatePartitions). */
export function checkPartitionGrowth(spec: TopicSpec, count: number): void {
  if (!Number.isInteger(count) || count > topicPartitionsMax) {
    throw new SluiceError(ErrorCode.InvalidPartitions, `partitions must be 1..${topicPartitionsMax}, got ${count}`);
  }
  if (count === spec.partitions) {
    throw new SluiceError(ErrorCode.InvalidPartitions, `topic ${spec.name} already has ${count} partitions`);
  }
  if (count < spec.partitions) {
    throw new SluiceError(
      ErrorCode.InvalidPartitions,
      `topic ${spec.name} currently has ${spec.partitions} partitions, which is higher than the requested ${count}: the count of partitions never decreases`,
    );
  }
}
