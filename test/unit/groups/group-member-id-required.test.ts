/**
 * KIP-394 (JoinGroup v4+, and native clients that ask for it): a member
 * without an id is answered MEMBER_ID_REQUIRED with an id and is not in the
 * group until it joins again with that id; an id never used is forgotten
 * after the session timeout, so an abandoned join holds no rebalance.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Group } from '../../../src/groups/group.js';
import type { JoinGroupRequest } from '../../../src/protocol/native/group-messages.js';
import { WireError } from '../../../src/shared/errors.js';

const groups: Group[] = [];
afterEach(() => {
  for (const g of groups.splice(0)) g.shutdown();
});

function newGroup(): Group {
  const g = new Group('g', () => undefined);
  groups.push(g);
  return g;
}

function request(memberId: string, requireKnownMemberId: boolean, sessionTimeoutMs = 10_000): JoinGroupRequest {
  return {
    groupId: 'g',
    memberId,
    requireKnownMemberId,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    sessionTimeoutMs,
    rebalanceTimeoutMs: 10_000,
  };
}

describe('MEMBER_ID_REQUIRED', () => {
  it('gives a new member an id without adding it; the member joins with that id', async () => {
    const g = newGroup();
    const first = await g.join(request('', true), 'app', 'h');
    expect(first.errorCode).toBe(WireError.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^app-/);
    expect(g.size).toBe(0);
    expect(g.state).toBe('Empty');
    const joined = await g.join(request(first.memberId, true), 'app', 'h');
    expect(joined).toMatchObject({ errorCode: 0, memberId: first.memberId, leader: first.memberId, generationId: 1 });
    expect(g.size).toBe(1);
  });

  it('an id never used does not hold the next rebalance, and is forgotten after the session timeout', async () => {
    const g = newGroup();
    const abandoned = await g.join(request('', true, 50), 'ghost', 'h');
    expect(abandoned.errorCode).toBe(WireError.MEMBER_ID_REQUIRED);
    // another member joins at once: nobody to wait for
    const other = await g.join(request('', false), 'app', 'h');
    expect(other).toMatchObject({ errorCode: 0, generationId: 1, members: [{ memberId: other.memberId }] });
    await new Promise((r) => setTimeout(r, 100));
    expect(() => g.join(request(abandoned.memberId, true), 'ghost', 'h')).toThrow(/unknown member/);
  });

  it('without requireKnownMemberId (Kafka v0-3) a member without an id joins at once', async () => {
    const g = newGroup();
    const joined = await g.join(request('', false), 'app', 'h');
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1 });
  });
});
