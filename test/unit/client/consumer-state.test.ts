/**
 * The consumer's bookkeeping parts on their own, without sockets:
 * SubscriptionState (assignment, pauses, pending seeks, invalidation) and
 * OffsetCommitter (what is committed, when, and what a revocation carries over)
 * against a fake membership that records commits.
 */
import { describe, expect, it } from 'vitest';
import { OffsetCommitter } from '../../../src/client/consumer/offset-committer.js';
import {
  moveTo,
  newState,
  type PartitionState,
  parseOffset,
  SubscriptionState,
} from '../../../src/client/consumer/subscription-state.js';
import type { GroupMembership, OffsetToCommit } from '../../../src/client/group-membership.js';
import { consumerPendingSeeksMax } from '../../../src/shared/limits.js';

const earliest = { kind: 'earliest' } as const;
const st = (topic: string, partition: number, position: number | null = 0): PartitionState => {
  const s = newState(topic, partition, earliest, 1024);
  s.position = position;
  s.consumed = position;
  return s;
};

/** Just what the committer uses of a membership: its generation and commit(). */
function fakeMembership(generationId = 1): {
  m: GroupMembership;
  commits: OffsetToCommit[][];
  fail: { next: boolean };
} {
  const commits: OffsetToCommit[][] = [];
  const fail = { next: false };
  const m = {
    generationId,
    async commit(list: OffsetToCommit[]) {
      if (fail.next) {
        fail.next = false;
        throw new Error('REBALANCE_IN_PROGRESS');
      }
      commits.push(list.map((o) => ({ ...o })));
    },
  } as unknown as GroupMembership;
  return { m, commits, fail };
}

describe('SubscriptionState', () => {
  it('pauses a topic (also partitions assigned later) or single partitions; resume of one partition of a paused topic keeps the others paused', () => {
    const dropped: string[] = [];
    const sub = new SubscriptionState((s) => dropped.push(`${s.topic}-${s.partition}`));
    sub.replace([st('a', 0, 5), st('a', 1, 7), st('b', 0, 1)]);
    const a0 = sub.get('a', 0) as PartitionState;
    a0.consumed = 3; // delivered up to 2; 3 and 4 were fetched but not handed out
    sub.pause([{ topic: 'a' }]);
    expect(sub.paused()).toEqual([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
    ]);
    // a pause rewinds the fetch position to what was handed out, drops what was buffered, and makes older deliveries stale
    expect(a0.position).toBe(3);
    expect(a0.version).toBe(1);
    expect(dropped).toEqual(['a-0', 'a-1']);
    expect(sub.active().map((s) => `${s.topic}-${s.partition}`)).toEqual(['b-0']);
    // a partition of a paused topic assigned later is paused too
    sub.add([st('a', 2)]);
    expect(sub.isPaused('a', 2)).toBe(true);
    sub.resume([{ topic: 'a', partitions: [1] }]);
    expect(sub.paused().map((p) => p.partition)).toEqual([0, 2]);
    sub.resume([{ topic: 'a' }]);
    expect(sub.paused()).toEqual([]);
    expect(() => sub.pause([{ topic: '' }])).toThrow(/non-empty/);
    expect(() => sub.pause({} as never)).toThrow(/needs/);
  });

  it('keeps seeks of unassigned partitions for their assignment, bounded', () => {
    const sub = new SubscriptionState();
    sub.seekLater('t', 0, 42);
    sub.seekLater('t', 0, 43);
    expect(sub.takePendingSeek('t', 0)).toBe(43);
    expect(sub.takePendingSeek('t', 0)).toBeUndefined();
    for (let p = 0; p < consumerPendingSeeksMax; p++) sub.seekLater('t', p, 1);
    expect(() => sub.seekLater('t', consumerPendingSeeksMax, 1)).toThrow(/more than/);
    // the same partition again is a replacement, not one more
    sub.seekLater('t', 0, 2);
  });

  it('invalidate() bumps the version (creating the partition only when told how), replace() drops the rest', () => {
    const sub = new SubscriptionState();
    expect(() => sub.invalidate('t', 0)).toThrow(/not assigned/);
    const s = sub.invalidate('t', 0, () => st('t', 0));
    expect(s.version).toBe(1);
    expect(sub.isAssigned(s)).toBe(true);
    moveTo(s, parseOffset('latest'));
    expect(s.position).toBeNull();
    expect(s.reset).toEqual({ kind: 'latest' });
    sub.replace([st('t', 1)]);
    expect(sub.isAssigned(s)).toBe(false);
    expect(sub.assignment()).toEqual([{ topic: 't', partition: 1 }]);
    expect(parseOffset('-2')).toEqual({ kind: 'earliest' });
    expect(parseOffset(7n)).toBe(7);
    expect(() => parseOffset(-5)).toThrow(/negative/);
  });
});

