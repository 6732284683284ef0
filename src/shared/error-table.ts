/**
 * The one error table: a row per condition Sluice reports. Every direction is
 * derived from it — the ErrorCode names, the WireError numbers (Kafka's, so
 * the native and Kafka listeners report a condition the same way), the wire
 * name, whether a client may retry (Kafka's rule: its RetriableException
 * subclasses), domain → wire and wire → domain, and the admin HTTP status.
 *
 * Two kinds of rows:
 * - wire conditions: each owns one wire number (Kafka's, or Sluice's own from
 *   1000) and one ErrorCode; a round trip wire → ErrorCode → wire is the identity;
 * - Sluice-only conditions: an ErrorCode with no wire number of its own, sent
 *   as the wire condition named in `reportedAs` (a client receiving that
 *   number sees the wire condition's ErrorCode).
 *
 * `httpStatus` is what the admin HTTP API answers for a SluiceError of that
 * condition. The values keep the answers the API gave before the table: 404
 * for the conditions whose messages named something unknown or missing
 * (the UNKNOWN_… wire names, GROUP_ID_NOT_FOUND), 400 for the rest.
 */

export type HttpStatus = 400 | 403 | 404 | 502;

interface WireCondition {
  readonly code: `SLUICE_ERR_${string}`;
  readonly wireName: string;
  readonly wire: number;
  readonly retriable: boolean;
  readonly httpStatus: HttpStatus;
  readonly meaning: string;
}

