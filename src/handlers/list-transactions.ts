/**
 * ListTransactions (Kafka 3, KIP-664): the transactional ids this broker
 * coordinates, filtered by state and producer id; only those the client may
 * Describe are listed (quietly, as Kafka's). A filter state Kafka does not
 * know is named in unknownStateFilters.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { ListTransactionsResponse } from '../protocol/native/transaction-messages.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { toWireError } from '../shared/errors.js';
import { allowed } from './authorize.js';
import { type Handler, transactionsOf } from './context.js';

export const listTransactionsHandler: Handler<typeof ApiKey.ListTransactions> = {
  apiKey: ApiKey.ListTransactions,
  async handle(request, ctx, client): Promise<ListTransactionsResponse> {
    try {
      const { unknownStates, found } = transactionsOf(ctx).list(
        request.stateFilters ?? [],
        request.producerIdFilters ?? [],
      );
      return {
        errorCode: 0,
        unknownStateFilters: unknownStates,
        transactionStates: found
          .filter((t) =>
            allowed(ctx, client, AclOperation.Describe, ResourceType.TransactionalId, t.transactionalId, false),
          )
          .map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state })),
      };
    } catch (err) {
      return { ...toWireError(err), unknownStateFilters: [], transactionStates: [] };
    }
  },
};
