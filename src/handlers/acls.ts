/**
 * CreateAcls, DescribeAcls and DeleteAcls (Kafka's 30, 29, 31; issue 17):
 * ACLs kept by the coordinator (ZooKeeper's /kafka-acl tree in a cluster, the
 * broker's LevelDB standalone). Without the authorizer they answer
 * SECURITY_DISABLED, as Kafka does with no authorizer configured. The
 * cluster-level checks (Alter to create or delete, Describe to list) are in
 * request-authorization.ts. A creation Kafka would refuse (an unknown type,
 * an operation the resource type has not, a Cluster not named kafka-cluster)
 * answers INVALID_REQUEST for that creation only.
 */

import type { Coordinator } from '../coordination/coordinator.js';
import type { AclBindingWire, AclFilterWire, DescribeAclsResponse } from '../protocol/native/acl-messages.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { AclBinding, AclBindingFilter } from '../security/acl.js';
import {
  AclOperation,
  AclPermission,
  describeBinding,
  filterMatches,
  invalidBinding,
  isAclOperation,
  isAclPermission,
  isPatternType,
  isResourceType,
  PatternType,
  ResourceType,
} from '../security/acl.js';
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError, toWireError, WireError } from '../shared/errors.js';
import type { Handler, HandlerContext } from './context.js';

type AclStore = Required<Pick<Coordinator, 'acls' | 'createAcls' | 'deleteAcls'>>;

function store(ctx: HandlerContext): AclStore {
  const c = ctx.coordinator;
  if (!ctx.authorizer || !c.acls || !c.createAcls || !c.deleteAcls) {
    throw new SluiceError(
      ErrorCode.SecurityDisabled,
      'ACLs are not enabled on this broker: set authorizer.enabled=true (and super.users) in its properties',
    );
  }
  return { acls: c.acls.bind(c), createAcls: c.createAcls.bind(c), deleteAcls: c.deleteAcls.bind(c) };
}

/** The binding a creation names, or why it cannot be stored (invalidBinding). */
function fromWire(b: AclBindingWire): AclBinding | string {
  const pattern = { resourceType: b.resourceType, name: b.resourceName, patternType: b.patternType };
  const entry = { principal: b.principal, host: b.host, operation: b.operation, permission: b.permission };
  const why = invalidBinding({ pattern, entry });
  if (why !== undefined) return why;
  const { resourceType, patternType } = pattern;
  const { operation, permission } = entry;
  // invalidBinding accepted only concrete codes: this tells the type checker so
  assert(
    isResourceType(resourceType) &&
      resourceType !== ResourceType.Any &&
      (patternType === PatternType.Literal || patternType === PatternType.Prefixed) &&
      isAclOperation(operation) &&
      operation !== AclOperation.Any &&
      (permission === AclPermission.Allow || permission === AclPermission.Deny),
    `invalidBinding let an unknown code through: ${b.resourceType}/${b.patternType}/${b.operation}/${b.permission}`,
  );
  return { pattern: { ...pattern, resourceType, patternType }, entry: { ...entry, operation, permission } };
}

function toWire(b: AclBinding): AclBindingWire {
  return {
    resourceType: b.pattern.resourceType,
    resourceName: b.pattern.name,
    patternType: b.pattern.patternType,
    principal: b.entry.principal,
    host: b.entry.host,
    operation: b.entry.operation,
    permission: b.entry.permission,
  };
}

/** The filter, or why it cannot select anything well-defined (Kafka refuses UNKNOWN codes, 0). */
function filterOf(f: AclFilterWire): AclBindingFilter | string {
  const { resourceType, patternType, operation, permission } = f;
  if (!isResourceType(resourceType)) return `invalid resource type filter ${resourceType}`;
  if (!isPatternType(patternType)) return `invalid pattern type filter ${patternType}`;
  if (!isAclOperation(operation)) return `invalid operation filter ${operation}`;
  if (!isAclPermission(permission)) return `invalid permission type filter ${permission}`;
  return {
    resourceType,
    name: f.resourceName,
    patternType,
    principal: f.principal,
    host: f.host,
    operation,
    permission,
  };
}

const isFilter = (f: AclBindingFilter | string): f is AclBindingFilter => typeof f !== 'string';

export const createAclsHandler: Handler<typeof ApiKey.CreateAcls> = {
  apiKey: ApiKey.CreateAcls,
  async handle(request, ctx, client) {
    const acls = store(ctx);
    const bindings = request.creations.map(fromWire);
    const results = bindings.map((b) =>
      typeof b === 'string' ? { errorCode: WireError.INVALID_REQUEST, errorMessage: b } : { errorCode: 0 },
    );
    const valid = bindings.filter((b): b is AclBinding => typeof b !== 'string');
    if (valid.length > 0) {
      try {
        await acls.createAcls(valid);
        for (const b of valid) ctx.logger.info({ principal: client.principal, acl: describeBinding(b) }, 'ACL created');
      } catch (err) {
        const failed = toWireError(err);
        return { errorCode: 0, results: results.map((r) => (r.errorCode === 0 ? failed : r)) };
      }
    }
    return { errorCode: 0, results };
  },
};

export const describeAclsHandler: Handler<typeof ApiKey.DescribeAcls> = {
  apiKey: ApiKey.DescribeAcls,
  async handle(request, ctx) {
    const acls = store(ctx);
    const filter = filterOf(request);
    if (!isFilter(filter)) throw new SluiceError(ErrorCode.InvalidRequest, filter);
    const resources = new Map<string, DescribeAclsResponse['resources'][number]>();
    for (const b of acls.acls()) {
      if (!filterMatches(filter, b)) continue;
      const key = `${b.pattern.resourceType}\u0000${b.pattern.patternType}\u0000${b.pattern.name}`;
      let resource = resources.get(key);
      if (!resource) {
        resource = {
          resourceType: b.pattern.resourceType,
          resourceName: b.pattern.name,
          patternType: b.pattern.patternType,
          acls: [],
        };
        resources.set(key, resource);
      }
      resource.acls.push({ ...b.entry });
    }
    return { errorCode: 0, resources: [...resources.values()] };
  },
};

export const deleteAclsHandler: Handler<typeof ApiKey.DeleteAcls> = {
  apiKey: ApiKey.DeleteAcls,
  async handle(request, ctx, client) {
    const acls = store(ctx);
    const filters = request.filters.map(filterOf);
    const valid = filters.filter(isFilter);
    let deleted: AclBinding[][] = [];
    let failure: { errorCode: number; errorMessage: string } | undefined;
    try {
      deleted = valid.length > 0 ? await acls.deleteAcls(valid) : [];
      for (const b of deleted.flat()) {
        ctx.logger.info({ principal: client.principal, acl: describeBinding(b) }, 'ACL deleted');
      }
    } catch (err) {
      failure = toWireError(err);
    }
    let next = 0;
    return {
      errorCode: 0,
      filterResults: filters.map((f) => {
        if (!isFilter(f)) return { errorCode: WireError.INVALID_REQUEST, errorMessage: f, matchingAcls: [] };
        const matched = deleted[next++] ?? [];
        if (failure) return { ...failure, matchingAcls: [] };
        return { errorCode: 0, matchingAcls: matched.map((b) => ({ errorCode: 0, ...toWire(b) })) };
      }),
    };
  },
};
