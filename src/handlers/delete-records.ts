/**
 * DeleteRecords (Kafka's API 21), answered by each partition's leader: the
 * log start moves to the requested offset (-1: the high watermark), and the
 * answer waits, as Kafka's does, until every replica on a live broker has
 * followed: it is then the partition's low watermark (the smallest of those
 * log starts). When the request's timeoutMs runs out first, the partition
 * answers REQUEST_TIMED_OUT with the low watermark reached so far. One
 * deadline covers the whole request. Internal topics are refused with
 * INVALID_TOPIC_EXCEPTION (Kafka refuses them too); a partition named twice
 * with INVALID_REQUEST.
 */

import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { DeleteRecordsPartition, DeleteRecordsResponse } from '../protocol/native/partition-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
import { clientRequestTimeoutMsDefault } from '../shared/limits.js';
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
    const deadline = Date.now() + Math.max(request.timeoutMs ?? clientRequestTimeoutMsDefault, 0);
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
            const left = Math.max(deadline - Date.now(), 0);
            const { lowWatermark, reached } = await ctx.replicas.deleteRecords(name, partition, offset, left);
            if (reached) return { partition, errorCode: 0, lowWatermark };
            const timedOut = new SluiceError(
              ErrorCode.Timeout,
              `${name}-${partition}: the replicas did not all reach log start ${offset === -1 ? 'the high watermark' : offset} in time (low watermark ${lowWatermark})`,
            );
            return { partition, ...toWireError(timedOut), lowWatermark };
          },
          (error) => ({ partition, ...error, lowWatermark: -1 }),
        ),
    );
    return { errorCode: 0, topics };
  },
};
