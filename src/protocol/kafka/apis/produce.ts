/**
 * Produce (key 0), v0-v9. v3+ carries RecordBatch v2 only; v9 is flexible
 * (KIP-482), with the same fields as v8. v0-v2 carry message format v0/v1
 * (message sets, see src/wire/message-set.ts): each partition's messages
 * become one RecordBatch v2 before they reach the native handler (Kafka's
 * conversion on append), compressed with the producer's codec when Sluice
 * can write it (gzip; others are stored uncompressed). A message set that
 * does not convert (bad CRC, truncated, an unknown codec) is refused for its
 * partition alone, with the conversion's error. zstd (codec 4) needs v7 (KIP-110): a partition of
 * an older version carrying a zstd batch is refused with UNSUPPORTED_COMPRESSION_TYPE, as Kafka's
 * ProduceRequest.validateRecords does (and a v0/v1 zstd wrapper is INVALID_RECORD: message formats
 * v0/v1 have no zstd). The batches go to the native handler unchanged, so acks,
 * idempotence and replication behave exactly as for Sluice's own clients.
 * A transactional producer's batches (transactional_id, v3+; KIP-98) go through as they are; the
 * id is checked against the ACLs (Write on the TransactionalId) by the native handler's guard.
 */

import { ErrorCode, SluiceError } from '../../../shared/errors.js';
import { magicOf, messageSetToBatch } from '../../../wire/message-set.js';
import { Compression, checkFraming, compressionOf } from '../../../wire/record-batch.js';
import {
  array,
  field,
  type Infer,
  int16,
  int32,
  int64,
  nullableBytes,
  nullableString,
  string,
  struct,
  topicsOf,
} from '../../binary/schema.js';
import { toWireError, WireError } from '../../error-codes.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  transactionalId: field(nullableString, null, 3),
  acks: field(int16, 1),
  timeoutMs: field(int32, 30_000),
  topics: field(topicsOf(struct({ index: field(int32, 0), records: field(nullableBytes, null) })), []),
});

const partitionResponse = struct({
  index: field(int32, 0),
  errorCode: field(int16, 0),
  baseOffset: field(int64, -1),
  logAppendTimeMs: field(int64, -1, 2),
  logStartOffset: field(int64, -1, 5),
  recordErrors: field(
    array(struct({ batchIndex: field(int32, 0), batchIndexErrorMessage: field(nullableString, null) })),
    [],
    8,
  ),
  errorMessage: field(nullableString, null, 8),
});

const response = struct({
  responses: field(
    array(struct({ name: field(string, ''), partitionResponses: field(array(partitionResponse), []) })),
    [],
  ),
  throttleTimeMs: field(int32, 0, 1),
});

type Request = Infer<typeof request>;
type PartitionData = Request['topics'][number]['partitions'][number];

/** The first version whose records are RecordBatch v2 (older ones carry message sets). */
const batchV2From = 3;

/** The first version whose batches may be zstd (KIP-110). */
const zstdFrom = 7;

/**
 * Partitions the adapter refuses itself (message sets that did not convert, zstd before v7), by the
 * partition entry of the decoded request they came in (toNative leaves them out; fromNative answers them).
 */
const unconverted = new WeakMap<PartitionData, { errorCode: number; errorMessage: string }>();

/** True when a batch of `records` is zstd; looks at batch headers only (bad framing is the handler's to refuse). */
function carriesZstd(records: Buffer): boolean {
  for (let pos = 0; pos < records.length; ) {
    let size: number;
    try {
      size = checkFraming(records, pos, records.length);
    } catch {
      return false;
    }
    if (compressionOf(records, pos) === Compression.zstd) return true;
    pos += size;
  }
  return false;
}

/** A v0-v2 partition's records as RecordBatch v2, or undefined (remembered in `unconverted`) when they do not convert. */
function converted(p: PartitionData): Buffer | null | undefined {
  if (p.records === null || p.records.length === 0) return p.records;
  try {
    const magic = magicOf(p.records);
    if (magic !== 0 && magic !== 1) {
      throw new SluiceError(ErrorCode.InvalidRecord, `Produce v0-v2 carry message format v0/v1, not magic ${magic}`);
    }
    return messageSetToBatch(p.records).batch;
  } catch (err) {
    unconverted.set(p, toWireError(err));
    return undefined;
  }
}

function partitionsToNative(req: Request, version: number) {
  return req.topics.flatMap((t) => {
    const partitions = t.partitions.flatMap((p) => {
      if (version >= batchV2From && version < zstdFrom && p.records !== null && carriesZstd(p.records)) {
        unconverted.set(p, {
          errorCode: WireError.UNSUPPORTED_COMPRESSION_TYPE,
          errorMessage: `Produce v${version} cannot carry zstd batches (v${zstdFrom} and later can)`,
        });
        return [];
      }
      const records = version >= batchV2From ? p.records : converted(p);
      return records === undefined ? [] : [{ partition: p.index, records }];
    });
    // a topic none of whose partitions converted is answered by fromNative alone
    return partitions.length === 0 && t.partitions.length > 0 ? [] : [{ name: t.name, partitions }];
  });
}

/** Every requested partition answered with one error (a request refused as a whole). */
function refuseAll(req: Request, errorCode: number, errorMessage: string | null) {
  return {
    responses: req.topics.map((t) => ({
      name: t.name,
      partitionResponses: t.partitions.map((p) => ({ index: p.index, errorCode, errorMessage })),
    })),
    throttleTimeMs: 0,
  };
}

export const produceApi = kafkaApi({
  apiKey: 0,
  name: 'Produce',
  // v0 and v1 too: librdkafka 2.0 compresses with gzip, snappy or lz4 only for a broker whose
  // Produce range includes v0 (rdkafka_msgset_writer.c), and otherwise silently sends uncompressed
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 9,
  request,
  response,
  // acks 0: the client reads no response, not even an error (one would break its correlation ids)
  answered: (req) => req.acks !== 0,
  toNative: (req, version) => ({
    acks: req.acks,
    timeoutMs: req.timeoutMs,
    ...(req.transactionalId === null ? {} : { transactionalId: req.transactionalId }),
    topics: partitionsToNative(req, version),
  }),
  fromNative: (result, req) => {
    if (!result.topics) {
      const { errorCode, errorMessage } = errorOf(result);
      return refuseAll(req, errorCode, errorMessage);
    }
    const responses = result.topics.map((t) => ({
      name: t.name,
      partitionResponses: t.partitions.map((p) => ({
        index: p.partition,
        errorCode: p.errorCode,
        baseOffset: p.baseOffset,
        logAppendTimeMs: p.logAppendTimeMs,
        logStartOffset: p.logStartOffset,
        recordErrors: [],
        errorMessage: p.errorMessage ?? null,
      })),
    }));
    // the partitions refused above: message sets that did not convert (v0-v2), zstd before v7
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const refusal = unconverted.get(p);
        if (!refusal) continue;
        let topic = responses.find((r) => r.name === t.name);
        if (!topic) {
          topic = { name: t.name, partitionResponses: [] };
          responses.push(topic);
        }
        topic.partitionResponses.push({
          index: p.index,
          errorCode: refusal.errorCode,
          baseOffset: -1,
          logAppendTimeMs: -1,
          logStartOffset: -1,
          recordErrors: [],
          errorMessage: refusal.errorMessage,
        });
      }
    }
    return { responses, throttleTimeMs: result.throttleTimeMs ?? 0 };
  },
});
