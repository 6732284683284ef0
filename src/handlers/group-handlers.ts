/**
 * The consumer-group APIs: the checks a request's shape cannot make here,
 * semantics in src/groups. (Small enough to share a file: each handler only
 * fills in defaults and delegates.) The group's refusals (isGroupRefusal) are
 * thrown SluiceErrors; each handler answers them in its API's shape, with
 * toWireError's code (and message, where the API has always carried one).
 */

import { isGroupRefusal, joinFailure } from '../groups/group.js';
import { offsetsPartitionFor, offsetsTopic } from '../groups/offset-store.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type {
  OffsetCommitRequest,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from '../protocol/native/group-messages.js';
import { ResourceType } from '../security/acl.js';
import { toWireError, WireError } from '../shared/errors.js';
import { transactionStateTopicName } from '../shared/internal-topics.js';
import { AclOperation, allowed, allowedOnCluster } from './authorize.js';
import { bad, type ClientInfo, type Handler, type HandlerContext, transactionsOf } from './context.js';
import { commitReadableTopics } from './offset-commit-topics.js';

const noBytes = Buffer.alloc(0);

/** `run`'s answer, or the refusal it throws answered by `refused`; any other error fails the request. */
async function orRefusal<T>(
  run: () => Promise<T> | T,
  refused: (wire: ReturnType<typeof toWireError>) => T,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isGroupRefusal(err)) throw err;
    return refused(toWireError(err));
  }
}

/**
 * FindCoordinator: Describe on each key is checked key by key (Kafka's
 * getCoordinator): a v4 batch answers the authorization error on the keys
 * refused and the coordinators of the others; one key is answered with its
 * own error. Key type 0: a consumer group, coordinated by the leader of its
 * `__consumer_offsets` partition; key type 1: a transactional id, by the
 * leader of its `__transaction_state` partition. The internal topic is made
 * on first need, for an authorized key only (Kafka's order).
 */
export const findCoordinatorHandler: Handler<typeof ApiKey.FindCoordinator> = {
  apiKey: ApiKey.FindCoordinator,
  async handle(request, ctx, client) {
    const keys = request.keys ?? [request.key];
    const txn = request.keyType === 1;
    const kind = txn
      ? {
          resource: ResourceType.TransactionalId,
          refusal: WireError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
          noun: 'transactional id',
        }
      : { resource: ResourceType.Group, refusal: WireError.GROUP_AUTHORIZATION_FAILED, noun: 'group' };
    const refused = new Set(keys.filter((key) => !allowed(ctx, client, AclOperation.Describe, kind.resource, key)));
    // a transaction log still being created has no coordinator yet: COORDINATOR_NOT_AVAILABLE, which
    // transactional clients retry (Kafka's answer; its leaders not being elected yet is no error of theirs)
    let unavailable: string | undefined;
    if (refused.size < keys.length) {
      if (!txn) await ctx.groups.offsets.ensureTopic();
      else {
        await transactionsOf(ctx)
          .store.ensureTopic()
          .catch((err: unknown) => {
            unavailable = `${transactionStateTopicName} is not ready: ${err instanceof Error ? err.message : String(err)}`;
          });
      }
    }
    const placeOf = (key: string) =>
      txn
        ? { topic: transactionStateTopicName, partition: transactionsOf(ctx).store.partitionFor(key) }
        : { topic: offsetsTopic, partition: offsetsPartitionFor(key) };
    const coordinatorOf = (key: string) => {
      if (refused.has(key)) {
        return {
          errorCode: kind.refusal,
          errorMessage: `${client.principal} is not authorized to Describe ${kind.noun} ${key}`,
          nodeId: -1,
          host: '',
          port: -1,
        };
      }
      if (unavailable !== undefined) {
        return {
          errorCode: WireError.COORDINATOR_NOT_AVAILABLE,
          errorMessage: unavailable,
          nodeId: -1,
          host: '',
          port: -1,
        };
      }
      // the coordinator is the leader of the key's partition of the internal topic (Kafka's rule)
      const { topic, partition } = placeOf(key);
      const state = ctx.coordinator.partitionState(topic, partition);
      const leader = state ? ctx.coordinator.brokers().find((b) => b.nodeId === state.leader) : undefined;
      if (!leader) {
        return {
          errorCode: WireError.COORDINATOR_NOT_AVAILABLE,
          errorMessage: `partition ${partition} of ${topic} (${kind.noun} ${key}) has no leader right now`,
          nodeId: -1,
          host: '',
          port: -1,
        };
      }
      return {
        errorCode: 0,
        nodeId: leader.nodeId,
        host: leader.host,
        port: leader.port,
        kafkaPort: leader.kafkaPort ?? -1,
      };
    };
    if (request.keys === undefined) return coordinatorOf(request.key);
    // several keys (Kafka's v4, KIP-699): one answer each, the top level says nothing
    const coordinators = request.keys.map((key) => ({ key, ...coordinatorOf(key) }));
    return { errorCode: 0, nodeId: -1, host: '', port: -1, coordinators };
  },
};

