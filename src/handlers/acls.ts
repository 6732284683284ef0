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
import { describeBinding, filterMatches, invalidBinding } from '../security/acl.js';
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
  return c as AclStore;
}

function fromWire(b: AclBindingWire): AclBinding {
  return {
    pattern: { resourceType: b.resourceType, name: b.resourceName, patternType: b.patternType },
    entry: { principal: b.principal, host: b.host, operation: b.operation, permission: b.permission },
  } as AclBinding;
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

function filterOf(f: AclFilterWire): AclBindingFilter {
  return {
    resourceType: f.resourceType,
    name: f.resourceName,
    patternType: f.patternType,
    principal: f.principal,
    host: f.host,
    operation: f.operation,
    permission: f.permission,
  } as AclBindingFilter;
}

/** Why a filter cannot select anything well-defined (Kafka refuses UNKNOWN codes, 0), or undefined. */
function invalidFilter(f: AclFilterWire): string | undefined {
  if (f.resourceType < 1 || f.resourceType > 5) return `invalid resource type filter ${f.resourceType}`;
  if (f.patternType < 1 || f.patternType > 4) return `invalid pattern type filter ${f.patternType}`;
  if (f.operation < 1 || f.operation > 12) return `invalid operation filter ${f.operation}`;
  if (f.permission < 1 || f.permission > 3) return `invalid permission type filter ${f.permission}`;
  return undefined;
}

export const createAclsHandler: Handler<typeof ApiKey.CreateAcls> = {
  apiKey: ApiKey.CreateAcls,
  async handle(request, ctx, client) {
    const acls = store(ctx);
    const results = request.creations.map((c) => {
      const why = invalidBinding(fromWire(c));
      return why === undefined ? { errorCode: 0 } : { errorCode: WireError.INVALID_REQUEST, errorMessage: why };
    });
    const valid = request.creations.filter((_, i) => results[i]?.errorCode === 0).map(fromWire);
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
    const why = invalidFilter(request);
    if (why) throw new SluiceError(ErrorCode.InvalidRequest, why);
    const filter = filterOf(request);
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
    const invalid = request.filters.map(invalidFilter);
    const valid = request.filters.filter((_, i) => invalid[i] === undefined).map(filterOf);
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
      filterResults: invalid.map((why) => {
        if (why !== undefined) return { errorCode: WireError.INVALID_REQUEST, errorMessage: why, matchingAcls: [] };
        const matched = deleted[next++] ?? [];
        if (failure) return { ...failure, matchingAcls: [] };
        return { errorCode: 0, matchingAcls: matched.map((b) => ({ errorCode: 0, ...toWire(b) })) };
      }),
    };
  },
};
