/**
 * The ACL part of the Coordinator contract (issue 17), run by both
 * implementations: bindings stored once each, visible on this broker when
 * createAcls resolves and on every other broker soon after, deleted by
 * Kafka's filter rules (per filter, what it deleted), kept across reopen.
 */
import { expect, it } from 'vitest';
import {
  type AclBinding,
  type AclBindingFilter,
  AclOperation,
  AclPermission,
  PatternType,
  ResourceType,
} from '../../src/security/acl.js';
import { type ComplianceContext, eventually } from './coordinator-harness.js';

const binding = (
  name: string,
  operation: typeof AclOperation.Read | typeof AclOperation.Write,
  patternType: typeof PatternType.Literal | typeof PatternType.Prefixed = PatternType.Literal,
): AclBinding => ({
  pattern: { resourceType: ResourceType.Topic, name, patternType },
  entry: { principal: 'User:alice', host: '*', operation, permission: AclPermission.Allow },
});

const anyFilter: AclBindingFilter = {
  resourceType: ResourceType.Any,
  name: null,
  patternType: PatternType.Any,
  principal: null,
  host: null,
  operation: AclOperation.Any,
  permission: AclPermission.Any,
};

const sorted = (acls: readonly AclBinding[]) =>
  [...acls].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

export function registerAclTests(ctx: ComplianceContext): void {
  it('stores ACLs once each, on every broker, deletes them by filter, and keeps them across reopen', async () => {
    const c = ctx.cluster.coordinator;
    if (!c.acls || !c.createAcls || !c.deleteAcls) throw new Error('the coordinator stores no ACLs');
    const a = binding('orders', AclOperation.Read);
    const b = binding('orders', AclOperation.Write);
    const p = binding('sales.', AclOperation.Write, PatternType.Prefixed);
    expect(c.acls()).toEqual([]);
    await c.createAcls([a, b, p, a]);
    expect(sorted(c.acls())).toEqual(sorted([a, b, p]));
    await c.createAcls([a]);
    expect(c.acls()).toHaveLength(3);
    for (const m of ctx.cluster.members()) {
      await eventually(() => m.acls?.().length === 3, `broker ${m.brokerId} to see the ACLs`);
    }

    const deleted = await c.deleteAcls([
      {
        ...anyFilter,
        resourceType: ResourceType.Topic,
        name: 'orders',
        patternType: PatternType.Literal,
        operation: AclOperation.Write,
      },
      { ...anyFilter, patternType: PatternType.Prefixed },
    ]);
    expect(deleted).toEqual([[b], [p]]);
    expect(c.acls()).toEqual([a]);
    for (const m of ctx.cluster.members()) {
      await eventually(() => m.acls?.().length === 1, `broker ${m.brokerId} to see the deletion`);
    }
    expect(await c.deleteAcls([{ ...anyFilter, name: 'nothing' }])).toEqual([[]]);

    const reopened = await ctx.cluster.reopen();
    expect(reopened.acls?.()).toEqual([a]);
  });
}
