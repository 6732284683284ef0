/**
 * replayLog over a real partition log: every batch from the log start visited once, in order,
 * with the read position telling which of its records are new; reads smaller than a batch still
 * progress; a log whose start moved is replayed from its start; an empty log visits nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { replayLog } from '../../../src/storage/log-replay.js';
import { baseOffsetOf, lastOffsetOf } from '../../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../../src/wire/record-batch-decoder.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);

async function logOf(counts: number[]) {
  const manager = await fx.open(fx.dir());
  const log = await manager.getOrCreate('replayed', 0);
  for (const [i, count] of counts.entries()) await log.append(testBatch(`b${i}`, count, 1000 + i));
  return log;
}

/** The offsets of the records replayLog reports as new, batch by batch. */
async function replayed(log: Parameters<typeof replayLog>[0], readBytes?: number): Promise<number[][]> {
  const seen: number[][] = [];
  await replayLog(
    log,
    (batch, from) => {
      expect(lastOffsetOf(batch)).toBeGreaterThanOrEqual(from);
      seen.push(
        decodeBatchRecords(batch)
          .map((r) => r.offset)
          .filter((o) => o >= from),
      );
    },
    readBytes,
  );
  return seen;
}

describe('replayLog', () => {
  it('visits every batch once, in order, from the log start to its end', async () => {
    const log = await logOf([2, 1, 3]);
    expect(await replayed(log)).toEqual([[0, 1], [2], [3, 4, 5]]);
  });

  it('progresses with reads smaller than a batch', async () => {
    const log = await logOf([2, 1, 3]);
    expect(await replayed(log, 16)).toEqual([[0, 1], [2], [3, 4, 5]]);
  });

  it('starts at the log start offset, within a batch: its records below it are not new', async () => {
    const log = await logOf([2, 1, 3]);
    await log.advanceLogStartOffset(4);
    const bases: number[] = [];
    await replayLog(log, (batch) => bases.push(baseOffsetOf(batch)));
    expect(bases).toEqual([3]);
    expect(await replayed(log)).toEqual([[4, 5]]);
  });

  it('visits nothing in an empty log', async () => {
    expect(await replayed(await logOf([]))).toEqual([]);
  });
});
