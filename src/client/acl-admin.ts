/**
 * ACL administration (issue 17) over the native CreateAcls / DescribeAcls /
 * DeleteAcls: bindings and filters with Kafka's names (Topic, Group, Cluster,
 * TransactionalId; LITERAL, PREFIXED; Read, Write, ...; ALLOW, DENY), sent as
 * Kafka's codes. A broker without the authorizer answers SECURITY_DISABLED.
 */
import type { AclBindingWire, AclFilterWire } from '../protocol/native/acl-messages.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import {
  AclOperation,
  AclPermission,
  operationName,
  PatternType,
  parseOperation,
  parsePatternType,
  parsePermission,
  parseResourceType,
  patternTypeName,
  permissionName,
  ResourceType,
  resourceTypeName,
} from '../security/acl.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, invalidArgument, wireError } from './errors.js';

/** One ACL, by name: `{ resourceType: 'Topic', resourceName: 'orders', patternType: 'LITERAL', principal: 'User:alice', host: '*', operation: 'Read', permission: 'ALLOW' }`. */
export interface AclDescription {
  resourceType: string;
  resourceName: string;
  patternType: string;
  principal: string;
  host: string;
  operation: string;
  permission: string;
}

/** Which ACLs to list or remove: an absent field matches every value (patternType 'MATCH': the patterns that apply to the name). */
export interface AclFilterOptions {
  resourceType?: string;
  resourceName?: string;
  patternType?: string;
  principal?: string;
  host?: string;
  operation?: string;
  permission?: string;
}

function code<T>(parse: (s: string) => T | undefined, what: string, value: string): T {
  const c = parse(value);
  if (c === undefined) throw invalidArgument(`unknown ${what} '${value}'`);
  return c;
}

function bindingWire(a: AclDescription): AclBindingWire {
  return {
    resourceType: code(parseResourceType, 'resource type', a.resourceType),
    resourceName: a.resourceName,
    patternType: code(parsePatternType, 'pattern type', a.patternType),
    principal: a.principal,
    host: a.host,
    operation: code(parseOperation, 'operation', a.operation),
    permission: code(parsePermission, 'permission', a.permission),
  };
}

function filterWire(f: AclFilterOptions): AclFilterWire {
  return {
    resourceType: f.resourceType ? code(parseResourceType, 'resource type', f.resourceType) : ResourceType.Any,
    resourceName: f.resourceName ?? null,
    patternType: f.patternType ? code(parsePatternType, 'pattern type', f.patternType) : PatternType.Any,
    principal: f.principal ?? null,
    host: f.host ?? null,
    operation: f.operation ? code(parseOperation, 'operation', f.operation) : AclOperation.Any,
    permission: f.permission ? code(parsePermission, 'permission', f.permission) : AclPermission.Any,
  };
}

export function describeAcl(b: AclBindingWire): AclDescription {
  return {
    resourceType: resourceTypeName(b.resourceType),
    resourceName: b.resourceName,
    patternType: patternTypeName(b.patternType).toUpperCase(),
    principal: b.principal,
    host: b.host,
    operation: operationName(b.operation),
    permission: permissionName(b.permission).toUpperCase(),
  };
}

export async function createAcls(cluster: Cluster, acls: AclDescription[]): Promise<void> {
  if (acls.length === 0) throw invalidArgument('no ACL to create');
  const creations = acls.map(bindingWire);
  const res = await cluster.retry(async () =>
    (await cluster.anyConnection()).request(ApiKey.CreateAcls, { creations }),
  );
  checkTopLevel(res, 'create ACLs');
  for (const [i, r] of (res.results ?? []).entries()) {
    if (r.errorCode !== 0) throw wireError(r.errorCode, `create ACL ${JSON.stringify(acls[i])}`, r.errorMessage);
  }
}

export async function describeAcls(cluster: Cluster, filter: AclFilterOptions = {}): Promise<AclDescription[]> {
  const body = filterWire(filter);
  const res = await cluster.retry(async () => (await cluster.anyConnection()).request(ApiKey.DescribeAcls, body));
  checkTopLevel(res, 'describe ACLs');
  return (res.resources ?? []).flatMap((r) =>
    r.acls.map((a) =>
      describeAcl({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        patternType: r.patternType,
        ...a,
      }),
    ),
  );
}

/** Removes every ACL the filter matches; resolves with those removed. */
export async function deleteAcls(cluster: Cluster, filter: AclFilterOptions): Promise<AclDescription[]> {
  const body = { filters: [filterWire(filter)] };
  const res = await cluster.retry(async () => (await cluster.anyConnection()).request(ApiKey.DeleteAcls, body));
  checkTopLevel(res, 'delete ACLs');
  const r = res.filterResults?.[0];
  if (r && r.errorCode !== 0) throw wireError(r.errorCode, 'delete ACLs', r.errorMessage);
  return (r?.matchingAcls ?? []).map(describeAcl);
}
