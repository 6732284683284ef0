/** What every request handler can reach. Handlers never see sockets or codecs. */

import type { BrokerConfig } from '../config/broker-config.js';
import type { Coordinator } from '../coordination/coordinator.js';
import type { GroupCoordinator } from '../groups/group-coordinator.js';
import type { QueueManager } from '../queues/queue-manager.js';
import type { AppendNotifier } from '../replication/append-notifier.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { LogManager } from '../storage/log-manager.js';
import type { TopicManager } from '../topics/topic-manager.js';

export interface HandlerContext {
  logs: LogManager;
  coordinator: Coordinator;
  topics: TopicManager;
  config: BrokerConfig;
  notifier: AppendNotifier;
  groups: GroupCoordinator;
  /** Roles, high watermarks, ISR and acks=-1 waits of the partitions this broker holds. */
  replicas: ReplicaManager;
  /** JMS-style queues served by this broker. */
  queues: QueueManager;
  logger: Logger;
  /** Set when the broker is shutting down: long polls return at once. */
  stopping: () => boolean;
  /** Metrics (the broker's Prometheus registry; absent in tests that build a bare context). */
  metrics?: HandlerMetrics;
}

/** What request handling reports: per-API request latency, and records in and out per topic. */
export interface HandlerMetrics {
  request(api: string, seconds: number): void;
  /** `records`: the RecordBatch v2 bytes appended by a producer. */
  produced(topic: string, records: Buffer): void;
  /** `records`: the RecordBatch v2 bytes served to a consumer. */
  fetched(topic: string, records: Buffer): void;
}

/** Who sent the request. */
export interface ClientInfo {
  clientId: string;
  clientHost: string;
  /** Unique per TCP connection for the broker's lifetime (queue consumers are bound to theirs). */
  connectionId: number;
  /** Runs `listener` once when this connection closes (at once if it already has). */
  onClose(listener: () => void): void;
}

export interface Handler {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
  /** Resolves to the response body, or undefined when none is sent (produce with acks 0). */
  handle(body: unknown, ctx: HandlerContext, client: ClientInfo): Promise<object | undefined>;
}

/** Small shape checks for decoded request bodies: a bad field is InvalidRequest. */
export function bad(message: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidRequest, message);
}

export function arrayField(body: unknown, field: string): unknown[] {
  const value = (body as Record<string, unknown>)[field];
  if (!Array.isArray(value)) throw bad(`${field} must be an array`);
  return value;
}

export function intField(body: unknown, field: string, fallback?: number): number {
  const value = (body as Record<string, unknown>)[field];
  if (value === undefined && fallback !== undefined) return fallback;
  if (!Number.isSafeInteger(value)) throw bad(`${field} must be an integer`);
  return value as number;
}

export function stringField(body: unknown, field: string): string {
  const value = (body as Record<string, unknown>)[field];
  if (typeof value !== 'string') throw bad(`${field} must be a string`);
  return value;
}

export function bufferField(body: unknown, field: string): Buffer {
  const value = (body as Record<string, unknown>)[field];
  if (!Buffer.isBuffer(value)) throw bad(`${field} must be bytes`);
  return value;
}
