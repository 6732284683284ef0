/**
 * The shape of every native request body (see shape.ts); apis.ts gives each
 * API key its shape. The request types in messages.ts, group-messages.ts,
 * queue-messages.ts and replication-messages.ts are inferred from these, and
 * both listener codecs parse each body against its API's shape
 * (request-check.ts) before a handler runs.
 *
 * A field is optional here exactly when its handler has a default for it, so
 * every body a handler accepted before still passes. Lists are bounded by the
 * limits of what they name; text by Kafka's longest string.
 */
import {
  groupMembersMax,
  queueBatchMessagesMax,
  requestConfigEntriesMax,
  requestListItemsMax,
  requestStringLengthMax,
  topicPartitionsMax,
} from '../../shared/limits.js';
import {
  boolean,
  bytes,
  int16,
  int32,
  int64,
  list,
  nullable,
  object,
  oneOf,
  optional,
  type Shape,
  stringMap,
  text,
} from './shape.js';

/** A topic, group, member, consumer or queue name: the domain checks its characters (with its own code). */
const name = text(requestStringLengthMax);
const names = list(name, requestListItemsMax);

/** `topics: [{ name, partitions: [partition] }]`, the shape most per-partition requests share. */
function topicsOf<P>(partition: Shape<P>) {
  return list(object({ name, partitions: list(partition, topicPartitionsMax) }), requestListItemsMax);
}

// ---- topics and records (messages.ts) ----

export const apiVersionsRequest = object({});

export const metadataRequest = object({
  /** null or absent: every topic. */
  topics: optional(nullable(names)),
  allowAutoTopicCreation: optional(boolean),
  /** KIP-430: answer each topic's authorizedOperations (a bit per AclOperation code the client may do). */
  includeTopicAuthorizedOperations: optional(boolean),
  /** KIP-430: answer clusterAuthorizedOperations likewise. */
  includeClusterAuthorizedOperations: optional(boolean),
});

export const createTopicsRequest = object({
  topics: list(
    object({
      name,
      /** -1 or absent: the broker's default (the topic manager answers INVALID_PARTITIONS for others below 1). */
      numPartitions: optional(int32),
      replicationFactor: optional(int32),
      configs: optional(stringMap(text(requestStringLengthMax), requestConfigEntriesMax)),
    }),
    requestListItemsMax,
  ),
  timeoutMs: optional(int32),
  validateOnly: optional(boolean),
});

export const deleteTopicsRequest = object({ topics: names, timeoutMs: optional(int32) });

export const produceRequest = object({
  /** 0: no response; 1 (absent): after the leader's append; -1: after all in-sync replicas. */
  acks: optional(oneOf(0, 1, -1)),
  timeoutMs: optional(int32),
  /**
   * A transactional producer's id (Kafka's Produce v3+ transactional_id, issue 21): with an
   * authorizer, the request needs Write on the TransactionalId, as in Kafka. Absent or null: none.
   */
  transactionalId: optional(nullable(name)),
  topics: topicsOf(object({ partition: int32, records: bytes })),
});

