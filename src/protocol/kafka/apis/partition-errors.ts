/**
 * The answer of the Kafka APIs that say nothing per partition but an error code (OffsetCommit,
 * TxnOffsetCommit): topics → partitions → error code. The native handler answers each partition,
 * or refuses the request as a whole (a malformed request, a group or transactional id not
 * authorized), which Kafka's response can only say by giving that error to every partition asked.
 */

import { array, field, int16, int32, string, struct } from '../../binary/schema.js';
import type { NativeAnswer } from '../../native/apis.js';
import { errorOf } from '../api.js';

/** Kafka's `topics` array of such a response (the same fields in every version we speak). */
export const topicPartitionErrors = array(
  struct({
    name: field(string, ''),
    partitions: field(array(struct({ partitionIndex: field(int32, 0), errorCode: field(int16, 0) })), []),
  }),
);

export interface TopicPartitionErrors {
  name: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}

/** The native handler's answer: its topics, or none when it refused the request as a whole. */
type PartitionErrorAnswer = NativeAnswer & {
  topics?: readonly { name: string; partitions: readonly { partition: number; errorCode: number }[] }[];
};

/** The topics a request asked for, as Kafka names their partitions. */
type RequestedTopics = readonly { name: string; partitions: readonly { partitionIndex: number }[] }[];

/**
 * Kafka's topics of the response: the handler's answer per partition, in its order; for a request
 * refused as a whole, its error on every partition of `requested`, in the request's order.
 */
export function partitionErrorsOf(result: PartitionErrorAnswer, requested: RequestedTopics): TopicPartitionErrors[] {
  if (!result.topics) {
    const { errorCode } = errorOf(result);
    return requested.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
    }));
  }
  return result.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, errorCode: p.errorCode })),
  }));
}
