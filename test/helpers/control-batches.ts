/**
 * Hand-made transaction markers for unit tests (issue 21): a control batch as
 * Kafka writes one (key = int16 version 0, int16 type 0 ABORT / 1 COMMIT;
 * value = int16 version 0, int32 coordinator epoch), uncompressed, with the
 * transactional and control attribute bits, its CRC recomputed.
 */
import { crc32c } from '../../src/wire/crc32c.js';
import { controlFlag, Field } from '../../src/wire/record-batch.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';

export const markerAbort = 0;
export const markerCommit = 1;

export function controlBatch(offset: number, producerId: number, type: number, producerEpoch = 0): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  const value = Buffer.alloc(6);
  const b = encodeRecordBatch([{ key, value }], { baseOffset: offset, producerId, producerEpoch, transactional: true });
  b.writeInt16BE(b.readInt16BE(Field.attributes) | controlFlag, Field.attributes);
  b.writeUInt32BE(crc32c(b.subarray(Field.attributes)), Field.crc);
  return b;
}
