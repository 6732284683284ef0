/**
 * ListOffsets (key 2), v1-v5: earliest (-2), latest (-1: the high watermark)
 * or the first offset at or after a time, answered by the native handler.
 * The isolation level makes no difference (no transactions).
 *
 * A time after every record: the native handler answers with the log end
 * and timestamp -1 (what Sluice's own clients seek to); Kafka answers with
 * offset -1 and timestamp -1 (no error), and clients rely on it: the Java
 * consumer's offsetsForTimes maps offset -1 to null, while any other offset
 * with timestamp -1 makes it throw (OffsetAndTimestamp refuses a negative
 * timestamp). So a time query the handler found nothing for becomes -1 here.
 */

import { field, int8, int16, int32, int64, struct, topicsOf } from '../../binary/schema.js';
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
  maxVersion: 5,
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
    /** A time lookup (not the -1/-2 sentinels) that matched no record: the handler says timestamp -1. */
    const noneAtOrAfter = (topic: string, partition: number, answer: { errorCode: number; timestamp: number }) =>
      answer.errorCode === 0 && answer.timestamp < 0 && (asked.get(`${topic}\u0000${partition}`) ?? -1) >= 0;
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
