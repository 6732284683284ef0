/**
 * Static membership (KIP-345, group.instance.id) in the group's state
 * machine: a static member that joins again without a member id while its
 * instance is still a member takes its place (a new member id, the same
 * assignment) and a Stable group does not rebalance when its subscription is
 * unchanged; the old member id is fenced (FENCED_INSTANCE_ID) on its next
 * heartbeat, sync or commit check. A changed subscription rebalances; a
 * LeaveGroup naming the instance removes it and rebalances; so does the end
 * of its session. A static member is never asked for a member id first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Group } from '../../../src/groups/group.js';
import { encodeSubscription } from '../../../src/protocol/native/consumer-protocol.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../../src/protocol/native/group-messages.js';
import { WireError } from '../../../src/shared/errors.js';

const groups: Group[] = [];
afterEach(() => {
  for (const g of groups.splice(0)) g.shutdown();
});

const subscription = (...topics: string[]): Buffer => encodeSubscription({ version: 1, topics, ownedPartitions: [] });

function request(
  memberId: string,
  groupInstanceId: string | null,
  metadata = subscription('t'),
  sessionTimeoutMs = 10_000,
): JoinGroupRequest {
  return {
    groupId: 'g',
    memberId,
    groupInstanceId,
    requireKnownMemberId: true,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata }],
    sessionTimeoutMs,
    rebalanceTimeoutMs: 10_000,
  };
}

/** The wire code a group call throws, or 0. */
function codeOf(call: () => unknown): number {
  try {
    call();
    return 0;
  } catch (err) {
    return (err as { code: string }).code === 'SLUICE_ERR_FENCED_INSTANCE_ID'
      ? WireError.FENCED_INSTANCE_ID
      : (err as { code: string }).code === 'SLUICE_ERR_UNKNOWN_MEMBER_ID'
        ? WireError.UNKNOWN_MEMBER_ID
        : (err as { code: string }).code === 'SLUICE_ERR_REBALANCE_IN_PROGRESS'
          ? WireError.REBALANCE_IN_PROGRESS
          : -1;
  }
}

/** Two static members a (instance ia) and b (instance ib), Stable with a owning [0] and b [1]. */
async function stableGroup(
  sessionTimeoutMs = 10_000,
): Promise<{ g: Group; a: JoinGroupResponse; b: JoinGroupResponse }> {
  const g = new Group('g', () => undefined);
  groups.push(g);
  const first = await g.join(request('', 'ia', subscription('t'), sessionTimeoutMs), 'app', 'h');
  expect(first).toMatchObject({ errorCode: 0, generationId: 1 });
  const bJoin = g.join(request('', 'ib', subscription('t'), sessionTimeoutMs), 'app', 'h');
  const a = await g.join(request(first.memberId, 'ia', subscription('t'), sessionTimeoutMs), 'app', 'h');
  const b = await bJoin;
  expect([a.generationId, b.generationId]).toEqual([2, 2]);
  expect(a.leader).toBe(a.memberId);
  expect(a.members.map((m) => m.groupInstanceId).sort()).toEqual(['ia', 'ib']);
  const assignments = [
    { memberId: a.memberId, assignment: Buffer.from('a-owns-0') },
    { memberId: b.memberId, assignment: Buffer.from('b-owns-1') },
  ];
  const bSync = g.sync(b.memberId, 2, [], { groupInstanceId: 'ib' });
  const aSync = await g.sync(a.memberId, 2, assignments, { groupInstanceId: 'ia' });
  expect(aSync.assignment.toString()).toBe('a-owns-0');
  expect((await bSync).assignment.toString()).toBe('b-owns-1');
  expect(g.state).toBe('Stable');
  return { g, a, b };
}