/** Keyed by the ErrorCode name; one row per wire number. */
export const wireConditions = {
  BrokerError: {
    code: 'SLUICE_ERR_BROKER',
    wireName: 'UNKNOWN_SERVER_ERROR',
    wire: -1,
    retriable: false,
    // the broker behind the HTTP API failed: a gateway error, not the caller's
    httpStatus: 502,
    meaning: 'A broker reported an error with no more specific code.',
  },
  TransactionalIdAuthorizationFailed: {
    code: 'SLUICE_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    wireName: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    wire: 53,
    retriable: false,
    httpStatus: 403,
    meaning: 'The principal may not use the transactional id (Write on the TransactionalId resource).',
  },
  OffsetOutOfRange: {
    code: 'SLUICE_ERR_OFFSET_OUT_OF_RANGE',
    wireName: 'OFFSET_OUT_OF_RANGE',
    wire: 1,
    retriable: false,
    httpStatus: 400,
    meaning: 'The offset is before the log start or after its end.',
  },
  CorruptRecord: {
    code: 'SLUICE_ERR_CORRUPT_RECORD',
    wireName: 'CORRUPT_MESSAGE',
    wire: 2,
    retriable: true,
    httpStatus: 400,
    meaning: 'A record batch failed its CRC or is structurally impossible.',
  },
  UnknownPartition: {
    code: 'SLUICE_ERR_UNKNOWN_PARTITION',
    wireName: 'UNKNOWN_TOPIC_OR_PARTITION',
    wire: 3,
    retriable: true,
    httpStatus: 404,
    meaning: 'The topic or partition does not exist (here, or yet).',
  },
  LeaderNotAvailable: {
    code: 'SLUICE_ERR_LEADER_NOT_AVAILABLE',
    wireName: 'LEADER_NOT_AVAILABLE',
    wire: 5,
    retriable: true,
    httpStatus: 400,
    meaning: 'The partition has no leader right now (an election is under way).',
  },
  NotLeader: {
    code: 'SLUICE_ERR_NOT_LEADER',
    wireName: 'NOT_LEADER_OR_FOLLOWER',
    wire: 6,
    retriable: true,
    httpStatus: 400,
    meaning: "The partition's leader is not where the request went.",
  },
  Timeout: {
    code: 'SLUICE_ERR_TIMEOUT',
    wireName: 'REQUEST_TIMED_OUT',
    wire: 7,
    retriable: true,
    httpStatus: 400,
    meaning: 'The request did not complete in time.',
  },
  RecordTooLarge: {
    code: 'SLUICE_ERR_RECORD_TOO_LARGE',
    wireName: 'MESSAGE_TOO_LARGE',
    wire: 10,
    retriable: false,
    httpStatus: 400,
    meaning: 'A record batch is larger than the topic or broker allows.',
  },
  OffsetMetadataTooLarge: {
    code: 'SLUICE_ERR_OFFSET_METADATA_TOO_LARGE',
    wireName: 'OFFSET_METADATA_TOO_LARGE',
    wire: 12,
    retriable: false,
    httpStatus: 400,
    meaning: "A committed offset's metadata string is too long.",
  },
  BrokerUnreachable: {
    code: 'SLUICE_ERR_BROKER_UNREACHABLE',
    wireName: 'NETWORK_EXCEPTION',
    wire: 13,
    retriable: true,
    httpStatus: 400,
    meaning: 'The client could not reach any broker within its retry budget.',
  },
  CoordinatorLoadInProgress: {
    code: 'SLUICE_ERR_COORDINATOR_LOAD_IN_PROGRESS',
    wireName: 'COORDINATOR_LOAD_IN_PROGRESS',
    wire: 14,
    retriable: true,
    httpStatus: 400,
    meaning: "The group's coordinator is still replaying its offsets partition.",
  },
  CoordinatorNotAvailable: {
    code: 'SLUICE_ERR_COORDINATOR_NOT_AVAILABLE',
    wireName: 'COORDINATOR_NOT_AVAILABLE',
    wire: 15,
    retriable: true,
    httpStatus: 400,
    meaning: "The group's offsets partition has no leader, or its coordinator moved away.",
  },
  NotCoordinator: {
    code: 'SLUICE_ERR_NOT_COORDINATOR',
    wireName: 'NOT_COORDINATOR',
    wire: 16,
    retriable: true,
    httpStatus: 400,
    meaning: 'This broker does not coordinate the group (its offsets partition is led elsewhere).',
  },
  InvalidTopic: {
    code: 'SLUICE_ERR_INVALID_TOPIC',
    wireName: 'INVALID_TOPIC_EXCEPTION',
    wire: 17,
    retriable: false,
    httpStatus: 400,
    meaning: 'The topic name is not valid (or names an internal topic where none may go).',
  },
  RecordListTooLarge: {
    code: 'SLUICE_ERR_RECORD_LIST_TOO_LARGE',
    wireName: 'RECORD_LIST_TOO_LARGE',
    wire: 18,
    retriable: false,
    httpStatus: 400,
    meaning: "A produce request's record set is larger than the segment may hold.",
  },
  NotEnoughReplicas: {
    code: 'SLUICE_ERR_NOT_ENOUGH_REPLICAS',
    wireName: 'NOT_ENOUGH_REPLICAS',
    wire: 19,
    retriable: true,
    httpStatus: 400,
    meaning: 'Fewer in-sync replicas than min.insync.replicas for an acks=-1 write.',
  },
  NotEnoughReplicasAfterAppend: {
    code: 'SLUICE_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND',
    wireName: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
    wire: 20,
    retriable: true,
    httpStatus: 400,
    meaning:
      'An acks=-1 write was appended by the leader, but the ISR shrank below min.insync.replicas before it was replicated.',
  },
  InvalidRequiredAcks: {
    code: 'SLUICE_ERR_INVALID_REQUIRED_ACKS',
    wireName: 'INVALID_REQUIRED_ACKS',
    wire: 21,
    retriable: false,
    httpStatus: 400,
    meaning: 'acks is not 0, 1 or -1.',
  },
  IllegalGeneration: {
    code: 'SLUICE_ERR_ILLEGAL_GENERATION',
    wireName: 'ILLEGAL_GENERATION',
    wire: 22,
    retriable: false,
    httpStatus: 400,
    meaning: "A group member's generation is not the group's current one: it must rejoin.",
  },
  InconsistentGroupProtocol: {
    code: 'SLUICE_ERR_INCONSISTENT_GROUP_PROTOCOL',
    wireName: 'INCONSISTENT_GROUP_PROTOCOL',
    wire: 23,
    retriable: false,
    httpStatus: 400,
    meaning: "A joining member's protocol type or assignors do not fit the group's.",
  },
  InvalidGroupId: {
    code: 'SLUICE_ERR_INVALID_GROUP_ID',
    wireName: 'INVALID_GROUP_ID',
    wire: 24,
    retriable: false,
    httpStatus: 400,
    meaning: 'The group id is empty.',
  },
  UnknownMemberId: {
    code: 'SLUICE_ERR_UNKNOWN_MEMBER_ID',
    wireName: 'UNKNOWN_MEMBER_ID',
    wire: 25,
    retriable: false,
    httpStatus: 404,
    meaning: 'The group does not know the member (it left, expired or was removed): it must join again.',
  },
  InvalidSessionTimeout: {
    code: 'SLUICE_ERR_INVALID_SESSION_TIMEOUT',
    wireName: 'INVALID_SESSION_TIMEOUT',
    wire: 26,
    retriable: false,
    httpStatus: 400,
    meaning: "A joining member's session timeout is outside the broker's bounds.",
  },
  RebalanceInProgress: {
    code: 'SLUICE_ERR_REBALANCE_IN_PROGRESS',
    wireName: 'REBALANCE_IN_PROGRESS',
    wire: 27,
    retriable: false,
    httpStatus: 400,
    meaning: 'The group is rebalancing: the member must rejoin.',
  },
  Unsupported: {
    code: 'SLUICE_ERR_UNSUPPORTED',
    wireName: 'UNSUPPORTED_VERSION',
    wire: 35,
    retriable: false,
    httpStatus: 400,
    meaning: 'The API, version or feature is not supported.',
  },
  InvalidTimestamp: {
    code: 'SLUICE_ERR_INVALID_TIMESTAMP',
    wireName: 'INVALID_TIMESTAMP',
    wire: 32,
    retriable: false,
    httpStatus: 400,
    meaning:
      "A record's CreateTime is further from the broker's clock than the topic's message.timestamp.difference.max.ms.",
  },
  TopicExists: {
    code: 'SLUICE_ERR_TOPIC_EXISTS',
    wireName: 'TOPIC_ALREADY_EXISTS',
    wire: 36,
    retriable: false,
    httpStatus: 400,
    meaning: 'A topic of that name exists.',
  },
  InvalidPartitions: {
    code: 'SLUICE_ERR_INVALID_PARTITIONS',
    wireName: 'INVALID_PARTITIONS',
    wire: 37,
    retriable: false,
    httpStatus: 400,
    meaning: 'The partition count is out of bounds.',
  },
  InvalidReplicationFactor: {
    code: 'SLUICE_ERR_INVALID_REPLICATION_FACTOR',
    wireName: 'INVALID_REPLICATION_FACTOR',
    wire: 38,
    retriable: false,
    httpStatus: 400,
    meaning: 'The replication factor is out of bounds or larger than the live brokers.',
  },
  InvalidConfig: {
    code: 'SLUICE_ERR_INVALID_CONFIG',
    wireName: 'INVALID_CONFIG',
    wire: 40,
    retriable: false,
    httpStatus: 400,
    meaning: 'A configuration key is unknown or its value is invalid.',
  },
  InvalidRequest: {
    code: 'SLUICE_ERR_INVALID_REQUEST',
    wireName: 'INVALID_REQUEST',
    wire: 42,
    retriable: false,
    httpStatus: 400,
    meaning: "A request that cannot be decoded or breaks the protocol's rules.",
  },
  OutOfOrderSequence: {
    code: 'SLUICE_ERR_OUT_OF_ORDER_SEQUENCE',
    wireName: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
    wire: 45,
    retriable: false,
    httpStatus: 400,
    meaning: "An idempotent producer's batch skipped sequence numbers (records in between were lost).",
  },
  DuplicateSequence: {
    code: 'SLUICE_ERR_DUPLICATE_SEQUENCE',
    wireName: 'DUPLICATE_SEQUENCE_NUMBER',
    wire: 46,
    retriable: false,
    httpStatus: 400,
    meaning: "An idempotent producer's batch repeats sequence numbers the partition already has.",
  },
  InvalidProducerEpoch: {
    code: 'SLUICE_ERR_INVALID_PRODUCER_EPOCH',
    wireName: 'INVALID_PRODUCER_EPOCH',
    wire: 47,
    retriable: false,
    httpStatus: 400,
    meaning: "An idempotent producer's epoch is older than the one the partition knows (a newer instance fenced it).",
  },
  // transactions (issue 21): Kafka's numbers and retriable flags
  InvalidTxnState: {
    code: 'SLUICE_ERR_INVALID_TXN_STATE',
    wireName: 'INVALID_TXN_STATE',
    wire: 48,
    retriable: false,
    httpStatus: 400,
    meaning: "The request does not fit the transaction's state (e.g. EndTxn commit after an abort began).",
  },
  InvalidProducerIdMapping: {
    code: 'SLUICE_ERR_INVALID_PRODUCER_ID_MAPPING',
    wireName: 'INVALID_PRODUCER_ID_MAPPING',
    wire: 49,
    retriable: false,
    httpStatus: 400,
    meaning: 'The producer id is not the one the transactional id holds (or the transactional id is unknown).',
  },
  InvalidTransactionTimeout: {
    code: 'SLUICE_ERR_INVALID_TRANSACTION_TIMEOUT',
    wireName: 'INVALID_TRANSACTION_TIMEOUT',
    wire: 50,
    retriable: false,
    httpStatus: 400,
    meaning: "transaction.timeout.ms is not positive or exceeds the broker's transaction.max.timeout.ms.",
  },
  ConcurrentTransactions: {
    code: 'SLUICE_ERR_CONCURRENT_TRANSACTIONS',
    wireName: 'CONCURRENT_TRANSACTIONS',
    wire: 51,
    // Kafka's ConcurrentTransactionsException is not a RetriableException; its clients retry it by name
    retriable: false,
    httpStatus: 400,
    meaning: "The producer's previous transaction is still being completed (its markers are being written): retry.",
  },
  TransactionCoordinatorFenced: {
    code: 'SLUICE_ERR_TRANSACTION_COORDINATOR_FENCED',
    wireName: 'TRANSACTION_COORDINATOR_FENCED',
    wire: 52,
    retriable: false,
    httpStatus: 400,
    meaning: 'A transaction marker came from a coordinator older than one the partition has heard from.',
  },
  UnstableOffsetCommit: {
    code: 'SLUICE_ERR_UNSTABLE_OFFSET_COMMIT',
    wireName: 'UNSTABLE_OFFSET_COMMIT',
    wire: 88,
    retriable: true,
    httpStatus: 400,
    meaning:
      "The partition has a transactional offset commit that is not yet committed or aborted (KIP-447's require_stable).",
  },
  ProducerFenced: {
    code: 'SLUICE_ERR_PRODUCER_FENCED',
    wireName: 'PRODUCER_FENCED',
    wire: 90,
    retriable: false,
    httpStatus: 400,
    meaning: 'A newer producer with the same transactional id has initialised: this one is fenced.',
  },
  OperationNotAttempted: {
    code: 'SLUICE_ERR_OPERATION_NOT_ATTEMPTED',
    wireName: 'OPERATION_NOT_ATTEMPTED',
    wire: 55,
    retriable: false,
    httpStatus: 400,
    meaning: 'Another part of the same request failed, so this one was not tried (AddPartitionsToTxn).',
  },
  TransactionalIdNotFound: {
    code: 'SLUICE_ERR_TRANSACTIONAL_ID_NOT_FOUND',
    wireName: 'TRANSACTIONAL_ID_NOT_FOUND',
    wire: 105,
    retriable: false,
    httpStatus: 404,
    meaning: 'No transaction coordinator knows the transactional id.',
  },
  StorageError: {
    code: 'SLUICE_ERR_STORAGE',
    wireName: 'KAFKA_STORAGE_ERROR',
    wire: 56,
    retriable: true,
    httpStatus: 400,
    meaning: 'The disk failed underneath a log; the log refuses further writes.',
  },
  UnknownProducerId: {
    code: 'SLUICE_ERR_UNKNOWN_PRODUCER_ID',
    wireName: 'UNKNOWN_PRODUCER_ID',
    wire: 59,
    retriable: false,
    httpStatus: 404,
    meaning: 'The partition has no state for the producer id (e.g. expired); the producer must re-initialise.',
  },
  NonEmptyGroup: {
    code: 'SLUICE_ERR_NON_EMPTY_GROUP',
    wireName: 'NON_EMPTY_GROUP',
    wire: 68,
    retriable: false,
    httpStatus: 400,
    meaning: 'The group has active members: it cannot be deleted or have its offsets reset.',
  },
  GroupIdNotFound: {
    code: 'SLUICE_ERR_GROUP_ID_NOT_FOUND',
    wireName: 'GROUP_ID_NOT_FOUND',
    wire: 69,
    retriable: false,
    httpStatus: 404,
    meaning: 'The group has neither members nor committed offsets.',
  },
  MemberIdRequired: {
    code: 'SLUICE_ERR_MEMBER_ID_REQUIRED',
    wireName: 'MEMBER_ID_REQUIRED',
    wire: 79,
    retriable: false,
    httpStatus: 400,
    meaning: 'A new group member must join again with the member id given in the answer (KIP-394).',
  },
  FencedInstanceId: {
    code: 'SLUICE_ERR_FENCED_INSTANCE_ID',
    wireName: 'FENCED_INSTANCE_ID',
    wire: 82,
    retriable: false,
    httpStatus: 400,
    meaning:
      "A static member's instance id (group.instance.id) now belongs to a newer member id: this one was replaced (KIP-345).",
  },
  FencedLeaderEpoch: {
    code: 'SLUICE_ERR_FENCED_LEADER_EPOCH',
    wireName: 'FENCED_LEADER_EPOCH',
    wire: 74,
    retriable: true,
    httpStatus: 400,
    meaning: "A replica request carried a leader epoch older than the leader's (it missed a leadership change).",
  },
  UnknownLeaderEpoch: {
    code: 'SLUICE_ERR_UNKNOWN_LEADER_EPOCH',
    wireName: 'UNKNOWN_LEADER_EPOCH',
    wire: 75,
    retriable: true,
    httpStatus: 404,
    meaning: "A request carried a leader epoch newer than the broker's (its metadata is behind).",
  },
  UnsupportedCompression: {
    code: 'SLUICE_ERR_UNSUPPORTED_COMPRESSION',
    wireName: 'UNSUPPORTED_COMPRESSION_TYPE',
    wire: 76,
    retriable: false,
    httpStatus: 400,
    meaning: 'A record batch uses a compression codec Sluice does not have.',
  },
  InvalidRecord: {
    code: 'SLUICE_ERR_INVALID_RECORD',
    wireName: 'INVALID_RECORD',
    wire: 87,
    retriable: false,
    httpStatus: 400,
    meaning: 'A record batch is well formed but breaks a rule (bad offsets, empty, bad magic).',
  },
  // partition reassignment (KIP-455), issue 16
  NotController: {
    code: 'SLUICE_ERR_NOT_CONTROLLER',
    wireName: 'NOT_CONTROLLER',
    wire: 41,
    retriable: true,
    httpStatus: 400,
    meaning: 'The request must go to the active controller, and this broker is not it (or there is no controller).',
  },
  InvalidReplicaAssignment: {
    code: 'SLUICE_ERR_INVALID_REPLICA_ASSIGNMENT',
    wireName: 'INVALID_REPLICA_ASSIGNMENT',
    wire: 39,
    retriable: false,
    httpStatus: 400,
    meaning: 'A replica assignment is empty, names a broker twice, or names a broker that is not live.',
  },
  NoReassignmentInProgress: {
    code: 'SLUICE_ERR_NO_REASSIGNMENT_IN_PROGRESS',
    wireName: 'NO_REASSIGNMENT_IN_PROGRESS',
    wire: 85,
    retriable: false,
    httpStatus: 400,
    meaning: 'A reassignment was cancelled for a partition that is not being reassigned.',
  },
  ReassignmentInProgress: {
    code: 'SLUICE_ERR_REASSIGNMENT_IN_PROGRESS',
    wireName: 'REASSIGNMENT_IN_PROGRESS',
    wire: 60,
    retriable: false,
    httpStatus: 400,
    meaning: "Partitions cannot be added to a topic while one of its partitions is being reassigned (Kafka's rule).",
  },
  FetchSessionIdNotFound: {
    code: 'SLUICE_ERR_FETCH_SESSION_ID_NOT_FOUND',
    wireName: 'FETCH_SESSION_ID_NOT_FOUND',
    wire: 70,
    retriable: true,
    httpStatus: 400,
    meaning:
      "A follower's incremental fetch named a fetch session the leader does not hold (evicted, its connection closed, or the leader restarted): the follower sends a full fetch.",
  },
  InvalidFetchSessionEpoch: {
    code: 'SLUICE_ERR_INVALID_FETCH_SESSION_EPOCH',
    wireName: 'INVALID_FETCH_SESSION_EPOCH',
    wire: 71,
    retriable: true,
    httpStatus: 400,
    meaning:
      "A follower's incremental fetch carried a fetch session epoch other than the next one the leader expects: the follower sends a full fetch.",
  },
  UnknownTopicId: {
    code: 'SLUICE_ERR_UNKNOWN_TOPIC_ID',
    wireName: 'UNKNOWN_TOPIC_ID',
    wire: 100,
    retriable: true,
    httpStatus: 404,
    meaning: 'No topic has the given topic id (deleted, or not yet known to this broker).',
  },
  TopicAuthorizationFailed: {
    code: 'SLUICE_ERR_TOPIC_AUTHORIZATION_FAILED',
    wireName: 'TOPIC_AUTHORIZATION_FAILED',
    wire: 29,
    retriable: false,
    httpStatus: 403,
    meaning: 'The principal is not authorized (no ACL allows it, or one denies it) for the operation on the topic.',
  },
  GroupAuthorizationFailed: {
    code: 'SLUICE_ERR_GROUP_AUTHORIZATION_FAILED',
    wireName: 'GROUP_AUTHORIZATION_FAILED',
    wire: 30,
    retriable: false,
    httpStatus: 403,
    meaning: 'The principal is not authorized for the operation on the consumer group.',
  },
  ClusterAuthorizationFailed: {
    code: 'SLUICE_ERR_CLUSTER_AUTHORIZATION_FAILED',
    wireName: 'CLUSTER_AUTHORIZATION_FAILED',
    wire: 31,
    retriable: false,
    httpStatus: 403,
    meaning: 'The principal is not authorized for the operation on the cluster.',
  },
  SecurityDisabled: {
    code: 'SLUICE_ERR_SECURITY_DISABLED',
    wireName: 'SECURITY_DISABLED',
    wire: 54,
    retriable: false,
    httpStatus: 400,
    meaning: 'The request needs a security feature the broker has not enabled (ACL APIs without authorizer.enabled).',
  },
  // SASL authentication and the SCRAM credential store, issue 17
  UnsupportedSaslMechanism: {
    code: 'SLUICE_ERR_UNSUPPORTED_SASL_MECHANISM',
    wireName: 'UNSUPPORTED_SASL_MECHANISM',
    wire: 33,
    retriable: false,
    httpStatus: 400,
    meaning: 'The SASL mechanism asked for is not enabled on this listener (sasl.enabled.mechanisms), or not known.',
  },
  IllegalSaslState: {
    code: 'SLUICE_ERR_ILLEGAL_SASL_STATE',
    wireName: 'ILLEGAL_SASL_STATE',
    wire: 34,
    retriable: false,
    httpStatus: 400,
    meaning: 'A SASL request came out of order (SaslAuthenticate before SaslHandshake, or on a listener without SASL).',
  },
  SaslAuthenticationFailed: {
    code: 'SLUICE_ERR_SASL_AUTHENTICATION_FAILED',
    wireName: 'SASL_AUTHENTICATION_FAILED',
    wire: 58,
    retriable: false,
    httpStatus: 400,
    meaning: 'SASL authentication failed: unknown user, wrong password, or a malformed SASL message.',
  },
  ResourceNotFound: {
    code: 'SLUICE_ERR_RESOURCE_NOT_FOUND',
    wireName: 'RESOURCE_NOT_FOUND',
    wire: 91,
    retriable: false,
    httpStatus: 404,
    meaning: 'The resource named does not exist (a user without SCRAM credentials).',
  },
  DuplicateResource: {
    code: 'SLUICE_ERR_DUPLICATE_RESOURCE',
    wireName: 'DUPLICATE_RESOURCE',
    wire: 92,
    retriable: false,
    httpStatus: 400,
    meaning: 'A request names the same resource twice (one user and mechanism both altered and deleted).',
  },
  UnacceptableCredential: {
    code: 'SLUICE_ERR_UNACCEPTABLE_CREDENTIAL',
    wireName: 'UNACCEPTABLE_CREDENTIAL',
    wire: 93,
    retriable: false,
    httpStatus: 400,
    meaning:
      'A SCRAM credential is refused: empty user name, iterations out of bounds, or a malformed salt or password.',
  },
  QueueFull: {
    code: 'SLUICE_ERR_QUEUE_FULL',
    wireName: 'QUEUE_FULL',
    wire: 1000, // Sluice's own codes start at 1000
    retriable: true,
    httpStatus: 400,
    meaning: 'A queue holds as many waiting messages as it may: sends are refused until consumers catch up.',
  },
} as const satisfies Record<string, WireCondition>;

