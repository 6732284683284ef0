/** Public types of the client library. */
import type { PeerCertificate } from 'node:tls';
import type { Assignor } from './assignors/index.js';

export type { Subscription, TopicPartitions } from '../protocol/native/consumer-protocol.js';
export type { Assignor, GroupMember } from './assignors/index.js';

export type Acks = 0 | 1 | -1 | 'all';

/** A header value as given to send(): a string, a Buffer, or null. */
export type HeaderInput = string | Buffer | null;

export interface ProducerMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  /** An object of name → value (an array value sends the header once per element), or a list of pairs. */
  headers?: Record<string, HeaderInput | HeaderInput[]> | { key: string; value: HeaderInput }[];
  /** Explicit partition; otherwise the key's murmur2 partition, or the sticky one for a null key. */
  partition?: number;
  /** Milliseconds since the epoch; default: now. */
  timestamp?: number;
}

export interface ProducerRecord {
  topic: string;
  messages: ProducerMessage[];
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** The record's offset; -1 with acks 0 (no acknowledgement, so no offset). */
  offset: number;
}

export interface ProducerOptions {
  /** 0: no acknowledgement; 1: the leader's; -1/'all': every in-sync replica's. Default -1. */
  acks?: Acks;
  /** How long a partition's batch may wait for more records. Default 0 (records of one tick still batch together). */
  lingerMs?: number;
  /**
   * Bytes at which a partition's batch is closed and sent while the partition could send it at
   * once. Default 16384. A floor, not a fixed size: while the partition already has
   * maxInFlightPerPartition batches waiting or in flight, its next batch grows with the backlog
   * up to 1 MiB (or batchSize, if larger) and goes whole when a slot frees.
   */
  batchSize?: number;
  /**
   * Bytes of batch buffers held (records waiting or in flight; a batch's buffer is a power of two
   * at least as large as its records) before send() waits. Default 32 MiB. Up to a quarter more
   * (at most 8 MiB) of free buffers is kept for reuse.
   */
  bufferMemory?: number;
  /** How long send() waits for buffer memory before failing with Timeout. Default 60 s. */
  maxBlockMs?: number;
  /** Retries of a batch after a retriable error. Default 5. */
  retries?: number;
  /** Backoff before the first retry (doubling after each). Default 100 ms. */
  retryBackoffMs?: number;
  /** Time the broker may take to reach the acks. Default 30 s. */
  timeoutMs?: number;
  /**
   * Codec of the batches sent: 'none' (default), 'gzip', 'snappy' (xerial framing, as Kafka's
   * Java producer), 'lz4' (LZ4 frame), 'zstd' (level 3, Kafka's default; its WebAssembly
   * compressor loads when the producer is created, and the first send waits for it).
   */
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /**
   * Exactly one copy of each record per partition despite retries (Kafka's
   * idempotent producer): batches carry a producer id and sequence numbers, so a
   * broker recognises a resent batch, and a request whose connection broke
   * after it was written is retried instead of failing. Needs acks -1 (the
   * default); acks 0 or 1 with idempotence is refused. Default false.
   */
  /**
   * Batches of one partition sent before the first is answered (default 5, like Kafka's
   * max.in.flight.requests.per.connection). Above 1 a retried batch can land after a later one,
   * as in Kafka; an idempotent producer uses at most 5 (Kafka's rule), and resends a batch in its
   * partition's order.
   */
  maxInFlightPerPartition?: number;
  idempotent?: boolean;
  /**
   * Makes the producer transactional (Kafka's transactional.id, issue 21): its writes go in
   * transactions (`await producer.transaction()` → send, sendOffsets, commit, abort), visible
   * to read_committed consumers only once committed. Implies idempotence (acks -1). A second
   * producer with the same id fences this one: its next call fails with ProducerFenced.
   */
  transactionalId?: string;
  /**
   * How long the coordinator lets a transaction stay open before aborting it (Kafka's
   * transaction.timeout.ms; at most the broker's transaction.max.timeout.ms). Default 60000.
   */
  transactionTimeoutMs?: number;
}

/** 'none': an error (OffsetOutOfRange) when there is no committed offset or it is out of range. */
export type AutoOffsetReset = 'smallest' | 'largest' | 'earliest' | 'latest' | 'none';

/** A built-in assignor by name, or an Assignor of your own (every member of a group must share one). */
export type AssignorSpec = 'range' | 'roundrobin' | 'sticky' | Assignor;

