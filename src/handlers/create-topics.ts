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
import { arrayField, bad, type Handler, intField, stringField } from './context.js';
import { namedTwice } from './duplicate-names.js';

export const createTopicsHandler: Handler = {
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<CreateTopicsResponse> {
    const validateOnly = (body as { validateOnly?: unknown }).validateOnly === true;
    const entries = arrayField(body, 'topics');
    const names = entries.map((entry) => {
      if (typeof entry !== 'object' || entry === null) throw bad('each topic must be a map');
      return stringField(entry, 'name');
    });
    const twice = namedTwice(names);
    const results: TopicResult[] = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as object;
      const name = names[i] as string;
      try {
        if (twice.has(name)) throw bad(`the request names topic ${name} more than once`);
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