export const fetchRequest = object({
  /** A follower's broker id; absent or -1 for consumers. */
  replicaId: optional(int32),
  /** Set by group members: a fetch from a stale generation is refused. */
  groupId: optional(name),
  generationId: optional(int32),
  memberId: optional(name),
  maxWaitMs: optional(int32),
  minBytes: optional(int32),
  maxBytes: optional(int32),
  /**
   * false: the reader cannot take zstd (Kafka's Fetch before v10, KIP-110), so a partition of a topic
   * stored in zstd (compression.type zstd) answers UNSUPPORTED_COMPRESSION_TYPE, as Kafka's broker does.
   * Absent: true.
   */
  zstdReadable: optional(boolean),
  /**
   * true: a Kafka-protocol Fetch naming a replica_id (>= 0). It is authorized as Kafka authorizes a
   * follower (ClusterAction on the cluster, else TOPIC_AUTHORIZATION_FAILED on every partition) and
   * then served as a consumer: Sluice's brokers replicate over the native protocol.
   */
  kafkaFollower: optional(boolean),
  /**
   * Followers only: a replica fetch session (KIP-227's idea). 0 with sessionEpoch 0: a full fetch that
   * asks for a session (the answer's sessionId, 0 when none was made); a session id with the next
   * epoch (1, 2, ...): an incremental fetch naming only partitions added or whose position changed,
   * answered only with partitions that have records, an error, or a new high watermark or log start.
   * An unknown session is FETCH_SESSION_ID_NOT_FOUND, a wrong epoch INVALID_FETCH_SESSION_EPOCH (the
   * follower then sends a full fetch). Absent: a full fetch without a session (consumers, Kafka clients).
   */
  sessionId: optional(int32),
  sessionEpoch: optional(int32),
  /** With an incremental fetch: partitions the session drops. */
  forgotten: optional(
    list(object({ name, topicId: optional(name), partitions: list(int32, topicPartitionsMax) }), requestListItemsMax),
  ),
  /**
   * Followers only: answer at once, and end the long polls this connection has under way (their
   * answers go first): a follower that added a partition cuts its poll short without losing its session.
   */
  endPolls: optional(boolean),
  /**
   * Kafka's isolation_level (Fetch v4+): 0 read_uncommitted (absent: the default) reads to the high
   * watermark; 1 read_committed reads to the last stable offset and lists the aborted transactions
   * the answer's records overlap (issue 21).
   */
  isolationLevel: optional(oneOf(0, 1)),
  topics: list(
    object({
      name,
      /**
       * Kafka's topic id (KIP-516, Fetch v13+): when present the topic is looked up by it and `name`
       * is ignored; an id no topic has answers UNKNOWN_TOPIC_ID on each of its partitions.
       */
      topicId: optional(name),
      partitions: list(
        object({
          partition: int32,
          fetchOffset: int64,
          partitionMaxBytes: optional(int32),
          /** Followers send the leader epoch they follow. */
          currentLeaderEpoch: optional(int32),
          /** Followers send their log start (Kafka's log_start_offset): the leader's low watermark for DeleteRecords. */
          logStartOffset: optional(int64),
          /**
           * Followers send the epoch of their last record (Kafka's last_fetched_epoch, Fetch v12+): a
           * leader counts the fetch as progress only when that epoch agrees with its own history.
           */
          lastFetchedEpoch: optional(int32),
        }),
        topicPartitionsMax,
      ),
    }),
    requestListItemsMax,
  ),
});

export const listOffsetsRequest = object({
  /** timestamp: a time in ms, or -2 (earliest) / -1 (latest). */
  topics: topicsOf(object({ partition: int32, timestamp: int64 })),
  /** 0 read_uncommitted (absent: the default): latest is the high watermark; 1 read_committed: the last stable offset. */
  isolationLevel: optional(oneOf(0, 1)),
});

export const initProducerIdRequest = object({
  /** null or absent: an idempotent producer (any broker answers); a name: a transactional producer (its transaction coordinator answers). */
  transactionalId: optional(nullable(name)),
  transactionTimeoutMs: optional(int32),
  /** KIP-360 (Kafka v3+): the producer's current id and epoch, to bump its epoch instead of taking a new id (absent or -1: none). */
  producerId: optional(int64),
  producerEpoch: optional(int16),
});

export const describeConfigsRequest = object({
  resources: list(
    object({
      /** 2 topic, 4 broker (others are answered per resource). */
      resourceType: int32,
      resourceName: name,
      /** null, empty or absent: every key. */
      configurationKeys: optional(nullable(names)),
    }),
    requestListItemsMax,
  ),
  /** Each config's synonyms (the topic override, the broker key, the default), Kafka's v1+. */
  includeSynonyms: optional(boolean),
  /** Each config's documentation, Kafka's v3+. */
  includeDocumentation: optional(boolean),
});

/** One resource of AlterConfigs / IncrementalAlterConfigs: 2 topic, 4 broker (others are answered per resource). */
function configResources<C>(config: Shape<C>) {
  return list(
    object({ resourceType: int32, resourceName: name, configs: list(config, requestConfigEntriesMax) }),
    requestListItemsMax,
  );
}
const configValue = nullable(text(requestStringLengthMax));

export const alterConfigsRequest = object({
  /** Each resource's configs replace all of its overrides (a null value: left unset). */
  resources: configResources(object({ name, value: configValue })),
  validateOnly: optional(boolean),
});

export const incrementalAlterConfigsRequest = object({
  /** configOperation: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT (KIP-339; APPEND/SUBTRACT on list keys). */
  resources: configResources(object({ name, configOperation: int32, value: configValue })),
  validateOnly: optional(boolean),
});

// ---- consumer groups (group-messages.ts) ----

export const findCoordinatorRequest = object({
  key: name,
  /** 0 (absent): a consumer group; 1: a transactional id (its transaction coordinator, issue 21). */
  keyType: optional(oneOf(0, 1)),
  /** Several groups at once (Kafka's FindCoordinator v4, KIP-699): answered in `coordinators`, `key` is then ignored. */
  keys: optional(names),
});

/** KIP-345: a static member's id across restarts (group.instance.id); absent or null: a dynamic member. */
const groupInstanceId = optional(nullable(name));

