import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { CreateTopicsResponse, TopicResult } from '../protocol/native/messages.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
import { arrayField, bad, type Handler, intField, stringField } from './context.js';

export const createTopicsHandler: Handler = {
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<CreateTopicsResponse> {
    const validateOnly = (body as { validateOnly?: unknown }).validateOnly === true;
    const results: TopicResult[] = [];
    for (const entry of arrayField(body, 'topics')) {
      if (typeof entry !== 'object' || entry === null) throw bad('each topic must be a map');
      const name = stringField(entry, 'name');
      try {
        // internal topics are created by the broker itself (TopicManager.ensureInternal), never on request
        refuseInternalTopic(name, 'create');
        const configs = (entry as { configs?: unknown }).configs ?? {};
        if (typeof configs !== 'object' || configs === null) throw bad('configs must be a map');
        await ctx.topics.create(
          name,
          intField(entry, 'numPartitions', -1),
          intField(entry, 'replicationFactor', -1),
          configs as Record<string, string>,
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
