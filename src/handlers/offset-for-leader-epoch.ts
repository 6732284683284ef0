/**
 * OffsetForLeaderEpoch (between brokers): a follower asks the leader where a
 * leader epoch ends in the leader's log, and truncates its own log there
 * before it fetches (Kafka's KIP-101), so diverged records never survive.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type {
  OffsetForLeaderEpochPartition,
  OffsetForLeaderEpochResponse,
} from '../protocol/native/replication-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { AclOperation, checkTopic } from './authorize.js';
import type { Handler } from './context.js';
import { orWireError, perPartition } from './per-partition.js';

export const offsetForLeaderEpochHandler: Handler<typeof ApiKey.OffsetForLeaderEpoch> = {
  apiKey: ApiKey.OffsetForLeaderEpoch,
  async handle(request, ctx, client): Promise<OffsetForLeaderEpochResponse> {
    const topics = await perPartition(request, (name, p): Promise<OffsetForLeaderEpochPartition> => {
      const { partition } = p;
      return orWireError(
        async () => {
          // a consumer (KIP-320) needs Describe; a follower's ClusterAction was checked for the whole request
          if ((request.replicaId ?? -1) < 0) checkTopic(ctx, client, AclOperation.Describe, name);
          const leader = ctx.replicas.leaderReplica(name, partition);
          const current = p.currentLeaderEpoch ?? -1;
          if (current !== -1 && current !== leader.leaderEpoch) {
            throw new SluiceError(
              current < leader.leaderEpoch ? ErrorCode.FencedLeaderEpoch : ErrorCode.NotLeader,
              `${leader.name}: requester epoch ${current}, leader epoch ${leader.leaderEpoch}`,
            );
          }
          const found = leader.log.endOffsetForEpoch(p.leaderEpoch);
          return { partition, errorCode: 0, leaderEpoch: found?.epoch ?? -1, endOffset: found?.endOffset ?? -1 };
        },
        (error) => ({ partition, ...error, leaderEpoch: -1, endOffset: -1 }),
      );
    });
    return { errorCode: 0, topics };
  },
};
