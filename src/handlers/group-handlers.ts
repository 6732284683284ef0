/**
 * The consumer-group APIs: shape checks here, semantics in src/groups.
 * (Small enough to share a file: each handler only validates and delegates.)
 * The group's refusals (isGroupRefusal) are thrown SluiceErrors; each
 * handler answers them in its API's shape, with toWireError's code (and
 * message, where the API has always carried one).
 */

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

import { isGroupRefusal, joinFailure } from '../groups/group.js';
import { offsetsPartitionFor, offsetsTopic } from '../groups/offset-store.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { OffsetCommitRequest, OffsetFetchRequest } from '../protocol/native/group-messages.js';
import { toWireError, WireError } from '../shared/errors.js';
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
    const req = {
      groupId: stringField(body, 'groupId'),
      sessionTimeoutMs: intField(body, 'sessionTimeoutMs'),
      rebalanceTimeoutMs: intField(body, 'rebalanceTimeoutMs', intField(body, 'sessionTimeoutMs')),
      memberId: stringField(body, 'memberId'),
      protocolType: stringField(body, 'protocolType'),
      protocols,
    };
    return orRefusal(
      () => ctx.groups.join(req, client.clientId, client.clientHost),
      (wire) => joinFailure(req.memberId, wire),
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
    const groupId = stringField(body, 'groupId');
    const generationId = intField(body, 'generationId');
    const memberId = stringField(body, 'memberId');
    // SyncGroup answers carry no message
    return orRefusal(
      () => ctx.groups.sync(groupId, generationId, memberId, assignments),
      (wire) => ({ errorCode: wire.errorCode, assignment: noBytes }),
    );
  },
};

export const heartbeatHandler: Handler = {
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    const groupId = stringField(body, 'groupId');
    const generationId = intField(body, 'generationId');
    const memberId = stringField(body, 'memberId');
    // Heartbeat answers carry no message
    return orRefusal(
      () => {
        ctx.groups.heartbeat(groupId, generationId, memberId);
        return { errorCode: WireError.NONE };
      },
      (wire) => ({ errorCode: wire.errorCode }),
    );
  },
};

export const leaveGroupHandler: Handler = {
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx) {
    const groupId = stringField(body, 'groupId');
    const memberId = stringField(body, 'memberId');
    // LeaveGroup answers carry no message
    return orRefusal(
      () => {
        ctx.groups.leave(groupId, memberId);
        return { errorCode: WireError.NONE };
      },
      (wire) => ({ errorCode: wire.errorCode }),
    );
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
