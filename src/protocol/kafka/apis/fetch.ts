/**
 * Fetch (key 1), v0-v13: batches straight from the segment files (they are
 * Kafka's RecordBatch v2 on disk), with the native handler's long poll and
 * byte limits. v2-v3 answer message format v1 (magic 1 message sets), v0-v1
 * format v0 (magic 0: no timestamps, what librdkafka asks of a broker it
 * takes for 0.9): the
 * batches are down-converted as Kafka's brokers do (src/wire/message-set.ts:
 * headers dropped, records before the fetch offset left out, a compressed
 * batch one wrapper of its codec), within the partition's and (v3) the
 * request's max bytes, the first batch always whole. isolation_level (v4+) 1, read_committed,
 * reads to the last stable offset and lists the aborted transactions its records overlap
 * (KIP-98); every answer carries the last stable offset. A topic whose compression.type is zstd
 * answers UNSUPPORTED_COMPRESSION_TYPE to v0-v9 (KIP-110, Kafka's rule: by
 * the topic's codec); zstd batches of a `producer` topic go to v4-v9 as they
 * are and end a down-converted (v0-v3) answer, or refuse it when first. Fetch sessions (KIP-227, v7+) are
 * declined with session id 0, which tells clients to send full fetches.
 *
 * v12 is flexible (KIP-482) and adds the consumer's last fetched epoch
 * (KIP-320's truncation detection in the fetch itself); the response's
 * diverging-epoch, current-leader and snapshot tagged fields are not sent
 * (the epoch is read and not checked): a consumer whose position lies past a
 * truncated log end gets OFFSET_OUT_OF_RANGE, as with v11.
 *
 * v13 (KIP-516) names every topic, in the request, its forgotten topics and
 * the response, by its topic id (the ids Metadata v10+ answers) instead of its
 * name. The native handler looks the ids up; one no topic has (the zero UUID
 * among them) answers UNKNOWN_TOPIC_ID on each of its partitions with no
 * top-level error, as Kafka 3.x's sessionless fetch does. Forgotten topics only
 * mean something inside a fetch session, which Sluice declines, so they are
 * read (by name or by id) and ignored.
 */

import { topicPartitionKey } from '../../../shared/topic-partition.js';
import { batchesToMessageSet, type LegacyMagic } from '../../../wire/message-set.js';
import {
  array,
  field,
  type Infer,
  int8,
  int16,
  int32,
  int64,
  nullableArray,
  nullableBytes,
  string,
  struct,
  uuid,
  zeroUuid,
} from '../../binary/schema.js';
import { toWireError } from '../../error-codes.js';
import type { FetchResponse } from '../../native/messages.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  replicaId: field(int32, -1),
  maxWaitMs: field(int32, 0),
  minBytes: field(int32, 1),
  maxBytes: field(int32, 0x7fffffff, 3),
  isolationLevel: field(int8, 0, 4),
  sessionId: field(int32, 0, 7),
  sessionEpoch: field(int32, -1, 7),
  topics: field(
    array(
      struct({
        topic: field(string, '', 0, 12),
        topicId: field(uuid, zeroUuid, 13),
        partitions: field(
          array(
            struct({
              partition: field(int32, 0),
              currentLeaderEpoch: field(int32, -1, 9),
              fetchOffset: field(int64, 0),
              lastFetchedEpoch: field(int32, -1, 12),
              logStartOffset: field(int64, -1, 5),
              partitionMaxBytes: field(int32, 0),
            }),
          ),
          [],
        ),
      }),
    ),
    [],
  ),
  forgottenTopicsData: field(
    array(
      struct({
        topic: field(string, '', 0, 12),
        topicId: field(uuid, zeroUuid, 13),
        partitions: field(array(int32), []),
      }),
    ),
    [],
    7,
  ),
  rackId: field(string, '', 11),
});

const partitionResponse = struct({
  partitionIndex: field(int32, 0),
  errorCode: field(int16, 0),
  highWatermark: field(int64, -1),
  lastStableOffset: field(int64, -1, 4),
  logStartOffset: field(int64, -1, 5),
  abortedTransactions: field(
    nullableArray(struct({ producerId: field(int64, 0), firstOffset: field(int64, 0) })),
    null,
    4,
  ),
  preferredReadReplica: field(int32, -1, 11),
  records: field(nullableBytes, null),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0, 7),
  sessionId: field(int32, 0, 7),
  responses: field(
    array(
      struct({
        topic: field(string, '', 0, 12),
        topicId: field(uuid, zeroUuid, 13),
        partitions: field(array(partitionResponse), []),
      }),
    ),
    [],
  ),
});

type Request = Infer<typeof request>;

