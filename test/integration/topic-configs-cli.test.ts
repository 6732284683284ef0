/**
 * `sluice topic alter` and `sluice topic describe NAME --configs` (and the
 * admin client's alterTopicConfigs / describeTopicConfigs under them) as users
 * run them: child processes against a real standalone broker. `topic
 * describe` without --configs keeps its CONTRACT output.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../helpers/broker-process.js';
import { type CliResult, CliRunner, expectOneLineError } from '../helpers/cli-runner.js';

const cli = new CliRunner();
let broker: BrokerProcess;

const run = (args: string[]): Promise<CliResult> => cli.run(args, { brokers: broker.address });

async function ok(args: string[]): Promise<string> {
  const r = await run(args);
  expect(r.code, `sluice ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

interface ConfigsJson {
  name: string;
  configs: Record<string, { value: string | null; source: string }>;
}

async function configsOf(topic: string): Promise<ConfigsJson['configs']> {
  const json = JSON.parse(await ok(['topic', 'describe', topic, '--configs', '--json'])) as ConfigsJson;
  expect(json.name).toBe(topic);
  return json.configs;
}

beforeAll(async () => {
  broker = await BrokerProcess.start();
}, 60_000);

afterEach(() => {
  cli.killAll();
});

afterAll(async () => {
  await broker?.destroy();
}, 30_000);

describe('sluice topic alter / describe --configs', () => {
  it('shows each config with its source, alters (set and delete) and shows the change', async () => {
    await ok([
      'topic',
      'create',
      'cfg',
      '-p',
      '2',
      '--config',
      'retention.ms=3600000',
      '--config',
      'segment.bytes=1048576',
    ]);
    let configs = await configsOf('cfg');
    expect(configs['retention.ms']).toEqual({ value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(configs['segment.bytes']).toEqual({ value: '1048576', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(configs['retention.bytes']).toEqual({ value: '-1', source: 'STATIC_BROKER_CONFIG' });
    expect(configs['cleanup.policy']).toEqual({ value: 'delete', source: 'DEFAULT_CONFIG' });

    const text = await ok(['topic', 'describe', 'cfg', '--configs']);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY\s+VALUE\s+SOURCE$/);
    expect(lines).toContainEqual(expect.stringMatching(/^retention\.ms\s+3600000\s+DYNAMIC_TOPIC_CONFIG$/));
    expect(lines).toContainEqual(expect.stringMatching(/^cleanup\.policy\s+delete\s+DEFAULT_CONFIG$/));

    expect(
      await ok([
        'topic',
        'alter',
        'cfg',
        '--config',
        'cleanup.policy=compact,delete',
        '--config',
        'min.insync.replicas=1',
        '--delete-config',
        'retention.ms',
      ]),
    ).toBe('Completed updating config for topic cfg.\n');
    configs = await configsOf('cfg');
    expect(configs['cleanup.policy']).toEqual({ value: 'compact,delete', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(configs['min.insync.replicas']).toEqual({ value: '1', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(configs['retention.ms']?.source).toBe('STATIC_BROKER_CONFIG');
    // not named: kept
    expect(configs['segment.bytes']).toEqual({ value: '1048576', source: 'DYNAMIC_TOPIC_CONFIG' });

    // --validate-only changes nothing
    expect(await ok(['topic', 'alter', 'cfg', '--config', 'retention.ms=1', '--validate-only'])).toBe(
      'Validated config change for topic cfg.\n',
    );
    expect((await configsOf('cfg'))['retention.ms']?.source).toBe('STATIC_BROKER_CONFIG');
  });

  it('keeps `topic describe` without --configs exactly as before', async () => {
    await ok(['topic', 'create', 'cfg-plain', '--config', 'retention.ms=3600000']);
    const json = JSON.parse(await ok(['topic', 'describe', 'cfg-plain', '--json']));
    expect(Object.keys(json)).toEqual(['name', 'partitions']);
    expect(Object.keys(json.partitions[0])).toEqual([
      'partition',
      'leader',
      'replicas',
      'isr',
      'logStartOffset',
      'highWatermark',
    ]);
    const text = await ok(['topic', 'describe', 'cfg-plain']);
    expect(text).toBe(
      'Topic: cfg-plain\tPartitionCount: 1\tReplicationFactor: 1\n' +
        '\tTopic: cfg-plain\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tLogStartOffset: 0\tHighWatermark: 0\n',
    );
  });

  it('refuses an unknown key by name with the known ones, a bad value, and an unknown topic, with one line each', async () => {
    await ok(['topic', 'create', 'cfg-bad']);
    const unknown = await run(['topic', 'alter', 'cfg-bad', '--config', 'retention.msec=5']);
    expectOneLineError(unknown, /unknown topic config retention\.msec \(known: segment\.bytes, .*cleanup\.policy/);
    expectOneLineError(
      await run(['topic', 'alter', 'cfg-bad', '--config', 'message.timestamp.type=WallClock']),
      /one of CreateTime, LogAppendTime/,
    );
    expectOneLineError(await run(['topic', 'alter', 'cfg-bad', '--config', 'retention.ms=soon']), /retention\.ms/);
    expectOneLineError(await run(['topic', 'alter', 'no-such-topic', '--config', 'retention.ms=1']), /no-such-topic/);
    expectOneLineError(await run(['topic', 'describe', 'no-such-topic', '--configs']), /no-such-topic/);
    expect(Object.values(await configsOf('cfg-bad')).every((c) => c.source !== 'DYNAMIC_TOPIC_CONFIG')).toBe(true);
    // usage: nothing to alter, a key both set and deleted, --configs without a topic
    expect((await run(['topic', 'alter', 'cfg-bad'])).code).toBe(2);
    expect((await run(['topic', 'alter', 'cfg-bad', '--config', 'a=1', '--delete-config', 'a'])).code).toBe(2);
    expect((await run(['topic', 'describe', '--configs'])).code).toBe(2);
  });
});
