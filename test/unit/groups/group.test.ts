/**
 * A group member's id starts with its client id (Kafka's clientId-UUID) but
 * stays a valid Kafka STRING however long the client id is: it is echoed in
 * JoinGroup/DescribeGroups answers whose strings carry an int16 byte count.
 */
import { describe, expect, it } from 'vitest';
import { Group } from '../../../src/groups/group.js';
import { memberIdClientIdCharsMax } from '../../../src/shared/limits.js';

describe('group member ids', () => {
  it('start with the client id, cut so the id stays short', async () => {
    const groups: Group[] = [];
    // each in a group of its own: a second member would wait for the first to rejoin
    const join = (clientId: string) => {
      const group = new Group('g', () => undefined);
      groups.push(group);
      return group.join(
        {
          groupId: 'g',
          memberId: '',
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 10_000,
        },
        clientId,
        '127.0.0.1',
      );
    };
    const short = await join('app');
    expect(short.memberId).toMatch(/^app-[0-9a-f-]{36}$/);
    const long = await join('x'.repeat(32_767));
    expect(long.memberId.startsWith('x'.repeat(memberIdClientIdCharsMax))).toBe(true);
    expect(Buffer.byteLength(long.memberId)).toBeLessThanOrEqual(memberIdClientIdCharsMax + 37);
    for (const group of groups) group.shutdown();
  });
});
