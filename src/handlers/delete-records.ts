/**
 * DeleteRecords (Kafka's API 21), answered by each partition's leader: the
 * log start moves to the requested offset (-1: the high watermark), and the
 * answer is the new low watermark (the leader's log start). Internal topics
 * are refused with INVALID_TOPIC_EXCEPTION (Kafka refuses them too); a
 * partition named twice with INVALID_REQUEST.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { DeleteRecordsPartition, DeleteRecordsResponse } from '../protocol/native/partition-messages.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import { AclOperation, checkTopic } from './authorize.js';
import { bad, type Handler } from './context.js';
import { namedTwice } from './duplicate-names.js';
import { orWireError, perPartition } from './per-partition.js';

export const deleteRecordsHandler: Handler<typeof ApiKey.DeleteRecords> = {
  apiKey: ApiKey.DeleteRecords,
  async handle(request, ctx, client): Promise<DeleteRecordsResponse> {
    const twice = namedTwice(
      request.topics.flatMap((t) => t.partitions.map((p) => topicPartitionKey(t.name, p.partition))),
    );
    const topics = await perPartition(
      request,
      (name, { partition, offset }): Promise<DeleteRecordsPartition> =>
        orWireError(
          async () => {
            if (twice.has(topicPartitionKey(name, partition))) {
              throw bad(`the request names ${name}-${partition} more than once`);
            }
            checkTopic(ctx, client, AclOperation.Delete, name);
            refuseInternalTopic(name, 'delete records of');
            const lowWatermark = await ctx.replicas.deleteRecords(name, partition, offset);
            return { partition, errorCode: 0, lowWatermark };
          },
          (error) => ({ partition, ...error, lowWatermark: -1 }),
        ),
    );
    return { errorCode: 0, topics };
  },
};
