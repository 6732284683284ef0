/**
 * The `sluice` CLI as users run it: child processes against a real broker
 * child process on an ephemeral port, with data in a temp dir.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../src/client/partitioner.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { type CliResult, CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { freePort } from '../helpers/zookeeper.js';

const cli = new CliRunner();
let broker: BrokerProcess;

function runCli(
  args: string[],
  options: { input?: string; brokers?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return cli.run(args, { ...options, brokers: options.brokers ?? broker.address });
}

interface JsonRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

function parseRecords(stdout: string): JsonRecord[] {
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as JsonRecord);
}

beforeAll(async () => {
  broker = await BrokerProcess.start();
});

afterEach(() => {
  cli.killAll();
});

afterAll(async () => {
  await broker?.destroy();
});

describe('sluice topic', () => {
  it('creates, lists, describes (JSON and table) and deletes a topic', async () => {
    const created = await runCli([
      'topic',
      'create',
      'cli-admin',
      '-p',
      '3',
      '-r',
      '1',
      '--config',
      'retention.ms=3600000',
    ]);
    expect(created.code, created.stderr).toBe(0);

    const listed = await runCli(['topic', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')).toContain('cli-admin');

    const described = await runCli(['topic', 'describe', 'cli-admin', '--json']);
    expect(described.code, described.stderr).toBe(0);
    const json = JSON.parse(described.stdout) as { name: string; partitions: Record<string, unknown>[] };
    expect(json.name).toBe('cli-admin');
    expect(json.partitions).toHaveLength(3);
    json.partitions.forEach((p, i) => {
      expect(Object.keys(p).sort()).toEqual(
        ['highWatermark', 'isr', 'leader', 'logStartOffset', 'partition', 'replicas'].sort(),
      );
      expect(p).toMatchObject({
        partition: i,
        leader: 0,
        replicas: [0],
        isr: [0],
        logStartOffset: 0,
        highWatermark: 0,
      });
    });

    const all = await runCli(['topic', 'describe', '--json']);
    expect(all.code, all.stderr).toBe(0);
    const array = JSON.parse(all.stdout) as { name: string }[];
    expect(Array.isArray(array)).toBe(true);
    expect(array.map((t) => t.name)).toContain('cli-admin');

    const table = await runCli(['topic', 'describe', 'cli-admin']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Topic: cli-admin\tPartitionCount: 3\tReplicationFactor: 1');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe(
      '\tTopic: cli-admin\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tLogStartOffset: 0\tHighWatermark: 0',
    );

    const deleted = await runCli(['topic', 'delete', 'cli-admin']);
    expect(deleted.code, deleted.stderr).toBe(0);
    const after = await runCli(['topic', 'list']);
    expect(after.stdout.split('\n')).not.toContain('cli-admin');
  });
});

describe('sluice produce and consume', () => {
  const topic = 'cli-keyed';
  const total = 1_000;
  /** Keys with partitions pinned from Kafka's and librdkafka's murmur2 test vectors. */
  const pinned: Record<string, number> = { '21': 0, kafka: 1, '12': 1, '123': 2, '12345': 2 };
  const keys = [...Object.keys(pinned), ...Array.from({ length: 45 }, (_, i) => `key-${i}`)];
  const keyOf = (i: number): string => keys[i % keys.length] as string;
  let consumed: JsonRecord[] = [];

  it('pins the Java client murmur2 values', () => {
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('kafka'))).toBe(-798503068);
    for (const [key, partition] of Object.entries(pinned)) expect(partitionForKey(Buffer.from(key), 3)).toBe(partition);
  });

  it('produces 1,000 keyed lines with each acks level and reads them back in partition order', async () => {
    const created = await runCli(['topic', 'create', topic, '--partitions', '3']);
    expect(created.code, created.stderr).toBe(0);

    const acksLevels = ['1', 'all', '0'];
    const perRun = Math.ceil(total / acksLevels.length);
    for (let run = 0; run < acksLevels.length; run++) {
      const lines: string[] = [];
      for (let i = run * perRun; i < Math.min(total, (run + 1) * perRun); i++) lines.push(`${keyOf(i)}:v-${i}`);
      const produced = await runCli(['produce', topic, '--key-separator', ':', '--acks', acksLevels[run] as string], {
        input: `${lines.join('\n')}\n`,
      });
      expect(produced.code, produced.stderr).toBe(0);
    }

    const result = await runCli(
      ['consume', topic, '--from-beginning', '--json', '--max-messages', String(total), '--timeout-ms', '10000'],
      { timeoutMs: 30_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    consumed = parseRecords(result.stdout);
    expect(consumed).toHaveLength(total);

    const seen = new Set<number>();
    const lastSeq = new Map<number, number>();
    const nextOffset = new Map<number, number>();
    for (const r of consumed) {
      expect(Object.keys(r).sort()).toEqual(['headers', 'key', 'offset', 'partition', 'timestamp', 'topic', 'value']);
      expect(r.topic).toBe(topic);
      const seq = Number((r.value as string).slice('v-'.length));
      expect(r.key).toBe(keyOf(seq));
      expect(r.partition).toBe(partitionForKey(Buffer.from(r.key as string, 'utf8'), 3));
      const pin = pinned[r.key as string];
      if (pin !== undefined) expect(r.partition).toBe(pin);
      expect(seq).toBeGreaterThan(lastSeq.get(r.partition) ?? -1);
      lastSeq.set(r.partition, seq);
      expect(r.offset).toBe(nextOffset.get(r.partition) ?? 0);
      nextOffset.set(r.partition, r.offset + 1);
      expect(typeof r.timestamp).toBe('number');
      expect(r.headers).toEqual({});
      seen.add(seq);
    }
    expect(seen.size).toBe(total);
    expect(new Set(consumed.map((r) => r.partition)).size).toBe(3);
  });

  it('replays a partition from a middle offset, and prints key TAB value', async () => {
    expect(consumed).toHaveLength(total);
    const partition0 = consumed.filter((r) => r.partition === 0);
    const middle = Math.floor(partition0.length / 2);
    const expected = partition0.slice(middle);
    const result = await runCli([
      'consume',
      topic,
      '--partition',
      '0',
      '--offset',
      String(middle),
      '--max-messages',
      String(expected.length),
      '--print-key',
      '--timeout-ms',
      '10000',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(expected.map((r) => `${r.key}\t${r.value}\n`).join(''));
  });

  it('produces unkeyed lines to an explicit --partition and reads them with --offset earliest', async () => {
    const other = 'cli-explicit';
    expect((await runCli(['topic', 'create', other, '-p', '2'])).code).toBe(0);
    const produced = await runCli(['produce', other, '--partition', '1', '--acks', '-1'], {
      input: 'first\r\n\nthird',
    });
    expect(produced.code, produced.stderr).toBe(0);
    const result = await runCli([
      'consume',
      other,
      '--partition',
      '1',
      '--offset',
      'earliest',
      '--json',
      '--timeout-ms',
      '1500',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const records = parseRecords(result.stdout);
    expect(records.map((r) => [r.partition, r.offset, r.key, r.value])).toEqual([
      [1, 0, null, 'first'],
      [1, 1, null, ''],
      [1, 2, null, 'third'],
    ]);
  });

  it('keeps the records across a broker restart (same data dir)', async () => {
    await broker.restart();
    const result = await runCli(['topic', 'describe', topic, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as { partitions: { highWatermark: number }[] };
    expect(json.partitions.reduce((sum, p) => sum + p.highWatermark, 0)).toBe(total);
  });

  it('starts at the end without --from-beginning and ends after --timeout-ms', async () => {
    const result = await runCli(['consume', topic, '--timeout-ms', '1000']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
  });
});

describe('sluice exit codes', () => {
  it('exits 1 with one line for an unknown topic (consume and describe)', async () => {
    const [consume, describe] = await Promise.all([
      runCli(['consume', 'no-such-topic', '--from-beginning', '--timeout-ms', '1000']),
      runCli(['topic', 'describe', 'no-such-topic']),
    ]);
    expectOneLineError(consume);
    expectOneLineError(describe);
    expect(consume.stderr).toContain('no-such-topic');
  });

  it('exits 1 for an invalid topic name and for a bad value, 2 for a bad flag', async () => {
    const [invalid, badValue, badFlag] = await Promise.all([
      runCli(['topic', 'create', 'bad name!']),
      runCli(['topic', 'create', 'fine-name', '-p', 'many']),
      runCli(['topic', 'create', 'fine-name', '--no-such-flag']),
    ]);
    expectOneLineError(invalid);
    expectOneLineError(badValue);
    expect(badFlag.code, badFlag.stderr).toBe(2);
    expect(badFlag.stderr).toMatch(/unknown option/);
  });

  it('exits 1 within a few seconds when no broker is reachable', async () => {
    const port = await freePort();
    const result = await runCli(['topic', 'list'], { brokers: `127.0.0.1:${port}` });
    expectOneLineError(result);
    expect(result.elapsedMs).toBeLessThan(8_000);
  });

  it('prints help on every command', async () => {
    const help = await runCli(['consume', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--from-beginning/);
    expect(help.stdout).toMatch(/--brokers/);
  });
});
