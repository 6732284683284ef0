/**
 * Authorization of requests (issue 17): the one place handlers ask whether a
 * client may do an operation on a resource. With `authorizer.enabled=false`
 * the context has no authorizer and every check is one `undefined` test.
 *
 * What each API checks is Kafka's (KafkaApis in Kafka 3.x):
 *
 *   Produce                Write on each topic                       TOPIC_AUTHORIZATION_FAILED per partition
 *   Fetch (consumer)       Read on each topic                        per partition
 *   Fetch (follower)       ClusterAction on the cluster              every partition TOPIC_AUTHORIZATION_FAILED (a Kafka
 *                          client's replica_id >= 0 too; allowed, it is served as a consumer)
 *   ListOffsets            Describe on each topic                    per partition
 *   Metadata               Describe on each topic (unauthorized topics left out of an all-topics answer,
 *                          TOPIC_AUTHORIZATION_FAILED when named); auto-creation needs Create on the cluster or topic
 *   OffsetForLeaderEpoch   Describe on each topic (ClusterAction on the cluster for a follower)
 *   OffsetCommit           Read on the group, Read on each topic
 *   OffsetFetch            Describe on the group, Describe on each topic (unauthorized ones left out of "all")
 *   FindCoordinator        Describe on the group (each key of a v4 batch on its own, GROUP_AUTHORIZATION_FAILED per key)
 *   Join/Sync/Heartbeat/LeaveGroup   Read on the group                GROUP_AUTHORIZATION_FAILED
 *   DescribeGroups         Describe on each group
 *   ListGroups             Describe on the cluster, else only the groups the client may Describe
 *   DeleteGroups           Delete on each group
 *   CreateTopics           Create on the cluster, else Create on each topic
 *   DeleteTopics           Delete on each topic
 *   DeleteRecords          Delete on each topic
 *   CreatePartitions       Alter on each topic
 *   DescribeConfigs        DescribeConfigs on the topic / the cluster (broker resources)
 *   (Incremental)AlterConfigs   AlterConfigs on the topic / the cluster
 *   Alter/ListPartitionReassignments   Alter / Describe on the cluster   CLUSTER_AUTHORIZATION_FAILED
 *   DescribeLogDirs        Describe on the cluster                     CLUSTER_AUTHORIZATION_FAILED
 *   InitProducerId         IdempotentWrite on the cluster, or Write on any topic
 *   Create/DeleteAcls      Alter on the cluster; DescribeAcls: Describe on the cluster
 *   Alter/DescribeUserScramCredentials   Alter / Describe on the cluster
 *   Queue send / receive   Write / Read on the queue's name as a Topic resource (its log __queue.<q> too); QueueAdmin stats and browse:
 *                          Describe, purge: Delete, redrive: Alter on it; list: Describe on the cluster
 *
 * Denials are logged (principal, operation, resource, host) through a
 * RateLimitedLog, so a client retrying a refused request cannot flood the log.
 */
import {
  type AclBinding,
  AclOperation,
  AclPermission,
  type AuthorizerOptions,
  authorize,
  type ConcreteResourceType,
  clusterResourceName,
  operationName,
  PatternType,
  parseSuperUsers,
  ResourceType,
  resourceTypeName,
  supportedOperations,
  wildcardHost,
  wildcardPrincipal,
  wildcardResource,
} from '../security/acl.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { queueTopicNamePrefix } from '../shared/internal-topics.js';
import { aclDenialLogLinesPerWindow, aclDenialLogWindowMs } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { RateLimitedLog } from '../shared/rate-limited-log.js';
import type { Authorizer, ClientInfo, HandlerContext } from './context.js';

/** The authorizer a broker with `authorizer.enabled=true` puts in its handler context. */
export class AclAuthorizer implements Authorizer {
  private readonly denials: RateLimitedLog;

  constructor(
    private readonly acls: () => readonly AclBinding[],
    private readonly options: AuthorizerOptions,
    logger: Logger,
  ) {
    this.denials = new RateLimitedLog(logger, {
      linesPerWindow: aclDenialLogLinesPerWindow,
      windowMs: aclDenialLogWindowMs,
      summary: 'more authorization denials were not logged',
    });
  }

  /** From the broker config keys (`super.users`, `allow.everyone.if.no.acl.found`). */
  static options(superUsers: string, allowEveryoneIfNoAclFound: boolean): AuthorizerOptions {
    return { superUsers: parseSuperUsers(superUsers), allowEveryoneIfNoAclFound };
  }

  /** `logDenial` false: a listing leaves the resource out quietly (Kafka logs those at debug only). */
  allows(
    client: ClientInfo,
    operation: AclOperation,
    resourceType: ConcreteResourceType,
    name: string,
    logDenial = true,
  ): boolean {
    const host = clientAddress(client.clientHost);
    const resource = { resourceType, name: aclResourceName(resourceType, name) };
    const ok = authorize(this.acls(), this.options, client.principal, host, operation, resource);
    if (!ok && logDenial) {
      this.denials.info(
        {
          principal: client.principal,
          operation: operationName(operation),
          resource: `${resourceTypeName(resourceType)}:${resource.name}`,
          host,
          clientId: client.clientId,
        },
        'authorization denied',
      );
    }
    return ok;
  }

