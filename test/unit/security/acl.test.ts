/**
 * Kafka's AclAuthorizer rules (src/security/acl.ts): super users, deny over
 * allow, implied operations, wildcard names, principals and hosts, prefixed
 * patterns, allow.everyone.if.no.acl.found, and the Describe/Delete filters.
 * Principals are parameters: the same matrix holds for User:ANONYMOUS and a
 * SASL or certificate principal.
 */
import { describe, expect, it } from 'vitest';
import {
  type AclBinding,
  type AclBindingFilter,
  AclOperation,
  AclPermission,
  authorize,
  clusterResourceName,
  entriesFromJson,
  entriesToJson,
  filterMatches,
  invalidBinding,
  isAclOperation,
  isAclPermission,
  isPatternType,
  isResourceType,
  PatternType,
  parseOperation,
  parseSuperUsers,
  ResourceType,
} from '../../../src/security/acl.js';

const anon = 'User:ANONYMOUS';
const alice = 'User:alice';
const localhost = '127.0.0.1';
const opts = {
  superUsers: new Set<string>(['User:admin']),
  allowEveryoneIfNoAclFound: false,
};

type Op = Exclude<AclOperation, typeof AclOperation.Any>;
function acl(
  resourceType: typeof ResourceType.Topic | typeof ResourceType.Group | typeof ResourceType.Cluster,
  name: string,
  operation: Op,
  permission: typeof AclPermission.Allow | typeof AclPermission.Deny = AclPermission.Allow,
  principal = anon,
  host = '*',
  patternType: typeof PatternType.Literal | typeof PatternType.Prefixed = PatternType.Literal,
): AclBinding {
  return {
    pattern: { resourceType, name, patternType },
    entry: { principal, host, operation, permission },
  };
}
const topic = (name: string) => ({ resourceType: ResourceType.Topic, name }) as const;

