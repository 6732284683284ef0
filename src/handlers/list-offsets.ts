/**
 * ListOffsets, answered by the leader: earliest (-2), latest (-1: the high
 * watermark, the end of what consumers may read), or the first offset at or
 * after a timestamp.
 */
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import {
  earliestTimestamp,
  type ListOffsetsPartitionResponse,
  type ListOffsetsResponse,
  latestTimestamp,
} from '../protocol/native/messages.js';
import { arrayField, type Handler, intField, stringField } from './context.js';

export const listOffsetsHandler: Handler = {
  apiKey: ApiKey.ListOffsets,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<ListOffsetsResponse> {
    const topics: ListOffsetsResponse['topics'] = [];
    for (const t of arrayField(body, 'topics')) {
      const name = stringField(t, 'name');
      const partitions: ListOffsetsPartitionResponse[] = [];
      for (const p of arrayField(t, 'partitions')) {
        const partition = intField(p, 'partition');
        const timestamp = intField(p, 'timestamp');
        try {
          const replica = ctx.replicas.leaderReplica(name, partition);
          const log = replica.log;
          const end = replica.highWatermark;
          if (timestamp === earliestTimestamp) {
            partitions.push({ partition, errorCode: 0, timestamp: -1, offset: log.logStartOffset });
          } else if (timestamp === latestTimestamp) {
            partitions.push({ partition, errorCode: 0, timestamp: -1, offset: end });
          } else {
            const found = await log.offsetForTimestamp(timestamp);
            partitions.push(
              found && found.offset < end
                ? { partition, errorCode: 0, timestamp: found.timestamp, offset: found.offset }
                : { partition, errorCode: 0, timestamp: -1, offset: end },
            );
          }
        } catch (err) {
          partitions.push({ partition, ...toWireError(err), timestamp: -1, offset: -1 });
        }
      }
      topics.push({ name, partitions });
    }
    return { errorCode: 0, topics };
  },
};
