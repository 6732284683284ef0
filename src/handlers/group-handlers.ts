/**
 * The consumer-group APIs: shape checks here, semantics in src/groups.
 * (Small enough to share a file: each handler only validates and delegates.)
 */
import { offsetsPartitionFor, offsetsTopic } from '../groups/offset-store.js';
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { OffsetCommitRequest, OffsetFetchRequest } from '../protocol/native/group-messages.js';
import { arrayField, bad, bufferField, type Handler, intField, stringField } from './context.js';

export const findCoordinatorHandler: Handler = {
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    const group = stringField(body, 'key');
    await ctx.groups.offsets.ensureTopic();
    // the coordinator is the leader of the group's offsets partition (Kafka's rule)
    const state = ctx.coordinator.partitionState(offsetsTopic, offsetsPartitionFor(group));
    const leader = state ? ctx.coordinator.brokers().find((b) => b.nodeId === state.leader) : undefined;
    if (!leader) {
      return {
        errorCode: WireError.COORDINATOR_NOT_AVAILABLE,
        errorMessage: `the offsets partition of group ${group} has no leader right now`,
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
  },
};

export const joinGroupHandler: Handler = {
  apiKey: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx, client) {
    const protocols = arrayField(body, 'protocols').map((p) => ({
      name: stringField(p, 'name'),
      metadata: bufferField(p, 'metadata'),
    }));
    return ctx.groups.join(
      {
        groupId: stringField(body, 'groupId'),
        sessionTimeoutMs: intField(body, 'sessionTimeoutMs'),
        rebalanceTimeoutMs: intField(body, 'rebalanceTimeoutMs', intField(body, 'sessionTimeoutMs')),
        memberId: stringField(body, 'memberId'),
        protocolType: stringField(body, 'protocolType'),
        protocols,
      },
      client.clientId,
      client.clientHost,
    );
  },
};

export const syncGroupHandler: Handler = {
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    const assignments = arrayField(body, 'assignments').map((a) => ({
      memberId: stringField(a, 'memberId'),
      assignment: bufferField(a, 'assignment'),
    }));
    return ctx.groups.sync(
      stringField(body, 'groupId'),
      intField(body, 'generationId'),
      stringField(body, 'memberId'),
      assignments,
    );
  },
};

export const heartbeatHandler: Handler = {
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    return {
      errorCode: ctx.groups.heartbeat(
        stringField(body, 'groupId'),
        intField(body, 'generationId'),
        stringField(body, 'memberId'),
      ),
    };
  },
};

export const leaveGroupHandler: Handler = {
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    return { errorCode: ctx.groups.leave(stringField(body, 'groupId'), stringField(body, 'memberId')) };
  },
};

export const offsetCommitHandler: Handler = {
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    const req: OffsetCommitRequest = {
      groupId: stringField(body, 'groupId'),
      generationId: intField(body, 'generationId'),
      memberId: stringField(body, 'memberId'),
      topics: arrayField(body, 'topics').map((t) => ({
        name: stringField(t, 'name'),
        partitions: arrayField(t, 'partitions').map((p) => {
          const metadata = (p as { metadata?: unknown }).metadata ?? '';
          if (typeof metadata !== 'string') throw bad('metadata must be a string');
          const offset = intField(p, 'offset');
          if (offset < 0) throw bad(`offset ${offset} is negative`);
          return { partition: intField(p, 'partition'), offset, metadata };
        }),
      })),
    };
    if (req.groupId === '') throw bad('the group id is empty');
    return ctx.groups.commit(req);
  },
};

export const offsetFetchHandler: Handler = {
  apiKey: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    const raw = (body as { topics?: unknown }).topics;
    const topics: OffsetFetchRequest['topics'] =
      raw === null || raw === undefined
        ? null
        : arrayField(body, 'topics').map((t) => ({
            name: stringField(t, 'name'),
            partitions: arrayField(t, 'partitions').map((p) => {
              if (!Number.isSafeInteger(p)) throw bad('partitions must be integers');
              return p as number;
            }),
          }));
    return ctx.groups.fetchOffsets({ groupId: stringField(body, 'groupId'), topics });
  },
};

export const listGroupsHandler: Handler = {
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 0,
  async handle(_body, ctx) {
    return { errorCode: 0, groups: await ctx.groups.list() };
  },
};

export const describeGroupsHandler: Handler = {
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    const ids = arrayField(body, 'groups').map((g) => {
      if (typeof g !== 'string') throw bad('groups must be names');
      return g;
    });
    return ctx.groups.describe(ids);
  },
};