  /**
   * Kafka's authorizeByResourceType: may the client do `operation` on some
   * resource of the type (InitProducerId's "Write on any topic")? True when an
   * ALLOW for it exists that no DENY covers (a DENY on the literal `*`, on the
   * same literal name, or on a prefix of the allowed name).
   */
  allowsAny(client: ClientInfo, operation: AclOperation, resourceType: ConcreteResourceType): boolean {
    if (this.options.superUsers.has(client.principal)) return true;
    const host = clientAddress(client.clientHost);
    const applies = (b: AclBinding) =>
      b.pattern.resourceType === resourceType &&
      (b.entry.principal === client.principal || b.entry.principal === wildcardPrincipal) &&
      (b.entry.host === host || b.entry.host === wildcardHost) &&
      (b.entry.operation === operation || b.entry.operation === AclOperation.All);
    const acls = this.acls();
    const denies = acls.filter((b) => applies(b) && b.entry.permission === AclPermission.Deny);
    if (denies.some((d) => d.pattern.patternType === PatternType.Literal && d.pattern.name === wildcardResource)) {
      return false;
    }
    const covered = (allow: AclBinding) =>
      denies.some((d) =>
        d.pattern.patternType === PatternType.Prefixed
          ? allow.pattern.name.startsWith(d.pattern.name)
          : allow.pattern.patternType === PatternType.Literal && d.pattern.name === allow.pattern.name,
      );
    if (acls.some((b) => applies(b) && b.entry.permission === AclPermission.Allow && !covered(b))) return true;
    return this.options.allowEveryoneIfNoAclFound && !acls.some((b) => b.pattern.resourceType === resourceType);
  }

  close(): void {
    this.denials.flush();
  }
}

/**
 * The name ACLs know a resource by: a queue's log topic (`__queue.<q>`, which
 * the queue clients look up in Metadata) is the queue's own name, so one ACL
 * on Topic `<q>` covers the queue APIs and its log alike.
 */
export function aclResourceName(resourceType: ConcreteResourceType, name: string): string {
  return resourceType === ResourceType.Topic && name.startsWith(queueTopicNamePrefix)
    ? name.slice(queueTopicNamePrefix.length)
    : name;
}

/** The client's address as Kafka's ACL hosts name it: an IPv4-mapped IPv6 address as plain IPv4. */
export function clientAddress(remoteAddress: string): string {
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
}

/** True when the client may; always true without an authorizer (authorizer.enabled=false). */
export function allowed(
  ctx: HandlerContext,
  client: ClientInfo,
  operation: AclOperation,
  resourceType: ConcreteResourceType,
  name: string,
  logDenial = true,
): boolean {
  return ctx.authorizer === undefined || ctx.authorizer.allows(client, operation, resourceType, name, logDenial);
}

/** Throws TOPIC_AUTHORIZATION_FAILED unless the client may do `operation` on the topic. */
export function checkTopic(ctx: HandlerContext, client: ClientInfo, operation: AclOperation, topic: string): void {
  if (!allowed(ctx, client, operation, ResourceType.Topic, topic)) {
    throw new SluiceError(
      ErrorCode.TopicAuthorizationFailed,
      `${client.principal} is not authorized to ${operationName(operation)} topic ${topic}`,
    );
  }
}

/** Throws GROUP_AUTHORIZATION_FAILED unless the client may do `operation` on the group. */
export function checkGroup(ctx: HandlerContext, client: ClientInfo, operation: AclOperation, group: string): void {
  if (!allowed(ctx, client, operation, ResourceType.Group, group)) {
    throw new SluiceError(
      ErrorCode.GroupAuthorizationFailed,
      `${client.principal} is not authorized to ${operationName(operation)} group ${group}`,
    );
  }
}

/** True when the client may do `operation` on the cluster. */
export function allowedOnCluster(
  ctx: HandlerContext,
  client: ClientInfo,
  operation: AclOperation,
  logDenial = true,
): boolean {
  return allowed(ctx, client, operation, ResourceType.Cluster, clusterResourceName, logDenial);
}

/** Throws CLUSTER_AUTHORIZATION_FAILED unless the client may do `operation` on the cluster. */
export function checkCluster(ctx: HandlerContext, client: ClientInfo, operation: AclOperation): void {
  if (!allowedOnCluster(ctx, client, operation)) {
    throw new SluiceError(
      ErrorCode.ClusterAuthorizationFailed,
      `${client.principal} is not authorized to ${operationName(operation)} the cluster`,
    );
  }
}

/**
 * KIP-430: the operations the client may do on the resource, as Kafka's bit
 * field (bit N: AclOperation N), over the operations the resource type
 * supports; without an authorizer, every one of them.
 */
export function authorizedOperations(
  ctx: HandlerContext,
  client: ClientInfo,
  resourceType: ConcreteResourceType,
  name: string,
): number {
  let bits = 0;
  for (const op of supportedOperations[resourceType]) {
    if (op === AclOperation.All) continue;
    if (allowed(ctx, client, op, resourceType, name, false)) bits |= 1 << op;
  }
  return bits;
}

export { AclOperation };