export const joinGroupHandler: Handler<typeof ApiKey.JoinGroup> = {
  apiKey: ApiKey.JoinGroup,
  async handle(request, ctx, client) {
    // rebuilt field by field: what the group keeps is only what the protocol defines
    const protocols = request.protocols.map((p) => ({ name: p.name, metadata: p.metadata }));
    const req = {
      groupId: request.groupId,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs ?? request.sessionTimeoutMs,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      requireKnownMemberId: request.requireKnownMemberId ?? false,
      protocolType: request.protocolType,
      protocols,
    };
    return orRefusal(
      () => ctx.groups.join(req, client.clientId, client.clientHost),
      (wire) => joinFailure(req.memberId, wire),
    );
  },
};

export const syncGroupHandler: Handler<typeof ApiKey.SyncGroup> = {
  apiKey: ApiKey.SyncGroup,
  async handle(request, ctx) {
    const assignments = request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment }));
    // SyncGroup answers carry no message
    return orRefusal(
      () =>
        ctx.groups.sync(request.groupId, request.generationId, request.memberId, assignments, {
          groupInstanceId: request.groupInstanceId ?? null,
          protocolType: request.protocolType ?? null,
          protocolName: request.protocolName ?? null,
        }),
      (wire) => ({ errorCode: wire.errorCode, assignment: noBytes }),
    );
  },
};

export const heartbeatHandler: Handler<typeof ApiKey.Heartbeat> = {
  apiKey: ApiKey.Heartbeat,
  async handle(request, ctx) {
    // Heartbeat answers carry no message
    return orRefusal(
      () => {
        ctx.groups.heartbeat(request.groupId, request.generationId, request.memberId, request.groupInstanceId ?? null);
        return { errorCode: WireError.NONE };
      },
      (wire) => ({ errorCode: wire.errorCode }),
    );
  },
};

export const leaveGroupHandler: Handler<typeof ApiKey.LeaveGroup> = {
  apiKey: ApiKey.LeaveGroup,
  async handle(request, ctx) {
    // LeaveGroup answers carry no message
    const { members } = request;
    if (members !== undefined) {
      // several members (Kafka's v3+): each answered on its own
      return orRefusal(
        () => ({ errorCode: WireError.NONE, members: ctx.groups.leaveMembers(request.groupId, members) }),
        (wire) => ({ errorCode: wire.errorCode }),
      );
    }
    return orRefusal(
      () => {
        ctx.groups.leave(request.groupId, request.memberId);
        return { errorCode: WireError.NONE };
      },
      (wire) => ({ errorCode: wire.errorCode }),
    );
  },
};

export const offsetCommitHandler: Handler<typeof ApiKey.OffsetCommit> = {
  apiKey: ApiKey.OffsetCommit,
  async handle(request, ctx, client) {
    const req: OffsetCommitRequest = {
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          if (p.offset < 0) throw bad(`offset ${p.offset} is negative`);
          return {
            partition: p.partition,
            offset: p.offset,
            metadata: p.metadata ?? '',
            leaderEpoch: p.leaderEpoch ?? -1,
          };
        }),
      })),
    };
    if (req.groupId === '') throw bad('the group id is empty');
    return commitReadableTopics(req, ctx, client, (readable, exists) => ctx.groups.commit(readable, exists));
  },
};

/** The partitions an OffsetFetch asks for; null (or absent): every one the group has an offset for. */
function wantedTopics(topics: OffsetFetchRequest['topics'] | undefined): OffsetFetchRequest['topics'] {
  return topics?.map((t) => ({ name: t.name, partitions: t.partitions })) ?? null;
}

/**
 * One group's committed offsets as the client may see them: Describe on each
 * topic (Kafka leaves a listed-by-default topic out and refuses a named one
 * with TOPIC_AUTHORIZATION_FAILED). The group's own Describe is checked by the caller.
 */
