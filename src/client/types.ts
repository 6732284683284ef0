/** Public types of the client library. */

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
  /** Bytes at which a partition's batch is closed and sent. Default 16384. */
  batchSize?: number;
  /** Bytes of records held before send() waits. Default 32 MiB. */
  bufferMemory?: number;
  /** How long send() waits for buffer memory before failing with Timeout. Default 60 s. */
  maxBlockMs?: number;
  /** Retries of a batch after a retriable error. Default 5. */
  retries?: number;
  /** Backoff before the first retry (doubling after each). Default 100 ms. */
  retryBackoffMs?: number;
  /** Time the broker may take to reach the acks. Default 30 s. */
  timeoutMs?: number;
  compression?: 'none' | 'gzip';
  /** Idempotent production needs producer ids from the broker; not available in this version. */
  idempotent?: boolean;
}

export type AutoOffsetReset = 'smallest' | 'largest' | 'earliest' | 'latest';

export interface ConsumerOptions {
  /** Consumer groups arrive with a later version; without groupId the consumer reads assigned partitions. */
  groupId?: string;
  /** Where to start when no offset is given or the offset is out of range. Default 'largest'. */
  autoOffsetReset?: AutoOffsetReset;
  /** How long a fetch waits at the broker for data. Default 500 ms. */
  maxWaitMs?: number;
  minBytes?: number;
  /** Bytes one fetch may return across partitions. Default 16 MiB. */
  maxBytes?: number;
  /** Bytes one fetch may return per partition. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Accepted for compatibility with group consumers; unused without a group. */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
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

export interface RunOptions {
  eachMessage: (payload: EachMessagePayload) => Promise<void> | void;
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

export interface PartitionDescription {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  logStartOffset: number;
  highWatermark: number;
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
}

export interface TransportInterruptedEvent {
  broker: string;
  error: Error;
}

export interface TransportResumedEvent {
  broker: string;
}
