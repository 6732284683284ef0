/**
 * DescribeLogDirs (key 35), v0-v4, flexible from v2: the answering broker's
 * log directories with the size of each partition replica held there, over
 * the native API of the same key. v3 adds the top-level error code (before
 * it, a refused request is an empty result list, as Kafka answers); v4 the
 * directories' total and usable bytes (-1 when unknown).
 */
import { array, bool, field, int16, int32, int64, nullableArray, string, struct } from '../../binary/schema.js';
import { kafkaApi } from '../api.js';

const request = struct({
  topics: field(nullableArray(struct({ topic: field(string, ''), partitions: field(array(int32), []) })), null),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  errorCode: field(int16, 0, 3),
  results: field(
    array(
      struct({
        errorCode: field(int16, 0),
        logDir: field(string, ''),
        topics: field(
          array(
            struct({
              name: field(string, ''),
              partitions: field(
                array(
                  struct({
                    partitionIndex: field(int32, 0),
                    partitionSize: field(int64, 0),
                    offsetLag: field(int64, 0),
                    isFutureKey: field(bool, false),
                  }),
                ),
                [],
              ),
            }),
          ),
          [],
        ),
        totalBytes: field(int64, -1, 4),
        usableBytes: field(int64, -1, 4),
      }),
    ),
    [],
  ),
});

export const describeLogDirsApi = kafkaApi({
  apiKey: 35,
  name: 'DescribeLogDirs',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 2,
  request,
  response,
  toNative: (req) => ({
    topics: req.topics === null ? null : req.topics.map((t) => ({ name: t.topic, partitions: t.partitions })),
  }),
  fromNative: (result) => {
    if (result.results === undefined) return { throttleTimeMs: 0, errorCode: result.errorCode ?? 0, results: [] };
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      results: result.results.map((r) => ({
        errorCode: r.errorCode,
        logDir: r.logDir,
        topics: r.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partition,
            partitionSize: p.sizeBytes,
            offsetLag: p.offsetLag,
            isFutureKey: p.isFuture,
          })),
        })),
        totalBytes: r.totalBytes,
        usableBytes: r.usableBytes,
      })),
    };
  },
});
