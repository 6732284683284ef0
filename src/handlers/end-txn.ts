/**
 * EndTxn: commit or abort the producer's open transaction. Answered once the
 * PrepareCommit / PrepareAbort record is in `__transaction_state` (the
 * outcome is then fixed); the markers are written after the answer and the
 * transaction completes when every partition has one. Write on the
 * TransactionalId.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { EndTxnResponse } from '../protocol/native/transaction-messages.js';
import { AclOperation } from '../security/acl.js';
import { toWireError } from '../shared/errors.js';
import { type Handler, transactionsOf } from './context.js';
import { checkTransactionalId } from './txn-authorization.js';

export const endTxnHandler: Handler<typeof ApiKey.EndTxn> = {
  apiKey: ApiKey.EndTxn,
  async handle(request, ctx, client): Promise<EndTxnResponse> {
    try {
      checkTransactionalId(ctx, client, AclOperation.Write, request.transactionalId);
      await transactionsOf(ctx).endTxn(
        request.transactionalId,
        request.producerId,
        request.producerEpoch,
        request.committed,
      );
      return { errorCode: 0 };
    } catch (err) {
      return toWireError(err);
    }
  },
};