/** A consumer's isolation level (Kafka's isolation.level values). */
export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface ConsumerOptions {
  /**
   * With a groupId, subscribe() makes the consumer a member of the group: the
   * group's partitions are shared among its members, each starting from the
   * group's committed offset. Without, the consumer reads what it is assigned.
   */
  groupId?: string;
  /** Where to start when there is no (committed) offset or it is out of range. Default 'largest'. */
  autoOffsetReset?: AutoOffsetReset;
  /** How long a fetch waits at the broker for data. Default 500 ms. */
  maxWaitMs?: number;
  /**
   * Which records of transactional producers are read (issue 21, Fetch's isolation_level).
   * 'read_committed': only up to the last stable offset, and never a record of an aborted
   * transaction; 'read_uncommitted': everything up to the high watermark, aborted and open
   * transactions included. Default 'read_uncommitted', as Kafka's Java client (isolation.level);
   * kafkajs defaults to read_committed, but a consumer of non-transactional topics would then
   * wait behind any open transaction for nothing. Control records (transaction markers) are
   * never returned, in either level.
   */
  isolationLevel?: IsolationLevel;
  minBytes?: number;
  /** Bytes one fetch may return across partitions. Default 16 MiB. */
  maxBytes?: number;
  /** Bytes one fetch may return per partition. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Group only: commit processed records' offsets every autoCommitIntervalMs, before a rebalance and on close. Default true. */
  autoCommit?: boolean;
  /** Default 1000. */
  autoCommitIntervalMs?: number;
  /**
   * Group only: a static member's id (Kafka's group.instance.id, KIP-345),
   * unique in the group. A consumer restarted with the same id within
   * sessionTimeoutMs gets its partitions back without a rebalance; it does
   * not leave the group on close (its session timeout removes it).
   */
  groupInstanceId?: string;
  /** Group only: the coordinator drops a member silent this long. Default 10000. */
  sessionTimeoutMs?: number;
  /** Group only: how long a rebalance waits for members to rejoin (and for handlers to finish). Default 60000. */
  rebalanceTimeoutMs?: number;
  /** Group only: default sessionTimeoutMs / 3. */
  heartbeatIntervalMs?: number;
  /** Partitions whose records run() delivers at once (each partition still in order). Default 1. */
  partitionsConsumedConcurrently?: number;
  /** Group only: assignors in preference order. Default ['range', 'roundrobin']. */
  assignors?: AssignorSpec[];
  /**
   * What to do at records a broker finds corrupt on its disk (CORRUPT_MESSAGE). Without it the
   * consumer throws there (the error names the next readable offset, and a seek past it is the
   * caller's choice). With it, the consumer skips to the next readable offset and calls this with
   * what it skipped — never silently.
   */
  skipCorrupt?: (skipped: CorruptSkip) => void;
}

/** Offsets a consumer skipped because the broker found the records there corrupt: [from, to). */
export interface CorruptSkip {
  topic: string;
  partition: number;
  from: number;
  to: number;
}

/**
 * A topic name or a regular expression (group consumers: matched against existing topics, new ones included).
 * Named apart from TopicSubscription, a JmsTopic's subscription (client/jms-topic.ts).
 */
export type TopicPattern = string | RegExp;

export interface SubscribeOptions {
  topics?: TopicPattern[];
  topic?: TopicPattern;
  /** Start from the earliest offset when there is no committed offset (overrides autoOffsetReset). */
  fromBeginning?: boolean;
}

/** Partitions of a topic (all assigned ones of it when `partitions` is omitted). */
export interface TopicPartitionsSpec {
  topic: string;
  partitions?: number[];
}

/** The consumer's place in its group. */
export interface GroupGeneration {
  groupId: string;
  generationId: number;
  memberId: string;
  leaderId: string;
  isLeader: boolean;
  /** The assignor the coordinator chose. */
  protocol: string;
}

export type OffsetSpec = number | string | bigint | 'earliest' | 'latest';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset?: OffsetSpec;
}

export interface Message {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  timestamp: number;
}

export interface ConsumerRecord extends Message {
  topic: string;
  partition: number;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: Message;
}

export interface Batch {
  topic: string;
  partition: number;
  /** In offset order. */
  messages: Message[];
  firstOffset(): number | null;
  lastOffset(): number | null;
}

