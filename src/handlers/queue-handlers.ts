/**
 * The queue APIs (Sluice's own, see src/protocol/native/queue-messages.ts):
 * shape checks here, semantics in src/queues.
 */
import { toWireError, WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type {
  QueueAckResponse,
  QueueAckType,
  QueueAdminResponse,
  QueueFetchResponse,
  QueueHeader,
  QueueMessageInput,
  QueueSendResponse,
} from '../protocol/native/queue-messages.js';
import { queueBatchMessagesMax, queueBrowseDefault, queueBrowseMax, queueFetchWaitMsMax } from '../shared/limits.js';
import { arrayField, bad, type Handler, intField, stringField } from './context.js';

const ackTypes: ReadonlySet<string> = new Set(['accept', 'release', 'reject', 'return']);

function optionalBytes(value: unknown, what: string): Buffer | null {
  if (value === undefined || value === null) return null;
  if (!Buffer.isBuffer(value)) throw bad(`${what} must be bytes or null`);
  return value;
}

function messagesField(body: unknown): QueueMessageInput[] {
  const list = arrayField(body, 'messages');
  if (list.length > queueBatchMessagesMax) throw bad(`at most ${queueBatchMessagesMax} messages per request`);
  return list.map((m, i) => {
    const headers = (m as { headers?: unknown }).headers;
    if (headers !== undefined && !Array.isArray(headers)) throw bad(`messages[${i}].headers must be an array`);
    const ttlMs = (m as { ttlMs?: unknown }).ttlMs;
    return {
      key: optionalBytes((m as { key?: unknown }).key, `messages[${i}].key`),
      value: optionalBytes((m as { value?: unknown }).value, `messages[${i}].value`),
      headers: (headers ?? []).map((h: unknown) => ({
        key: stringField(h, 'key'),
        value: optionalBytes((h as { value?: unknown }).value, `messages[${i}] header value`),
      })) as QueueHeader[],
      ...(ttlMs === undefined ? {} : { ttlMs: intField(m, 'ttlMs') }),
    };
  });
}

/** An optional list of at most queueBatchMessagesMax offsets (absent: empty). */
function offsetsField(body: unknown, name: string): number[] {
  const raw = (body as Record<string, unknown>)[name];
  if (raw === undefined || raw === null) return [];
  const list = arrayField(body, name);
  if (list.length > queueBatchMessagesMax) throw bad(`at most ${queueBatchMessagesMax} ${name} offsets`);
  return list.map((o) => {
    if (!Number.isSafeInteger(o) || (o as number) < 0) throw bad(`${name} must hold offsets (integers >= 0)`);
    return o as number;
  });
}

export const queueSendHandler: Handler = {
  apiKey: ApiKey.QueueSend,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<QueueSendResponse> {
    const queue = stringField(body, 'queue');
    const messages = messagesField(body);
    const rawAcks = (body as { acks?: unknown }).acks;
    let acks: { consumerId: string; offsets: number[] } | undefined;
    if (rawAcks !== undefined && rawAcks !== null) {
      const offsets = arrayField(rawAcks, 'offsets');
      if (offsets.length > queueBatchMessagesMax) throw bad(`at most ${queueBatchMessagesMax} acknowledgements`);
      acks = {
        consumerId: stringField(rawAcks, 'consumerId'),
        offsets: offsets.map((o) => {
          if (!Number.isSafeInteger(o)) throw bad('acks.offsets must be integers');
          return o as number;
        }),
      };
    }
    const dispatcher = await ctx.queues.dispatcher(queue);
    const baseOffset = await dispatcher.send(messages, acks);
    return { errorCode: 0, baseOffset };
  },
};

export const queueFetchHandler: Handler = {
  apiKey: ApiKey.QueueFetch,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx, client): Promise<QueueFetchResponse> {
    const queue = stringField(body, 'queue');
    const consumerId = stringField(body, 'consumerId');
    if (consumerId === '') throw bad('consumerId must not be empty');
    const prefetch = intField(body, 'prefetch');
    if (prefetch < 1 || prefetch > queueBatchMessagesMax) throw bad(`prefetch must be 1..${queueBatchMessagesMax}`);
    const maxMessages = Math.min(Math.max(intField(body, 'maxMessages'), 0), queueBatchMessagesMax);
    const maxWaitMs = Math.min(Math.max(intField(body, 'maxWaitMs', 0), 0), queueFetchWaitMsMax);
    const lockTimeoutMs = intField(body, 'lockTimeoutMs', ctx.config.int('queue.lock.timeout.ms'));
    if (lockTimeoutMs < 100) throw bad('lockTimeoutMs must be at least 100');
    const returned = offsetsField(body, 'returned');
    const dispatcher = await ctx.queues.dispatcher(queue);
    ctx.queues.bindConsumer(client, queue, consumerId);
    const messages = await dispatcher.fetch(
      consumerId,
      client.connectionId,
      prefetch,
      maxMessages,
      ctx.stopping() ? 0 : maxWaitMs,
      lockTimeoutMs,
      returned,
    );
    return { errorCode: 0, messages };
  },
};