/** The first version whose records are RecordBatch v2 (older ones get message format v1). */
const batchV2From = 4;
/** The first version that may read a topic stored in zstd (KIP-110). */
const zstdFrom = 10;

/** The first version that names topics by id (KIP-516). */
const topicIdsFrom = 13;

/** The v0-v3 answer: every partition's batches as a message set of `magic`, within the byte limits. */
function downConverted(topics: FetchResponse['topics'], req: Request, magic: LegacyMagic) {
  const asked = new Map<string, { fetchOffset: number; partitionMaxBytes: number }>();
  for (const t of req.topics) for (const p of t.partitions) asked.set(topicPartitionKey(t.topic, p.partition), p);
  let left = Math.max(req.maxBytes, 1);
  let sent = false;
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: topics.map((t) => ({
      topic: t.name,
      topicId: zeroUuid,
      partitions: t.partitions.map((p) => {
        let errorCode: number = p.errorCode;
        let records: Buffer | null = p.records;
        const wanted = asked.get(topicPartitionKey(t.name, p.partition));
        if (errorCode === 0 && wanted && p.records.length > 0) {
          try {
            // only the first partition with data may overrun the budget, with its first batch (KIP-74)
            const limit = Math.min(Math.max(wanted.partitionMaxBytes, 1), left);
            records = batchesToMessageSet(p.records, wanted.fetchOffset, limit, !sent, magic);
            left = Math.max(left - records.length, 0);
            if (records.length > 0) sent = true;
          } catch (err) {
            errorCode = toWireError(err).errorCode;
            records = null;
          }
        }
        return {
          partitionIndex: p.partition,
          errorCode,
          highWatermark: p.highWatermark,
          lastStableOffset: p.highWatermark,
          logStartOffset: p.logStartOffset,
          abortedTransactions: errorCode === 0 ? [] : null,
          preferredReadReplica: -1,
          records,
        };
      }),
    })),
  };
}

export const fetchApi = kafkaApi({
  apiKey: 1,
  name: 'Fetch',
  minVersion: 0,
  maxVersion: 13,
  flexibleFrom: 12,
  request,
  response,
  toNative: (req: Request, version) => ({
    // a consumer: Kafka's follower fetches (replicaId >= 0) are a broker-to-broker matter Sluice does natively,
    // but one is authorized as Kafka authorizes a follower (ClusterAction), and refused likewise
    replicaId: -1,
    ...(req.replicaId >= 0 ? { kafkaFollower: true } : {}),
    maxWaitMs: req.maxWaitMs,
    minBytes: req.minBytes,
    maxBytes: Math.max(req.maxBytes, 1),
    // zstd needs v10 (KIP-110): an older fetch of a zstd topic is UNSUPPORTED_COMPRESSION_TYPE
    zstdReadable: version >= zstdFrom,
    // read_committed (v4+, KIP-98): to the last stable offset, with the aborted transactions listed
    ...(req.isolationLevel === 1 ? { isolationLevel: 1 as const } : {}),
    topics: req.topics.map((t) => ({
      name: t.topic,
      ...(version >= topicIdsFrom ? { topicId: t.topicId } : {}),
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: Math.max(p.partitionMaxBytes, 1),
      })),
    })),
  }),
  fromNative: (result, req: Request, version) => {
    if (!result.topics) {
      // refused as a whole (v7+ has a top-level error code; every partition carries it too)
      const { errorCode } = errorOf(result);
      return {
        throttleTimeMs: 0,
        errorCode,
        sessionId: 0,
        responses: req.topics.map((t) => ({
          topic: t.topic,
          topicId: t.topicId,
          // the schema's defaults, written out
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partition,
            errorCode,
            highWatermark: -1,
            lastStableOffset: -1,
            logStartOffset: -1,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: null,
          })),
        })),
      };
    }
    if (version < batchV2From) {
      return { ...downConverted(result.topics, req, version < 2 ? 0 : 1), throttleTimeMs: result.throttleTimeMs ?? 0 };
    }
    return {
      throttleTimeMs: result.throttleTimeMs ?? 0,
      errorCode: 0,
      sessionId: 0,
      responses: result.topics.map((t) => ({
        topic: t.name,
        topicId: t.topicId ?? zeroUuid,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition,
          errorCode: p.errorCode,
          highWatermark: p.highWatermark,
          lastStableOffset: p.lastStableOffset ?? p.highWatermark,
          logStartOffset: p.logStartOffset,
          abortedTransactions: p.errorCode === 0 ? (p.abortedTransactions ?? []) : null,
          preferredReadReplica: -1,
          records: p.records,
        })),
      })),
    };
  },
});
