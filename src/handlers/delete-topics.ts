import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { DeleteTopicsResponse, TopicResult } from '../protocol/native/messages.js';
import { arrayField, bad, type Handler } from './context.js';

export const deleteTopicsHandler: Handler = {
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<DeleteTopicsResponse> {
    const results: TopicResult[] = [];
    for (const name of arrayField(body, 'topics')) {
      if (typeof name !== 'string') throw bad('topics must be names');
      try {
        await ctx.topics.delete(name);
        results.push({ name, errorCode: 0 });
      } catch (err) {
        results.push({ name, ...toWireError(err) });
      }
    }
    return { errorCode: 0, topics: results };
  },
};
