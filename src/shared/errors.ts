/**
 * Every operating error Sluice raises is a SluiceError with a stable code.
 * Callers match on `code`, never on the message. The protocol layer maps these
 * codes to wire error numbers in one place.
 */
export const ErrorCode = {
  /** A record batch failed its CRC or is structurally impossible. */
  CorruptRecord: 'SLUICE_ERR_CORRUPT_RECORD',
  /** A record batch is well formed but breaks a rule (bad offsets, empty, bad magic). */
  InvalidRecord: 'SLUICE_ERR_INVALID_RECORD',
  UnsupportedCompression: 'SLUICE_ERR_UNSUPPORTED_COMPRESSION',
  RecordTooLarge: 'SLUICE_ERR_RECORD_TOO_LARGE',
  OffsetOutOfRange: 'SLUICE_ERR_OFFSET_OUT_OF_RANGE',
  InvalidTopic: 'SLUICE_ERR_INVALID_TOPIC',
  InvalidConfig: 'SLUICE_ERR_INVALID_CONFIG',
  InvalidArgument: 'SLUICE_ERR_INVALID_ARGUMENT',
  /** The disk failed underneath a log; the log refuses further writes. */
  StorageError: 'SLUICE_ERR_STORAGE',
  LogClosed: 'SLUICE_ERR_LOG_CLOSED',
  UnknownPartition: 'SLUICE_ERR_UNKNOWN_PARTITION',
  TopicExists: 'SLUICE_ERR_TOPIC_EXISTS',
  InvalidPartitions: 'SLUICE_ERR_INVALID_PARTITIONS',
  InvalidReplicationFactor: 'SLUICE_ERR_INVALID_REPLICATION_FACTOR',
  Timeout: 'SLUICE_ERR_TIMEOUT',
  /** A request that cannot be decoded or breaks the protocol's rules. */
  InvalidRequest: 'SLUICE_ERR_INVALID_REQUEST',
  Unsupported: 'SLUICE_ERR_UNSUPPORTED',
  /** The client could not reach any broker within its retry budget. */
  BrokerUnreachable: 'SLUICE_ERR_BROKER_UNREACHABLE',
  /** The partition's leader is not where the request went, or there is none right now. */
  NotLeader: 'SLUICE_ERR_NOT_LEADER',
  /** Fewer in-sync replicas than min.insync.replicas for an acks=-1 write. */
  NotEnoughReplicas: 'SLUICE_ERR_NOT_ENOUGH_REPLICAS',
  /** An acks=-1 write was appended by the leader, but the ISR shrank below min.insync.replicas before it was replicated. */
  NotEnoughReplicasAfterAppend: 'SLUICE_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  /** A replica request carried a leader epoch older than the leader's (it missed a leadership change). */
  FencedLeaderEpoch: 'SLUICE_ERR_FENCED_LEADER_EPOCH',
  /** This broker does not coordinate the group (its offsets partition is led elsewhere). */
  NotCoordinator: 'SLUICE_ERR_NOT_COORDINATOR',
  /** An idempotent producer's batch skipped sequence numbers (records in between were lost). */
  OutOfOrderSequence: 'SLUICE_ERR_OUT_OF_ORDER_SEQUENCE',
  /** An idempotent producer's epoch is older than the one the partition knows (a newer instance fenced it). */
  InvalidProducerEpoch: 'SLUICE_ERR_INVALID_PRODUCER_EPOCH',
  /** The partition has no state for the producer id (e.g. expired); the producer must re-initialise. */
  UnknownProducerId: 'SLUICE_ERR_UNKNOWN_PRODUCER_ID',
  /** A queue holds as many waiting messages as it may: sends are refused until consumers catch up. */
  QueueFull: 'SLUICE_ERR_QUEUE_FULL',
  /**
   * A transacted session's commit stored part of its writes (some queues' sends and
   * acknowledgements) and not the rest: SessionCommitError says which (client only).
   */
  PartialCommit: 'SLUICE_ERR_PARTIAL_COMMIT',
  /** A broker reported an error with no more specific code. */
  BrokerError: 'SLUICE_ERR_BROKER',
  /** The client, producer or consumer was closed. */
  ClientClosed: 'SLUICE_ERR_CLIENT_CLOSED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class SluiceError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SluiceError';
    this.code = code;
  }
}

export function isSluiceError(err: unknown, code?: ErrorCode): err is SluiceError {
  return err instanceof SluiceError && (code === undefined || err.code === code);
}
