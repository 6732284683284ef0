/**
 * DeleteTopics. Refused per topic, nothing deleted for it: an internal topic
 * (deleting __consumer_offsets or a queue's log would lose committed offsets
 * or queued messages) with INVALID_TOPIC_EXCEPTION, and a name the request
 * gives twice with INVALID_REQUEST (as Kafka does).
 */
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { DeleteTopicsResponse, TopicResult } from '../protocol/native/messages.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
import { AclOperation, checkTopic } from './authorize.js';
import { bad, type Handler } from './context.js';
import { namedTwice } from './duplicate-names.js';

export const deleteTopicsHandler: Handler<typeof ApiKey.DeleteTopics> = {
  apiKey: ApiKey.DeleteTopics,
  async handle(request, ctx, client): Promise<DeleteTopicsResponse> {
    const names = request.topics;
    const twice = namedTwice(names);
    const results: TopicResult[] = [];
    for (const name of names) {
      try {
        if (twice.has(name)) throw bad(`the request names topic ${name} more than once`);
        checkTopic(ctx, client, AclOperation.Delete, name);
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
