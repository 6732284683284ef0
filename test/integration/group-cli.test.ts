/**
 * `sluice group list|describe|reset-offsets` as users run them: CLI child
 * processes against a real broker child process. Offsets are committed and
 * members joined with the bare protocol (RawClient), so these tests check the
 * admin commands, not the consumer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { encodeAssignment } from '../../src/protocol/native/consumer-protocol.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { type CliResult, CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { RawClient } from '../helpers/raw-client.js';

interface Any {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

interface DescribeJson {
  group: string;
  state: string;
  members: {
    memberId: string;
    clientId: string;
    host: string;
    assignment: { topic: string; partitions: number[] }[];
  }[];
  offsets: { topic: string; partition: number; committed: number | null; logEnd: number | null; lag: number | null }[];
}

const cliTimeoutMs = 20_000;
const topic = 'grp-cli';
const partitions = 4;
const perPartition = 10;
/** Record i of every partition has timestamp base + i seconds. */
const base = Date.UTC(2024, 0, 15, 12, 0, 0);

const cli = new CliRunner();
const raws: RawClient[] = [];
let broker: BrokerProcess;

function runCli(args: string[], input = ''): Promise<CliResult> {
  return cli.run(args, { input, brokers: broker.address, timeoutMs: cliTimeoutMs });
}

async function raw(): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  raws.push(c);
  return c;
}

/** An admin commit (generation -1, no member): what a tool does for an empty group. */
async function commit(group: string, offsets: Record<number, number>): Promise<void> {
  const c = await raw();
  const res = await c.call<Any>(ApiKey.OffsetCommit, {
    groupId: group,
    generationId: -1,
    memberId: '',
    topics: [
      { name: topic, partitions: Object.entries(offsets).map(([p, offset]) => ({ partition: Number(p), offset })) },
    ],
  });
  for (const p of res.topics[0].partitions) expect(p.errorCode).toBe(0);
}

async function describeJson(group: string): Promise<DescribeJson> {
  const r = await runCli(['group', 'describe', group, '--json']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout) as DescribeJson;
}

const committedOf = (d: DescribeJson): (number | null)[] => d.offsets.map((o) => o.committed);

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['group.initial.rebalance.delay.ms=200'] });
  const sluice = new Sluice({ brokers: broker.address, clientId: 'group-cli-test' });
  try {
    await sluice.admin().createTopic({ topic, partitions });
    const producer = sluice.producer({ acks: -1 });
    for (let p = 0; p < partitions; p++) {
      const messages = Array.from({ length: perPartition }, (_, i) => ({
        value: `p${p}-r${i}`,
        partition: p,
        timestamp: base + i * 1000,
      }));
      await producer.send({ topic, messages });
    }
    await producer.close();
  } finally {
    await sluice.close();
  }
});

afterEach(() => {
  cli.killAll();
});

afterAll(async () => {
  for (const c of raws.splice(0)) c.close();
  await broker?.destroy();
});

