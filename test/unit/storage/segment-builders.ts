/**
 * Builds real segment files for the tests of a log's parts (segment list,
 * reader, retention): batches of test records stamped with consecutive
 * offsets, the segment's summary kept as an append would keep it.
 */
import { Segment } from '../../../src/storage/segment.js';
import { setBaseOffset } from '../../../src/wire/record-batch.js';
import { testBatch } from '../../helpers/storage.js';

/** The test batch of `count` records at `offset` (tag `o<offset>`, timestamps 1000 + offset, ...). */
export function batchAt(offset: number, count: number, valueBytes = 24): Buffer {
  const batch = testBatch(`o${offset}`, count, 1000 + offset, { valueBytes });
  setBaseOffset(batch, 0, offset);
  return batch;
}

/** Opens segments and closes them all after each test. */
export function segmentBuilder(afterEachHook: (fn: () => void) => void) {
  const open: Segment[] = [];
  afterEachHook(() => {
    for (const s of open.splice(0)) s.close();
  });
  return {
    /** A new segment file at `base` holding one batch per count, offsets from `base` on. */
    create(dir: string, base: number, counts: number[] = [], valueBytes = 24): Segment {
      const segment = Segment.create(dir, base);
      open.push(segment);
      let offset = base;
      for (const count of counts) {
        segment.append(batchAt(offset, count, valueBytes));
        offset += count;
        segment.maxTimestamp = 1000 + offset - 1;
      }
      segment.nextOffset = offset;
      return segment;
    },
    /** The file of `written` opened again, as a restarted broker would: its bytes are unverified. */
    reopen(dir: string, written: Segment): Segment {
      const segment = Segment.open(dir, written.baseOffset);
      open.push(segment);
      segment.nextOffset = written.nextOffset;
      segment.maxTimestamp = written.maxTimestamp;
      return segment;
    },
  };
}
