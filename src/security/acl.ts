/**
 * Access control lists, Kafka's model (pure logic, no I/O): an ACL binds a
 * resource pattern (type, name, LITERAL or PREFIXED) to an entry (principal,
 * host, operation, ALLOW or DENY). authorize() decides as Kafka's
 * AclAuthorizer does:
 *
 *  1. a super user (`super.users`) may do anything;
 *  2. the ACLs that apply to the resource are the LITERAL ones on its name,
 *     the LITERAL ones on the wildcard name `*`, and the PREFIXED ones whose
 *     name starts the resource's name; when there are none at all (for any
 *     principal or operation), `allow.everyone.if.no.acl.found` decides;
 *  3. a DENY entry matching the principal (or `User:*`), the host (or `*`)
 *     and the operation (or All) refuses, whatever allows;
 *  4. else an ALLOW entry matching likewise permits, where Read, Write,
 *     Delete and Alter each imply Describe, and AlterConfigs implies
 *     DescribeConfigs (Kafka's implied operations; a DENY never implies);
 *  5. else the request is refused.
 *
 * The numbers are Kafka's wire values (ResourceType, PatternType,
 * AclOperation, AclPermissionType in org.apache.kafka.common), so the Kafka
 * and native ACL APIs carry them unchanged.
 */
import type { Principal } from './principal.js';

/** Kafka's ResourceType codes; ANY only in filters. */
export const ResourceType = {
  Any: 1,
  Topic: 2,
  Group: 3,
  Cluster: 4,
  TransactionalId: 5,
} as const;
export type ResourceType = (typeof ResourceType)[keyof typeof ResourceType];
/** The types an ACL itself may name (not ANY). */
export type ConcreteResourceType = Exclude<ResourceType, typeof ResourceType.Any>;

/** Kafka's PatternType codes; ANY and MATCH only in filters. */
export const PatternType = {
  Any: 1,
  Match: 2,
  Literal: 3,
  Prefixed: 4,
} as const;
export type PatternType = (typeof PatternType)[keyof typeof PatternType];
export type ConcretePatternType = typeof PatternType.Literal | typeof PatternType.Prefixed;

/** Kafka's AclOperation codes; ANY only in filters. */
export const AclOperation = {
  Any: 1,
  All: 2,
  Read: 3,
  Write: 4,
  Create: 5,
  Delete: 6,
  Alter: 7,
  Describe: 8,
  ClusterAction: 9,
  DescribeConfigs: 10,
  AlterConfigs: 11,
  IdempotentWrite: 12,
} as const;
export type AclOperation = (typeof AclOperation)[keyof typeof AclOperation];

/** Kafka's AclPermissionType codes; ANY only in filters. */
export const AclPermission = { Any: 1, Deny: 2, Allow: 3 } as const;
export type AclPermission = (typeof AclPermission)[keyof typeof AclPermission];

/** The one name a Cluster resource has (Kafka's `kafka-cluster`). */
export const clusterResourceName = 'kafka-cluster';
/** The resource name that matches every name of its type (LITERAL only). */
export const wildcardResource = '*';
/** The principal that matches every principal. */
export const wildcardPrincipal = 'User:*';
/** The host that matches every host. */
export const wildcardHost = '*';

export interface ResourcePattern {
  resourceType: ConcreteResourceType;
  name: string;
  patternType: ConcretePatternType;
}

export interface AclEntry {
  principal: Principal;
  host: string;
  operation: Exclude<AclOperation, typeof AclOperation.Any>;
  permission: Exclude<AclPermission, typeof AclPermission.Any>;
}

export interface AclBinding {
  pattern: ResourcePattern;
  entry: AclEntry;
}

/** A Describe/Delete filter (Kafka's AclBindingFilter): null fields and the ANY codes match everything. */
export interface AclBindingFilter {
  resourceType: ResourceType;
  name: string | null;
  patternType: PatternType;
  principal: string | null;
  host: string | null;
  operation: AclOperation;
  permission: AclPermission;
}

/** The resource a request touches (always a concrete name). */
export interface Resource {
  resourceType: ConcreteResourceType;
  name: string;
}

