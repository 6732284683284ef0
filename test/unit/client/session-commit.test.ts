/**
 * The write order of a transacted session's commit: every send is stored
 * before any acknowledgement of another queue (a failure in between
 * duplicates, never loses), a single queue commits in one batch, and a failed
 * commit's error names what is stored.
 */
import { describe, expect, it } from 'vitest';
import {
  type CommitWrite,
  commitPlan,
  type QueueCommitWork,
  SessionCommitError,
} from '../../../src/client/session-commit.js';
import { ErrorCode, SluiceError } from '../../../src/shared/errors.js';
import { prng } from '../../helpers/prng.js';

/** The invariant: no write carrying acknowledgements of queue Q comes before (or beside) a write of another queue's sends. */
function sendsBeforeOtherAcks(plan: CommitWrite[][]): boolean {
  for (let i = 0; i < plan.length; i++) {
    for (const w of plan[i] as CommitWrite[]) {
      if (!w.acks) continue;
      for (let j = i; j < plan.length; j++) {
        if ((plan[j] as CommitWrite[]).some((x) => x.sends && x.queue !== w.queue)) return false;
      }
    }
  }
  return true;
}

describe('commitPlan', () => {
  it('in -> out: the sends to out, then the acknowledgements of in, whatever order the queues came in', () => {
    const work: QueueCommitWork[] = [
      { queue: 'in', hasSends: false, hasAcks: true },
      { queue: 'out', hasSends: true, hasAcks: false },
    ];
    expect(commitPlan(work)).toEqual([
      [{ queue: 'out', sends: true, acks: false }],
      [{ queue: 'in', sends: false, acks: true }],
    ]);
    expect(commitPlan([...work].reverse())).toEqual(commitPlan(work));
  });

  it('one queue with sends and acknowledgements: one batch (atomic on that queue)', () => {
    expect(commitPlan([{ queue: 'q', hasSends: true, hasAcks: true }])).toEqual([
      [{ queue: 'q', sends: true, acks: true }],
    ]);
  });

  it('one queue with both and others: the others sends first, that queue in one batch, then other acknowledgements', () => {
    const plan = commitPlan([
      { queue: 'a', hasSends: true, hasAcks: true },
      { queue: 'b', hasSends: true, hasAcks: true },
      { queue: 'c', hasSends: true, hasAcks: false },
    ]);
    expect(plan).toEqual([
      [
        { queue: 'b', sends: true, acks: false },
        { queue: 'c', sends: true, acks: false },
      ],
      [{ queue: 'a', sends: true, acks: true }],
      [{ queue: 'b', sends: false, acks: true }],
    ]);
  });

  it('every plan stores each send before any other queue acknowledgement, and writes each thing once', () => {
    const random = prng(14);
    for (let round = 0; round < 500; round++) {
      const n = 1 + Math.floor(random() * 5);
      const work = Array.from({ length: n }, (_, i) => ({
        queue: `q${i}`,
        hasSends: random() < 0.5,
        hasAcks: random() < 0.5,
      })).filter((w) => w.hasSends || w.hasAcks);
      const plan = commitPlan(work);
      expect(sendsBeforeOtherAcks(plan)).toBe(true);
      const writes = plan.flat();
      for (const w of work) {
        expect(writes.filter((x) => x.queue === w.queue && x.sends).length).toBe(w.hasSends ? 1 : 0);
        expect(writes.filter((x) => x.queue === w.queue && x.acks).length).toBe(w.hasAcks ? 1 : 0);
      }
      expect(plan.every((phase) => phase.length > 0)).toBe(true);
    }
  });
});

describe('SessionCommitError', () => {
  const cause = new SluiceError(ErrorCode.RecordTooLarge, 'too large');

  it('names the committed and the uncommitted queues; PartialCommit when something was stored', () => {
    const err = new SessionCommitError(
      [
        { queue: 'in', sendsStored: true, acksStored: false },
        { queue: 'out', sendsStored: true, acksStored: true },
      ],
      true,
      cause,
    );
    expect(err).toMatchObject({ code: ErrorCode.PartialCommit, committed: ['out'], uncommitted: ['in'], cause });
    expect(err.message).toContain('committed: [out]');
    expect(err.message).toContain('not committed: [in]');
  });

  it('keeps the failed write code when nothing was stored', () => {
    const err = new SessionCommitError([{ queue: 'out', sendsStored: false, acksStored: true }], false, cause);
    expect(err).toMatchObject({ code: ErrorCode.RecordTooLarge, committed: [], uncommitted: ['out'] });
  });
});
