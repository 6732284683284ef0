import { ApiKey } from '../protocol/native/api-keys.js';
import type { MetadataResponse, TopicMetadata } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError, WireError } from '../shared/errors.js';
import type { Handler, HandlerContext } from './context.js';
import { orWireError } from './per-partition.js';

function describe(name: string, autoCreate: boolean, ctx: HandlerContext): Promise<TopicMetadata> {
  return orWireError(
    async () => {
      const spec = autoCreate ? await ctx.topics.getOrAutoCreate(name) : ctx.coordinator.topic(name);
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
  async handle(request, ctx): Promise<MetadataResponse> {
    const requested = request.topics;
    const autoCreate = request.allowAutoTopicCreation !== false;
    const names = requested ?? ctx.coordinator.topics().map((t) => t.name);
    const topics: TopicMetadata[] = [];
    for (const name of names) topics.push(await describe(name, autoCreate && requested != null, ctx));
    return {
      errorCode: 0,
      brokers: ctx.coordinator.brokers(),
      controllerId: ctx.coordinator.controllerId(),
      clusterId: ctx.coordinator.clusterId(),
      topics,
    };
  },
};