export interface AuthorizerOptions {
  /** `super.users`: principals allowed everything. */
  superUsers: ReadonlySet<string>;
  /** `allow.everyone.if.no.acl.found`: what a resource with no ACL at all answers. */
  allowEveryoneIfNoAclFound: boolean;
}

const names = (table: Record<string, number>) =>
  new Map(Object.entries(table).map(([name, code]) => [code, name] as const));
const resourceTypeNames = names(ResourceType);
const patternTypeNames = names(PatternType);
const operationNames = names(AclOperation);
const permissionNames = names(AclPermission);

/** Kafka's spelling of each (Topic, Group, Cluster, TransactionalId; Literal, Prefixed; Read, ...; Allow, Deny). */
export function resourceTypeName(code: number): string {
  return resourceTypeNames.get(code) ?? `Unknown(${code})`;
}
export function patternTypeName(code: number): string {
  return patternTypeNames.get(code) ?? `Unknown(${code})`;
}
export function operationName(code: number): string {
  return operationNames.get(code) ?? `Unknown(${code})`;
}
export function permissionName(code: number): string {
  return permissionNames.get(code) ?? `Unknown(${code})`;
}

/** Parses a name case-insensitively (`read`, `READ`, `Read`; `transactional-id`, `TransactionalId`). */
function byName<T extends number>(table: Record<string, T>, text: string): T | undefined {
  const want = text.replace(/[-_]/g, '').toLowerCase();
  for (const [name, code] of Object.entries(table)) if (name.toLowerCase() === want) return code;
  return undefined;
}
export function parseResourceType(text: string): ResourceType | undefined {
  return byName(ResourceType, text);
}
export function parsePatternType(text: string): PatternType | undefined {
  return byName(PatternType, text);
}
export function parseOperation(text: string): AclOperation | undefined {
  return byName(AclOperation, text);
}
export function parsePermission(text: string): AclPermission | undefined {
  return byName(AclPermission, text);
}

/** The operations an ACL on each resource type may name (Kafka's AclEntry.supportedOperations), All included. */
export const supportedOperations: Readonly<Record<ConcreteResourceType, readonly AclOperation[]>> = {
  [ResourceType.Topic]: [
    AclOperation.All,
    AclOperation.Read,
    AclOperation.Write,
    AclOperation.Create,
    AclOperation.Describe,
    AclOperation.Delete,
    AclOperation.Alter,
    AclOperation.DescribeConfigs,
    AclOperation.AlterConfigs,
  ],
  [ResourceType.Group]: [AclOperation.All, AclOperation.Read, AclOperation.Describe, AclOperation.Delete],
  [ResourceType.Cluster]: [
    AclOperation.All,
    AclOperation.Create,
    AclOperation.ClusterAction,
    AclOperation.DescribeConfigs,
    AclOperation.AlterConfigs,
    AclOperation.IdempotentWrite,
    AclOperation.Alter,
    AclOperation.Describe,
  ],
  [ResourceType.TransactionalId]: [AclOperation.All, AclOperation.Describe, AclOperation.Write],
};

function isConcreteResourceType(t: number): t is ConcreteResourceType {
  return (
    t === ResourceType.Topic ||
    t === ResourceType.Group ||
    t === ResourceType.Cluster ||
    t === ResourceType.TransactionalId
  );
}

/**
 * Why `binding` cannot be stored, or undefined when it can (Kafka's checks in
 * CreateAcls: known types, a non-empty name, the cluster's one name, an
 * operation the resource type supports, a principal of the form `Type:name`).
 */
