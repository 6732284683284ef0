/**
 * Typed access to kafkajs 2.2.4's internal RecordBatch v2 codec, used as an
 * independent reference implementation of Kafka's wire format in the wire
 * tests. kafkajs is CommonJS and ships no types for these internals, hence
 * createRequire and the narrow interfaces below.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  readonly buffer: Buffer;
  writeVarInt(value: number): KafkajsEncoder;
  writeVarLong(value: number): KafkajsEncoder;
}
interface KafkajsDecoderInstance {
  offset: number;
  readVarInt(): number;
  readVarLong(): { toString(): string };
}
type EncoderCtor = new () => KafkajsEncoder;
type DecoderCtor = new (buffer: Buffer) => KafkajsDecoderInstance;

const Encoder = require('kafkajs/src/protocol/encoder') as EncoderCtor;
const Decoder = require('kafkajs/src/protocol/decoder') as DecoderCtor;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (spec: Record<string, unknown>) => Promise<KafkajsEncoder>;
};
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  spec: Record<string, unknown>,
) => KafkajsEncoder;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: KafkajsDecoderInstance,
) => Promise<KafkajsDecodedBatch>;
const crc32CModule = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;

/** kafkajs's compression type numbers (the attribute bits 0-2). */
export const KafkajsCompression = { None: 0, GZIP: 1 } as const;

export interface KafkajsRecordSpec {
  key: Buffer | null;
  value: Buffer | null;
  /** A key mapped to several values is written as several headers, in order. */
  headers?: Record<string, Buffer | Buffer[]>;
  timestampDelta: number;
  offsetDelta: number;
}

export interface KafkajsBatchSpec {
  records: KafkajsRecordSpec[];
  firstOffset?: number;
  firstTimestamp: number;
  maxTimestamp: number;
  compression?: number;
  /** kafkajs defaults this to 0; Kafka's Java producer writes -1. */
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  firstSequence?: number;
  transactional?: boolean;
}

export interface KafkajsDecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  attributes: number;
  magicByte: number;
}

export interface KafkajsDecodedBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  timestampType: number;
  records: KafkajsDecodedRecord[];
}

/** Encodes one RecordBatch v2 with kafkajs's producer-side encoder. */
export async function kafkajsEncodeBatch(spec: KafkajsBatchSpec): Promise<Buffer> {
  const records = spec.records.map((r) =>
    encodeRecord({
      offsetDelta: r.offsetDelta,
      timestampDelta: r.timestampDelta,
      key: r.key,
      value: r.value,
      headers: r.headers ?? {},
    }),
  );
  const encoder = await RecordBatch({
    compression: spec.compression ?? KafkajsCompression.None,
    firstOffset: spec.firstOffset ?? 0,
    firstTimestamp: spec.firstTimestamp,
    maxTimestamp: spec.maxTimestamp,
    partitionLeaderEpoch: spec.partitionLeaderEpoch ?? -1,
    lastOffsetDelta: spec.records.length - 1,
    transactional: spec.transactional ?? false,
    producerId: spec.producerId ?? -1,
    producerEpoch: spec.producerEpoch ?? -1,
    firstSequence: spec.firstSequence ?? -1,
    records,
  });
  // copy: the encoder's buffer is a view on a larger, reused allocation
  return Buffer.from(encoder.buffer);
}

/** Decodes one RecordBatch v2 with kafkajs's consumer-side decoder (which does not check the CRC). */
export function kafkajsDecodeBatch(batch: Buffer): Promise<KafkajsDecodedBatch> {
  return decodeRecordBatch(new Decoder(batch));
}

/** kafkajs's pure-JavaScript CRC-32C, independent of the native one Sluice uses. */
export function kafkajsCrc32c(bytes: Buffer): number {
  return crc32CModule(bytes);
}

/** True when the CRC stored at byte 17 is kafkajs's CRC-32C of bytes 21..end (what Kafka checks). */
export function kafkajsCrcAccepts(batch: Buffer): boolean {
  return kafkajsCrc32c(batch.subarray(21)) === batch.readUInt32BE(17);
}

export function kafkajsVarintBytes(value: number): Buffer {
  return Buffer.from(new Encoder().writeVarInt(value).buffer);
}

export function kafkajsVarlongBytes(value: number): Buffer {
  return Buffer.from(new Encoder().writeVarLong(value).buffer);
}

/** The value and byte count of the zig-zag varint at the start of `bytes`, read by kafkajs. */
export function kafkajsReadVarint(bytes: Buffer): { value: number; size: number } {
  const d = new Decoder(bytes);
  const value = d.readVarInt();
  return { value, size: d.offset };
}

/** The value (as a decimal string, from kafkajs's 64-bit Long) of the varlong at the start of `bytes`. */
export function kafkajsReadVarlong(bytes: Buffer): { value: string; size: number } {
  const d = new Decoder(bytes);
  const value = d.readVarLong().toString();
  return { value, size: d.offset };
}

/** kafkajs's headers object flattened into Sluice's ordered header list. */
export function flattenKafkajsHeaders(
  headers: KafkajsDecodedRecord['headers'],
): { key: string; value: Buffer | null }[] {
  const out: { key: string; value: Buffer | null }[] = [];
  for (const [key, v] of Object.entries(headers)) {
    if (Array.isArray(v)) for (const value of v) out.push({ key, value });
    else out.push({ key, value: v });
  }
  return out;
}
