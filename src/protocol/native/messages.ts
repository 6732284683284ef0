/**
 * Request and response bodies of the native protocol (msgpackr-encoded).
 * Record batches travel as raw RecordBatch v2 bytes (`records: Buffer`),
 * written to and served from segment files unchanged.
 *
 * Every response body has `errorCode` (0 = none) and, when set, `errorMessage`
 * at the level the error applies to (request, topic or partition).
 * Request types are inferred from their shapes (request-shapes.ts), which
 * the broker checks every request against.
 */
import type * as shapes from './request-shapes.js';
import type { Infer } from './shape.js';

export interface ErrorFields {
  errorCode: number;
  errorMessage?: string;
}

export const earliestTimestamp = -2;
export const latestTimestamp = -1;
/** ListOffsets: the first record with the largest timestamp (Kafka's MAX_TIMESTAMP, KIP-734). */
export const maxTimestamp = -3;

// ApiVersions
export type ApiVersionsRequest = Infer<typeof shapes.apiVersionsRequest>;
export interface ApiVersionsResponse extends ErrorFields {
  apis: { apiKey: number; minVersion: number; maxVersion: number }[];
}

// Metadata
/** topics null: every topic. */
export type MetadataRequest = Infer<typeof shapes.metadataRequest>;
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
  /** The topic's id (Kafka's Uuid string form: 22 characters of URL-safe base64), when it has one. */
  topicId?: string;
  partitions: PartitionMetadata[];
  /** KIP-430, when asked: bit N set when the client may do AclOperation N on the topic. */
  authorizedOperations?: number;
}
export interface MetadataResponse extends ErrorFields {
  brokers: BrokerInfo[];
  controllerId: number;
  /** The cluster's id (22 characters of URL-safe base64); absent from brokers older than issue 16. */
  clusterId?: string;
  topics: TopicMetadata[];
  /** KIP-430, when asked: bit N set when the client may do AclOperation N on the cluster. */
  clusterAuthorizedOperations?: number;
}

// CreateTopics / DeleteTopics
export type CreateTopicsRequest = Infer<typeof shapes.createTopicsRequest>;
export interface TopicResult extends ErrorFields {
  name: string;
}
export interface CreateTopicsResponse extends ErrorFields {
  topics: TopicResult[];
}
export type DeleteTopicsRequest = Infer<typeof shapes.deleteTopicsRequest>;
export interface DeleteTopicsResponse extends ErrorFields {
  topics: TopicResult[];
}

// Produce
/** acks 0: no response; 1: after the leader's append; -1: after all in-sync replicas. */
export type ProduceRequest = Infer<typeof shapes.produceRequest>;
export interface ProducePartitionResponse extends ErrorFields {
  partition: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}
export interface ProduceResponse extends ErrorFields {
  topics: { name: string; partitions: ProducePartitionResponse[] }[];
  /** How long the client is throttled for exceeding a quota (the broker stops reading its requests that long). */
  throttleTimeMs?: number;
}

// Fetch
/**
 * replicaId: a follower's broker id (reads up to the log end, reports its progress); absent or -1 for
 * consumers. groupId, generationId, memberId: set by group members (a stale generation is refused,
 * ILLEGAL_GENERATION). currentLeaderEpoch: followers only (a mismatch is FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH).
 */
export type FetchRequest = Infer<typeof shapes.fetchRequest>;
export interface FetchPartitionResponse extends ErrorFields {
  partition: number;
  highWatermark: number;
  logStartOffset: number;
  /** Whole batches; the first may start before fetchOffset. */
  records: Buffer;
  /** With CORRUPT_MESSAGE: the first offset after the corrupt bytes a fetch can start from (issue 18). */
  nextReadableOffset?: number;
  /** The last stable offset: the first offset of the oldest open transaction, or the high watermark (issue 21). */
  lastStableOffset?: number;
  /** read_committed only: the aborted transactions the records overlap (Kafka's FetchResponse aborted_transactions). */
  abortedTransactions?: { producerId: number; firstOffset: number }[];
}
export interface FetchResponse extends ErrorFields {
  /** topicId: the id the request named the topic by (then name is '' when no topic has it). */
  topics: { name: string; topicId?: string; partitions: FetchPartitionResponse[] }[];
  /** How long the client is throttled for exceeding a quota (the broker stops reading its requests that long). */
  throttleTimeMs?: number;
  /** A follower's fetch session (FetchRequest.sessionId): the one made or continued; 0 or absent: none. */
  sessionId?: number;
}

