/**
 * A queue's or JMS topic's log reads (src/queues/log-records.ts) never
 * surface transaction markers (control batches, issue 21) as messages.
 */
import { describe, expect, it } from 'vitest';
import { decodeLogRecords } from '../../../src/queues/log-records.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { controlBatch, markerAbort, markerCommit } from '../../helpers/control-batches.js';

describe('queue log records', () => {
  it('decodes data batches in order and skips control batches', () => {
    const bytes = Buffer.concat([
      encodeRecordBatch([{ key: null, value: Buffer.from('a') }], { baseOffset: 0 }),
      controlBatch(1, 4, markerCommit),
      encodeRecordBatch(
        [
          { key: null, value: Buffer.from('b') },
          { key: null, value: Buffer.from('c') },
        ],
        { baseOffset: 2, producerId: 4, producerEpoch: 0, baseSequence: 0, transactional: true },
      ),
      controlBatch(4, 4, markerAbort),
    ]);
    expect(decodeLogRecords(bytes).map((r) => [r.offset, r.value?.toString()])).toEqual([
      [0, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });
});
