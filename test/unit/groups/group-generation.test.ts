/**
 * A group's generation only grows (Group asserts it): through joins, a
 * member leaving an otherwise empty group, and a rejoin, every new
 * generation is above the last, and an old one stays fenced.
 */
import { describe, expect, it } from 'vitest';
import { Group } from '../../../src/groups/group.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { expectSluiceError } from '../../helpers/wire-bytes.js';

const joinRequest = (memberId = '') => ({
  groupId: 'g',
  memberId,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
});

describe('group generations', () => {
  it('grow with every rebalance and when the group empties; an old generation stays fenced', async () => {
    const seen: number[] = [];
    const group = new Group('g', (g) => seen.push(g.generationId));
    try {
      const first = await group.join(joinRequest(), 'app', '127.0.0.1');
      expect(first.generationId).toBe(1);
      const again = await group.join(joinRequest(first.memberId), 'app', '127.0.0.1');
      expect(again.generationId).toBe(2);
      // an old generation is refused (the group throws its refusals: issue 15's one error table)
      expectSluiceError(() => group.check(first.memberId, 1), ErrorCode.IllegalGeneration);
      expect(() => group.leave(first.memberId)).not.toThrow();
      expect(group.generationId).toBe(3);
      const next = await group.join(joinRequest(), 'app', '127.0.0.1');
      expect(next.generationId).toBe(4);
      expectSluiceError(() => group.check(next.memberId, 2), ErrorCode.IllegalGeneration);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] as number);
    } finally {
      group.shutdown();
    }
  });
});
