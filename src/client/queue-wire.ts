/**
 * Queue requests from the client: routing to the queue's leader (the leader
 * of `__queue.<name>` partition 0, where its dispatcher runs) with the
 * cluster's retry rules, and the conversions between what callers pass and
 * the protocol's shapes (queue-messages.ts).
 *
 * A queue that does not exist yet has no metadata: its first request goes to
 * any broker, which creates the queue and answers NOT_LEADER_OR_FOLLOWER (or
 * serves it when it leads it); the retry then finds the leader.
 */
import { WireError } from '../protocol/error-codes.js';
import type { ApiKey } from '../protocol/native/api-keys.js';
import type { RequestOf, ResponseOf } from '../protocol/native/apis.js';
import type { ErrorFields } from '../protocol/native/messages.js';
import type { QueueDelivery, QueueHeader, QueueMessageInput } from '../protocol/native/queue-messages.js';
import { queueTopic } from '../protocol/native/queue-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { topicNameLengthMax } from '../shared/limits.js';
import type { Cluster, RetryOptions } from './cluster.js';
import type { Connection } from './connection.js';
import { checkTopLevel, invalidArgument, markRetriable, wireError } from './errors.js';
import type { HeadersInput, QueueBrowsedMessage, QueueSendInput } from './types.js';

/** Errors after which a queue's leader must be looked up again. */
const movedErrors = new Set<number>([
  WireError.NOT_LEADER_OR_FOLLOWER,
  WireError.UNKNOWN_TOPIC_OR_PARTITION,
  WireError.LEADER_NOT_AVAILABLE,
]);

export function isMovedError(errorCode: number | undefined): boolean {
  return errorCode !== undefined && movedErrors.has(errorCode);
}

/** Longest queue name: its topic `__queue.<name>` must be a valid topic name. */
export const queueNameLengthMax = topicNameLengthMax - queueTopic('').length;

export function checkQueueName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > queueNameLengthMax) {
    throw invalidArgument(`a queue name must be a string of 1..${queueNameLengthMax} characters`);
  }
  return name;
}

/** The broker id leading the queue, or null when the queue is not in the metadata (yet). */
export async function queueLeader(cluster: Cluster, queue: string): Promise<number | null> {
  try {
    return await cluster.leaderOf(queueTopic(queue), 0);
  } catch (err) {
    if (err instanceof SluiceError && err.code === ErrorCode.UnknownPartition) return null;
    throw err;
  }
}

/** A (shared) connection to the queue's leader; any broker's when the queue is unknown (that broker creates it). */
export async function queueLeaderConnection(cluster: Cluster, queue: string): Promise<Connection> {
  const leader = await queueLeader(cluster, queue);
  return leader === null ? cluster.anyConnection() : cluster.brokerConnection(leader);
}

/**
 * Throws the response's error; after a "moved" error, forgets the queue's
 * metadata first. TOPIC_ALREADY_EXISTS means two brokers created the queue at
 * once on its first use: it exists now, so it is retried like a move.
 */
export function checkQueueResponse(cluster: Cluster, queue: string, res: ErrorFields, what: string): void {
  if (res.errorCode === WireError.TOPIC_ALREADY_EXISTS) {
    cluster.invalidate(queueTopic(queue));
    throw markRetriable(wireError(res.errorCode, what, res.errorMessage));
  }
  if (isMovedError(res.errorCode)) cluster.invalidate(queueTopic(queue));
  checkTopLevel(res, what);
}

/** One request to the queue's leader over the client's shared connection, retried per the cluster's rules. */
export function queueRequest<K extends ApiKey>(
  cluster: Cluster,
  queue: string,
  apiKey: K,
  body: RequestOf<K>,
  what: string,
  options: RetryOptions & { timeoutMs?: number } = {},
): Promise<ResponseOf<K>> {
  return cluster.retry(async () => {
    const conn = await queueLeaderConnection(cluster, queue);
    const res: ResponseOf<K> = await conn.request(
      apiKey,
      body,
      options.timeoutMs ? { timeoutMs: options.timeoutMs } : {},
    );
    checkQueueResponse(cluster, queue, res, what);
    return res;
  }, options);
}

function toBuffer(v: unknown, what: string): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw invalidArgument(`${what} must be a string, a Buffer or null`);
}

export function headersOf(h: HeadersInput): QueueHeader[] {
  if (h === undefined || h === null) return [];
  if (Array.isArray(h)) return h.map((x) => ({ key: String(x.key), value: toBuffer(x.value, `header '${x.key}'`) }));
  if (typeof h !== 'object') throw invalidArgument('headers must be an object or a list of { key, value }');
  const out: QueueHeader[] = [];
  for (const [key, value] of Object.entries(h)) {
    if (Array.isArray(value)) for (const v of value) out.push({ key, value: toBuffer(v, `header '${key}'`) });
    else out.push({ key, value: toBuffer(value, `header '${key}'`) });
  }
  return out;
}

/** The protocol's message from a caller's value and options. */
export function messageInput(m: QueueSendInput): QueueMessageInput {
  const out: QueueMessageInput = { value: toBuffer(m.value, 'a message value') };
  const key = toBuffer(m.key, 'a message key');
  if (key) out.key = key;
  const headers = headersOf(m.headers);
  if (headers.length > 0) out.headers = headers;
  if (m.ttlMs !== undefined && m.ttlMs !== null) {
    if (!Number.isSafeInteger(m.ttlMs) || m.ttlMs <= 0)
      throw invalidArgument(`ttlMs must be a positive integer, not ${m.ttlMs}`);
    out.ttlMs = m.ttlMs;
  }
  return out;
}

/** Wire headers as an object (the last value of a repeated name wins; a null value is an empty Buffer). */
export function headerRecord(headers: QueueHeader[] | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const h of headers ?? []) out[h.key] = h.value ? Buffer.from(h.value) : Buffer.alloc(0);
  return out;
}

const asBuffer = (b: Buffer | Uint8Array | null | undefined): Buffer | null =>
  b === null || b === undefined ? null : Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function browsedOf(d: QueueDelivery): QueueBrowsedMessage {
  return {
    offset: d.offset,
    key: asBuffer(d.key),
    value: asBuffer(d.value),
    headers: headerRecord(d.headers),
    timestamp: d.timestamp,
    deliveryCount: d.deliveryCount,
  };
}
