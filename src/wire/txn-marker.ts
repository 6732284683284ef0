/**
 * Transaction markers (KIP-98): the control batch a partition leader appends
 * when a transaction ends on it. Kafka's format, kept byte for byte so that
 * Kafka clients reading with read_committed recognise it:
 *  - batch attributes: control | transactional, uncompressed; the producer's
 *    id and epoch; baseSequence -1;
 *  - one record whose key is int16 version 0 + int16 type (0 abort, 1 commit)
 *    and whose value is int16 version 0 + int32 coordinator epoch.
 */
import { crc32c } from './crc32c.js';
import {
  attributesOf,
  batchSizeOf,
  compressionMask,
  controlFlag,
  Field,
  recordsCountOf,
  transactionalFlag,
} from './record-batch.js';
import { encodeRecordBatch } from './record-batch-encoder.js';
import { readBytes, readEnd, readVarint, readVarlong } from './varint.js';

/** Kafka's ControlRecordType: the key's second int16. */
export const ControlType = { abort: 0, commit: 1 } as const;

export interface TxnMarkerInput {
  producerId: number;
  producerEpoch: number;
  committed: boolean;
  coordinatorEpoch: number;
  /** The record's timestamp; now when absent. */
  timestamp?: number;
}

/** One marker control batch (base offset 0: the leader's append assigns it). */
export function encodeTxnMarker(marker: TxnMarkerInput): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(marker.committed ? ControlType.commit : ControlType.abort, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(marker.coordinatorEpoch, 2);
  const batch = encodeRecordBatch([{ key, value, timestamp: marker.timestamp ?? Date.now() }], {
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    baseSequence: -1,
    transactional: true,
  });
  // the encoder knows no control bit: set it and sign the batch again (the CRC covers the attributes)
  batch.writeInt16BE(attributesOf(batch, 0) | controlFlag, Field.attributes);
  batch.writeUInt32BE(crc32c(batch.subarray(Field.attributes)), Field.crc);
  return batch;
}

export const isControlBatch = (buf: Buffer, pos = 0): boolean => (attributesOf(buf, pos) & controlFlag) !== 0;
export const isTransactionalBatch = (buf: Buffer, pos = 0): boolean =>
  (attributesOf(buf, pos) & transactionalFlag) !== 0;

/** What a marker says: commit or abort, and the epoch of the coordinator that wrote it. */
export interface MarkerInfo {
  committed: boolean;
  coordinatorEpoch: number;
}

/**
 * The marker in the control batch at `pos` of `buf` (whose bytes must hold the whole batch),
 * undefined when it is not one: another control type (Kafka has leader-change records), a
 * compressed or empty control batch, or bytes too short. Markers are tiny and uncompressed.
 */
export function readTxnMarker(buf: Buffer, pos = 0): MarkerInfo | undefined {
  if (!isControlBatch(buf, pos) || (attributesOf(buf, pos) & compressionMask) !== 0) return undefined;
  const end = pos + batchSizeOf(buf, pos);
  if (end > buf.length || recordsCountOf(buf, pos) < 1) return undefined;
  try {
    let at = pos + Field.records;
    readVarint(buf, at, end); // record length
    at = readEnd() + 1; // attributes
    readVarlong(buf, at, end); // timestamp delta
    readVarint(buf, readEnd(), end); // offset delta
    const key = readBytes(buf, readEnd(), end);
    const value = readBytes(buf, readEnd(), end);
    if (!key || key.length < 4 || key.readInt16BE(0) !== 0) return undefined;
    const type = key.readInt16BE(2);
    if (type !== ControlType.abort && type !== ControlType.commit) return undefined;
    const coordinatorEpoch = value && value.length >= 6 ? value.readInt32BE(2) : -1;
    return { committed: type === ControlType.commit, coordinatorEpoch };
  } catch {
    return undefined;
  }
}
