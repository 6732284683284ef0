/**
 * DeleteRecords (key 21), v0-v2 (v2 flexible): each partition's log start
 * moves to the given offset (-1: the high watermark) on its leader, through
 * the native handler; the answer is the new low watermark.
 */

import { array, field, type Infer, int16, int32, int64, string, struct } from '../../binary/schema.js';
import { WireError } from '../../error-codes.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  topics: field(
    array(
      struct({
        name: field(string, ''),
        partitions: field(array(struct({ partitionIndex: field(int32, 0), offset: field(int64, 0) })), []),
      }),
    ),
    [],
  ),
  timeoutMs: field(int32, 60_000),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  topics: field(
    array(
      struct({
        name: field(string, ''),
        partitions: field(
          array(
            struct({
              partitionIndex: field(int32, 0),
              lowWatermark: field(int64, -1),
              errorCode: field(int16, 0),
            }),
          ),
          [],
        ),
      }),
    ),
    [],
  ),
});

type Request = Infer<typeof request>;

export const deleteRecordsApi = kafkaApi({
  apiKey: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request,
  response,
  toNative: (req: Request) => ({
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, offset: p.offset })),
    })),
    timeoutMs: req.timeoutMs,
  }),
  fromNative: (result, req: Request) => {
    const failed = errorOf(result).errorCode || WireError.UNKNOWN_SERVER_ERROR;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t, i) => {
        const answered = result.topics?.[i];
        return {
          name: t.name,
          partitions: t.partitions.map((p, j) => {
            const answer = answered?.name === t.name ? answered.partitions[j] : undefined;
            return answer
              ? { partitionIndex: p.partitionIndex, lowWatermark: answer.lowWatermark, errorCode: answer.errorCode }
              : { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: failed };
          }),
        };
      }),
    };
  },
});