async function fetchOffsetsAuthorized(
  ctx: HandlerContext,
  client: ClientInfo,
  groupId: string,
  topics: OffsetFetchRequest['topics'],
  requireStable: boolean,
): Promise<OffsetFetchResponse> {
  if (!ctx.authorizer) return ctx.groups.fetchOffsets({ groupId, topics, requireStable });
  const may = (name: string, log: boolean) =>
    allowed(ctx, client, AclOperation.Describe, ResourceType.Topic, name, log);
  if (topics === null) {
    // every committed topic: only those the client may Describe (Kafka leaves the others out)
    const all = await ctx.groups.fetchOffsets({ groupId, topics, requireStable });
    return all.topics ? { ...all, topics: all.topics.filter((t) => may(t.name, false)) } : all;
  }
  const denied = topics.filter((t) => !may(t.name, true));
  if (denied.length === 0) return ctx.groups.fetchOffsets({ groupId, topics, requireStable });
  const refused = denied.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((partition) => ({
      partition,
      offset: -1,
      metadata: '',
      errorCode: WireError.TOPIC_AUTHORIZATION_FAILED,
      errorMessage: `${client.principal} is not authorized to Describe topic ${t.name}`,
    })),
  }));
  const rest = topics.filter((t) => !denied.includes(t));
  if (rest.length === 0) return { errorCode: 0, topics: refused };
  const fetched = await ctx.groups.fetchOffsets({ groupId, topics: rest, requireStable });
  return fetched.topics ? { ...fetched, topics: [...fetched.topics, ...refused] } : fetched;
}

export const offsetFetchHandler: Handler<typeof ApiKey.OffsetFetch> = {
  apiKey: ApiKey.OffsetFetch,
  async handle(request, ctx, client) {
    // KIP-447: partitions with a transactional commit still open answer UNSTABLE_OFFSET_COMMIT
    const requireStable = request.requireStable ?? false;
    if (request.groups !== undefined) {
      // Kafka's v8 batch: each group answered (or refused: NOT_COORDINATOR, GROUP_AUTHORIZATION_FAILED) on its own
      const groups = [];
      for (const g of request.groups) {
        if (ctx.authorizer && !allowed(ctx, client, AclOperation.Describe, ResourceType.Group, g.groupId)) {
          groups.push({ groupId: g.groupId, errorCode: WireError.GROUP_AUTHORIZATION_FAILED, topics: [] });
          continue;
        }
        const answer = await fetchOffsetsAuthorized(ctx, client, g.groupId, wantedTopics(g.topics), requireStable);
        groups.push({ groupId: g.groupId, ...answer });
      }
      return { errorCode: 0, topics: [], groups };
    }
    return fetchOffsetsAuthorized(ctx, client, request.groupId, wantedTopics(request.topics), requireStable);
  },
};

export const listGroupsHandler: Handler<typeof ApiKey.ListGroups> = {
  apiKey: ApiKey.ListGroups,
  async handle(request, ctx, client) {
    let groups = await ctx.groups.list();
    // Describe on the cluster lists every group; without it, only the groups the client may Describe
    if (ctx.authorizer && !allowedOnCluster(ctx, client, AclOperation.Describe, false)) {
      groups = groups.filter((g) => allowed(ctx, client, AclOperation.Describe, ResourceType.Group, g.groupId, false));
    }
    // Kafka (KIP-518) matches the states case-insensitively; an empty filter lists every group
    const states = new Set((request.statesFilter ?? []).map((s) => s.toLowerCase()));
    if (states.size === 0) return { errorCode: 0, groups };
    return { errorCode: 0, groups: groups.filter((g) => states.has(g.state.toLowerCase())) };
  },
};

export const describeGroupsHandler: Handler<typeof ApiKey.DescribeGroups> = {
  apiKey: ApiKey.DescribeGroups,
  async handle(request, ctx, client) {
    if (!ctx.authorizer) return ctx.groups.describe(request.groups);
    // Describe on each group: the others answer GROUP_AUTHORIZATION_FAILED in place
    const may = new Set(
      request.groups.filter((g) => allowed(ctx, client, AclOperation.Describe, ResourceType.Group, g)),
    );
    const described = may.size > 0 ? await ctx.groups.describe([...may]) : { errorCode: 0, groups: [] };
    if (!described.groups) return described;
    const byId = new Map(described.groups.map((g) => [g.groupId, g]));
    return {
      errorCode: 0,
      groups: request.groups.map(
        (groupId) =>
          byId.get(groupId) ?? {
            groupId,
            errorCode: WireError.GROUP_AUTHORIZATION_FAILED,
            errorMessage: `${client.principal} is not authorized to Describe group ${groupId}`,
            state: 'Dead' as const,
            protocolType: '',
            protocol: '',
            members: [],
          },
      ),
    };
  },
};
