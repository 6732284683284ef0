/**
 * The queue APIs (Sluice's own, see src/protocol/native/queue-messages.ts):
 * the checks a request's shape cannot make here (ranges, a field another
 * requires), semantics in src/queues.
 */
import { toWireError, WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type {
  QueueAckResponse,
  QueueAdminResponse,
  QueueFetchResponse,
  QueueMessageInput,
  QueueSendRequest,
  QueueSendResponse,
} from '../protocol/native/queue-messages.js';
import { queueBatchMessagesMax, queueBrowseDefault, queueBrowseMax, queueFetchWaitMsMax } from '../shared/limits.js';
import { bad, type Handler } from './context.js';

/** The messages as the dispatcher takes them: absent keys, values and headers filled in, nothing else kept. */
function messagesOf(request: QueueSendRequest): QueueMessageInput[] {
  return request.messages.map((m) => ({
    key: m.key ?? null,
    value: m.value ?? null,
    headers: (m.headers ?? []).map((h) => ({ key: h.key, value: h.value ?? null })),
    ...(m.ttlMs === undefined ? {} : { ttlMs: m.ttlMs }),
  }));
}

export const queueSendHandler: Handler<typeof ApiKey.QueueSend> = {
  apiKey: ApiKey.QueueSend,
  async handle(request, ctx): Promise<QueueSendResponse> {
    const messages = messagesOf(request);
    const acks = request.acks ? { consumerId: request.acks.consumerId, offsets: request.acks.offsets } : undefined;
    const txn = request.txn
      ? { producerId: request.txn.producerId, producerEpoch: request.txn.producerEpoch }
      : undefined;
    if (txn && (txn.producerId < 0 || txn.producerEpoch < 0))
      throw bad('txn needs a producer id and epoch (InitProducerId)');
    const dispatcher = await ctx.queues.dispatcher(request.queue);
    const baseOffset = await dispatcher.send(messages, acks, txn);
    return { errorCode: 0, baseOffset };
  },
};

export const queueFetchHandler: Handler<typeof ApiKey.QueueFetch> = {
  apiKey: ApiKey.QueueFetch,
  async handle(request, ctx, client): Promise<QueueFetchResponse> {
    const { queue, consumerId, prefetch } = request;
    if (consumerId === '') throw bad('consumerId must not be empty');
    if (prefetch < 1 || prefetch > queueBatchMessagesMax) throw bad(`prefetch must be 1..${queueBatchMessagesMax}`);
    const maxMessages = Math.min(Math.max(request.maxMessages, 0), queueBatchMessagesMax);
    const maxWaitMs = Math.min(Math.max(request.maxWaitMs ?? 0, 0), queueFetchWaitMsMax);
    const lockTimeoutMs = request.lockTimeoutMs ?? ctx.config.int('queue.lock.timeout.ms');
    if (lockTimeoutMs < 100) throw bad('lockTimeoutMs must be at least 100');
    const returned = request.returned ?? [];
    if (returned.some((o) => o < 0)) throw bad('returned must hold offsets (integers >= 0)');
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

export const queueAckHandler: Handler<typeof ApiKey.QueueAck> = {
  apiKey: ApiKey.QueueAck,
  async handle(request, ctx): Promise<QueueAckResponse> {
    const acks = request.acks.map((a) => ({ offset: a.offset, type: a.type }));
    const dispatcher = await ctx.queues.dispatcher(request.queue);
    const results = await dispatcher.acknowledge(request.consumerId, acks);
    return {
      errorCode: 0,
      results: results.map((r) =>
        r.error ? { offset: r.offset, ...toWireError(r.error) } : { offset: r.offset, errorCode: 0 },
      ),
    };
  },
};

export const queueLeaveHandler: Handler<typeof ApiKey.QueueLeave> = {
  apiKey: ApiKey.QueueLeave,
  async handle(request, ctx) {
    const dispatcher = await ctx.queues.dispatcher(request.queue);
    await dispatcher.leave(request.consumerId);
    return { errorCode: 0 };
  },
};

export const queueAdminHandler: Handler<typeof ApiKey.QueueAdmin> = {
  apiKey: ApiKey.QueueAdmin,
  async handle(request, ctx): Promise<QueueAdminResponse> {
    const { op } = request;
    if (op === 'list') return { errorCode: 0, stats: ctx.queues.list() };
    // every op but 'list' names its queue (the shape cannot say "required unless")
    const queue = request.queue;
    if (queue === undefined) throw bad('queue must be a string');
    switch (op) {
      case 'stats':
        return { errorCode: 0, stats: [(await ctx.queues.dispatcher(queue)).stats()] };
      case 'browse': {
        const max = Math.min(Math.max(request.maxMessages ?? queueBrowseDefault, 1), queueBrowseMax);
        return { errorCode: 0, messages: await (await ctx.queues.dispatcher(queue)).browse(max) };
      }
      case 'purge':
        return { errorCode: 0, count: await (await ctx.queues.dispatcher(queue)).purge() };
      case 'redrive':
        return { errorCode: 0, count: await ctx.queues.redrive(queue, request.dlq) };
      default:
        return {
          errorCode: WireError.INVALID_REQUEST,
          errorMessage: `unknown queue admin op ${op satisfies never} (stats, browse, purge, redrive, list)`,
        };
    }
  },
};

export const queueHandlers = {
  [ApiKey.QueueSend]: queueSendHandler,
  [ApiKey.QueueFetch]: queueFetchHandler,
  [ApiKey.QueueAck]: queueAckHandler,
  [ApiKey.QueueLeave]: queueLeaveHandler,
  [ApiKey.QueueAdmin]: queueAdminHandler,
};
