/**
 * IncrementalAlterConfigs (Kafka's key 44, KIP-339): per topic resource, each
 * config entry is an operation on the current overrides — SET a value, DELETE
 * the override (back to the broker's value), APPEND to or SUBTRACT from a
 * list key (cleanup.policy). Every key, operation and resulting value is
 * checked before anything changes (topic-config.ts); validateOnly stops there.
 * Broker resources are refused (see config-resources.ts).
 */
import { topicConfigChanges } from '../config/topic-config.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { AlterConfigsResponse } from '../protocol/native/messages.js';
import { alterResources } from './config-resources.js';
import type { Handler } from './context.js';

export const incrementalAlterConfigsHandler: Handler<typeof ApiKey.IncrementalAlterConfigs> = {
  apiKey: ApiKey.IncrementalAlterConfigs,
  async handle(request, ctx, client): Promise<AlterConfigsResponse> {
    const validateOnly = request.validateOnly === true;
    const results = await alterResources(ctx, client, request.resources, ({ resourceName, configs }) =>
      ctx.topics.alterConfigs(
        resourceName,
        (current) =>
          topicConfigChanges(
            current,
            configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value })),
            ctx.config,
          ),
        validateOnly,
      ),
    );
    return { errorCode: 0, results };
  },
};
