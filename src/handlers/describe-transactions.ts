/**
 * DescribeTransactions (Kafka 3, KIP-664): the state of each transactional
 * id, answered id by id by its coordinator: NOT_COORDINATOR for an id this
 * broker does not coordinate, TRANSACTIONAL_ID_NOT_FOUND for an unknown one,
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED without Describe on it.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { DescribeTransactionsResponse, TransactionDescription } from '../protocol/native/transaction-messages.js';
import { AclOperation } from '../security/acl.js';
import { toWireError } from '../shared/errors.js';
import { type Handler, transactionsOf } from './context.js';
import { checkTransactionalId } from './txn-authorization.js';

function refused(transactionalId: string, err: unknown): TransactionDescription {
  return {
    ...toWireError(err),
    transactionalId,
    transactionState: '',
    transactionTimeoutMs: 0,
    transactionStartTimeMs: -1,
    producerId: -1,
    producerEpoch: -1,
    topics: [],
  };
}

export const describeTransactionsHandler: Handler<typeof ApiKey.DescribeTransactions> = {
  apiKey: ApiKey.DescribeTransactions,
  async handle(request, ctx, client): Promise<DescribeTransactionsResponse> {
    const transactionStates: TransactionDescription[] = [];
    for (const id of request.transactionalIds) {
      try {
        checkTransactionalId(ctx, client, AclOperation.Describe, id);
        const txn = await transactionsOf(ctx).describe(id);
        const topics = new Map<string, number[]>();
        for (const p of txn.partitions) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p.partition]);
        transactionStates.push({
          errorCode: 0,
          transactionalId: id,
          transactionState: txn.state,
          transactionTimeoutMs: txn.timeoutMs,
          transactionStartTimeMs: txn.startTimeMs,
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
        });
      } catch (err) {
        transactionStates.push(refused(id, err));
      }
    }
    return { errorCode: 0, transactionStates };
  },
};
