/**
 * AddPartitionsToTxn: the partitions a transactional producer is about to
 * write join its open transaction (the state is written to
 * `__transaction_state` before the answer). As Kafka's: Write on the
 * TransactionalId or the whole request is refused; Write on each topic and
 * the partition's existence checked first: when one fails, it gets its error
 * and every other partition OPERATION_NOT_ATTEMPTED. A coordinator refusal
 * (NOT_COORDINATOR, CONCURRENT_TRANSACTIONS, PRODUCER_FENCED, ...) is given
 * on every partition.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { AddPartitionsToTxnResponse, TxnTopicResult } from '../protocol/native/transaction-messages.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { ErrorCode, SluiceError, toWireError, WireError } from '../shared/errors.js';
import { isInternalTopic } from '../shared/internal-topics.js';
import { allowed } from './authorize.js';
import { type Handler, transactionsOf } from './context.js';
import { checkTransactionalId } from './txn-authorization.js';

type Topics = { name: string; partitions: number[] }[];

function everyPartition(
  topics: Topics,
  result: (topic: string) => { errorCode: number; errorMessage?: string },
): TxnTopicResult[] {
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((partition) => ({ partition, ...result(t.name) })),
  }));
}

export const addPartitionsToTxnHandler: Handler<typeof ApiKey.AddPartitionsToTxn> = {
  apiKey: ApiKey.AddPartitionsToTxn,
  async handle(request, ctx, client): Promise<AddPartitionsToTxnResponse> {
    try {
      checkTransactionalId(ctx, client, AclOperation.Write, request.transactionalId);
      const refused = new Map<string, { errorCode: number; errorMessage: string }>();
      for (const t of request.topics) {
        const spec = ctx.coordinator.topic(t.name);
        if (!allowed(ctx, client, AclOperation.Write, ResourceType.Topic, t.name)) {
          refused.set(t.name, {
            errorCode: WireError.TOPIC_AUTHORIZATION_FAILED,
            errorMessage: `${client.principal} is not authorized to Write topic ${t.name}`,
          });
        } else if (!spec || t.partitions.some((p) => p < 0 || p >= spec.partitions) || isInternalTopic(t.name)) {
          refused.set(t.name, {
            errorCode: WireError.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `topic ${t.name} or one of its partitions does not exist (or is internal)`,
          });
        }
      }
      if (refused.size > 0) {
        const notAttempted = toWireError(
          new SluiceError(ErrorCode.OperationNotAttempted, 'another partition of the request was refused'),
        );
        return { errorCode: 0, results: everyPartition(request.topics, (name) => refused.get(name) ?? notAttempted) };
      }
      const partitions = request.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
      await transactionsOf(ctx).addPartitions(
        request.transactionalId,
        request.producerId,
        request.producerEpoch,
        partitions,
      );
      return { errorCode: 0, results: everyPartition(request.topics, () => ({ errorCode: 0 })) };
    } catch (err) {
      const wire = toWireError(err);
      return { ...wire, results: everyPartition(request.topics, () => wire) };
    }
  },
};