export interface EachBatchPayload {
  batch: Batch;
  /** Marks records up to and including `offset` processed (all of them when the handler resolves, unless eachBatchAutoResolve is false). */
  resolveOffset(offset: number): void;
  /** Membership heartbeats run on their own; kept for kafkajs-style handlers. */
  heartbeat(): Promise<void>;
  /** Commits what was processed so far (group with autoCommit: the auto-commit cadence does it anyway). */
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  /** True once the partition was revoked, sought or paused: the rest of the batch will not count. */
  isStale(): boolean;
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void;
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void;
  /** Default true: a batch whose handler resolved counts as processed entirely. */
  eachBatchAutoResolve?: boolean;
  /** Overrides the consumer's partitionsConsumedConcurrently. */
  partitionsConsumedConcurrently?: number;
}

export interface PollOptions {
  /** How long to wait for records when none is buffered. Default: the consumer's maxWaitMs. */
  maxWaitMs?: number;
  /** Records returned at most. Default (and bound) 10,000. */
  maxRecords?: number;
}

export interface CreateTopicOptions {
  topic: string;
  partitions?: number;
  replicationFactor?: number;
  config?: Record<string, string | number | boolean>;
  /** Wait until every partition has a leader (default true). */
  waitForLeaders?: boolean;
}

/** Where a topic config's value comes from (the Java admin client's ConfigEntry.ConfigSource names). */
export type TopicConfigSource = 'DYNAMIC_TOPIC_CONFIG' | 'STATIC_BROKER_CONFIG' | 'DEFAULT_CONFIG' | 'UNKNOWN';

/** One config of a topic: its override, else what it falls back to. */
export interface TopicConfigEntry {
  name: string;
  /** null for a sensitive value. */
  value: string | null;
  source: TopicConfigSource;
  sensitive: boolean;
}

export interface AlterTopicConfigsOptions {
  /** Check the change and answer as if made, changing nothing. */
  validateOnly?: boolean;
}

export interface PartitionDescription {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  logStartOffset: number;
  highWatermark: number;
  /** Set when the offsets (then -1) could not be asked: why (the leader could not be reached). */
  offsetsUnknown?: string;
}

export interface TopicDescription {
  name: string;
  partitions: PartitionDescription[];
}

export interface SluiceOptions {
  /** 'host:port' list (array or comma string) or a failover URL. Default '127.0.0.1:9092'. */
  brokers?: string | string[];
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Requests in flight per broker connection. Default 5. */
  maxInFlightRequests?: number;
  /** Retries of retriable operations. Default 5. */
  retries?: number;
  retryBackoffMs?: number;
  /** TLS to the brokers: true (system CAs) or the PEM material to use (kafkajs's shape). */
  ssl?: boolean | ClientTlsOptions;
  /** SASL authentication on every broker connection (kafkajs's shape). */
  sasl?: ClientSaslOptions;
}

/** TLS settings of a client (node:tls names): CA bundle, client certificate and key, all PEM. */
export interface ClientTlsOptions {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** Default true: a broker certificate that does not verify is refused. */
  rejectUnauthorized?: boolean;
  /** The name checked against the broker certificate (default: the broker's host). */
  servername?: string;
  /** Replaces the host name check (node:tls; `() => undefined` skips it, Kafka's ssl.endpoint.identification.algorithm=none). */
  checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
}

