import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { DeleteTopicsResponse, TopicResult } from '../protocol/native/messages.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
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
        // deleting __consumer_offsets or a queue's log would lose committed offsets or queued messages
        refuseInternalTopic(name, 'delete');
        await ctx.topics.delete(name);
        results.push({ name, errorCode: 0 });
      } catch (err) {
        results.push({ name, ...toWireError(err) });
      }
    }
    return { errorCode: 0, topics: results };
  },
};
