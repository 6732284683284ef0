/**
 * The request-level half of authorization (authorize.ts has the whole table):
 * the APIs Kafka refuses as a whole, checked before their handler runs. The
 * per-topic and per-group checks are in the handlers themselves, since each
 * answers them in its own shape. Without an authorizer the table is never
 * consulted (one `undefined` test per request).
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { RequestOf } from '../protocol/native/apis.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { allowed, checkCluster, checkGroup, checkTopic } from './authorize.js';
import type { ClientInfo, Handler, HandlerContext, HandlerTable } from './context.js';
import { checkTransactionalId } from './txn-authorization.js';

type Check<K extends ApiKey> = (request: RequestOf<K>, ctx: HandlerContext, client: ClientInfo) => void;

const requestChecks: { [K in ApiKey]?: Check<K> } = {
  [ApiKey.JoinGroup]: (r, ctx, c) => checkGroup(ctx, c, AclOperation.Read, r.groupId),
  [ApiKey.SyncGroup]: (r, ctx, c) => checkGroup(ctx, c, AclOperation.Read, r.groupId),
  [ApiKey.Heartbeat]: (r, ctx, c) => checkGroup(ctx, c, AclOperation.Read, r.groupId),
  [ApiKey.LeaveGroup]: (r, ctx, c) => checkGroup(ctx, c, AclOperation.Read, r.groupId),
  [ApiKey.OffsetCommit]: (r, ctx, c) => checkGroup(ctx, c, AclOperation.Read, r.groupId),
  // Kafka's order: Write on the transactional id, then Read on the group (each topic's Read in the handler)
  [ApiKey.TxnOffsetCommit]: (r, ctx, c) => {
    if (!allowed(ctx, c, AclOperation.Write, ResourceType.TransactionalId, r.transactionalId)) {
      throw new SluiceError(
        ErrorCode.TransactionalIdAuthorizationFailed,
        `${c.principal} is not authorized to Write transactional id ${r.transactionalId}`,
      );
    }
    checkGroup(ctx, c, AclOperation.Read, r.groupId);
  },
  // a v8 batch (groups) is checked group by group in the handler
  [ApiKey.OffsetFetch]: (r, ctx, c) => {
    if (r.groups === undefined) checkGroup(ctx, c, AclOperation.Describe, r.groupId);
  },
  [ApiKey.AlterPartitionReassignments]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.Alter),
  [ApiKey.ListPartitionReassignments]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.Describe),
  // between brokers only, like a follower's requests
  [ApiKey.BrokerHeartbeat]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.ClusterAction),
  [ApiKey.DescribeLogDirs]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.Describe),
  [ApiKey.CreateAcls]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.Alter),
  [ApiKey.DeleteAcls]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.Alter),
  [ApiKey.DescribeAcls]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.Describe),
  // SCRAM users (KIP-554): Describe / Alter on the cluster, as Kafka's
  [ApiKey.DescribeUserScramCredentials]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.Describe),
  [ApiKey.AlterUserScramCredentials]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.Alter),
  // client quotas are cluster configs (Kafka's)
  [ApiKey.DescribeClientQuotas]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.DescribeConfigs),
  [ApiKey.AlterClientQuotas]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.AlterConfigs),
  // Kafka 3.x (KIP-679): IdempotentWrite on the cluster, or Write on any topic; a transactional producer: Write on its id
  [ApiKey.InitProducerId]: (r, ctx, c) => {
    const a = ctx.authorizer;
    if (!a) return;
    if (r.transactionalId !== undefined && r.transactionalId !== null) {
      return checkTransactionalId(ctx, c, AclOperation.Write, r.transactionalId);
    }
    if (a.allows(c, AclOperation.IdempotentWrite, ResourceType.Cluster, 'kafka-cluster')) return;
    if (a.allowsAny(c, AclOperation.Write, ResourceType.Topic)) return;
    throw new SluiceError(
      ErrorCode.ClusterAuthorizationFailed,
      `${c.principal} is not authorized to IdempotentWrite the cluster nor to Write any topic`,
    );
  },
  // a follower's requests: brokers act with ClusterAction on the cluster (a follower's Fetch is
  // answered partition by partition in its handler, and FindCoordinator key by key in its own, as Kafka's)
  // a transactional producer's batches need Write on its transactional id (Kafka's handleProduceRequest);
  // the topics are checked partition by partition in the handler
  [ApiKey.Produce]: (r, ctx, c) => {
    const id = r.transactionalId;
    if (id === undefined || id === null) return;
    if (ctx.authorizer?.allows(c, AclOperation.Write, ResourceType.TransactionalId, id) !== false) return;
    throw new SluiceError(
      ErrorCode.TransactionalIdAuthorizationFailed,
      `${c.principal} is not authorized to Write transactional id ${id}`,
    );
  },
  // transaction markers come from a transaction coordinator, another broker (Kafka's ClusterAction)
  [ApiKey.WriteTxnMarkers]: (_r, ctx, c) => checkCluster(ctx, c, AclOperation.ClusterAction),
  [ApiKey.OffsetForLeaderEpoch]: (r, ctx, c) => {
    if ((r.replicaId ?? -1) >= 0) checkCluster(ctx, c, AclOperation.ClusterAction);
  },
  // queues: the queue's name is a Topic resource (send: Write; receive, acknowledge, leave: Read)
  [ApiKey.QueueSend]: (r, ctx, c) => checkTopic(ctx, c, AclOperation.Write, r.queue),
  [ApiKey.QueueFetch]: (r, ctx, c) => checkTopic(ctx, c, AclOperation.Read, r.queue),
  [ApiKey.QueueAck]: (r, ctx, c) => checkTopic(ctx, c, AclOperation.Read, r.queue),
  [ApiKey.QueueLeave]: (r, ctx, c) => checkTopic(ctx, c, AclOperation.Read, r.queue),
  // stats and browse: Describe; purge: Delete; redrive (moves dead letters back): Alter; list: Describe on the cluster
  [ApiKey.QueueAdmin]: (r, ctx, c) => {
    if (r.op === 'list') return checkCluster(ctx, c, AclOperation.Describe);
    if (r.queue === undefined) return;
    const op = r.op === 'purge' ? AclOperation.Delete : r.op === 'redrive' ? AclOperation.Alter : AclOperation.Describe;
    checkTopic(ctx, c, op, r.queue);
  },
};

function guarded<K extends ApiKey>(handler: Handler<K>): Handler<K> {
  const check = requestChecks[handler.apiKey] as Check<K> | undefined;
  if (!check) return handler;
  return {
    apiKey: handler.apiKey,
    handle(request, ctx, client) {
      if (ctx.authorizer) check(request, ctx, client);
      return handler.handle(request, ctx, client);
    },
  };
}

/** The table with each request-level check in front of its handler. */
export function withRequestChecks(table: HandlerTable): HandlerTable {
  const out: Record<number, Handler<ApiKey>> = {};
  for (const key of Object.values(ApiKey)) out[key] = guarded(table[key] as Handler<ApiKey>);
  // rebuilt from every key of the table: the same pairing of keys and handlers
  return out as HandlerTable;
}