export function invalidBinding(binding: {
  pattern: { resourceType: number; name: string; patternType: number };
  entry: {
    principal: string;
    host: string;
    operation: number;
    permission: number;
  };
}): string | undefined {
  const { pattern, entry } = binding;
  if (!isConcreteResourceType(pattern.resourceType)) return `invalid resource type ${pattern.resourceType}`;
  if (pattern.patternType !== PatternType.Literal && pattern.patternType !== PatternType.Prefixed) {
    return `invalid pattern type ${pattern.patternType}: an ACL is LITERAL or PREFIXED`;
  }
  if (pattern.name === '') return 'invalid empty resource name';
  if (pattern.name.includes('/')) return `invalid resource name ${pattern.name}: it contains '/'`;
  if (pattern.resourceType === ResourceType.Cluster && pattern.name !== clusterResourceName) {
    return `the only valid name for the CLUSTER resource is ${clusterResourceName}`;
  }
  if (!/^[^:]+:.+$/.test(entry.principal))
    return `invalid principal ${entry.principal}: expected Type:name (User:alice)`;
  if (entry.host === '') return 'invalid empty host';
  if (entry.permission !== AclPermission.Allow && entry.permission !== AclPermission.Deny) {
    return `invalid permission type ${entry.permission}`;
  }
  if (!supportedOperations[pattern.resourceType].includes(entry.operation as AclOperation)) {
    return `operation ${operationName(entry.operation)} is not valid on a ${resourceTypeName(pattern.resourceType)} resource`;
  }
  return undefined;
}

/** True when `pattern` applies to `resource` (literal name, literal `*`, or a prefix of the name). */
export function patternApplies(pattern: ResourcePattern, resource: Resource): boolean {
  if (pattern.resourceType !== resource.resourceType) return false;
  if (pattern.patternType === PatternType.Prefixed) return resource.name.startsWith(pattern.name);
  return pattern.name === resource.name || pattern.name === wildcardResource;
}

/** The operations an ALLOW of each operation grants besides itself (Kafka's implied operations). */
function allowGrants(allowed: AclOperation, asked: AclOperation): boolean {
  if (allowed === AclOperation.All || allowed === asked) return true;
  if (asked === AclOperation.Describe) {
    return (
      allowed === AclOperation.Read ||
      allowed === AclOperation.Write ||
      allowed === AclOperation.Delete ||
      allowed === AclOperation.Alter
    );
  }
  if (asked === AclOperation.DescribeConfigs) return allowed === AclOperation.AlterConfigs;
  return false;
}

function entryMatches(entry: AclEntry, principal: Principal, host: string): boolean {
  return (
    (entry.principal === principal || entry.principal === wildcardPrincipal) &&
    (entry.host === host || entry.host === wildcardHost)
  );
}

/** Kafka's AclAuthorizer decision for one (principal, host, operation, resource), over the ACLs that apply. */
export function authorize(
  acls: Iterable<AclBinding>,
  options: AuthorizerOptions,
  principal: Principal,
  host: string,
  operation: AclOperation,
  resource: Resource,
): boolean {
  if (options.superUsers.has(principal)) return true;
  let any = false;
  let allowed = false;
  for (const { pattern, entry } of acls) {
    if (!patternApplies(pattern, resource)) continue;
    any = true;
    if (!entryMatches(entry, principal, host)) continue;
    if (entry.permission === AclPermission.Deny) {
      if (entry.operation === operation || entry.operation === AclOperation.All) return false;
    } else if (allowGrants(entry.operation, operation)) {
      allowed = true;
    }
  }
  if (!any) return options.allowEveryoneIfNoAclFound;
  return allowed;
}

/** Kafka's ResourcePatternFilter.matches: does the filter select this stored pattern. */
export function filterMatchesPattern(filter: AclBindingFilter, pattern: ResourcePattern): boolean {
  if (filter.resourceType !== ResourceType.Any && filter.resourceType !== pattern.resourceType) return false;
  if (
    filter.patternType !== PatternType.Any &&
    filter.patternType !== PatternType.Match &&
    filter.patternType !== pattern.patternType
  ) {
    return false;
  }
  if (filter.name === null) return true;
  if (filter.patternType === PatternType.Any || filter.patternType === pattern.patternType) {
    return filter.name === pattern.name;
  }
  // MATCH: the stored patterns that would apply to a resource of that name
  return pattern.patternType === PatternType.Prefixed
    ? filter.name.startsWith(pattern.name)
    : filter.name === pattern.name || pattern.name === wildcardResource;
}

