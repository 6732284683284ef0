/**
 * The one error table (src/shared/error-table.ts): every ErrorCode has a row,
 * codes and wire numbers are unique, a wire condition survives the round trip
 * wire → ErrorCode → wire, and the retriable flags are Kafka's.
 */
import { describe, expect, it } from 'vitest';
import { sluiceConditions, wireConditions } from '../../../src/shared/error-table.js';
import {
  ErrorCode,
  errorCodeOfWire,
  httpStatusOf,
  isRetriable,
  SluiceError,
  toWireError,
  WireError,
  wireErrorName,
  wireErrorOf,
} from '../../../src/shared/errors.js';

const wireRows = Object.values(wireConditions);
const sluiceRows = Object.values(sluiceConditions);

/**
 * Kafka's retriable errors: the Errors.java entries whose exception class is a
 * RetriableException (directly or through InvalidMetadataException) in
 * org.apache.kafka.common.errors, for the wire codes Sluice uses; QUEUE_FULL
 * is Sluice's own (a full queue drains).
 */
const kafkaRetriable = new Set<string>([
  'CORRUPT_MESSAGE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_CONTROLLER', // NotControllerException extends RetriableException
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'UNKNOWN_TOPIC_ID',
  'FETCH_SESSION_ID_NOT_FOUND',
  'INVALID_FETCH_SESSION_EPOCH',
  'UNSTABLE_OFFSET_COMMIT',
  'QUEUE_FULL',
]);

/** Kafka's numbers for the names (Errors.java). */
const kafkaNumbers: Record<string, number> = {
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
  INVALID_TIMESTAMP: 32,
  TOPIC_ALREADY_EXISTS: 36,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  NOT_CONTROLLER: 41,
  NO_REASSIGNMENT_IN_PROGRESS: 85,
  REASSIGNMENT_IN_PROGRESS: 60,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTION_COORDINATOR_FENCED: 52,
  UNSTABLE_OFFSET_COMMIT: 88,
  PRODUCER_FENCED: 90,
  OPERATION_NOT_ATTEMPTED: 55,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
  KAFKA_STORAGE_ERROR: 56,
  UNKNOWN_PRODUCER_ID: 59,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  MEMBER_ID_REQUIRED: 79,
  FENCED_INSTANCE_ID: 82,
  INVALID_RECORD: 87,
  UNKNOWN_TOPIC_ID: 100,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  SECURITY_DISABLED: 54,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  SASL_AUTHENTICATION_FAILED: 58,
  RESOURCE_NOT_FOUND: 91,
  DUPLICATE_RESOURCE: 92,
  UNACCEPTABLE_CREDENTIAL: 93,
  QUEUE_FULL: 1000,
};

describe('the error table', () => {
  it('gives every ErrorCode exactly one row, and every code is unique', () => {
    const codes = [...wireRows, ...sluiceRows].map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(Object.values(ErrorCode))).toEqual(new Set(codes));
    for (const [name, code] of Object.entries(ErrorCode)) {
      expect(code).toMatch(/^SLUICE_ERR_[A-Z_]+$/);
      expect(code, name).toBe(
        (wireConditions as Record<string, { code: string }>)[name]?.code ??
          (sluiceConditions as Record<string, { code: string }>)[name]?.code,
      );
    }
  });

  it('keeps the codes users match on', () => {
    expect(ErrorCode.NotLeader).toBe('SLUICE_ERR_NOT_LEADER');
    expect(ErrorCode.BrokerError).toBe('SLUICE_ERR_BROKER');
    expect(ErrorCode.StorageError).toBe('SLUICE_ERR_STORAGE');
    expect(ErrorCode.OutOfOrderSequence).toBe('SLUICE_ERR_OUT_OF_ORDER_SEQUENCE');
    expect(ErrorCode.UnsupportedCompression).toBe('SLUICE_ERR_UNSUPPORTED_COMPRESSION');
    expect(ErrorCode.InvalidArgument).toBe('SLUICE_ERR_INVALID_ARGUMENT');
  });

  it("has unique wire numbers and names, each Kafka's (or Sluice's own from 1000)", () => {
    const numbers = wireRows.map((r) => r.wire);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(new Set(wireRows.map((r) => r.wireName)).size).toBe(wireRows.length);
    for (const row of wireRows) expect(row.wire, row.wireName).toBe(kafkaNumbers[row.wireName]);
    expect({ ...WireError }).toEqual(kafkaNumbers);
  });

  it('round-trips every wire condition: wire → ErrorCode → wire, and names it', () => {
    for (const row of wireRows) {
      const code = errorCodeOfWire(row.wire);
      expect(code).toBe(row.code);
      expect(wireErrorOf(code)).toBe(row.wire);
      expect(wireErrorName(row.wire)).toBe(row.wireName);
      expect(toWireError(new SluiceError(code, 'x'))).toEqual({ errorCode: row.wire, errorMessage: 'x' });
    }
    expect(wireErrorName(0)).toBe('NONE');
    expect(wireErrorName(4242)).toBe('ERROR_4242');
    expect(errorCodeOfWire(4242)).toBe(ErrorCode.BrokerError);
  });

  it('sends each Sluice-only condition as the wire condition it names', () => {
    expect(wireErrorOf(ErrorCode.InvalidArgument)).toBe(WireError.INVALID_REQUEST);
    expect(wireErrorOf(ErrorCode.LogClosed)).toBe(WireError.NOT_LEADER_OR_FOLLOWER);
    expect(wireErrorOf(ErrorCode.PartialCommit)).toBe(WireError.UNKNOWN_SERVER_ERROR);
    expect(wireErrorOf(ErrorCode.ClientClosed)).toBe(WireError.NETWORK_EXCEPTION);
    for (const row of sluiceRows) expect(wireErrorOf(row.code)).toBe(WireError[row.reportedAs]);
    expect(toWireError(new Error('boom'))).toEqual({ errorCode: WireError.UNKNOWN_SERVER_ERROR, errorMessage: 'boom' });
  });

  it("has Kafka's retriable flags", () => {
    for (const row of wireRows) {
      expect(row.retriable, row.wireName).toBe(kafkaRetriable.has(row.wireName));
      expect(isRetriable(row.wire), row.wireName).toBe(kafkaRetriable.has(row.wireName));
    }
    expect(isRetriable(WireError.NONE)).toBe(false);
    expect(isRetriable(4242)).toBe(false);
  });

  it('maps SluiceErrors to HTTP statuses by condition', () => {
    expect(httpStatusOf(new SluiceError(ErrorCode.UnknownPartition, 'x'))).toBe(404);
    expect(httpStatusOf(new SluiceError(ErrorCode.InvalidArgument, 'unknown things'))).toBe(400);
    expect(httpStatusOf(new SluiceError(ErrorCode.TopicExists, 'x'))).toBe(400);
    // a condition reported by the broker decides over the code (a missing group is InvalidArgument to callers)
    const missingGroup = new SluiceError(ErrorCode.InvalidArgument, 'x', { wireName: 'GROUP_ID_NOT_FOUND' });
    expect(httpStatusOf(missingGroup)).toBe(404);
  });

  it('keeps a new error final unless marked retriable, without changing its enumerable shape', () => {
    const err = new SluiceError(ErrorCode.Timeout, 'slow');
    expect(err.retriable).toBe(false);
    // what the error had before the table (name, code): logs and deep equality see the same fields
    expect(Object.keys(err).sort()).toEqual(['code', 'name']);
    expect(err.markRetriable()).toBe(err);
    expect(err.retriable).toBe(true);
    expect(Object.keys(err).sort()).toEqual(['code', 'name']);
  });
});
