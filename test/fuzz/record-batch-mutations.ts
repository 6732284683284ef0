/**
 * Bad RecordBatch v2 bytes for Produce requests: a valid batch with one lie
 * in it. Most lies get their CRC recomputed, so they reach the checks behind
 * the CRC (count, lengths, compression, the records' varints); `crc` alone
 * leaves the checksum wrong. `lz4-frame` puts the records in an LZ4 frame
 * with one lie in it (lz4-mutations.ts), codec bits 3, the CRC made right.
 */
import { inflateRecords } from '../../src/wire/compression.js';
import { crc32c } from '../../src/wire/crc32c.js';
import { Field } from '../../src/wire/record-batch.js';
import { mutateLz4Frame, validLz4Frame } from './lz4-mutations.js';
import type { Random } from './random.js';

export const batchMutationKinds = [
  'crc',
  'batch-length',
  'compression-attribute',
  'record-count',
  'last-offset-delta',
  'magic',
  'truncated',
  'trailing-bytes',
  'record-bytes',
  'producer-stamp',
  'concatenated',
  'lz4-frame',
] as const;
export type BatchMutationKind = (typeof batchMutationKinds)[number];

function fixCrc(batch: Buffer): void {
  if (batch.length >= Field.records) batch.writeUInt32BE(crc32c(batch.subarray(Field.attributes)), Field.crc);
}

const int32Lies = [-1, 0, 1, 2, 0x7fffffff, -0x80000000, 1 << 24, (1 << 24) + 1] as const;

/** `batch` (left unchanged) with one lie of a random kind; returns the bytes and the kind. */
export function mutateBatch(batch: Buffer, random: Random, extra: Buffer): { bytes: Buffer; kind: BatchMutationKind } {
  const kind = random.pick(batchMutationKinds);
  let out = Buffer.from(batch);
  switch (kind) {
    case 'crc':
      out.writeUInt32BE((out.readUInt32BE(Field.crc) ^ (1 << random.int(32))) >>> 0, Field.crc);
      return { bytes: out, kind };
    case 'batch-length':
      out.writeInt32BE(
        random.pick([...int32Lies, out.readInt32BE(Field.batchLength) + random.between(-8, 8)]),
        Field.batchLength,
      );
      break;
    case 'compression-attribute':
      // 5-7 are no codec; 1-4 claim a codec the bytes are not in
      out.writeInt16BE((out.readInt16BE(Field.attributes) & ~0x07) | random.between(1, 7), Field.attributes);
      break;
    case 'record-count':
      out.writeInt32BE(random.pick(int32Lies), Field.recordsCount);
      break;
    case 'last-offset-delta':
      out.writeInt32BE(random.pick(int32Lies), Field.lastOffsetDelta);
      break;
    case 'magic':
      out[Field.magic] = random.pick([0, 1, 3, 255]);
      break;
    case 'truncated':
      return { bytes: out.subarray(0, random.int(out.length)), kind };
    case 'trailing-bytes':
      return { bytes: Buffer.concat([out, random.bytes(random.between(1, 70))]), kind };
    case 'record-bytes':
      // a varint length or delta inside the records, then a valid CRC over the lie
      if (out.length > Field.records)
        out[random.between(Field.records, out.length - 1)] = random.pick([0x7f, 0x80, 0xff, 0x01, 0x00]);
      break;
    case 'producer-stamp':
      out.writeInt32BE(random.int(1 << 20), Field.producerId + 4);
      out.writeInt16BE(random.pick([0, 1, -1, 0x7fff]), Field.producerEpoch);
      out.writeInt32BE(random.pick([0, 1, 100, 0x7fffffff, -1]), Field.baseSequence);
      break;
    case 'concatenated':
      out = Buffer.concat([out, extra]);
      return { bytes: out, kind };
    case 'lz4-frame': {
      const codec = out.readInt16BE(Field.attributes) & 0x07;
      const area = out.subarray(Field.records);
      const records = codec === 0 ? area : inflateRecords(codec, area);
      const { bytes: frame } = mutateLz4Frame(validLz4Frame(random, records), random);
      out = Buffer.concat([out.subarray(0, Field.records), frame]);
      out.writeInt32BE(out.length - 12, Field.batchLength);
      out.writeInt16BE((out.readInt16BE(Field.attributes) & ~0x07) | 3, Field.attributes);
      break;
    }
  }
  fixCrc(out);
  return { bytes: out, kind };
}