type WireConditions = typeof wireConditions;

/** Every wire name that stands for an error. */
export type WireName = WireConditions[keyof WireConditions]['wireName'];

interface SluiceCondition {
  readonly code: `SLUICE_ERR_${string}`;
  /** The wire condition a broker answers with for this error. */
  readonly reportedAs: WireName;
  readonly httpStatus: HttpStatus;
  readonly meaning: string;
}

/** Keyed by the ErrorCode name; conditions without a wire number of their own. */
export const sluiceConditions = {
  InvalidArgument: {
    code: 'SLUICE_ERR_INVALID_ARGUMENT',
    reportedAs: 'INVALID_REQUEST',
    httpStatus: 400,
    meaning: 'An argument given to an API is invalid.',
  },
  LogClosed: {
    code: 'SLUICE_ERR_LOG_CLOSED',
    reportedAs: 'NOT_LEADER_OR_FOLLOWER',
    httpStatus: 400,
    meaning: 'The log was closed (its replica is going away): another replica serves the partition.',
  },
  PartialCommit: {
    code: 'SLUICE_ERR_PARTIAL_COMMIT',
    reportedAs: 'UNKNOWN_SERVER_ERROR',
    httpStatus: 400,
    meaning:
      "A transacted session's commit stored part of its writes (some queues' sends and acknowledgements) and not the rest: SessionCommitError says which (client only).",
  },
  BrokerNotReady: {
    code: 'SLUICE_ERR_BROKER_NOT_READY',
    // retriable on purpose: a restarted broker's listeners open before it has rejoined the cluster
    // (its port is what it registers), and a client told UNKNOWN_SERVER_ERROR gives up — a kafkajs
    // idempotent producer then reuses the failed batch's sequence numbers for its next batch
    reportedAs: 'LEADER_NOT_AVAILABLE',
    httpStatus: 502,
    meaning:
      'The broker has not (re)joined the cluster yet, or is leaving it (its coordinator is not running): retry, another broker or this one shortly will serve.',
  },
  ClientClosed: {
    code: 'SLUICE_ERR_CLIENT_CLOSED',
    reportedAs: 'NETWORK_EXCEPTION',
    httpStatus: 400,
    meaning: 'The client, producer or consumer was closed.',
  },
  CodecNotReady: {
    code: 'SLUICE_ERR_CODEC_NOT_READY',
    reportedAs: 'UNKNOWN_SERVER_ERROR',
    // a broker (or client) fault, not the caller's: the codec's set-up must run before any use
    httpStatus: 502,
    meaning:
      'A codec was used before its asynchronous set-up finished (zstd: initZstd(), run at broker start and by a zstd producer).',
  },
  LogDirFull: {
    code: 'SLUICE_ERR_LOG_DIR_FULL',
    // Kafka's answer to a write its disk refused; retriable, so producers retry until space returns
    reportedAs: 'KAFKA_STORAGE_ERROR',
    // the broker's disk, not the caller's request
    httpStatus: 502,
    meaning:
      'The log directory is full (ENOSPC or EDQUOT): the partition refuses writes, nothing of the refused write is kept, reads go on, and writes resume on their own once space returns (log.dir.full.retry.ms).',
  },
  TlsFailed: {
    code: 'SLUICE_ERR_TLS_FAILED',
    reportedAs: 'NETWORK_EXCEPTION',
    httpStatus: 400,
    meaning:
      "A TLS connection to a broker failed: its certificate is not trusted or does not name the host, it is no TLS listener, or it refused the client's certificate (client only; Kafka's SslAuthenticationException).",
  },
  UnknownTopic: {
    code: 'SLUICE_ERR_UNKNOWN_TOPIC',
    reportedAs: 'UNKNOWN_TOPIC_OR_PARTITION',
    httpStatus: 404,
    meaning: 'The topic does not exist (the CLI says so in these words rather than UNKNOWN_TOPIC_OR_PARTITION).',
  },
  WrongListener: {
    code: 'SLUICE_ERR_WRONG_LISTENER',
    reportedAs: 'INVALID_REQUEST',
    httpStatus: 400,
    meaning:
      "The address answers another protocol than the one spoken to it: the native client reached an HTTP listener or Sluice's Kafka listener (the message names the right port).",
  },
} as const satisfies Record<string, SluiceCondition>;

