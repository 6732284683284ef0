/**
 * Client-side errors: wire error numbers become SluiceErrors with stable
 * codes (the message names the wire error, e.g. NOT_LEADER_OR_FOLLOWER (6)),
 * and the client remembers which errors a retry may fix.
 */
import { isRetriable, WireError, wireErrorName } from '../protocol/error-codes.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';

const toSluice = new Map<number, ErrorCode>([
  [WireError.UNKNOWN_SERVER_ERROR, ErrorCode.BrokerError],
  [WireError.OFFSET_OUT_OF_RANGE, ErrorCode.OffsetOutOfRange],
  [WireError.CORRUPT_MESSAGE, ErrorCode.CorruptRecord],
  [WireError.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UnknownPartition],
  [WireError.LEADER_NOT_AVAILABLE, ErrorCode.NotLeader],
  [WireError.NOT_LEADER_OR_FOLLOWER, ErrorCode.NotLeader],
  [WireError.REQUEST_TIMED_OUT, ErrorCode.Timeout],
  [WireError.MESSAGE_TOO_LARGE, ErrorCode.RecordTooLarge],
  [WireError.NETWORK_EXCEPTION, ErrorCode.BrokerUnreachable],
  [WireError.INVALID_TOPIC_EXCEPTION, ErrorCode.InvalidTopic],
  [WireError.RECORD_LIST_TOO_LARGE, ErrorCode.RecordTooLarge],
  [WireError.NOT_ENOUGH_REPLICAS, ErrorCode.NotEnoughReplicas],
  [WireError.INVALID_REQUIRED_ACKS, ErrorCode.InvalidArgument],
  [WireError.UNSUPPORTED_VERSION, ErrorCode.Unsupported],
  [WireError.TOPIC_ALREADY_EXISTS, ErrorCode.TopicExists],
  [WireError.INVALID_PARTITIONS, ErrorCode.InvalidPartitions],
  [WireError.INVALID_REPLICATION_FACTOR, ErrorCode.InvalidReplicationFactor],
  [WireError.INVALID_CONFIG, ErrorCode.InvalidConfig],
  [WireError.INVALID_REQUEST, ErrorCode.InvalidRequest],
  [WireError.KAFKA_STORAGE_ERROR, ErrorCode.StorageError],
  [WireError.UNSUPPORTED_COMPRESSION_TYPE, ErrorCode.UnsupportedCompression],
  [WireError.INVALID_RECORD, ErrorCode.InvalidRecord],
  // the idempotent producer: none of these is retriable (a retry of the same batch gets the same answer)
  [WireError.OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode.OutOfOrderSequence],
  [WireError.DUPLICATE_SEQUENCE_NUMBER, ErrorCode.OutOfOrderSequence],
  [WireError.INVALID_PRODUCER_EPOCH, ErrorCode.InvalidProducerEpoch],
  [WireError.UNKNOWN_PRODUCER_ID, ErrorCode.UnknownProducerId],
  [WireError.QUEUE_FULL, ErrorCode.QueueFull],
]);

const retriableErrors = new WeakSet<Error>();

/** A SluiceError for wire error `code`, marked retriable when Kafka's rules say so. */
export function wireError(code: number, context: string, brokerMessage?: string): SluiceError {
  const name = wireErrorName(code);
  const detail = brokerMessage ? `: ${brokerMessage}` : '';
  const err = new SluiceError(toSluice.get(code) ?? ErrorCode.BrokerError, `${context}: ${name} (${code})${detail}`);
  if (isRetriable(code)) retriableErrors.add(err);
  return err;
}

/** Marks `err` as one a retry (after a metadata refresh) may fix. */
export function markRetriable<E extends Error>(err: E): E {
  retriableErrors.add(err);
  return err;
}

export function isRetriableError(err: unknown): boolean {
  return err instanceof Error && retriableErrors.has(err);
}

/** Throws the body's top-level error, if any. */
export function checkTopLevel(body: { errorCode?: number; errorMessage?: string }, context: string): void {
  if (body.errorCode !== undefined && body.errorCode !== 0) throw wireError(body.errorCode, context, body.errorMessage);
}

export function closedError(what: string): SluiceError {
  return new SluiceError(ErrorCode.ClientClosed, `${what} is closed`);
}

export function invalidArgument(message: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidArgument, message);
}
