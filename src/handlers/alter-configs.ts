/**
 * AlterConfigs (Kafka's key 33): each topic resource's configs REPLACE all of
 * its overrides — a key the request leaves out goes back to the broker's
 * value, and an entry with a null value is left unset (Kafka's rules). Every
 * key and value is checked before anything changes; validateOnly stops there.
 * Broker resources are refused (see config-resources.ts).
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { AlterConfigsResponse } from '../protocol/native/messages.js';
import { alterResources } from './config-resources.js';
import { bad, type Handler } from './context.js';
import { namedTwice } from './duplicate-names.js';

export const alterConfigsHandler: Handler<typeof ApiKey.AlterConfigs> = {
  apiKey: ApiKey.AlterConfigs,
  async handle(request, ctx, client): Promise<AlterConfigsResponse> {
    const validateOnly = request.validateOnly === true;
    const results = await alterResources(ctx, client, request.resources, async ({ resourceName, configs }) => {
      const twice = [...namedTwice(configs.map((c) => c.name))];
      if (twice.length > 0) throw bad(`config ${twice[0]} is named more than once`);
      await ctx.topics.alterConfigs(
        resourceName,
        (current) => {
          const changes: Record<string, string | null> = {};
          for (const key of Object.keys(current)) changes[key] = null;
          for (const { name, value } of configs) if (value !== null) changes[name] = value.trim();
          return changes;
        },
        validateOnly,
      );
    });
    return { errorCode: 0, results };
  },
};
