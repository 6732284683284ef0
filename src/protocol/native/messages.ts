/**
 * Request and response bodies of the native protocol (msgpackr-encoded).
 * Record batches travel as raw RecordBatch v2 bytes (`records: Buffer`),
 * written to and served from segment files unchanged.
 *
 * Every response body has `errorCode` (0 = none) and, when set, `errorMessage`
 * at the level the error applies to (request, topic or partition).
 */

export interface ErrorFields {
  errorCode: number;
  errorMessage?: string;
}

export const earliestTimestamp = -2;
export const latestTimestamp = -1;

// ApiVersions
export type ApiVersionsRequest = Record<string, never>;
export interface ApiVersionsResponse extends ErrorFields {
  apis: { apiKey: number; minVersion: number; maxVersion: number }[];
}

// Metadata
export interface MetadataRequest {
  /** null: every topic. */
  topics: string[] | null;
  allowAutoTopicCreation?: boolean;
}
export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  /** The broker's Kafka-protocol listener, when it runs one. */
  kafkaPort?: number;
}
export interface PartitionMetadata extends ErrorFields {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}
export interface TopicMetadata extends ErrorFields {
  name: string;
  partitions: PartitionMetadata[];
}
export interface MetadataResponse extends ErrorFields {
  brokers: BrokerInfo[];
  controllerId: number;
  topics: TopicMetadata[];
}

// CreateTopics / DeleteTopics
export interface CreateTopicsRequest {
  topics: { name: string; numPartitions?: number; replicationFactor?: number; configs?: Record<string, string> }[];
  timeoutMs?: number;
  validateOnly?: boolean;
}
export interface TopicResult extends ErrorFields {
  name: string;
}
export interface CreateTopicsResponse extends ErrorFields {
  topics: TopicResult[];
}
export interface DeleteTopicsRequest {
  topics: string[];
  timeoutMs?: number;
}
export interface DeleteTopicsResponse extends ErrorFields {
  topics: TopicResult[];
}

// Produce
export interface ProduceRequest {
  /** 0: no response; 1: after the leader's append; -1: after all in-sync replicas. */
  acks: number;
  timeoutMs: number;
  topics: { name: string; partitions: { partition: number; records: Buffer }[] }[];
}
export interface ProducePartitionResponse extends ErrorFields {
  partition: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}
export interface ProduceResponse extends ErrorFields {
  topics: { name: string; partitions: ProducePartitionResponse[] }[];
}

// Fetch
export interface FetchRequest {
  /** A follower's broker id (reads up to the log end, reports its progress); absent or -1 for consumers. */
  replicaId?: number;
  /** Set by group members: a fetch from a stale generation is refused (ILLEGAL_GENERATION). */
  groupId?: string;
  generationId?: number;
  memberId?: string;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  topics: {
    name: string;
    partitions: {
      partition: number;
      fetchOffset: number;
      partitionMaxBytes: number;
      /** Followers send the leader epoch they follow; a mismatch is FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH. */
      currentLeaderEpoch?: number;
    }[];
  }[];
}
export interface FetchPartitionResponse extends ErrorFields {
  partition: number;
  highWatermark: number;
  logStartOffset: number;
  /** Whole batches; the first may start before fetchOffset. */
  records: Buffer;
}
export interface FetchResponse extends ErrorFields {
  topics: { name: string; partitions: FetchPartitionResponse[] }[];
}

// ListOffsets
export interface ListOffsetsRequest {
  /** timestamp: a time in ms, or earliestTimestamp (-2) / latestTimestamp (-1). */
  topics: { name: string; partitions: { partition: number; timestamp: number }[] }[];
}
export interface ListOffsetsPartitionResponse extends ErrorFields {
  partition: number;
  /** -1 with offset = log end when no record is at or after the timestamp. */
  timestamp: number;
  offset: number;
}
export interface ListOffsetsResponse extends ErrorFields {
  topics: { name: string; partitions: ListOffsetsPartitionResponse[] }[];
}

// InitProducerId (the idempotent producer; transactions are not supported)
export interface InitProducerIdRequest {
  /** Must be null: no transactions. */
  transactionalId: string | null;
  transactionTimeoutMs: number;
}
export interface InitProducerIdResponse extends ErrorFields {
  producerId: number;
  producerEpoch: number;
}

// DescribeConfigs
/** Kafka's config resource types: the two Sluice has configs for. */
export const ConfigResourceType = { Topic: 2, Broker: 4 } as const;
/** Kafka's config sources: where a value comes from. */
export const ConfigSource = { TopicConfig: 1, StaticBrokerConfig: 4, DefaultConfig: 5 } as const;
export interface DescribeConfigsRequest {
  resources: {
    /** ConfigResourceType: 2 topic, 4 broker. */
    resourceType: number;
    /** The topic name, or the broker id ('' for the broker answering). */
    resourceName: string;
    /** null (or empty): every key. */
    configurationKeys: string[] | null;
  }[];
}
export interface ConfigEntry {
  name: string;
  /** null for sensitive values. */
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  /** ConfigSource. */
  source: number;
  isSensitive: boolean;
}
export interface DescribeConfigsResult extends ErrorFields {
  resourceType: number;
  resourceName: string;
  configs: ConfigEntry[];
}
export interface DescribeConfigsResponse extends ErrorFields {
  results: DescribeConfigsResult[];
}