type Conditions = WireConditions & typeof sluiceConditions;

/** ErrorCode name → its stable `SLUICE_ERR_*` string. */
export type ErrorCodes = {
  readonly [K in keyof Conditions]: Conditions[K]['code'];
};

/** Wire name → Kafka's number, plus NONE (no error). */
export type WireErrors = { readonly NONE: 0 } & {
  readonly [K in keyof WireConditions as WireConditions[K]['wireName']]: WireConditions[K]['wire'];
};

/** A row that owns a wire number, with its literal types. */
export type WireRow = WireConditions[keyof WireConditions];
export type Condition = WireRow | (typeof sluiceConditions)[keyof typeof sluiceConditions];

/** [ErrorCode name, row] for every row of both tables. */
export const conditionEntries: readonly (readonly [string, Condition])[] = [
  ...Object.entries(wireConditions),
  ...Object.entries(sluiceConditions),
];

export const wireConditionList: readonly WireRow[] = Object.values(wireConditions);

function buildErrorCodes(): ErrorCodes {
  // Object.fromEntries cannot keep the per-key literal types the mapped type states
  return Object.fromEntries(conditionEntries.map(([name, row]) => [name, row.code])) as ErrorCodes;
}

function buildWireErrors(): WireErrors {
  // as above: the literal per-name numbers are stated by WireErrors
  return Object.fromEntries([['NONE', 0], ...wireConditionList.map((row) => [row.wireName, row.wire])]) as WireErrors;
}

export const errorCodes: ErrorCodes = buildErrorCodes();
export const wireErrors: WireErrors = buildWireErrors();