// ListOffsets
/** timestamp: a time in ms, or earliestTimestamp (-2) / latestTimestamp (-1) / maxTimestamp (-3). */
export type ListOffsetsRequest = Infer<typeof shapes.listOffsetsRequest>;
export interface ListOffsetsPartitionResponse extends ErrorFields {
  partition: number;
  /** -1 with offset = log end when no record is at or after the timestamp. */
  timestamp: number;
  offset: number;
}
export interface ListOffsetsResponse extends ErrorFields {
  topics: { name: string; partitions: ListOffsetsPartitionResponse[] }[];
}

// InitProducerId (the idempotent producer, and a transactional producer's id and epoch)
export type InitProducerIdRequest = Infer<typeof shapes.initProducerIdRequest>;
export interface InitProducerIdResponse extends ErrorFields {
  producerId: number;
  producerEpoch: number;
}

// DescribeConfigs
/** Kafka's config resource types: the two Sluice has configs for. */
export const ConfigResourceType = { Topic: 2, Broker: 4 } as const;
/** Kafka's config sources: where a value comes from. */
export const ConfigSource = { TopicConfig: 1, StaticBrokerConfig: 4, DefaultConfig: 5 } as const;
/** resourceType: ConfigResourceType; resourceName: the topic, or the broker id ('' for the one answering); configurationKeys null or empty: every key. */
export type DescribeConfigsRequest = Infer<typeof shapes.describeConfigsRequest>;
/** Where else a config's value could come from, most specific first (Kafka's synonyms). */
export interface ConfigSynonym {
  name: string;
  value: string | null;
  /** ConfigSource. */
  source: number;
}
/** Kafka's ConfigType (DescribeConfigs v3+). */
export const ConfigType = { Unknown: 0, Boolean: 1, String: 2, Int: 3, Long: 5, List: 7 } as const;
export interface ConfigEntry {
  name: string;
  /** null for sensitive values. */
  value: string | null;
  readOnly: boolean;
  /** True when the value is the built-in default (source DEFAULT_CONFIG). */
  isDefault: boolean;
  /** ConfigSource. */
  source: number;
  isSensitive: boolean;
  /** With includeSynonyms: the config itself first, then what it falls back to. */
  synonyms?: ConfigSynonym[];
  /** ConfigType. */
  configType?: number;
  /** With includeDocumentation: what the key means. */
  documentation?: string | null;
}
export interface DescribeConfigsResult extends ErrorFields {
  resourceType: number;
  resourceName: string;
  configs: ConfigEntry[];
}
export interface DescribeConfigsResponse extends ErrorFields {
  results: DescribeConfigsResult[];
}

// AlterConfigs / IncrementalAlterConfigs (KIP-339)
/** Each resource's configs replace all of its overrides; validateOnly: checked, nothing changed. */
export type AlterConfigsRequest = Infer<typeof shapes.alterConfigsRequest>;
/** configOperation: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT. */
export type IncrementalAlterConfigsRequest = Infer<typeof shapes.incrementalAlterConfigsRequest>;
export interface AlterConfigsResult extends ErrorFields {
  resourceType: number;
  resourceName: string;
}
/** The same answer for both APIs: one result per resource, in request order. */
export interface AlterConfigsResponse extends ErrorFields {
  results: AlterConfigsResult[];
}
