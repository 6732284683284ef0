/**
 * ListOffsets (key 2), v0-v7: earliest (-2), latest (-1: the high watermark),
 * the first offset at or after a time, or (v7, KIP-734, though Kafka's brokers
 * take it at any version) -3: the record with the largest timestamp, answered
 * by the native handler. v6+ is flexible (KIP-482), with v5's fields.
 * isolation_level (v2+) 1, read_committed, answers the last stable offset where
 * read_uncommitted answers the high watermark (KIP-98). v0 (what
 * librdkafka sends to a broker it takes for 0.9) answers a list of offsets:
 * the one offset found (Kafka's old lookup could list segment starts too,
 * which no client asks for: they ask for one), none when there is none.
 *
 * A time after every record: the native handler answers with the log end
 * and timestamp -1 (what Sluice's own clients seek to); Kafka answers with
 * offset -1 and timestamp -1 (no error), and clients rely on it: the Java
 * consumer's offsetsForTimes maps offset -1 to null, while any other offset
 * with timestamp -1 makes it throw (OffsetAndTimestamp refuses a negative
 * timestamp). So a time query the handler found nothing for becomes -1 here,
 * and so does a max-timestamp query on a partition with no readable record.
 */

import { topicPartitionKey } from '../../../shared/topic-partition.js';
import { array, field, type Infer, int8, int16, int32, int64, struct, topicsOf } from '../../binary/schema.js';
import { maxTimestamp } from '../../native/messages.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  replicaId: field(int32, -1),
  isolationLevel: field(int8, 0, 2),
  topics: field(
    topicsOf(
      struct({
        partitionIndex: field(int32, 0),
        currentLeaderEpoch: field(int32, -1, 4),
        timestamp: field(int64, -1),
        maxNumOffsets: field(int32, 1, 0, 0),
      }),
    ),
    [],
  ),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 2),
  topics: field(
    topicsOf(
      struct({
        partitionIndex: field(int32, 0),
        errorCode: field(int16, 0),
        oldStyleOffsets: field(array(int64), [], 0, 0),
        timestamp: field(int64, -1, 1),
        offset: field(int64, -1, 1),
        leaderEpoch: field(int32, -1, 4),
      }),
    ),
    [],
  ),
});

type Response = Infer<typeof response>;

/** v0's answer: the offset found as a one-element list (at most maxNumOffsets of them), none on an error or a miss. */
function oldStyle(res: Response, maxNumOffsets: (topic: string, partition: number) => number): Response {
  for (const t of res.topics) {
    for (const p of t.partitions) {
      const found = p.errorCode === 0 && p.offset >= 0 && maxNumOffsets(t.name, p.partitionIndex) > 0;
      p.oldStyleOffsets = found ? [p.offset] : [];
    }
  }
  return res;
}

export const listOffsetsApi = kafkaApi({
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 7,
  flexibleFrom: 6,
  request,
  response,
  toNative: (req) => ({
    ...(req.isolationLevel === 1 ? { isolationLevel: 1 as const } : {}),
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, timestamp: p.timestamp })),
    })),
  }),
  fromNative: (result, req, version) => {
    const { errorCode } = errorOf(result);
    const asked = new Map<string, number>();
    const maxNum = new Map<string, number>();
    for (const t of req.topics) {
      for (const p of t.partitions) {
        asked.set(topicPartitionKey(t.name, p.partitionIndex), p.timestamp);
        maxNum.set(topicPartitionKey(t.name, p.partitionIndex), p.maxNumOffsets);
      }
    }
    /** A time or max-timestamp lookup (not the -1/-2 sentinels) that matched no record: the handler says timestamp -1. */
    const noneAtOrAfter = (topic: string, partition: number, answer: { errorCode: number; timestamp: number }) => {
      const timestamp = asked.get(topicPartitionKey(topic, partition)) ?? -1;
      return answer.errorCode === 0 && answer.timestamp < 0 && (timestamp >= 0 || timestamp === maxTimestamp);
    };
    const response: Response = {
      throttleTimeMs: 0,
      topics: result.topics
        ? result.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partition,
              errorCode: p.errorCode,
              oldStyleOffsets: [],
              timestamp: p.timestamp,
              offset: noneAtOrAfter(t.name, p.partition, p) ? -1 : p.offset,
              leaderEpoch: -1,
            })),
          }))
        : req.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              errorCode,
              oldStyleOffsets: [],
              timestamp: -1,
              offset: -1,
              leaderEpoch: -1,
            })),
          })),
    };
    return version === 0 ? oldStyle(response, (t, p) => maxNum.get(topicPartitionKey(t, p)) ?? 1) : response;
  },
});
