/**
 * CreatePartitions (Kafka's API 37): grows each named topic to its new
 * partition count (TopicManager.createPartitions), each topic answered on its
 * own. A topic named twice is refused with INVALID_REQUEST (Kafka's rule);
 * with validateOnly nothing changes.
 */
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { TopicResult } from '../protocol/native/messages.js';
import type { CreatePartitionsResponse } from '../protocol/native/partition-messages.js';
import { AclOperation, checkTopic } from './authorize.js';
import { bad, type Handler } from './context.js';
import { namedTwice } from './duplicate-names.js';

export const createPartitionsHandler: Handler<typeof ApiKey.CreatePartitions> = {
  apiKey: ApiKey.CreatePartitions,
  async handle(request, ctx, client): Promise<CreatePartitionsResponse> {
    const validateOnly = request.validateOnly === true;
    const twice = namedTwice(request.topics.map((entry) => entry.name));
    const results: TopicResult[] = [];
    for (const { name, count } of request.topics) {
      try {
        if (twice.has(name)) throw bad(`the request names topic ${name} more than once`);
        checkTopic(ctx, client, AclOperation.Alter, name);
        await ctx.topics.createPartitions(name, count, validateOnly);
        results.push({ name, errorCode: 0 });
      } catch (err) {
        results.push({ name, ...toWireError(err) });
      }
    }
    return { errorCode: 0, topics: results };
  },
};