describe('sluice group', () => {
  it('lists a group that has committed offsets, and describes it with exact lag (JSON and table)', async () => {
    await commit('g-describe', { 0: 10, 1: 5, 2: 0 });

    const listed = await runCli(['group', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')).toContain('g-describe');

    const d = await describeJson('g-describe');
    expect(Object.keys(d).sort()).toEqual(['group', 'members', 'offsets', 'state']);
    expect(d).toEqual({
      group: 'g-describe',
      state: 'Empty',
      members: [],
      offsets: [
        { topic, partition: 0, committed: 10, logEnd: 10, lag: 0 },
        { topic, partition: 1, committed: 5, logEnd: 10, lag: 5 },
        { topic, partition: 2, committed: 0, logEnd: 10, lag: 10 },
        // nothing committed: shown (every partition of the topic), committed and lag null
        { topic, partition: 3, committed: null, logEnd: 10, lag: null },
      ],
    });

    const table = await runCli(['group', 'describe', 'g-describe']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe("Consumer group 'g-describe' has no active members.");
    const header = lines.findIndex((l) => l.startsWith('TOPIC'));
    expect(lines[header]?.split(/\s+/)).toEqual([
      'TOPIC',
      'PARTITION',
      'CURRENT-OFFSET',
      'LOG-END-OFFSET',
      'LAG',
      'CONSUMER-ID',
      'HOST',
      'CLIENT-ID',
    ]);
    const rows = lines.slice(header + 1).map((l) => l.split(/\s+/));
    expect(rows).toEqual([
      [topic, '0', '10', '10', '0', '-', '-', '-'],
      [topic, '1', '5', '10', '5', '-', '-', '-'],
      [topic, '2', '0', '10', '10', '-', '-', '-'],
      [topic, '3', '-', '10', '-', '-', '-', '-'],
    ]);
  });

  it('describing a group that does not exist fails with one line', async () => {
    expectOneLineError(await runCli(['group', 'describe', 'no-such-group']), /no-such-group.*does not exist/);
  });

  it('reset-offsets: a dry run changes nothing; --execute --to-earliest / --to-latest / --to-offset apply', async () => {
    await commit('g-reset', { 0: 7, 1: 7, 2: 7, 3: 7 });

    const dry = await runCli(['group', 'reset-offsets', 'g-reset', '--topic', topic, '--to-earliest']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^GROUP\s+TOPIC\s+PARTITION\s+PREVIOUS-OFFSET\s+NEW-OFFSET/);
    expect(dry.stdout).toMatch(/Dry run/);
    const dryRows = dry.stdout
      .trimEnd()
      .split('\n')
      .slice(1, 1 + partitions)
      .map((l) => l.split(/\s+/));
    expect(dryRows).toEqual([0, 1, 2, 3].map((p) => ['g-reset', topic, String(p), '7', '0']));
    expect(committedOf(await describeJson('g-reset'))).toEqual([7, 7, 7, 7]);

    const earliest = await runCli([
      'group',
      'reset-offsets',
      'g-reset',
      '--topic',
      topic,
      '--to-earliest',
      '--execute',
    ]);
    expect(earliest.code, earliest.stderr).toBe(0);
    expect(earliest.stdout).not.toMatch(/Dry run/);
    let d = await describeJson('g-reset');
    expect(d.offsets).toEqual([0, 1, 2, 3].map((p) => ({ topic, partition: p, committed: 0, logEnd: 10, lag: 10 })));

    const latest = await runCli(['group', 'reset-offsets', 'g-reset', '--topic', topic, '--to-latest', '--execute']);
    expect(latest.code, latest.stderr).toBe(0);
    d = await describeJson('g-reset');
    expect(d.offsets.map((o) => [o.committed, o.lag])).toEqual([
      [10, 0],
      [10, 0],
      [10, 0],
      [10, 0],
    ]);

    const toOffset = await runCli([
      'group',
      'reset-offsets',
      'g-reset',
      '--topic',
      topic,
      '--to-offset',
      '3',
      '--execute',
    ]);
    expect(toOffset.code, toOffset.stderr).toBe(0);
    expect(committedOf(await describeJson('g-reset'))).toEqual([3, 3, 3, 3]);

    // some partitions only (Kafka's TOPIC:P,P); an offset past the log end is clamped to it
    const some = await runCli([
      'group',
      'reset-offsets',
      'g-reset',
      '--topic',
      `${topic}:1,2`,
      '--to-offset',
      '99',
      '--execute',
    ]);
    expect(some.code, some.stderr).toBe(0);
    d = await describeJson('g-reset');
    expect(d.offsets.map((o) => [o.committed, o.lag])).toEqual([
      [3, 7],
      [10, 0],
      [10, 0],
      [3, 7],
    ]);
  });

  it('reset-offsets --to-datetime goes to the first record at or after the time', async () => {
    await commit('g-time', { 0: 0 });
    const at = new Date(base + 4_500).toISOString(); // between record 4 (base+4s) and record 5 (base+5s)
    const r = await runCli(['group', 'reset-offsets', 'g-time', '--topic', topic, '--to-datetime', at, '--execute']);
    expect(r.code, r.stderr).toBe(0);
    let d = await describeJson('g-time');
    expect(d.offsets.map((o) => [o.committed, o.lag])).toEqual([
      [5, 5],
      [5, 5],
      [5, 5],
      [5, 5],
    ]);

    // exactly at a record's time: that record; after the last record: the log end
    await runCli([
      'group',
      'reset-offsets',
      'g-time',
      '--topic',
      `${topic}:0`,
      '--to-datetime',
      new Date(base + 2_000).toISOString(),
      '--execute',
    ]);
    await runCli([
      'group',
      'reset-offsets',
      'g-time',
      '--topic',
      `${topic}:1`,
      '--to-datetime',
      '2100-01-01T00:00:00Z',
      '--execute',
    ]);
    d = await describeJson('g-time');
    expect(committedOf(d)).toEqual([2, 10, 5, 5]);

    const bad = await runCli([
      'group',
      'reset-offsets',
      'g-time',
      '--topic',
      topic,
      '--to-datetime',
      'yesterday',
      '--execute',
    ]);
    expectOneLineError(bad, /--to-datetime/);
  });

  it('reset-offsets needs exactly one target (usage error, exit 2) and an existing topic', async () => {
    const none = await runCli(['group', 'reset-offsets', 'g-x', '--topic', topic, '--execute']);
    expect(none.code).toBe(2);
    const two = await runCli(['group', 'reset-offsets', 'g-x', '--topic', topic, '--to-earliest', '--to-latest']);
    expect(two.code).toBe(2);
    expectOneLineError(
      await runCli(['group', 'reset-offsets', 'g-x', '--topic', 'no-such-topic', '--to-earliest', '--execute']),
      /no-such-topic.*does not exist/,
    );
  });

  it('refuses to reset a group with an active member (exit 1, one line) and describes the member', async () => {
    const group = 'g-active';
    await commit(group, { 0: 4, 1: 4, 2: 4, 3: 4 });
    const c = await raw();
    const joined = await c.call<Any>(ApiKey.JoinGroup, {
      groupId: group,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    expect(joined.errorCode).toBe(0);
    const assignment = encodeAssignment({ version: 0, partitions: [{ topic, partitions: [2, 0, 1, 3] }] });
    const synced = await c.call<Any>(ApiKey.SyncGroup, {
      groupId: group,
      generationId: joined.generationId,
      memberId: joined.memberId,
      assignments: [{ memberId: joined.memberId, assignment }],
    });
    expect(synced.errorCode).toBe(0);

    const refused = await runCli(['group', 'reset-offsets', group, '--topic', topic, '--to-earliest', '--execute']);
    expectOneLineError(refused, /active member/);
    const d = await describeJson(group);
    expect(d.state).toBe('Stable');
    expect(d.members).toEqual([
      {
        memberId: joined.memberId,
        clientId: 'raw-test',
        host: expect.any(String),
        assignment: [{ topic, partitions: [0, 1, 2, 3] }],
      },
    ]);
    expect(committedOf(d)).toEqual([4, 4, 4, 4]);

    const table = await runCli(['group', 'describe', group]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TOPIC\s+PARTITION/);
    for (const line of lines.slice(1)) expect(line).toContain(joined.memberId);

    await c.call<Any>(ApiKey.LeaveGroup, { groupId: group, memberId: joined.memberId });
    const after = await runCli(['group', 'reset-offsets', group, '--topic', topic, '--to-earliest', '--execute']);
    expect(after.code, after.stderr).toBe(0);
    expect(committedOf(await describeJson(group))).toEqual([0, 0, 0, 0]);
  });
});

describe('sluice consume --group', () => {
  const ctopic = 'grp-consume';
  const group = 'g-consume';
  const total = partitions * perPartition;

  interface JsonRecord {
    topic: string;
    partition: number;
    offset: number;
    value: string;
  }
  const parse = (stdout: string): JsonRecord[] =>
    stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as JsonRecord);

  beforeAll(async () => {
    const sluice = new Sluice({ brokers: broker.address, clientId: 'group-cli-test' });
    try {
      await sluice.admin().createTopic({ topic: ctopic, partitions });
      const producer = sluice.producer({ acks: -1 });
      for (let p = 0; p < partitions; p++) {
        const messages = Array.from({ length: perPartition }, (_, i) => ({ value: `p${p}-r${i}`, partition: p }));
        await producer.send({ topic: ctopic, messages });
      }
      await producer.close();
    } finally {
      await sluice.close();
    }
  });

  it('two runs consume disjoint parts, a rerun starts where the last stopped, and describe shows lag 0', async () => {
    // 15 then 25: the first run stops inside a partition, so the second resumes mid-partition
    const firstCount = 15;
    const secondCount = total - firstCount;
    const args = ['consume', ctopic, '--group', group, '--json', '--timeout-ms', '10000'];
    const first = await runCli([...args, '--from-beginning', '--max-messages', String(firstCount)]);
    expect(first.code, first.stderr).toBe(0);
    const a = parse(first.stdout);
    expect(a).toHaveLength(firstCount);

    // what the first run printed is committed: describe shows it, and the lag is the rest
    const mid = await describeJson(group);
    expect(mid.members).toEqual([]);
    const committedMid = new Map(mid.offsets.map((o) => [o.partition, o.committed ?? 0]));
    const lastA = new Map<number, number>();
    for (const r of a) lastA.set(r.partition, r.offset);
    for (const o of mid.offsets) {
      expect(o.topic).toBe(ctopic);
      if (lastA.has(o.partition)) expect(o.committed).toBe((lastA.get(o.partition) as number) + 1);
      expect(o.logEnd).toBe(perPartition);
    }
    expect(mid.offsets.reduce((sum, o) => sum + (o.lag ?? perPartition), 0)).toBe(secondCount);

    // --from-beginning only matters where the group has committed nothing (as Kafka's console consumer):
    // partitions the first run read resume at their committed offsets
    const second = await runCli([...args, '--from-beginning', '--max-messages', String(secondCount)]);
    expect(second.code, second.stderr).toBe(0);
    const b = parse(second.stdout);
    expect(b).toHaveLength(secondCount);
    // the first run stopped inside some partition, and the second picked it up right there
    expect(mid.offsets.some((o) => o.committed !== null && o.committed > 0 && o.committed < perPartition)).toBe(true);

    // disjoint, together everything, and each partition resumes right after the committed offset
    const ids = (rs: JsonRecord[]): string[] => rs.map((r) => `${r.partition}:${r.offset}`);
    const all = new Set([...ids(a), ...ids(b)]);
    expect(all.size).toBe(total);
    for (const p of [0, 1, 2, 3]) {
      const firstOfB = b.find((r) => r.partition === p);
      if (firstOfB) expect(firstOfB.offset).toBe(committedMid.get(p));
    }
    for (const r of [...a, ...b]) expect(r.value).toBe(`p${r.partition}-r${r.offset}`);

    // nothing left: a third run prints nothing and exits on its idle timeout
    const third = await runCli(['consume', ctopic, '--group', group, '--json', '--timeout-ms', '1500']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toBe('');

    const done = await describeJson(group);
    expect(done.offsets).toEqual(
      [0, 1, 2, 3].map((p) => ({ topic: ctopic, partition: p, committed: perPartition, logEnd: perPartition, lag: 0 })),
    );
  });

  it('a new group without --from-beginning starts at the end; --group with --partition is bad usage', async () => {
    const r = await runCli(['consume', ctopic, '--group', 'g-latest', '--json', '--timeout-ms', '1500']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const usage = await runCli(['consume', ctopic, '--group', 'g-x', '--partition', '0']);
    expect(usage.code).toBe(2);
  });
});
