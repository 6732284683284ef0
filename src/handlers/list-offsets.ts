/** ListOffsets: earliest (-2), latest (-1), or the first offset at or after a timestamp. */
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import {
  earliestTimestamp,
  type ListOffsetsPartitionResponse,
  type ListOffsetsResponse,
  latestTimestamp,
} from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
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
          const log = ctx.logs.get(name, partition);
          if (!log || !ctx.coordinator.partitionState(name, partition)) {
            throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${name}-${partition}`);
          }
          if (timestamp === earliestTimestamp) {
            partitions.push({ partition, errorCode: 0, timestamp: -1, offset: log.logStartOffset });
          } else if (timestamp === latestTimestamp) {
            partitions.push({ partition, errorCode: 0, timestamp: -1, offset: log.logEndOffset });
          } else {
            const found = await log.offsetForTimestamp(timestamp);
            partitions.push(
              found
                ? { partition, errorCode: 0, timestamp: found.timestamp, offset: found.offset }
                : { partition, errorCode: 0, timestamp: -1, offset: log.logEndOffset },
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
