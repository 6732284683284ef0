import { ApiKey } from '../protocol/native/api-keys.js';
import type { MetadataResponse, TopicMetadata } from '../protocol/native/messages.js';
import { clusterResourceName, ResourceType } from '../security/acl.js';
import { ErrorCode, SluiceError, WireError } from '../shared/errors.js';
import { AclOperation, allowed, allowedOnCluster, authorizedOperations, checkTopic } from './authorize.js';
import type { ClientInfo, Handler, HandlerContext } from './context.js';
import { orWireError } from './per-partition.js';

function describe(name: string, autoCreate: boolean, ctx: HandlerContext, client: ClientInfo): Promise<TopicMetadata> {
  return orWireError(
    async () => {
      checkTopic(ctx, client, AclOperation.Describe, name);
      // auto-creation needs Create on the cluster or on the topic (Kafka); without it the topic stays unknown
      const mayCreate =
        autoCreate &&
        (allowedOnCluster(ctx, client, AclOperation.Create, false) ||
          allowed(ctx, client, AclOperation.Create, ResourceType.Topic, name));
      const spec = mayCreate ? await ctx.topics.getOrAutoCreate(name) : ctx.coordinator.topic(name);
      if (!spec) throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic ${name}`);
      const partitions = [];
      for (let p = 0; p < spec.partitions; p++) {
        const state = ctx.coordinator.partitionState(name, p);
        partitions.push(
          state
            ? {
                partition: p,
                errorCode: 0,
                leader: state.leader,
                leaderEpoch: state.leaderEpoch,
                replicas: state.replicas,
                isr: state.isr,
              }
            : {
                partition: p,
                errorCode: WireError.LEADER_NOT_AVAILABLE,
                leader: -1,
                leaderEpoch: -1,
                replicas: [],
                isr: [],
              },
        );
      }
      return { name, errorCode: 0, ...(spec.topicId ? { topicId: spec.topicId } : {}), partitions };
    },
    (error) => ({ name, ...error, partitions: [] }),
  );
}

export const metadataHandler: Handler<typeof ApiKey.Metadata> = {
  apiKey: ApiKey.Metadata,
  async handle(request, ctx, client): Promise<MetadataResponse> {
    const requested = request.topics;
    const autoCreate = request.allowAutoTopicCreation !== false;
    // all topics: only those the client may Describe (Kafka leaves the others out)
    const names =
      requested ??
      ctx.coordinator
        .topics()
        .map((t) => t.name)
        .filter((n) => allowed(ctx, client, AclOperation.Describe, ResourceType.Topic, n, false));
    const topics: TopicMetadata[] = [];
    for (const name of names) {
      const t = await describe(name, autoCreate && requested != null, ctx, client);
      // KIP-430: what the client may do on each topic it sees
      if (request.includeTopicAuthorizedOperations === true && t.errorCode === 0) {
        t.authorizedOperations = authorizedOperations(ctx, client, ResourceType.Topic, name);
      }
      topics.push(t);
    }
    return {
      errorCode: 0,
      brokers: ctx.coordinator.brokers(),
      controllerId: ctx.coordinator.controllerId(),
      clusterId: ctx.coordinator.clusterId(),
      topics,
      ...(request.includeClusterAuthorizedOperations === true
        ? { clusterAuthorizedOperations: authorizedOperations(ctx, client, ResourceType.Cluster, clusterResourceName) }
        : {}),
    };
  },
};