describe.each([anon, alice])('authorize as %s', (principal) => {
  const can = (acls: AclBinding[], op: AclOperation, name = 'orders', host = localhost, o = opts) =>
    authorize(acls, o, principal, host, op, topic(name));

  it('refuses everything when no ACL exists (allow.everyone.if.no.acl.found=false), allows with it true', () => {
    expect(can([], AclOperation.Read)).toBe(false);
    expect(
      can([], AclOperation.Read, 'orders', localhost, {
        ...opts,
        allowEveryoneIfNoAclFound: true,
      }),
    ).toBe(true);
  });

  it('an ACL for someone else on the resource makes allow.everyone.if.no.acl.found irrelevant', () => {
    const acls = [acl(ResourceType.Topic, 'orders', AclOperation.Read, AclPermission.Allow, 'User:bob')];
    expect(
      can(acls, AclOperation.Read, 'orders', localhost, {
        ...opts,
        allowEveryoneIfNoAclFound: true,
      }),
    ).toBe(false);
  });

  it('super users may do anything, even against a DENY', () => {
    const acls = [acl(ResourceType.Topic, 'orders', AclOperation.All, AclPermission.Deny, principal)];
    expect(
      can(acls, AclOperation.Write, 'orders', localhost, {
        ...opts,
        superUsers: new Set([principal]),
      }),
    ).toBe(true);
  });

  it('allows only the operation granted, plus the operations it implies', () => {
    const read = [acl(ResourceType.Topic, 'orders', AclOperation.Read, AclPermission.Allow, principal)];
    expect(can(read, AclOperation.Read)).toBe(true);
    expect(can(read, AclOperation.Describe)).toBe(true);
    expect(can(read, AclOperation.Write)).toBe(false);
    expect(can(read, AclOperation.DescribeConfigs)).toBe(false);
    for (const op of [AclOperation.Write, AclOperation.Delete, AclOperation.Alter]) {
      expect(can([acl(ResourceType.Topic, 'orders', op, AclPermission.Allow, principal)], AclOperation.Describe)).toBe(
        true,
      );
    }
    const alterConfigs = [acl(ResourceType.Topic, 'orders', AclOperation.AlterConfigs, AclPermission.Allow, principal)];
    expect(can(alterConfigs, AclOperation.DescribeConfigs)).toBe(true);
    expect(can(alterConfigs, AclOperation.Describe)).toBe(false);
    const all = [acl(ResourceType.Topic, 'orders', AclOperation.All, AclPermission.Allow, principal)];
    for (const op of [AclOperation.Read, AclOperation.Write, AclOperation.Delete, AclOperation.AlterConfigs]) {
      expect(can(all, op)).toBe(true);
    }
  });

  it('DENY wins over ALLOW; a DENY implies nothing (deny Write leaves Describe allowed by Read)', () => {
    const acls = [
      acl(ResourceType.Topic, 'orders', AclOperation.All, AclPermission.Allow, principal),
      acl(ResourceType.Topic, 'orders', AclOperation.Write, AclPermission.Deny, principal),
    ];
    expect(can(acls, AclOperation.Write)).toBe(false);
    expect(can(acls, AclOperation.Read)).toBe(true);
    expect(can(acls, AclOperation.Describe)).toBe(true);
    const denyAll = [...acls, acl(ResourceType.Topic, '*', AclOperation.All, AclPermission.Deny, 'User:*')];
    expect(can(denyAll, AclOperation.Read)).toBe(false);
  });

  it('wildcard resource name, wildcard principal User:* and host matching', () => {
    expect(
      can([acl(ResourceType.Topic, '*', AclOperation.Read, AclPermission.Allow, principal)], AclOperation.Read),
    ).toBe(true);
    expect(
      can([acl(ResourceType.Topic, 'orders', AclOperation.Read, AclPermission.Allow, 'User:*')], AclOperation.Read),
    ).toBe(true);
    const fromLocal = [acl(ResourceType.Topic, 'orders', AclOperation.Read, AclPermission.Allow, principal, localhost)];
    expect(can(fromLocal, AclOperation.Read, 'orders', localhost)).toBe(true);
    expect(can(fromLocal, AclOperation.Read, 'orders', '10.0.0.7')).toBe(false);
    const denyRemote = [
      acl(ResourceType.Topic, 'orders', AclOperation.Read, AclPermission.Allow, principal),
      acl(ResourceType.Topic, 'orders', AclOperation.Read, AclPermission.Deny, principal, '10.0.0.7'),
    ];
    expect(can(denyRemote, AclOperation.Read, 'orders', localhost)).toBe(true);
    expect(can(denyRemote, AclOperation.Read, 'orders', '10.0.0.7')).toBe(false);
  });

  it('a literal * is a wildcard, a prefixed * is not; prefixed patterns match by prefix only', () => {
    const prefixed = [
      acl(ResourceType.Topic, 'sales.', AclOperation.Write, AclPermission.Allow, principal, '*', PatternType.Prefixed),
    ];
    expect(can(prefixed, AclOperation.Write, 'sales.eu')).toBe(true);
    expect(can(prefixed, AclOperation.Write, 'sales.')).toBe(true);
    expect(can(prefixed, AclOperation.Write, 'salesX')).toBe(false);
    expect(can(prefixed, AclOperation.Write, 'presales.eu')).toBe(false);
    const literal = [acl(ResourceType.Topic, 'sales.', AclOperation.Write, AclPermission.Allow, principal)];
    expect(can(literal, AclOperation.Write, 'sales.eu')).toBe(false);
    const prefixStar = [
      acl(ResourceType.Topic, '*', AclOperation.Write, AclPermission.Allow, principal, '*', PatternType.Prefixed),
    ];
    expect(can(prefixStar, AclOperation.Write, 'orders')).toBe(false);
  });

  it('the resource type must match: a group ACL does not grant the topic of the same name', () => {
    const group = [acl(ResourceType.Group, 'orders', AclOperation.Read, AclPermission.Allow, principal)];
    expect(can(group, AclOperation.Read)).toBe(false);
    expect(
      authorize(group, opts, principal, localhost, AclOperation.Read, {
        resourceType: ResourceType.Group,
        name: 'orders',
      }),
    ).toBe(true);
  });
});