export const joinGroupRequest = object({
  groupId: name,
  sessionTimeoutMs: int32,
  /** Absent: the session timeout. */
  rebalanceTimeoutMs: optional(int32),
  memberId: name,
  groupInstanceId,
  /**
   * True: a member without an id is answered MEMBER_ID_REQUIRED with its id
   * and must join again with it (Kafka's JoinGroup v4+, KIP-394); absent:
   * it joins at once (Kafka v0-3, older native clients).
   */
  requireKnownMemberId: optional(boolean),
  protocolType: name,
  protocols: list(object({ name, metadata: bytes }), requestListItemsMax),
});

export const syncGroupRequest = object({
  groupId: name,
  generationId: int32,
  memberId: name,
  groupInstanceId,
  /** KIP-559: when given, must be the group's (INCONSISTENT_GROUP_PROTOCOL otherwise). */
  protocolType: optional(nullable(name)),
  protocolName: optional(nullable(name)),
  assignments: list(object({ memberId: name, assignment: bytes }), groupMembersMax),
});

export const heartbeatRequest = object({ groupId: name, generationId: int32, memberId: name, groupInstanceId });

export const leaveGroupRequest = object({
  groupId: name,
  memberId: name,
  /**
   * Several members at once, each by member id and/or instance id (Kafka's
   * LeaveGroup v3+): answered member by member in the response's `members`;
   * `memberId` is then ignored.
   */
  members: optional(list(object({ memberId: name, groupInstanceId }), groupMembersMax)),
});

export const offsetCommitRequest = object({
  groupId: name,
  /** -1 with memberId '' commits for a group with no members (admin tools, resets). */
  generationId: int32,
  memberId: name,
  groupInstanceId,
  topics: topicsOf(
    object({
      partition: int32,
      /** A negative offset is refused by the handler, naming it. */
      offset: int64,
      metadata: optional(nullable(text(requestStringLengthMax))),
      /** KIP-320: the leader epoch of the last record consumed (absent or -1: unknown); kept with the offset. */
      leaderEpoch: optional(int32),
    }),
  ),
});

export const offsetFetchRequest = object({
  groupId: name,
  /** null or absent: every partition the group has an offset for. */
  topics: optional(nullable(topicsOf(int32))),
  /**
   * Several groups at once (Kafka's OffsetFetch v8, KIP-709): when present, groupId and topics are
   * ignored and each group is answered on its own in the response's `groups`, with its own error.
   */
  groups: optional(list(object({ groupId: name, topics: optional(nullable(topicsOf(int32))) }), requestListItemsMax)),
  /** KIP-447 (Kafka v7+): a partition with a transactional offset commit still open answers UNSTABLE_OFFSET_COMMIT. */
  requireStable: optional(boolean),
});

export const listGroupsRequest = object({
  /** KIP-518: only groups in one of these states (matched case-insensitively); absent or empty: every group. */
  statesFilter: optional(names),
});

export const describeGroupsRequest = object({ groups: names });

export const deleteGroupsRequest = object({ groups: names });

// ---- replication (replication-messages.ts) ----

export const offsetForLeaderEpochRequest = object({
  replicaId: optional(int32),
  topics: topicsOf(object({ partition: int32, currentLeaderEpoch: optional(int32), leaderEpoch: int32 })),
});

// ---- queues (queue-messages.ts) ----

const nullableBytes = optional(nullable(bytes));

export const queueSendRequest = object({
  queue: name,
  messages: list(
    object({
      key: nullableBytes,
      value: nullableBytes,
      headers: optional(list(object({ key: name, value: nullableBytes }), requestListItemsMax)),
      /** Time to live in ms. */
      ttlMs: optional(int64),
    }),
    queueBatchMessagesMax,
  ),
  /** Acknowledgements committed with the messages (a transacted session). */
  acks: optional(nullable(object({ consumerId: name, offsets: list(int64, queueBatchMessagesMax) }))),
  timeoutMs: optional(int32),
});

export const queueFetchRequest = object({
  queue: name,
  consumerId: name,
  prefetch: int32,
  maxMessages: int32,
  maxWaitMs: optional(int32),
  lockTimeoutMs: optional(int64),
  returned: optional(list(int64, queueBatchMessagesMax)),
});

export const queueAckRequest = object({
  queue: name,
  consumerId: name,
  acks: list(object({ offset: int64, type: oneOf('accept', 'release', 'reject', 'return') }), queueBatchMessagesMax),
});

export const queueLeaveRequest = object({ queue: name, consumerId: name });

export const queueAdminRequest = object({
  op: oneOf('stats', 'browse', 'purge', 'redrive', 'list'),
  /** Required except for 'list' (the handler names it when missing). */
  queue: optional(name),
  maxMessages: optional(int32),
  dlq: optional(name),
});
