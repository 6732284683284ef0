/**
 * ListOffsets, answered by the leader: earliest (-2), latest (-1: the high
 * watermark, the end of what consumers may read), the first record with the
 * largest timestamp (-3, KIP-734), or the first offset at or after a timestamp.
 * A record at or past the high watermark is not yet readable, so it is not found.
 * With isolationLevel 1 (read_committed, KIP-98) the last stable offset takes the high
 * watermark's place in all of this, as in Kafka.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import {
  earliestTimestamp,
  type ListOffsetsPartitionResponse,
  type ListOffsetsResponse,
  latestTimestamp,
  maxTimestamp,
} from '../protocol/native/messages.js';
import { AclOperation, checkTopic } from './authorize.js';
import type { Handler } from './context.js';
import { orWireError, perPartition } from './per-partition.js';

export const listOffsetsHandler: Handler<typeof ApiKey.ListOffsets> = {
  apiKey: ApiKey.ListOffsets,
  async handle(request, ctx, client): Promise<ListOffsetsResponse> {
    const topics = await perPartition(request, (name, p): Promise<ListOffsetsPartitionResponse> => {
      const { partition, timestamp } = p;
      return orWireError(
        async () => {
          checkTopic(ctx, client, AclOperation.Describe, name);
          const replica = ctx.replicas.leaderReplica(name, partition);
          const log = replica.log;
          const end = request.isolationLevel === 1 ? replica.lastStableOffset : replica.highWatermark;
          if (timestamp === earliestTimestamp)
            return { partition, errorCode: 0, timestamp: -1, offset: log.logStartOffset };
          if (timestamp === latestTimestamp) return { partition, errorCode: 0, timestamp: -1, offset: end };
          const found =
            timestamp === maxTimestamp ? await log.offsetOfMaxTimestamp() : await log.offsetForTimestamp(timestamp);
          return found && found.offset < end
            ? { partition, errorCode: 0, timestamp: found.timestamp, offset: found.offset }
            : { partition, errorCode: 0, timestamp: -1, offset: end };
        },
        (error) => ({ partition, ...error, timestamp: -1, offset: -1 }),
      );
    });
    return { errorCode: 0, topics };
  },
};
