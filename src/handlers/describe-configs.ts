/**
 * DescribeConfigs: the configuration of topics and of this broker, with
 * Kafka's key names. A topic's configs are its overrides (TOPIC_CONFIG) and,
 * for every other topic key, the broker-wide value it falls back to
 * (DEFAULT_CONFIG). A broker's configs are every key of its configuration,
 * static (read from its properties at start-up); keys that hold a password
 * are described without their value.
 */
import type { BrokerConfig } from '../config/broker-config.js';
import { type BrokerKey, configKeyRows, topicKeyRows } from '../config/config-keys.js';
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import {
  type ConfigEntry,
  ConfigResourceType,
  ConfigSource,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  type DescribeConfigsResult,
} from '../protocol/native/messages.js';
import type { Handler, HandlerContext } from './context.js';

/** The broker key whose value a topic key falls back to (Kafka's pairs). */
export const topicKeyDefaults: Readonly<Record<string, BrokerKey>> = Object.fromEntries(
  topicKeyRows.map((row) => [row.topic, row.broker]),
);

function brokerValue(config: BrokerConfig, key: BrokerKey): string | null {
  const value = config.values.get(key);
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(',') : String(value);
}

const isSensitive = (key: string): boolean => key.includes('password');

function topicConfigs(ctx: HandlerContext, overrides: Record<string, string>): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  for (const [name, value] of Object.entries(overrides)) {
    const sensitive = isSensitive(name);
    entries.push({
      name,
      value: sensitive ? null : value,
      readOnly: false,
      isDefault: false,
      source: ConfigSource.TopicConfig,
      isSensitive: sensitive,
    });
  }
  for (const { topic: name, broker } of topicKeyRows) {
    if (name in overrides) continue;
    entries.push({
      name,
      value: brokerValue(ctx.config, broker),
      readOnly: false,
      isDefault: true,
      source: ConfigSource.DefaultConfig,
      isSensitive: false,
    });
  }
  return entries;
}

function brokerConfigs(ctx: HandlerContext): ConfigEntry[] {
  return configKeyRows.map(([name]) => {
    const sensitive = isSensitive(name);
    return {
      name,
      value: sensitive ? null : brokerValue(ctx.config, name),
      readOnly: true,
      isDefault: false,
      source: ConfigSource.StaticBrokerConfig,
      isSensitive: sensitive,
    };
  });
}

function describe(ctx: HandlerContext, resource: DescribeConfigsRequest['resources'][number]): DescribeConfigsResult {
  const { resourceType, resourceName, configurationKeys } = resource;
  const result = (configs: ConfigEntry[]): DescribeConfigsResult => {
    // null or empty: every key (kafkajs writes "every key" as an empty list)
    const wanted = configurationKeys && configurationKeys.length > 0 ? new Set(configurationKeys) : null;
    return {
      errorCode: 0,
      resourceType,
      resourceName,
      configs: wanted ? configs.filter((c) => wanted.has(c.name)) : configs,
    };
  };
  const failure = (errorCode: number, errorMessage: string): DescribeConfigsResult => ({
    errorCode,
    errorMessage,
    resourceType,
    resourceName,
    configs: [],
  });
  if (resourceType === ConfigResourceType.Topic) {
    const topic = ctx.coordinator.topic(resourceName);
    if (!topic) return failure(WireError.UNKNOWN_TOPIC_OR_PARTITION, `topic ${resourceName} does not exist`);
    return result(topicConfigs(ctx, topic.configs));
  }
  if (resourceType === ConfigResourceType.Broker) {
    const self = String(ctx.config.int('broker.id'));
    if (resourceName !== '' && resourceName !== self) {
      return failure(
        WireError.INVALID_REQUEST,
        `this is broker ${self}: ask broker ${resourceName} for its own configuration`,
      );
    }
    return result(brokerConfigs(ctx));
  }
  return failure(WireError.INVALID_REQUEST, `resource type ${resourceType} has no configs here (2: topic, 4: broker)`);
}

export const describeConfigsHandler: Handler<typeof ApiKey.DescribeConfigs> = {
  apiKey: ApiKey.DescribeConfigs,
  async handle(request, ctx): Promise<DescribeConfigsResponse> {
    return { errorCode: 0, results: request.resources.map((r) => describe(ctx, r)) };
  },
};
