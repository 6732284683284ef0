/**
 * Wire error codes: Kafka's numbers, so that the native protocol and (later)
 * the Kafka listener report the same conditions the same way. Each says
 * whether a client may retry.
 */
import { ErrorCode, isSluiceError } from '../shared/errors.js';

export const WireError = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  OFFSET_METADATA_TOO_LARGE: 12,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  KAFKA_STORAGE_ERROR: 56,
  UNKNOWN_PRODUCER_ID: 59,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
  /** Sluice's own codes start at 1000. */
  QUEUE_FULL: 1000,
} as const;

export type WireError = (typeof WireError)[keyof typeof WireError];

const names = new Map<number, string>(Object.entries(WireError).map(([k, v]) => [v, k]));
const retriable = new Set<number>([
  WireError.UNKNOWN_TOPIC_OR_PARTITION,
  WireError.LEADER_NOT_AVAILABLE,
  WireError.NOT_LEADER_OR_FOLLOWER,
  WireError.REQUEST_TIMED_OUT,
  WireError.NETWORK_EXCEPTION,
  WireError.NOT_ENOUGH_REPLICAS,
  WireError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  WireError.FENCED_LEADER_EPOCH,
  WireError.UNKNOWN_LEADER_EPOCH,
  WireError.KAFKA_STORAGE_ERROR,
  WireError.CORRUPT_MESSAGE,
  WireError.COORDINATOR_LOAD_IN_PROGRESS,
  WireError.COORDINATOR_NOT_AVAILABLE,
  WireError.NOT_COORDINATOR,
  WireError.QUEUE_FULL,
]);

export function wireErrorName(code: number): string {
  return names.get(code) ?? `ERROR_${code}`;
}

export function isRetriable(code: number): boolean {
  return retriable.has(code);
}

const fromSluice: Record<ErrorCode, WireError> = {
  [ErrorCode.CorruptRecord]: WireError.CORRUPT_MESSAGE,
  [ErrorCode.InvalidRecord]: WireError.INVALID_RECORD,
  [ErrorCode.UnsupportedCompression]: WireError.UNSUPPORTED_COMPRESSION_TYPE,
  [ErrorCode.RecordTooLarge]: WireError.MESSAGE_TOO_LARGE,
  [ErrorCode.OffsetOutOfRange]: WireError.OFFSET_OUT_OF_RANGE,
  [ErrorCode.InvalidTopic]: WireError.INVALID_TOPIC_EXCEPTION,
  [ErrorCode.InvalidConfig]: WireError.INVALID_CONFIG,
  [ErrorCode.InvalidArgument]: WireError.INVALID_REQUEST,
  [ErrorCode.StorageError]: WireError.KAFKA_STORAGE_ERROR,
  [ErrorCode.LogClosed]: WireError.NOT_LEADER_OR_FOLLOWER,
  [ErrorCode.UnknownPartition]: WireError.UNKNOWN_TOPIC_OR_PARTITION,
  [ErrorCode.TopicExists]: WireError.TOPIC_ALREADY_EXISTS,
  [ErrorCode.InvalidPartitions]: WireError.INVALID_PARTITIONS,
  [ErrorCode.InvalidReplicationFactor]: WireError.INVALID_REPLICATION_FACTOR,
  [ErrorCode.Timeout]: WireError.REQUEST_TIMED_OUT,
  [ErrorCode.InvalidRequest]: WireError.INVALID_REQUEST,
  [ErrorCode.Unsupported]: WireError.UNSUPPORTED_VERSION,
  [ErrorCode.BrokerUnreachable]: WireError.NETWORK_EXCEPTION,
  [ErrorCode.NotLeader]: WireError.NOT_LEADER_OR_FOLLOWER,
  [ErrorCode.NotEnoughReplicas]: WireError.NOT_ENOUGH_REPLICAS,
  [ErrorCode.NotEnoughReplicasAfterAppend]: WireError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  [ErrorCode.FencedLeaderEpoch]: WireError.FENCED_LEADER_EPOCH,
  [ErrorCode.NotCoordinator]: WireError.NOT_COORDINATOR,
  [ErrorCode.OutOfOrderSequence]: WireError.OUT_OF_ORDER_SEQUENCE_NUMBER,
  [ErrorCode.InvalidProducerEpoch]: WireError.INVALID_PRODUCER_EPOCH,
  [ErrorCode.UnknownProducerId]: WireError.UNKNOWN_PRODUCER_ID,
  [ErrorCode.QueueFull]: WireError.QUEUE_FULL,
  [ErrorCode.PartialCommit]: WireError.UNKNOWN_SERVER_ERROR,
  [ErrorCode.BrokerError]: WireError.UNKNOWN_SERVER_ERROR,
  [ErrorCode.ClientClosed]: WireError.NETWORK_EXCEPTION,
};

/** The one place domain errors become wire errors. */
export function toWireError(err: unknown): { errorCode: WireError; errorMessage: string } {
  if (isSluiceError(err))
    return { errorCode: fromSluice[err.code] ?? WireError.UNKNOWN_SERVER_ERROR, errorMessage: err.message };
  return { errorCode: WireError.UNKNOWN_SERVER_ERROR, errorMessage: (err as Error)?.message ?? String(err) };
}
