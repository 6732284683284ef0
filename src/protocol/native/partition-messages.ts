/**
 * The native CreatePartitions (Kafka's API 37) and DeleteRecords (API 21):
 * request shapes (checked by both listeners before a handler runs, as every
 * shape in request-shapes.ts) and response types.
 */
import { requestListItemsMax, requestStringLengthMax, topicPartitionsMax } from '../../shared/limits.js';
import type { ErrorFields, TopicResult } from './messages.js';
import { boolean, type Infer, int32, int64, list, object, optional, text } from './shape.js';

const name = text(requestStringLengthMax);

export const createPartitionsRequest = object({
  topics: list(
    object({
      name,
      /** The topic's new partition count (above the current one: a topic never shrinks). */
      count: int32,
    }),
    requestListItemsMax,
  ),
  timeoutMs: optional(int32),
  /** True: check only, change nothing. */
  validateOnly: optional(boolean),
});

export type CreatePartitionsRequest = Infer<typeof createPartitionsRequest>;
export interface CreatePartitionsResponse extends ErrorFields {
  topics: TopicResult[];
}

export const deleteRecordsRequest = object({
  topics: list(
    object({
      name,
      partitions: list(
        object({
          partition: int32,
          /** The new log start offset; -1: the high watermark (everything readable goes). */
          offset: int64,
        }),
        topicPartitionsMax,
      ),
    }),
    requestListItemsMax,
  ),
  timeoutMs: optional(int32),
});

export type DeleteRecordsRequest = Infer<typeof deleteRecordsRequest>;
export interface DeleteRecordsPartition extends ErrorFields {
  partition: number;
  /** The partition's log start offset after the deletion (-1 on an error). */
  lowWatermark: number;
}
export interface DeleteRecordsResponse extends ErrorFields {
  topics: { name: string; partitions: DeleteRecordsPartition[] }[];
}
