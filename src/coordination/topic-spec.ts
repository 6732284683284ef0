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
