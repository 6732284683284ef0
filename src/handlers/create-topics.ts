/**
 * CreateTopics. Refused per topic, nothing created for it: a reserved name
 * (internal topics are created by the broker itself, TopicManager.ensureInternal)
 * with INVALID_TOPIC_EXCEPTION, and a name the request gives twice with
 * INVALID_REQUEST (Kafka's rule: the answers name topics, so two entries of
 * one topic could not be told apart).
 */
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { CreateTopicsResponse, TopicResult } from '../protocol/native/messages.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
import { AclOperation, allowedOnCluster, checkTopic } from './authorize.js';
import { bad, type Handler } from './context.js';
import { namedTwice } from './duplicate-names.js';

export const createTopicsHandler: Handler<typeof ApiKey.CreateTopics> = {
  apiKey: ApiKey.CreateTopics,
  async handle(request, ctx, client): Promise<CreateTopicsResponse> {
    const validateOnly = request.validateOnly === true;
    const twice = namedTwice(request.topics.map((entry) => entry.name));
    const results: TopicResult[] = [];
    // Create on the cluster covers every topic; without it, Create on each topic (Kafka)
    const clusterCreate = allowedOnCluster(ctx, client, AclOperation.Create, false);
    for (const entry of request.topics) {
      const { name } = entry;
      try {
        if (twice.has(name)) throw bad(`the request names topic ${name} more than once`);
        if (!clusterCreate) checkTopic(ctx, client, AclOperation.Create, name);
        refuseInternalTopic(name, 'create');
        await ctx.topics.create(
          name,
          entry.numPartitions ?? -1,
          entry.replicationFactor ?? -1,
          entry.configs ?? {},
          validateOnly,
        );
        results.push({ name, errorCode: 0 });
      } catch (err) {
        results.push({ name, ...toWireError(err) });
      }
    }
    return { errorCode: 0, topics: results };
  },
};
