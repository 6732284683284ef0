/**
 * AddOffsetsToTxn: the transaction will commit offsets of a consumer group
 * (TxnOffsetCommit, at the group coordinator): the group's
 * `__consumer_offsets` partition joins the transaction, so the commit or
 * abort marker reaches it. Write on the TransactionalId and Read on the group
 * (Kafka's checks).
 */
import { offsetsPartitionFor, offsetsTopic } from '../groups/offset-store.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { AddOffsetsToTxnResponse } from '../protocol/native/transaction-messages.js';
import { AclOperation } from '../security/acl.js';
import { toWireError } from '../shared/errors.js';
import { checkGroup } from './authorize.js';
import { type Handler, transactionsOf } from './context.js';
import { checkTransactionalId } from './txn-authorization.js';

export const addOffsetsToTxnHandler: Handler<typeof ApiKey.AddOffsetsToTxn> = {
  apiKey: ApiKey.AddOffsetsToTxn,
  async handle(request, ctx, client): Promise<AddOffsetsToTxnResponse> {
    try {
      checkTransactionalId(ctx, client, AclOperation.Write, request.transactionalId);
      checkGroup(ctx, client, AclOperation.Read, request.groupId);
      // the offsets topic exists before its partition can take a marker (the group's FindCoordinator may not have run)
      await ctx.groups.offsets.ensureTopic();
      const partition = { topic: offsetsTopic, partition: offsetsPartitionFor(request.groupId) };
      await transactionsOf(ctx).addPartitions(request.transactionalId, request.producerId, request.producerEpoch, [
        partition,
      ]);
      return { errorCode: 0 };
    } catch (err) {
      return toWireError(err);
    }
  },
};
