/**
 * DescribeConfigs: the configuration of topics and of this broker, with
 * Kafka's key names, sources and synonyms (Kafka's ConfigHelper rules):
 *
 * - a topic key's value is its override (source TOPIC_CONFIG), else the
 *   broker key's value from the properties file (STATIC_BROKER_CONFIG), else
 *   the built-in default (DEFAULT_CONFIG); its synonyms list each of those
 *   that applies, most specific first, and the first gives value and source;
 * - a broker key is STATIC_BROKER_CONFIG when its properties set it, else
 *   DEFAULT_CONFIG; every broker key is read-only (no dynamic broker configs);
 * - is_default (v0) is true exactly for DEFAULT_CONFIG; keys that hold a
 *   password are described without their value.
 */
import type { BrokerConfig } from '../config/broker-config.js';
import { type BrokerKey, type ConfigKeySpec, configKeyRows, configKeys, topicKeyRows } from '../config/config-keys.js';
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import {
  type ConfigEntry,
  ConfigResourceType,
  ConfigSource,
  type ConfigSynonym,
  ConfigType,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  type DescribeConfigsResult,
} from '../protocol/native/messages.js';
import { ResourceType } from '../security/acl.js';
import { AclOperation, allowed, allowedOnCluster } from './authorize.js';
import type { ClientInfo, Handler, HandlerContext } from './context.js';

/** The broker key whose value a topic key falls back to (Kafka's pairs). */
export const topicKeyDefaults: Readonly<Record<string, BrokerKey>> = Object.fromEntries(
  topicKeyRows.map((row) => [row.topic, row.broker]),
);

const int32Max = 2 ** 31 - 1;

function brokerValue(config: BrokerConfig, key: BrokerKey): string | null {
  const value = config.values.get(key);
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(',') : String(value);
}

const isSensitive = (key: string): boolean => key.includes('password');

/** Kafka's ConfigType of a key (ints: INT when they fit an int32 by their bounds, else LONG). */
function typeOf(spec: ConfigKeySpec | undefined): number {
  if (!spec) return ConfigType.Unknown;
  if (spec.kind === 'bool') return ConfigType.Boolean;
  if (spec.kind === 'list') return ConfigType.List;
  if (spec.kind === 'string') return ConfigType.String;
  return spec.max !== undefined && spec.max <= int32Max ? ConfigType.Int : ConfigType.Long;
}

interface Options {
  synonyms: boolean;
  documentation: boolean;
}

/** The entry whose value and source are those of its first synonym (the most specific that applies). */
function entry(
  name: string,
  synonyms: ConfigSynonym[],
  readOnly: boolean,
  spec: ConfigKeySpec | undefined,
  options: Options,
): ConfigEntry {
  const sensitive = isSensitive(name);
  const first = synonyms[0];
  const source = first?.source ?? ConfigSource.DefaultConfig;
  const shown = sensitive ? synonyms.map((s) => ({ ...s, value: null })) : synonyms;
  const out: ConfigEntry = {
    name,
    value: sensitive ? null : (first?.value ?? null),
    readOnly,
    isDefault: source === ConfigSource.DefaultConfig,
    source,
    isSensitive: sensitive,
    configType: typeOf(spec),
  };
  if (options.synonyms) out.synonyms = shown;
  if (options.documentation) out.documentation = spec?.doc ?? null;
  return out;
}

/** What a broker key is set to: from the properties (static) when they set it, and its built-in default. */
function brokerSynonyms(config: BrokerConfig, key: BrokerKey): ConfigSynonym[] {
  const synonyms: ConfigSynonym[] = [];
  const given = config.given?.get(key);
  if (given !== undefined) {
    // set through an older spelling (log.retention.hours): named so, in its own unit, as Kafka lists it
    const spec: ConfigKeySpec = configKeys[key];
    const factor = spec.aliases?.find(([alias]) => alias === given)?.[1];
    const value = brokerValue(config, key);
    const shown = factor !== undefined && value !== null ? String(Number(value) / factor) : value;
    synonyms.push({ name: given, value: shown, source: ConfigSource.StaticBrokerConfig });
  }
  synonyms.push({ name: key, value: configKeys[key].default, source: ConfigSource.DefaultConfig });
  return synonyms;
}

function topicConfigs(ctx: HandlerContext, overrides: Record<string, string>, options: Options): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  for (const { topic: name, broker, spec } of topicKeyRows) {
    const own = overrides[name];
    const synonyms = brokerSynonyms(ctx.config, broker);
    if (own !== undefined) synonyms.unshift({ name, value: own, source: ConfigSource.TopicConfig });
    entries.push(entry(name, synonyms, false, spec, options));
  }
  // overrides of keys this build does not know (written by another tool): shown as they are
  for (const [name, value] of Object.entries(overrides)) {
    if (topicKeyDefaults[name] !== undefined) continue;
    entries.push(entry(name, [{ name, value, source: ConfigSource.TopicConfig }], false, undefined, options));
  }
  return entries;
}

function brokerConfigs(ctx: HandlerContext, options: Options): ConfigEntry[] {
  return configKeyRows.map(([name, spec]) => entry(name, brokerSynonyms(ctx.config, name), true, spec, options));
}

function describe(
  ctx: HandlerContext,
  resource: DescribeConfigsRequest['resources'][number],
  options: Options,
  client: ClientInfo,
): DescribeConfigsResult {
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
  // DescribeConfigs on the topic, or on the cluster for a broker's configs (Kafka)
  if (
    resourceType === ConfigResourceType.Topic &&
    !allowed(ctx, client, AclOperation.DescribeConfigs, ResourceType.Topic, resourceName)
  ) {
    return failure(
      WireError.TOPIC_AUTHORIZATION_FAILED,
      `${client.principal} is not authorized to DescribeConfigs topic ${resourceName}`,
    );
  }
  if (resourceType === ConfigResourceType.Broker && !allowedOnCluster(ctx, client, AclOperation.DescribeConfigs)) {
    return failure(
      WireError.CLUSTER_AUTHORIZATION_FAILED,
      `${client.principal} is not authorized to DescribeConfigs the cluster`,
    );
  }
  if (resourceType === ConfigResourceType.Topic) {
    const topic = ctx.coordinator.topic(resourceName);
    if (!topic) return failure(WireError.UNKNOWN_TOPIC_OR_PARTITION, `topic ${resourceName} does not exist`);
    return result(topicConfigs(ctx, topic.configs, options));
  }
  if (resourceType === ConfigResourceType.Broker) {
    const self = String(ctx.config.int('broker.id'));
    if (resourceName !== '' && resourceName !== self) {
      return failure(
        WireError.INVALID_REQUEST,
        `this is broker ${self}: ask broker ${resourceName} for its own configuration`,
      );
    }
    return result(brokerConfigs(ctx, options));
  }
  return failure(WireError.INVALID_REQUEST, `resource type ${resourceType} has no configs here (2: topic, 4: broker)`);
}

export const describeConfigsHandler: Handler<typeof ApiKey.DescribeConfigs> = {
  apiKey: ApiKey.DescribeConfigs,
  async handle(request, ctx, client): Promise<DescribeConfigsResponse> {
    const options = {
      synonyms: request.includeSynonyms === true,
      documentation: request.includeDocumentation === true,
    };
    return { errorCode: 0, results: request.resources.map((r) => describe(ctx, r, options, client)) };
  },
};
