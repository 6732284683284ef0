/**
 * ACLs in ZooKeeper, where Kafka's ZooKeeper-era AclAuthorizer keeps them, so
 * Kafka's tools and zkCli.sh read the same tree:
 *
 *   /kafka-acl/<ResourceType>/<name>                       LITERAL patterns
 *   /kafka-acl-extended/prefixed/<ResourceType>/<name>     PREFIXED patterns
 *       {"version":1,"acls":[{"principal","permissionType":"Allow","operation":"Read","host":"*"}]}
 *   /kafka-acl-changes/acl_changes_<seq>                   "Topic:<name>" (a LITERAL resource changed)
 *   /kafka-acl-extended-changes/acl_changes_<seq>          {"version":1,"resourceType","name","patternType":"PREFIXED"}
 *
 * A resource's znode is written conditionally (read, change, set at the read
 * version; retried when another writer got there first), then a change
 * notification is created: every broker watches both notification paths and
 * reloads its ACL cache when a notification appears. The writer keeps only
 * the newest aclChangeNotificationsKept notifications.
 */
import {
  type AclBinding,
  type AclEntry,
  type ConcreteResourceType,
  entriesFromJson,
  entriesToJson,
  PatternType,
  parseResourceType,
  type ResourcePattern,
  ResourceType,
  resourceTypeName,
} from '../../security/acl.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { aclChangeNotificationsKept } from '../../shared/limits.js';
import { isZkError, type ZkClient, ZkCode } from './zk-client.js';

export const literalAclPath = '/kafka-acl';
export const prefixedAclPath = '/kafka-acl-extended/prefixed';
export const literalAclChangesPath = '/kafka-acl-changes';
export const extendedAclChangesPath = '/kafka-acl-extended-changes';
/** Kafka's AclChangeNotificationSequenceZNode prefix. */
export const aclChangePrefix = 'acl_changes_';

/** Persistent parents every broker makes sure of. */
export const aclPersistentPaths = [literalAclPath, prefixedAclPath, literalAclChangesPath, extendedAclChangesPath];

const concreteTypes: ConcreteResourceType[] = [
  ResourceType.Topic,
  ResourceType.Group,
  ResourceType.Cluster,
  ResourceType.TransactionalId,
];

const basePath = (patternType: PatternType): string =>
  patternType === PatternType.Prefixed ? prefixedAclPath : literalAclPath;

export function aclZnodePath(pattern: ResourcePattern): string {
  return `${basePath(pattern.patternType)}/${resourceTypeName(pattern.resourceType)}/${pattern.name}`;
}

/** Every ACL stored, read from both trees. */
export async function loadAcls(zk: ZkClient): Promise<AclBinding[]> {
  const out: AclBinding[] = [];
  for (const patternType of [PatternType.Literal, PatternType.Prefixed] as const) {
    for (const typeName of await zk.children(basePath(patternType))) {
      const resourceType = parseResourceType(typeName);
      if (resourceType === undefined || resourceType === ResourceType.Any) continue;
      for (const name of await zk.children(`${basePath(patternType)}/${typeName}`)) {
        const node = await zk.get(`${basePath(patternType)}/${typeName}/${name}`);
        if (!node || node.data === '') continue;
        let json: unknown;
        try {
          json = JSON.parse(node.data);
        } catch {
          continue; // not an ACL znode Sluice or Kafka wrote: ignored, as Kafka's cache skips what it cannot read
        }
        const pattern: ResourcePattern = { resourceType, name, patternType };
        for (const entry of entriesFromJson(json)) out.push({ pattern, entry });
      }
    }
  }
  return out;
}

function changeNotification(pattern: ResourcePattern): {
  path: string;
  data: string;
} {
  if (pattern.patternType === PatternType.Literal) {
    return {
      path: literalAclChangesPath,
      data: `${resourceTypeName(pattern.resourceType)}:${pattern.name}`,
    };
  }
  return {
    path: extendedAclChangesPath,
    data: JSON.stringify({
      version: 1,
      resourceType: resourceTypeName(pattern.resourceType),
      name: pattern.name,
      patternType: 'PREFIXED',
    }),
  };
}

/**
 * Rewrites one resource's ACLs: `change` gets the stored entries and returns
 * the new ones (the same array when nothing changes: nothing is written). An
 * empty result deletes the znode. Returns the entries before the change.
 */
export async function updateResourceAcls(
  zk: ZkClient,
  pattern: ResourcePattern,
  change: (entries: AclEntry[]) => AclEntry[],
): Promise<AclEntry[]> {
  const path = aclZnodePath(pattern);
  for (let attempt = 0; attempt < 10; attempt++) {
    const node = await zk.get(path);
    let before: AclEntry[] = [];
    if (node && node.data !== '') {
      try {
        before = entriesFromJson(JSON.parse(node.data));
      } catch {
        before = [];
      }
    }
    const after = change(before);
    if (after === before) return before;
    try {
      if (after.length === 0) {
        if (node) await zk.delete(path, node.version);
      } else if (node) {
        await zk.set(path, JSON.stringify(entriesToJson(after)), node.version);
      } else {
        await zk.ensurePath(path.slice(0, path.lastIndexOf('/')));
        await zk.create(path, JSON.stringify(entriesToJson(after)), 'persistent');
      }
    } catch (err) {
      if (isZkError(err, ZkCode.BadVersion) || isZkError(err, ZkCode.NodeExists) || isZkError(err, ZkCode.NoNode)) {
        continue;
      }
      throw err;
    }
    const note = changeNotification(pattern);
    await zk.createSequential(`${note.path}/${aclChangePrefix}`, note.data);
    await purgeAclChanges(zk, note.path);
    return before;
  }
  throw new SluiceError(ErrorCode.Timeout, `the ACLs of ${aclZnodePath(pattern)} kept changing under this update`);
}

/** Keeps the newest aclChangeNotificationsKept notifications (names sort by their zero-padded sequence). */
async function purgeAclChanges(zk: ZkClient, path: string): Promise<void> {
  const children = (await zk.children(path)).sort();
  for (const child of children.slice(0, Math.max(0, children.length - aclChangeNotificationsKept))) {
    try {
      await zk.delete(`${path}/${child}`);
    } catch (err) {
      if (!isZkError(err, ZkCode.NoNode)) throw err;
    }
  }
}

/** The resource types an ACL tree has directories for (for tests and tools). */
export const aclResourceTypes: readonly ConcreteResourceType[] = concreteTypes;