/** Kafka's AccessControlEntryFilter.matches: exact fields (no wildcard expansion), null/ANY match all. */
export function filterMatchesEntry(filter: AclBindingFilter, entry: AclEntry): boolean {
  return (
    (filter.principal === null || filter.principal === entry.principal) &&
    (filter.host === null || filter.host === entry.host) &&
    (filter.operation === AclOperation.Any || filter.operation === entry.operation) &&
    (filter.permission === AclPermission.Any || filter.permission === entry.permission)
  );
}

export function filterMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  return filterMatchesPattern(filter, binding.pattern) && filterMatchesEntry(filter, binding.entry);
}

/** The same ACL (pattern and entry) — a store keeps each once. */
export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return (
    a.pattern.resourceType === b.pattern.resourceType &&
    a.pattern.name === b.pattern.name &&
    a.pattern.patternType === b.pattern.patternType &&
    a.entry.principal === b.entry.principal &&
    a.entry.host === b.entry.host &&
    a.entry.operation === b.entry.operation &&
    a.entry.permission === b.entry.permission
  );
}

/** Parses `super.users` as Kafka does: principals separated by `;`, blanks ignored. */
export function parseSuperUsers(value: string): Set<string> {
  return new Set(
    value
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
}

/**
 * One resource's ACLs as Kafka writes them in its znode
 * (`{"version":1,"acls":[{"principal","permissionType":"Allow","operation":"Read","host"}]}`),
 * with Kafka's spellings of operations (Read, IdempotentWrite, ...) and permission types.
 */
export interface AclZnodeJson {
  version: 1;
  acls: {
    principal: string;
    permissionType: string;
    operation: string;
    host: string;
  }[];
}

export function entriesToJson(entries: readonly AclEntry[]): AclZnodeJson {
  return {
    version: 1,
    acls: entries.map((e) => ({
      principal: e.principal,
      permissionType: permissionName(e.permission),
      operation: operationName(e.operation),
      host: e.host,
    })),
  };
}

/** The entries of an ACL znode's JSON; an entry with an unknown operation or permission is left out. */
export function entriesFromJson(json: unknown): AclEntry[] {
  const acls = (json as { acls?: unknown } | null)?.acls;
  if (!Array.isArray(acls)) return [];
  const out: AclEntry[] = [];
  for (const a of acls as {
    principal?: unknown;
    permissionType?: unknown;
    operation?: unknown;
    host?: unknown;
  }[]) {
    if (typeof a?.principal !== 'string' || typeof a.host !== 'string') continue;
    const operation = typeof a.operation === 'string' ? parseOperation(a.operation) : undefined;
    const permission = typeof a.permissionType === 'string' ? parsePermission(a.permissionType) : undefined;
    if (operation === undefined || operation === AclOperation.Any) continue;
    if (permission === undefined || permission === AclPermission.Any) continue;
    out.push({ principal: a.principal, host: a.host, operation, permission });
  }
  return out;
}

/** Kafka's resource type spelling in znode paths (`Topic`, `Group`, `Cluster`, `TransactionalId`). */
export function resourceTypePathName(t: ConcreteResourceType): string {
  return resourceTypeName(t);
}

/** A readable one-line form for logs and the CLI. */
export function describeBinding(b: AclBinding): string {
  return (
    `${permissionName(b.entry.permission)} ${b.entry.principal} from ${b.entry.host} ` +
    `${operationName(b.entry.operation)} on ${resourceTypeName(b.pattern.resourceType)}:` +
    `${patternTypeName(b.pattern.patternType).toUpperCase()}:${b.pattern.name}`
  );
}

/** A wire code as one of the enums above (each is the integers 1..its largest code): the guards the ACL APIs type their requests with. */
const codeUpTo = (code: number, max: number): boolean => Number.isInteger(code) && code >= 1 && code <= max;
export const isResourceType = (code: number): code is ResourceType => codeUpTo(code, ResourceType.TransactionalId);
export const isPatternType = (code: number): code is PatternType => codeUpTo(code, PatternType.Prefixed);
export const isAclOperation = (code: number): code is AclOperation => codeUpTo(code, AclOperation.IdempotentWrite);
export const isAclPermission = (code: number): code is AclPermission => codeUpTo(code, AclPermission.Allow);