export const queueAckHandler: Handler = {
  apiKey: ApiKey.QueueAck,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<QueueAckResponse> {
    const queue = stringField(body, 'queue');
    const consumerId = stringField(body, 'consumerId');
    const list = arrayField(body, 'acks');
    if (list.length > queueBatchMessagesMax) throw bad(`at most ${queueBatchMessagesMax} acknowledgements`);
    const acks = list.map((a) => {
      const type = stringField(a, 'type');
      if (!ackTypes.has(type)) throw bad(`ack type must be accept, release, reject or return, got ${type}`);
      return { offset: intField(a, 'offset'), type: type as QueueAckType };
    });
    const dispatcher = await ctx.queues.dispatcher(queue);
    const results = await dispatcher.acknowledge(consumerId, acks);
    return {
      errorCode: 0,
      results: results.map((r) =>
        r.error ? { offset: r.offset, ...toWireError(r.error) } : { offset: r.offset, errorCode: 0 },
      ),
    };
  },
};

export const queueLeaveHandler: Handler = {
  apiKey: ApiKey.QueueLeave,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    const dispatcher = await ctx.queues.dispatcher(stringField(body, 'queue'));
    await dispatcher.leave(stringField(body, 'consumerId'));
    return { errorCode: 0 };
  },
};

export const queueAdminHandler: Handler = {
  apiKey: ApiKey.QueueAdmin,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<QueueAdminResponse> {
    const op = stringField(body, 'op');
    if (op === 'list') return { errorCode: 0, stats: ctx.queues.list() };
    const queue = stringField(body, 'queue');
    switch (op) {
      case 'stats':
        return { errorCode: 0, stats: [(await ctx.queues.dispatcher(queue)).stats()] };
      case 'browse': {
        const max = Math.min(Math.max(intField(body, 'maxMessages', queueBrowseDefault), 1), queueBrowseMax);
        return { errorCode: 0, messages: await (await ctx.queues.dispatcher(queue)).browse(max) };
      }
      case 'purge':
        return { errorCode: 0, count: await (await ctx.queues.dispatcher(queue)).purge() };
      case 'redrive': {
        const dlq = (body as { dlq?: unknown }).dlq;
        if (dlq !== undefined && typeof dlq !== 'string') throw bad('dlq must be a string');
        return { errorCode: 0, count: await ctx.queues.redrive(queue, dlq) };
      }
      default:
        return {
          errorCode: WireError.INVALID_REQUEST,
          errorMessage: `unknown queue admin op ${op} (stats, browse, purge, redrive, list)`,
        };
    }
  },
};

export const queueHandlers: Handler[] = [
  queueSendHandler,
  queueFetchHandler,
  queueAckHandler,
  queueLeaveHandler,
  queueAdminHandler,
];
