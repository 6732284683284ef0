/**
 * InitProducerId: hands an idempotent producer a producer id (unique in the
 * cluster, never reused: see Coordinator.allocateProducerId) with epoch 0.
 * Any broker answers. Transactional ids are refused: there are no transactions.
 */
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { InitProducerIdResponse } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { bad, type Handler } from './context.js';

export const initProducerIdHandler: Handler = {
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<InitProducerIdResponse> {
    if (typeof body !== 'object' || body === null) throw bad('the request must be a map');
    const transactionalId = (body as { transactionalId?: unknown }).transactionalId;
    if (transactionalId !== undefined && transactionalId !== null) {
      return {
        ...toWireError(
          new SluiceError(ErrorCode.Unsupported, 'transactions are not supported: transactionalId must be null'),
        ),
        producerId: -1,
        producerEpoch: -1,
      };
    }
    try {
      return { errorCode: 0, producerId: await ctx.coordinator.allocateProducerId(), producerEpoch: 0 };
    } catch (err) {
      ctx.logger.warn({ err }, 'could not allocate a producer id');
      return { ...toWireError(err), producerId: -1, producerEpoch: -1 };
    }
  },
};
