/**
 * `sluice topic describe` while a partition's leader is down (issue 19 item
 * 2): a real two-broker cluster (real ZooKeeper, broker processes); one
 * broker (the controller) is killed and, while the metadata still names it as
 * leader (its ZooKeeper session has not expired yet), describe answers from the metadata
 * with the reachable leaders' offsets and unknown (-1) offsets for the rest,
 * saying why on stderr, instead of failing with ECONNREFUSED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliRunner } from '../helpers/cli-runner.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
const cli = new CliRunner();

beforeAll(async () => {
  // a long session and no fencing by the controller's prober (which would move the leadership within
  // a round trip of the kill): the killed broker stays the partition's leader in the metadata throughout
  cluster = await TestCluster.start({
    brokers: 2,
    label: 'describe-leader-down',
    overrides: ['zookeeper.session.timeout.ms=60000', 'controller.broker.fencing.enable=false'],
  });
}, 90_000);

afterAll(async () => {
  cli.killAll();
  await cluster?.stop();
}, 60_000);

interface PartitionJson {
  partition: number;
  leader: number;
  logStartOffset: number;
  highWatermark: number;
}

describe('topic describe with a leader down', () => {
  it('answers from the metadata: the live leaders with offsets, the dead one with -1 and a note', async () => {
    const run = (args: string[], input?: string) =>
      cli.run(args, { brokers: cluster.bootstrap, input, timeoutMs: 30_000 });
    const created = await run(['topic', 'create', 'half-down', '-p', '2', '-r', '1']);
    expect(created.code, created.stderr).toBe(0);
    const before = await cluster.poll('both partitions led', 20_000, async () => {
      const r = await run(['topic', 'describe', 'half-down', '--json']);
      const parts = r.code === 0 ? (JSON.parse(r.stdout) as { partitions: PartitionJson[] }).partitions : [];
      return parts.length === 2 && parts.every((p) => p.leader >= 0) ? parts : undefined;
    });
    const leaders = new Set(before.map((p) => p.leader));
    expect(leaders.size, 'one partition on each broker').toBe(2);
    for (const p of before) {
      const sent = await run(['produce', 'half-down', '--partition', String(p.partition)], 'a\nb\n');
      expect(sent.code, sent.stderr).toBe(0);
    }
    // the controller's partition: with the controller gone, nothing moves until its session expires
    const controller = await cluster.waitForController([], 20_000);
    const down = before.find((p) => p.leader === controller) as PartitionJson;
    const up = before.find((p) => p.leader !== controller) as PartitionJson;
    await cluster.kill(down.leader);

    const json = await run(['topic', 'describe', 'half-down', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const parts = (JSON.parse(json.stdout) as { partitions: PartitionJson[] }).partitions;
    expect(parts.find((p) => p.partition === up.partition)).toMatchObject({
      leader: up.leader,
      logStartOffset: 0,
      highWatermark: 2,
    });
    expect(parts.find((p) => p.partition === down.partition)).toMatchObject({
      leader: down.leader,
      logStartOffset: -1,
      highWatermark: -1,
    });
    expect(json.stderr).toMatch(
      new RegExp(
        `^sluice: note: offsets of half-down partition ${down.partition} unknown \\(-1\\): leader ${down.leader} unreachable`,
      ),
    );

    const text = await run(['topic', 'describe', 'half-down']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `Partition: ${down.partition}\\tLeader: ${down.leader}\\t.*LogStartOffset: unknown\\tHighWatermark: unknown`,
      ),
    );
    expect(text.stdout).toMatch(new RegExp(`Partition: ${up.partition}\\tLeader: ${up.leader}\\t.*HighWatermark: 2`));
  }, 90_000);
});