describe('OffsetCommitter', () => {
  it('commits only partitions whose processed offset moved, one commit at a time; nothing outside a generation', async () => {
    const sub = new SubscriptionState();
    const a = st('t', 0);
    const b = st('t', 1);
    sub.replace([a, b]);
    const { m, commits } = fakeMembership();
    let membership: GroupMembership | null = m;
    const c = new OffsetCommitter(sub, () => membership, 'g');
    await c.commitProcessed();
    expect(commits).toEqual([]);
    a.processed = 5;
    await Promise.all([c.commitProcessed(), c.commitProcessed()]);
    expect(commits).toEqual([[{ topic: 't', partition: 0, offset: 5 }]]);
    expect(a.committed).toBe(5);
    b.processed = 2;
    a.processed = 6;
    await c.commitProcessed();
    expect(commits[1]).toEqual([
      { topic: 't', partition: 0, offset: 6 },
      { topic: 't', partition: 1, offset: 2 },
    ]);
    // rebalancing (generation -1): an auto-commit skips, commit() rejects
    (m as { generationId: number }).generationId = -1;
    a.processed = 7;
    await c.commitProcessed();
    await expect(c.commitProcessed(true)).rejects.toThrow(/not a member of group 'g'/);
    await expect(c.commitExact([{ topic: 't', partition: 0, offset: 1 }])).rejects.toThrow(/not a member/);
    expect(commits).toHaveLength(2);
    membership = null;
    await c.commitProcessed(true);
  });

  it('what poll() returned becomes processed at the next promote, for partitions still assigned only', () => {
    const sub = new SubscriptionState();
    const a = st('t', 0);
    const gone = st('t', 1);
    sub.replace([a, gone]);
    const c = new OffsetCommitter(sub, () => null, 'g');
    c.notePolled(a, 10);
    c.notePolled(gone, 4);
    sub.replace([a]);
    c.retainAssigned();
    c.promotePolled();
    expect(a.processed).toBe(10);
    expect(gone.processed).toBeNull();
    c.notePolled(a, 12);
    c.forgetPolled(a);
    c.promotePolled();
    expect(a.processed).toBe(10);
  });

  it('a revocation keeps processed offsets it could not commit; the next generation resumes from them', async () => {
    const sub = new SubscriptionState();
    const a = st('t', 0);
    a.processed = 9;
    a.committed = 4;
    const b = st('t', 1);
    b.processed = 3;
    b.committed = 3;
    sub.replace([a, b]);
    const { m, fail } = fakeMembership();
    const c = new OffsetCommitter(sub, () => m, 'g');
    fail.next = true;
    await expect(c.commitProcessed()).rejects.toThrow(/REBALANCE/);
    c.keepUncommitted();
    sub.replace([]);
    expect(c.carried('t', 0)).toBe(9);
    expect(c.carried('t', 1)).toBeUndefined();
    c.clearCarryOver();
    expect(c.carried('t', 0)).toBeUndefined();
  });

  it('auto-commits on its interval while due, and stops', async () => {
    const sub = new SubscriptionState();
    const a = st('t', 0);
    sub.replace([a]);
    const { m, commits } = fakeMembership();
    const c = new OffsetCommitter(sub, () => m, 'g');
    let due = false;
    c.startAutoCommit(5, () => due);
    a.processed = 1;
    await new Promise((r) => setTimeout(r, 30));
    expect(commits).toEqual([]);
    due = true;
    for (let i = 0; i < 200 && commits.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(commits).toEqual([[{ topic: 't', partition: 0, offset: 1 }]]);
    c.stopAutoCommit();
    a.processed = 2;
    await new Promise((r) => setTimeout(r, 30));
    expect(commits).toHaveLength(1);
  });
});
