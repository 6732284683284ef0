/**
 * The native DescribeConfigs handler (served to Kafka clients through the
 * Kafka listener's DescribeConfigs v0-v2): topic overrides and the broker
 * defaults they fall back to, the broker's own configuration, key filters,
 * and per-resource errors.
 */
import { describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { configKeys as brokerKeys } from '../../../src/config/config-keys.js';
import { topicConfigKeys } from '../../../src/config/topic-config.js';
import type { TopicSpec } from '../../../src/coordination/coordinator.js';
import type { ClientInfo, HandlerContext } from '../../../src/handlers/context.js';
import { describeConfigsHandler, topicKeyDefaults } from '../../../src/handlers/describe-configs.js';
import { handlers } from '../../../src/handlers/index.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import type { DescribeConfigsRequest, DescribeConfigsResponse } from '../../../src/protocol/native/messages.js';
import { parseRequest } from '../../../src/protocol/native/request-check.js';

const topics: Record<string, TopicSpec> = {
  t: { name: 't', partitions: 1, replicationFactor: 1, configs: { 'retention.ms': '1000' } },
};
const ctx = {
  config: parseBrokerConfig(
    new Map([
      ['broker.id', '3'],
      ['log.segment.bytes', '1048576'],
      ['log.dirs', '/a,/b'],
    ]),
  ),
  coordinator: { topic: (name: string) => topics[name] },
} as unknown as HandlerContext;
const client: ClientInfo = {
  clientId: 'c',
  clientHost: '',
  principal: 'User:ANONYMOUS',
  connectionId: 1,
  onClose: () => undefined,
};

async function describeConfigs(resources: DescribeConfigsRequest['resources']): Promise<DescribeConfigsResponse> {
  return (await describeConfigsHandler.handle({ resources }, ctx, client)) as DescribeConfigsResponse;
}

describe('DescribeConfigs (native handler)', () => {
  it('is registered under Kafka API key 32', () => {
    expect(handlers[32]).toBe(describeConfigsHandler);
  });

  it('knows the broker key behind every topic key', () => {
    for (const key of topicConfigKeys) expect(brokerKeys).toHaveProperty(topicKeyDefaults[key] as string);
  });

  it("describes a topic's overrides (TOPIC_CONFIG), the broker's static values (STATIC_BROKER_CONFIG) and defaults (DEFAULT_CONFIG)", async () => {
    const res = await describeConfigs([{ resourceType: 2, resourceName: 't', configurationKeys: null }]);
    const result = res.results[0];
    expect(result).toMatchObject({ errorCode: 0, resourceType: 2, resourceName: 't' });
    expect(result?.configs.map((c) => c.name)).toEqual(topicConfigKeys);
    const byName = (name: string) => result?.configs.find((c) => c.name === name);
    expect(byName('retention.ms')).toEqual({
      name: 'retention.ms',
      value: '1000',
      readOnly: false,
      isDefault: false,
      source: 1,
      isSensitive: false,
      configType: 5,
    });
    // log.segment.bytes is set in the broker's properties: a static broker config, not a default
    expect(byName('segment.bytes')).toEqual({
      name: 'segment.bytes',
      value: '1048576',
      readOnly: false,
      isDefault: false,
      source: 4,
      isSensitive: false,
      configType: 3,
    });
    expect(byName('retention.bytes')).toMatchObject({ value: '-1', isDefault: true, source: 5, configType: 5 });
    expect(byName('unclean.leader.election.enable')).toMatchObject({ value: 'false', source: 5, configType: 1 });
    expect(byName('cleanup.policy')).toMatchObject({ value: 'delete', source: 5, configType: 7 });
    expect(byName('message.timestamp.type')).toMatchObject({ value: 'CreateTime', source: 5, configType: 2 });
    expect(result?.configs.every((c) => c.synonyms === undefined && c.documentation === undefined)).toBe(true);
  });

  it('lists synonyms most specific first, and documentation, only when asked', async () => {
    const res = (await describeConfigsHandler.handle(
      {
        resources: [{ resourceType: 2, resourceName: 't', configurationKeys: ['retention.ms', 'segment.bytes'] }],
        includeSynonyms: true,
        includeDocumentation: true,
      },
      ctx,
      client,
    )) as DescribeConfigsResponse;
    // in the table's order whatever the request's
    const [segment, retention] = res.results[0]?.configs ?? [];
    expect(retention?.synonyms).toEqual([
      { name: 'retention.ms', value: '1000', source: 1 },
      { name: 'log.retention.ms', value: '604800000', source: 5 },
    ]);
    expect(segment?.synonyms).toEqual([
      { name: 'log.segment.bytes', value: '1048576', source: 4 },
      { name: 'log.segment.bytes', value: '1073741824', source: 5 },
    ]);
    expect(retention?.documentation).toContain('delete segments');
  });

  it('filters by key (null or empty: every key)', async () => {
    const res = await describeConfigs([
      { resourceType: 2, resourceName: 't', configurationKeys: ['segment.bytes', 'no.such.key'] },
      { resourceType: 2, resourceName: 't', configurationKeys: [] },
    ]);
    expect(res.results[0]?.configs.map((c) => c.name)).toEqual(['segment.bytes']);
    expect(res.results[1]?.configs).toHaveLength(topicConfigKeys.length);
  });

  it("describes this broker's configuration ('' or its id), read-only: static where its properties set a key, else default", async () => {
    const res = await describeConfigs([
      { resourceType: 4, resourceName: '3', configurationKeys: null },
      { resourceType: 4, resourceName: '', configurationKeys: ['log.dirs', 'broker.id', 'log.retention.ms'] },
    ]);
    const all = res.results[0];
    expect(all?.errorCode).toBe(0);
    expect(all?.configs).toHaveLength(Object.keys(brokerKeys).length);
    expect(all?.configs.every((c) => c.readOnly)).toBe(true);
    expect(all?.configs.filter((c) => c.source === 4).map((c) => c.name)).toEqual([
      'broker.id',
      'log.dirs',
      'log.segment.bytes',
    ]);
    expect(res.results[1]?.configs).toEqual([
      { name: 'broker.id', value: '3', readOnly: true, isDefault: false, source: 4, isSensitive: false, configType: 3 },
      {
        name: 'log.dirs',
        value: '/a,/b',
        readOnly: true,
        isDefault: false,
        source: 4,
        isSensitive: false,
        configType: 7,
      },
      {
        name: 'log.retention.ms',
        value: '604800000',
        readOnly: true,
        isDefault: true,
        source: 5,
        isSensitive: false,
        configType: 5,
      },
    ]);
  });

  it('answers each resource it cannot describe with its own error', async () => {
    const res = await describeConfigs([
      { resourceType: 2, resourceName: 'gone', configurationKeys: null },
      { resourceType: 4, resourceName: '7', configurationKeys: null },
      { resourceType: 8, resourceName: 'x', configurationKeys: null },
      { resourceType: 2, resourceName: 't', configurationKeys: ['retention.ms'] },
    ]);
    expect(res.errorCode).toBe(0);
    expect(res.results.map((r) => [r.resourceName, r.errorCode, r.configs.length])).toEqual([
      ['gone', 3, 0],
      ['7', 42, 0],
      ['x', 42, 0],
      ['t', 0, 1],
    ]);
    expect(res.results[0]?.errorMessage).toContain('gone');
  });

  // the handler only ever gets a parsed request: the one check in front of it refuses these
  it('refuses a malformed request', async () => {
    const handle = async (body: unknown) =>
      describeConfigsHandler.handle(parseRequest(ApiKey.DescribeConfigs, 0, body), ctx, client);
    await expect(handle({ resources: 'x' })).rejects.toThrow(/resources/);
    await expect(
      handle({ resources: [{ resourceType: 2, resourceName: 't', configurationKeys: [1] }] }),
    ).rejects.toThrow(/configurationKeys/);
  });
});
