/**
 * ListOffsets (key 2), v1-v7: earliest (-2), latest (-1: the high watermark),
 * the first offset at or after a time, or (v7, KIP-734, though Kafka's brokers
 * take it at any version) -3: the record with the largest timestamp, answered
 * by the native handler. v6+ is flexible (KIP-482), with v5's fields.
 * The isolation level makes no difference (no transactions).
 *
 * A time after every record: the native handler answers with the log end
 * and timestamp -1 (what Sluice's own clients seek to); Kafka answers with
 * offset -1 and timestamp -1 (no error), and clients rely on it: the Java
 * consumer's offsetsForTimes maps offset -1 to null, while any other offset
 * with timestamp -1 makes it throw (OffsetAndTimestamp refuses a negative
 * timestamp). So a time query the handler found nothing for becomes -1 here,
 * and so does a max-timestamp query on a partition with no readable record.
 */

import { field, int8, int16, int32, int64, struct, topicsOf } from '../../binary/schema.js';
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
        timestamp: field(int64, -1),
        offset: field(int64, -1),
        leaderEpoch: field(int32, -1, 4),
      }),
    ),
    [],
  ),
});

export const listOffsetsApi = kafkaApi({
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 7,
  flexibleFrom: 6,
  request,
  response,
  toNative: (req) => ({
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, timestamp: p.timestamp })),
    })),
  }),
  fromNative: (result, req) => {
    const { errorCode } = errorOf(result);
    const asked = new Map<string, number>();
    for (const t of req.topics)
      for (const p of t.partitions) asked.set(`${t.name}\u0000${p.partitionIndex}`, p.timestamp);
    /** A time or max-timestamp lookup (not the -1/-2 sentinels) that matched no record: the handler says timestamp -1. */
    const noneAtOrAfter = (topic: string, partition: number, answer: { errorCode: number; timestamp: number }) => {
      const timestamp = asked.get(`${topic}\u0000${partition}`) ?? -1;
      return answer.errorCode === 0 && answer.timestamp < 0 && (timestamp >= 0 || timestamp === maxTimestamp);
    };
    return {
      throttleTimeMs: 0,
      topics: result.topics
        ? result.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partition,
              errorCode: p.errorCode,
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
              timestamp: -1,
              offset: -1,
              leaderEpoch: -1,
            })),
          })),
    };
  },
});