describe('static membership (KIP-345)', () => {
  it('a restarted static member gets a new id and its assignment back, with no rebalance; its old id is fenced', async () => {
    const { g, a, b } = await stableGroup();
    // the restart: no member id, the same instance and subscription; not asked for an id first (KIP-394 skipped)
    const again = await g.join(request('', 'ia'), 'app', 'h2');
    expect(again.errorCode).toBe(0);
    expect(again.memberId).not.toBe(a.memberId);
    expect(again.generationId).toBe(2);
    // it was the leader and still is (under its new id), told every member as Kafka tells it
    expect(again.leader).toBe(again.memberId);
    expect(again.members.map((m) => m.memberId).sort()).toEqual([again.memberId, b.memberId].sort());
    expect(g.state).toBe('Stable');
    expect(g.generationId).toBe(2);
    expect(g.size).toBe(2);
    // the other member sees no rebalance
    expect(codeOf(() => g.heartbeat(b.memberId, 2, 'ib'))).toBe(0);
    // the new id's sync in the Stable group returns the kept assignment, whatever the leader hands in
    const synced = await g.sync(again.memberId, 2, [{ memberId: again.memberId, assignment: Buffer.from('x') }], {
      groupInstanceId: 'ia',
    });
    expect(synced.assignment.toString()).toBe('a-owns-0');
    expect(synced).toMatchObject({ protocolType: 'consumer', protocolName: 'range' });
    // the old member id: fenced when it names the instance, unknown otherwise
    expect(codeOf(() => g.heartbeat(a.memberId, 2, 'ia'))).toBe(WireError.FENCED_INSTANCE_ID);
    expect(codeOf(() => g.check(a.memberId, 2, 'ia'))).toBe(WireError.FENCED_INSTANCE_ID);
    expect(codeOf(() => g.heartbeat(a.memberId, 2))).toBe(WireError.UNKNOWN_MEMBER_ID);
    expect(codeOf(() => g.sync(a.memberId, 2, [], { groupInstanceId: 'ia' }))).toBe(WireError.FENCED_INSTANCE_ID);
    expect(() => g.join(request(a.memberId, 'ia'), 'app', 'h')).toThrow(/held by member/);
    expect(
      g
        .describeMembers()
        .map((m) => [m.groupInstanceId, m.memberId])
        .sort(),
    ).toEqual(
      [
        ['ia', again.memberId],
        ['ib', b.memberId],
      ].sort(),
    );
  });

  it('a static member that rejoins with another subscription makes the group rebalance', async () => {
    const { g, b } = await stableGroup();
    const rejoin = g.join(request('', 'ia', subscription('t', 'u')), 'app', 'h');
    expect(g.state).toBe('PreparingRebalance');
    expect(codeOf(() => g.heartbeat(b.memberId, 2, 'ib'))).toBe(WireError.REBALANCE_IN_PROGRESS);
    const bAgain = g.join(request(b.memberId, 'ib'), 'app', 'h');
    const [a3, b3] = await Promise.all([rejoin, bAgain]);
    expect([a3.generationId, b3.generationId]).toEqual([3, 3]);
  });

  it('LeaveGroup naming the instance removes the member and rebalances; a stale member id for it is fenced', async () => {
    const { g, a, b } = await stableGroup();
    expect(codeOf(() => g.leave('someone-else', 'ia'))).toBe(WireError.FENCED_INSTANCE_ID);
    expect(g.size).toBe(2);
    expect(codeOf(() => g.leave('', 'nobody'))).toBe(WireError.UNKNOWN_MEMBER_ID);
    // by instance id only (what a v3+ LeaveGroup of an admin tool sends)
    g.leave('', 'ia');
    expect(g.size).toBe(1);
    expect(g.state).toBe('PreparingRebalance');
    expect(codeOf(() => g.heartbeat(b.memberId, 2, 'ib'))).toBe(WireError.REBALANCE_IN_PROGRESS);
    // the instance is free again: a new join is a new member, not the old one
    expect(codeOf(() => g.heartbeat(a.memberId, 2, 'ia'))).toBe(WireError.UNKNOWN_MEMBER_ID);
  });

  it('a static member that goes away without leaving is removed when its session times out', async () => {
    const { g, b } = await stableGroup(300);
    // b keeps its session alive; a says nothing
    const deadline = Date.now() + 5_000;
    while (g.size === 2 && Date.now() < deadline) {
      codeOf(() => g.heartbeat(b.memberId, g.generationId, 'ib'));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(g.size).toBe(1);
    expect(g.describeMembers().map((m) => m.groupInstanceId)).toEqual(['ib']);
  });
});
