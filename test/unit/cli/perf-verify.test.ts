/**
 * The acknowledged-offset checker of `perf produce --verify` (shared with the
 * chaos suite): ids stamped into values, acknowledgements kept per record,
 * and a partition's records fed in offset order counted as right, wrong
 * (another record at the offset) or missing (never reached).
 */
import { describe, expect, it } from 'vitest';
import {
  AcknowledgementLog,
  recordIdBytes,
  recordIdOf,
  stampRecordId,
  verifyLine,
} from '../../../src/cli/perf-verify.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { perfVerifyRecordsMax } from '../../../src/shared/limits.js';
import { expectSluiceError } from '../../helpers/wire-bytes.js';

const tag = 0xc0ffee;

function value(id: number, runTag = tag): Buffer {
  const v = Buffer.alloc(recordIdBytes + 4, 0x41);
  stampRecordId(v, runTag, id);
  return v;
}

describe('record ids', () => {
  it('round-trip, and another run or a foreign value is no id of this run', () => {
    expect(recordIdOf(value(123_456), tag)).toBe(123_456);
    expect(recordIdOf(value(7, tag + 1), tag)).toBe(-1);
    expect(recordIdOf(Buffer.from('short'), tag)).toBe(-1);
    expect(recordIdOf(null, tag)).toBe(-1);
  });
});

describe('AcknowledgementLog and PartitionChecker', () => {
  it('counts nothing wrong when every acknowledged offset holds its record', () => {
    const log = new AcknowledgementLog(6);
    // two partitions, acknowledged out of order
    const acks = [
      [0, 0, 10],
      [1, 1, 0],
      [2, 0, 11],
      [3, 1, 1],
      [4, 0, 13],
      [5, 0, 12],
    ];
    for (const [id, p, o] of acks) log.record(id as number, p as number, o as number);
    expect(log.size).toBe(6);
    expect(log.partitionsAcknowledged()).toEqual([0, 1]);
    const c0 = log.checker(0, tag);
    expect([c0.firstOffset, c0.lastOffset]).toEqual([10, 13]);
    c0.offer(9, Buffer.from('someone else'));
    c0.offer(10, value(0));
    c0.offer(11, value(2));
    c0.offer(12, value(5));
    expect(c0.done).toBe(false);
    c0.offer(13, value(4));
    expect(c0.done).toBe(true);
    expect(c0.finish()).toEqual({ verified: 4, wrong: 0, missing: 0 });
  });

  it('counts an offset holding another record as wrong and one never reached or skipped as missing', () => {
    const log = new AcknowledgementLog(5);
    log.record(0, 0, 0);
    log.record(1, 0, 1);
    log.record(2, 0, 2);
    log.record(3, 0, 3);
    log.record(4, 0, 4);
    const c = log.checker(0, tag);
    c.offer(0, value(1)); // swapped: the answer of one batch given to another
    c.offer(1, value(0));
    c.offer(3, value(3)); // offset 2 skipped (truncated away)
    const counts = c.finish(); // offset 4 never read
    expect(counts).toEqual({ verified: 5, wrong: 2, missing: 2 });
    expect(verifyLine(counts)).toBe('verified 5 acknowledged offsets: 2 wrong, 2 missing');
  });

  it('two records acknowledged at one offset: at most one of them is right', () => {
    const log = new AcknowledgementLog(2);
    log.record(0, 3, 7);
    log.record(1, 3, 7);
    const c = log.checker(3, tag);
    c.offer(7, value(1));
    expect(c.finish()).toEqual({ verified: 2, wrong: 1, missing: 0 });
  });

  it('refuses ids outside the run, ids acknowledged twice, impossible places and too many records', () => {
    const log = new AcknowledgementLog(2);
    expectSluiceError(() => log.record(2, 0, 0), ErrorCode.InvalidArgument);
    log.record(0, 0, 0);
    expectSluiceError(() => log.record(0, 0, 1), ErrorCode.InvalidArgument);
    expectSluiceError(() => log.record(1, 0, -1), ErrorCode.InvalidArgument);
    expectSluiceError(() => new AcknowledgementLog(perfVerifyRecordsMax + 1), ErrorCode.InvalidArgument);
  });
});
