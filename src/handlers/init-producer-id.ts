/**
 * InitProducerId: hands an idempotent producer a producer id (unique in the
 * cluster, never reused: see Coordinator.allocateProducerId) with epoch 0.
 * Any broker answers. Transactional ids are refused: there are no transactions.
 */
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { InitProducerIdResponse } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Handler } from './context.js';

export const initProducerIdHandler: Handler<typeof ApiKey.InitProducerId> = {
  apiKey: ApiKey.InitProducerId,
  async handle(request, ctx): Promise<InitProducerIdResponse> {
    if (request.transactionalId !== undefined && request.transactionalId !== null) {
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
