/**
 * What the transaction tests share about kafkajs 2.2.4: a transactional
 * producer (kafkajs makes it idempotent, one request in flight), the error
 * codes hidden in what kafkajs throws (it wraps a broker's error in retry
 * and "non-retriable" errors), and a group consumer at a chosen isolation
 * level that reads a topic from the beginning until a condition holds.
 */
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { pollUntil } from './poll.js';

/** Kafka's INVALID_PRODUCER_EPOCH: what Kafka answers kafkajs's request versions for a fenced producer. */
export const invalidProducerEpoch = 47;
/** Kafka's PRODUCER_FENCED (KIP-588), for request versions that know it (kafkajs's do not). */
export const producerFenced = 90;
/** Kafka's INVALID_TXN_STATE. */
export const invalidTxnState = 48;

/**
 * A kafkajs transactional producer (not connected). Retries are bounded so
 * a test that meets a refusal fails within its timeout instead of retrying
 * forever (kafkajs's default for idempotent producers).
 */
export function transactionalProducer(
  kafka: Kafka,
  transactionalId: string,
  options: { transactionTimeoutMs?: number; retries?: number } = {},
): Producer {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    ...(options.transactionTimeoutMs === undefined ? {} : { transactionTimeout: options.transactionTimeoutMs }),
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

/**
 * Every Kafka error code in what kafkajs threw: its own `code`, and those of
 * the errors it wraps (`originalError` of KafkaJSNumberOfRetriesExceeded,
 * `cause`, the `errors` of an aggregate), walked to a bounded depth.
 */
export function kafkaErrorCodes(err: unknown, depth = 0): number[] {
  if (depth > 5 || err === null || typeof err !== 'object') return [];
  const e = err as { code?: unknown; originalError?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === 'number' ? [e.code] : [];
  const nested = [e.originalError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  return [...own, ...nested.flatMap((n) => kafkaErrorCodes(n, depth + 1))];
}

/** Awaits `op`, which must fail; returns the Kafka error codes it failed with (and the message, for diagnostics). */
export async function failureOf(op: Promise<unknown>): Promise<{ codes: number[]; message: string }> {
  try {
    await op;
  } catch (err) {
    return { codes: kafkaErrorCodes(err), message: err instanceof Error ? err.message : String(err) };
  }
  throw new Error('expected the operation to fail, it succeeded');
}

/** `partition:value` of one record, as the readers below collect them. */
export type ReadRecord = { partition: number; offset: number; value: string };

export interface ReadOptions {
  groupId: string;
  /** false (kafkajs's default): read_committed. */
  readUncommitted: boolean;
  /** Resolves once this holds for what was read so far. */
  until: (records: ReadRecord[]) => boolean;
  timeoutMs: number;
}

/**
 * Reads `topic` from the beginning with a new group consumer at the given
 * isolation level until `until` holds, then disconnects it. The condition
 * should name a record written after everything the test checks the absence
 * of (a sentinel), so what was read is complete up to it with no waiting for
 * absence.
 *
 * It disconnects the consumer in this process: only for a broker list that
 * does not change meanwhile (no broker killed or restarted). Otherwise use
 * readTopicInChild (kafkajs-reader-process.ts): a kafkajs 2.2.4 consumer
 * stopped while its fetchers are being replaced can spin this process.
 */
export async function readTopic(kafka: Kafka, topic: string, options: ReadOptions): Promise<ReadRecord[]> {
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: options.readUncommitted,
    heartbeatInterval: 500,
    sessionTimeout: 10_000,
    maxWaitTimeInMs: 200,
  });
  const records: ReadRecord[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.push({ partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
      },
    });
    const level = options.readUncommitted ? 'read_uncommitted' : 'read_committed';
    await pollUntil(`${level} records of ${topic}`, options.timeoutMs, async () =>
      options.until(records) ? true : undefined,
    ).catch((err: Error) => {
      const seen = records.map((r) => `${r.partition}@${r.offset}=${r.value}`).join(' ');
      throw new Error(`${err.message}; read so far: ${seen || 'nothing'}`);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return records;
}

/** The values read, per partition in offset order (for comparing with what was sent). */
export function valuesByPartition(records: ReadRecord[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const sorted = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const r of sorted) {
    const list = out.get(r.partition) ?? [];
    list.push(r.value);
    out.set(r.partition, list);
  }
  return out;
}
