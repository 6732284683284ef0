/**
 * InitProducerId. Without a transactional id: an idempotent producer gets a
 * producer id (unique in the cluster, never reused: see
 * Coordinator.allocateProducerId) with epoch 0, from any broker. With one:
 * the transaction coordinator of that id answers (src/transactions): a new
 * id gets a producer id at epoch 0, a known one its epoch bumped, which
 * fences the previous instance (its open transaction is aborted first, and
 * CONCURRENT_TRANSACTIONS answered until that is done). KIP-360's
 * producerId / producerEpoch let a producer bump its own epoch.
 */
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { InitProducerIdResponse } from '../protocol/native/messages.js';
import { type Handler, transactionsOf } from './context.js';

/** Kafka's default transaction.timeout.ms, for a native request that gives none. */
const transactionTimeoutMsDefault = 60_000;

export const initProducerIdHandler: Handler<typeof ApiKey.InitProducerId> = {
  apiKey: ApiKey.InitProducerId,
  async handle(request, ctx): Promise<InitProducerIdResponse> {
    try {
      const id = request.transactionalId;
      if (id !== undefined && id !== null) {
        const expected =
          request.producerId !== undefined && request.producerEpoch !== undefined
            ? { producerId: request.producerId, producerEpoch: request.producerEpoch }
            : undefined;
        const timeoutMs = request.transactionTimeoutMs ?? transactionTimeoutMsDefault;
        return { errorCode: 0, ...(await transactionsOf(ctx).initProducerId(id, timeoutMs, expected)) };
      }
      return { errorCode: 0, producerId: await ctx.coordinator.allocateProducerId(), producerEpoch: 0 };
    } catch (err) {
      if (request.transactionalId == null) ctx.logger.warn({ err }, 'could not allocate a producer id');
      return { ...toWireError(err), producerId: -1, producerEpoch: -1 };
    }
  },
};