describe('filters (DescribeAcls / DeleteAcls), Kafka AclBindingFilter rules', () => {
  const anyFilter: AclBindingFilter = {
    resourceType: ResourceType.Any,
    name: null,
    patternType: PatternType.Any,
    principal: null,
    host: null,
    operation: AclOperation.Any,
    permission: AclPermission.Any,
  };
  const lit = acl(ResourceType.Topic, 'sales.eu', AclOperation.Read);
  const star = acl(ResourceType.Topic, '*', AclOperation.Read);
  const pre = acl(
    ResourceType.Topic,
    'sales.',
    AclOperation.Read,
    AclPermission.Allow,
    anon,
    '*',
    PatternType.Prefixed,
  );
  const grp = acl(ResourceType.Group, 'g', AclOperation.Read);

  const select = (f: Partial<AclBindingFilter>) =>
    [lit, star, pre, grp].filter((b) => filterMatches({ ...anyFilter, ...f }, b));

  it('ANY selects all; resource type, pattern type and entry fields narrow exactly', () => {
    expect(select({})).toEqual([lit, star, pre, grp]);
    expect(select({ resourceType: ResourceType.Group })).toEqual([grp]);
    expect(select({ patternType: PatternType.Prefixed })).toEqual([pre]);
    expect(select({ name: 'sales.eu' })).toEqual([lit]);
    expect(select({ name: 'sales.eu', patternType: PatternType.Literal })).toEqual([lit]);
    expect(select({ principal: 'User:*' })).toEqual([]);
    expect(select({ operation: AclOperation.Write })).toEqual([]);
    expect(select({ permission: AclPermission.Deny })).toEqual([]);
  });

  it('MATCH selects every pattern that applies to the name (literal, wildcard, prefixes)', () => {
    expect(
      select({
        name: 'sales.eu',
        patternType: PatternType.Match,
        resourceType: ResourceType.Topic,
      }),
    ).toEqual([lit, star, pre]);
    expect(select({ name: 'orders', patternType: PatternType.Match })).toEqual([star]);
  });
});

describe('validation, super.users, znode JSON', () => {
  it('refuses what Kafka refuses', () => {
    const ok = acl(ResourceType.Topic, 'orders', AclOperation.Read);
    expect(invalidBinding(ok)).toBeUndefined();
    expect(invalidBinding({ ...ok, pattern: { ...ok.pattern, name: '' } })).toMatch(/empty/);
    expect(invalidBinding(acl(ResourceType.Cluster, 'other', AclOperation.Create))).toMatch(/kafka-cluster/);
    expect(invalidBinding(acl(ResourceType.Cluster, clusterResourceName, AclOperation.Create))).toBeUndefined();
    expect(invalidBinding(acl(ResourceType.Group, 'g', AclOperation.Write))).toMatch(/not valid on a Group/);
    expect(
      invalidBinding({
        ...ok,
        pattern: { ...ok.pattern, patternType: PatternType.Match as never },
      }),
    ).toMatch(/LITERAL or PREFIXED/);
    expect(invalidBinding({ ...ok, entry: { ...ok.entry, principal: 'alice' } })).toMatch(/Type:name/);
  });

  it('super.users is a semicolon list', () => {
    expect([...parseSuperUsers('User:admin; User:alice;;')]).toEqual(['User:admin', 'User:alice']);
    expect(parseSuperUsers('').size).toBe(0);
  });

  it("reads and writes Kafka's znode JSON", () => {
    const json = {
      version: 1,
      acls: [
        {
          principal: 'User:alice',
          permissionType: 'Allow',
          operation: 'Read',
          host: '*',
        },
        {
          principal: 'User:bob',
          permissionType: 'Deny',
          operation: 'IdempotentWrite',
          host: '10.0.0.1',
        },
        {
          principal: 'User:x',
          permissionType: 'Allow',
          operation: 'Bogus',
          host: '*',
        },
      ],
    };
    const entries = entriesFromJson(json);
    expect(entries).toEqual([
      {
        principal: 'User:alice',
        permission: AclPermission.Allow,
        operation: AclOperation.Read,
        host: '*',
      },
      {
        principal: 'User:bob',
        permission: AclPermission.Deny,
        operation: AclOperation.IdempotentWrite,
        host: '10.0.0.1',
      },
    ]);
    expect(entriesToJson(entries)).toEqual({
      version: 1,
      acls: json.acls.slice(0, 2),
    });
    expect(parseOperation('IDEMPOTENT_WRITE')).toBe(AclOperation.IdempotentWrite);
    expect(parseOperation('describe-configs')).toBe(AclOperation.DescribeConfigs);
  });
});

describe('wire codes as ACL enums', () => {
  it('takes exactly the codes 1..largest of each enum (0 is UNKNOWN: refused)', () => {
    for (const [guard, largest] of [
      [isResourceType, ResourceType.TransactionalId],
      [isPatternType, PatternType.Prefixed],
      [isAclOperation, AclOperation.IdempotentWrite],
      [isAclPermission, AclPermission.Allow],
    ] as const) {
      for (let code = 1; code <= largest; code++) expect(guard(code), `${guard.name} ${code}`).toBe(true);
      for (const code of [0, -1, largest + 1, 127, 1.5]) expect(guard(code), `${guard.name} ${code}`).toBe(false);
    }
  });
});
