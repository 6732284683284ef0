/**
 * A read stopped at corrupt bytes names the next offset it can go on from
 * (issue 18): past a batch whose CRC fails, past one whose length field is
 * broken (found byte by byte), at the next segment, or at the log end. The
 * corrupt bytes themselves are never served.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { CorruptRangeError } from '../../../src/storage/corrupt-range.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { Field } from '../../../src/wire/record-batch.js';
import { decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { type BatchInfo, flipByte, spoilSegment, storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const topic = 'rot';

/** Five batches of three records in one segment, written and closed cleanly, then `spoil` applied to the file. */
async function spoiledLog(spoil: (bytes: Buffer, layout: BatchInfo[]) => void, config = {}) {
  const dir = fx.dir();
  const first = await fx.open(dir, config);
  const written = await first.getOrCreate(topic, 0);
  for (let i = 0; i < 5; i++) await written.append(testBatch(`b${i}`, 3, 1000 + i));
  await first.close();
  const layout = spoilSegment(path.join(dir, `${topic}-0`), 0, spoil);
  const manager = await fx.open(dir, config);
  return { log: manager.get(topic, 0) as PartitionLog, layout };
}

async function refusal(log: PartitionLog, offset: number): Promise<CorruptRangeError> {
  const err = await log.read(offset, 1 << 20).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CorruptRangeError);
  expect((err as CorruptRangeError).code).toBe(ErrorCode.CorruptRecord);
  return err as CorruptRangeError;
}

const at = (layout: BatchInfo[], i: number): BatchInfo => layout[i] as BatchInfo;

describe('the next readable offset after corrupt bytes', () => {
  it('a flipped byte inside a batch: the batch after it, which then reads whole', async () => {
    const { log, layout } = await spoiledLog((bytes, l) =>
      flipByte(bytes, at(l, 1).position + at(l, 1).size - 3, 0x10),
    );
    const err = await refusal(log, 3);
    expect(err.nextReadableOffset).toBe(6);
    expect(err.message).toMatch(/corrupt batch at offset 3 .*the next readable offset is 6/);
    const after = await log.read(err.nextReadableOffset, 1 << 20);
    expect(decodeRecords(after.records).map((r) => r.offset)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14]);
    // the corrupt batch's own offsets are never served
    expect(layout).toHaveLength(5);
  });

  it('a broken length field: the next batch is found byte by byte', async () => {
    const { log } = await spoiledLog((bytes, l) =>
      bytes.writeInt32BE(0x7fff_fff0, at(l, 2).position + Field.batchLength),
    );
    const err = await refusal(log, 6);
    expect(err.nextReadableOffset).toBe(9);
    expect(decodeRecords((await log.read(9, 1 << 20)).records)[0]?.offset).toBe(9);
  });

  it('the last batch corrupt: the log end, where new records will be', async () => {
    const { log } = await spoiledLog((bytes, l) => flipByte(bytes, at(l, 4).position + 40, 0x01));
    const err = await refusal(log, 12);
    expect(err.nextReadableOffset).toBe(15);
    expect(log.logEndOffset).toBe(15);
  });

  it('the last batch of a segment that is not the last: the next segment', async () => {
    // one batch per segment: 200-byte segments roll after every append
    const { log } = await spoiledLog((bytes, l) => flipByte(bytes, at(l, 0).position + 40, 0x01), {
      segmentBytes: 200,
    });
    expect(log.segmentBaseOffsets.length).toBeGreaterThan(1);
    const err = await refusal(log, 0);
    expect(err.nextReadableOffset).toBe(3);
  });
});