/** SASL credentials of a client; mechanism spelled as kafkajs does. */
export interface ClientSaslOptions {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface TransportInterruptedEvent {
  broker: string;
  error: Error;
}

export interface TransportResumedEvent {
  broker: string;
}

// ---- JMS-style queues and topics (queue.ts, queue-receiver.ts, session.ts, jms-topic.ts) ----

/** Headers as given to send()/publish(): an object of name → value, or a list of pairs. */
export type HeadersInput = ProducerMessage['headers'];

export interface QueueSendOptions {
  key?: string | Buffer | null;
  headers?: HeadersInput;
  /** Time to live in ms: a message not received in time is dropped (or dead-lettered, per the broker's queue.expired.messages.dlq). */
  ttlMs?: number;
}

/** One message of a batch sent with Queue.sendBatch() or buffered in a transacted session. */
export interface QueueSendInput extends QueueSendOptions {
  value: string | Buffer | null;
}

export interface QueueSendResult {
  /** The message's offset in the queue's log. */
  offset: number;
}

/**
 * 'auto' (default): a message is accepted when receive() hands it over (JMS
 * AUTO_ACKNOWLEDGE). 'client': the caller settles each message with ack(),
 * release()/nack() or reject() (JMS CLIENT_ACKNOWLEDGE, per message).
 */
export type QueueAckMode = 'auto' | 'client';

export interface QueueReceiverOptions {
  /**
   * Unacknowledged messages this receiver holds at most (buffered + handed
   * over and not yet settled). Default 1000 (ActiveMQ's). 1 gives fair
   * dispatch among slow consumers; 0 fetches only while a receive() waits.
   */
  prefetch?: number;
  ackMode?: QueueAckMode;
  /** Acquisition lock: a message not settled this long goes back to the queue. Default: the broker's queue.lock.timeout.ms. */
  lockTimeoutMs?: number;
  /** How long one QueueFetch long-polls at the broker. Default 500. */
  maxWaitMs?: number;
}

export interface QueueListenerOptions {
  /** As QueueReceiverOptions.prefetch; default 1000. */
  prefetch?: number;
  lockTimeoutMs?: number;
  maxWaitMs?: number;
  /**
   * Called with what a handler threw (the message is released and
   * redelivered), or with null for the message when the listener stops on an
   * error the broker will not get over (e.g. it refused the consumer). Default: ignored.
   */
  onError?: (err: unknown, message: QueueMessage | null) => void;
}

/** A message received from a queue. */
export interface QueueMessage {
  queue: string;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  timestamp: number;
  /** 1 on the first delivery (JMSXDeliveryCount). */
  deliveryCount: number;
  /** deliveryCount > 1 (JMSRedelivered). */
  redelivered: boolean;
  /**
   * Client-acknowledge receivers and listener handlers: settles the message
   * as done. Auto-acknowledged messages are already accepted: a no-op.
   * Rejects when the broker no longer holds it for this receiver (its lock
   * expired or the connection was lost: it is or will be redelivered).
   */
  ack(): Promise<void>;
  /** Gives the message back: it is redelivered (to any consumer) and counts towards queue.max.redeliveries. */
  release(): Promise<void>;
  /** release() under its AMQP/JMS-client name. */
  nack(): Promise<void>;
  /** Dead-letters the message at once (reason 'rejected'). */
  reject(): Promise<void>;
}

export interface QueueBrowsedMessage {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  timestamp: number;
  deliveryCount: number;
}

/** The CONTRACT's queue stats shape. */
export interface QueueStatistics {
  queue: string;
  /** Messages not yet acknowledged (available + in flight). */
  depth: number;
  inFlight: number;
  consumers: number;
  enqueued: number;
  dequeued: number;
  deadLettered: number;
}

/** A dead-letter queue: `dlq` its name, `queue` the queue it serves (null for a shared one), and its stats. */
export interface DeadLetterQueueInfo extends Omit<QueueStatistics, 'queue'> {
  dlq: string;
  queue: string | null;
}

export interface SessionOptions {
  /** Must be true: sends are buffered and receives client-acknowledged until commit() or rollback(). */
  transacted: true;
  /**
   * A commit spanning several queues, or with topic publishes or a durable topic subscriber's
   * acknowledgements, is a Kafka transaction: the coordinator aborts one open
   * longer than this (the session's process died mid-commit). Default 60000 (Kafka's
   * transaction.timeout.ms); at most the brokers' transaction.max.timeout.ms.
   */
  transactionTimeoutMs?: number;
}

/** A durable topic subscriber of a transacted session (session.topic(name).subscriber(options)). */
export interface SessionSubscriberOptions {
  /** The durable subscription's name (required: the session acknowledges its messages through the subscription's group). */
  durable: string;
  /** Messages fetched ahead of receive() at most (default 100, at most 10,000). */
  prefetch?: number;
}

export interface TopicPublishOptions {
  key?: string | Buffer | null;
  headers?: HeadersInput;
}

/** A message delivered to a topic subscriber. */
export interface TopicMessage extends Message {
  topic: string;
  partition: number;
}

export interface TopicSubscribeOptions {
  /**
   * The durable subscription's name: it keeps its place while no subscriber
   * is connected (a consumer group `__durable.<topic>.<name>`). Omitted: a
   * non-durable subscription that sees only what is published while it is open.
   */
  durable?: string;
  /** Called with what a handler threw (the message counts as delivered); default: ignored. */
  onError?: (err: unknown, message: TopicMessage) => void;
}
