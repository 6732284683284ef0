/**
 * Failover in a real three-broker cluster (real ZooKeeper, real broker
 * processes, SIGKILL by PID): while an idempotent acks=-1 producer sends a
 * bounded stream of numbered keyed records to a 3-partition topic with
 * replication factor 3 and min.insync.replicas=2, brokers die. A new leader
 * takes over, the producer carries on, and afterwards every acknowledged
 * record is in the log exactly once, at its acknowledged offset, in order per
 * partition. Variants: the partition leader dies; the controller dies; two
 * failovers in a row; the old leader returns, truncates, rejoins the ISR with
 * the leader's log and gets its preferred leadership back.
 *
 * "failover ms" (printed) is the time from the SIGKILL to the first
 * acknowledged acks=-1 write to the partition the victim led.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerRecord } from '../../src/index.js';
import { pollPatiently, TestCluster } from '../helpers/cluster.js';
import { checkStream, NumberedStream, probeFirstWrite } from '../helpers/numbered-stream.js';

const partitions = 3;
let cluster: TestCluster;
const failovers: string[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, overrides: ['min.insync.replicas=2'], label: 'failover' });
}, 90_000);

afterEach(async () => {
  // a test that failed half-way leaves the next one a whole cluster
  await cluster?.ensureAllRunning();
}, 60_000);

afterAll(async () => {
  if (failovers.length > 0) console.log(failovers.join('\n'));
  await cluster?.stop();
}, 60_000);

async function createTopic(topic: string): Promise<void> {
  await cluster.client().admin().createTopic({ topic, partitions, replicationFactor: 3 });
  for (let p = 0; p < partitions; p++) await cluster.waitForIsr(topic, p, 3);
}

function report(what: string, ms: number): void {
  const line = `failover ms: ${ms} (${what})`;
  failovers.push(line);
  console.log(line);
}

/** What every variant ends with: the stream finished, nothing acknowledged was lost, duplicated or reordered. */
async function expectIntact(stream: NumberedStream, probes: { value: string; partition: number; offset: number }[]) {
  await stream.done;
  const { problems, records } = await checkStream(cluster, stream, partitions, probes);
  expect(problems).toEqual([]);
  expect(stream.failures).toEqual([]);
  expect(stream.acked.size).toBe(stream.options.total);
  expect(records.flat().filter((r) => r.key?.toString() !== 'probe')).toHaveLength(stream.options.total);
}

describe('cluster failover', () => {
  it('kill -9 of a partition leader mid-stream: a new leader is elected and nothing acknowledged is lost', async () => {
    const topic = 'failover-leader';
    await createTopic(topic);
    const victim = await cluster.leaderOf(topic, 0);
    const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, { total: 600 });
    await stream.ackedAtLeast(200);

    const killedAt = await cluster.kill(victim);
    expect(stream.acked.size, 'the stream was over before the kill').toBeLessThan(600);
    const probe = await probeFirstWrite(cluster, topic, 0, killedAt);
    const newLeader = await cluster.leaderOf(topic, 0, { exclude: [victim] });
    report(`leader ${victim} of ${topic}-0 killed, new leader ${newLeader}`, probe.ms);

    await expectIntact(stream, probe.acked);
    expect(stream.acked.size).toBe(600);
  }, 90_000);

  it('a consumer reading while the leader dies carries on from the new leader, skipping and repeating nothing', async () => {
    const topic = 'failover-consumer';
    await createTopic(topic);
    const victim = await cluster.leaderOf(topic, 0);
    const consumer = cluster.client({ retries: 20 }).consumer({ maxWaitMs: 200 });
    consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, offset: 0 })));
    const got: ConsumerRecord[] = [];
    let reading = true;
    let killedAt = 0;
    let firstAfterKill = 0;
    const reader = (async () => {
      while (reading) {
        const records = await pollPatiently(consumer);
        if (killedAt > 0 && firstAfterKill === 0 && records.some((r) => r.partition === 0)) firstAfterKill = Date.now();
        got.push(...records);
      }
    })();
    try {
      const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, { total: 600 });
      await stream.ackedAtLeast(200);
      await cluster.poll('the consumer to read partition 0', 15_000, async () =>
        got.some((r) => r.partition === 0) ? true : undefined,
      );
      killedAt = await cluster.kill(victim);
      await stream.done;
      expect(stream.failures).toEqual([]);
      const expected = new Set([...stream.acked.keys()].map((i) => `v${i}`));
      await cluster
        .poll('the consumer to read every acknowledged record', 30_000, async () => {
          const values = new Set(got.map((r) => r.value?.toString()));
          return [...expected].every((v) => values.has(v)) ? true : undefined;
        })
        .catch((err: Error) => {
          const count = (p: number, list: { partition: number }[]) => list.filter((r) => r.partition === p).length;
          const acked = [...stream.acked.values()];
          const per = [0, 1, 2].map((p) => `${p}: ${count(p, got)} of ${count(p, acked)}`).join(', ');
          throw new Error(`${err.message}; read per partition ${per} (leader ${victim} of partition 0 was killed)`);
        });
      console.log(`consumer failover ms: ${firstAfterKill - killedAt} (leader ${victim} of ${topic}-0 killed)`);
    } finally {
      reading = false;
      await reader.catch(() => undefined);
      await consumer.close();
    }
    await reader; // a non-retriable poll error fails the test
    for (let p = 0; p < partitions; p++) {
      const offsets = got.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets, `partition ${p}`).toEqual(offsets.map((_, i) => i));
    }
  }, 90_000);

  it('kill -9 of the controller: another broker takes over as controller and as leader', async () => {
    const topic = 'failover-controller';
    await createTopic(topic);
    const controller = await cluster.waitForController();
    let led = 0;
    for (let p = 0; p < partitions; p++) if ((await cluster.leaderOf(topic, p)) === controller) led = p;
    const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, { total: 600 });
    await stream.ackedAtLeast(200);

    const killedAt = await cluster.kill(controller);
    expect(stream.acked.size, 'the stream was over before the kill').toBeLessThan(600);
    const [probe, newController] = await Promise.all([
      probeFirstWrite(cluster, topic, led, killedAt),
      cluster.waitForController([controller]).then((id) => ({ id, ms: Date.now() - killedAt })),
    ]);
    report(`controller ${controller} (leader of ${topic}-${led}) killed, new controller ${newController.id}`, probe.ms);
    console.log(`controller failover ms: ${newController.ms}`);
    expect(newController.id).not.toBe(controller);

    await expectIntact(stream, probe.acked);
  }, 90_000);

  it('two successive failovers of one partition (the first victim restarted in between) lose nothing', async () => {
    const topic = 'failover-twice';
    await createTopic(topic);
    const first = await cluster.leaderOf(topic, 0);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // the stream waits at record 600 until the first victim is back in the ISR
    const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, {
      total: 1000,
      beforeBatch: (i) => (i === 600 ? held : Promise.resolve()),
    });
    try {
      await stream.ackedAtLeast(200);
      const killed1 = await cluster.kill(first);
      const probe1 = await probeFirstWrite(cluster, topic, 0, killed1);
      const second = await cluster.leaderOf(topic, 0, { exclude: [first] });
      report(`first: leader ${first} of ${topic}-0 killed, new leader ${second}`, probe1.ms);

      await cluster.restart(first);
      await cluster.waitForIsr(topic, 0, 3);
      release();
      await stream.ackedAtLeast(700);
      // the leader now (the preferred replica may have taken its leadership back)
      const victim2 = await cluster.leaderOf(topic, 0);
      const killed2 = await cluster.kill(victim2);
      expect(stream.acked.size, 'the stream was over before the second kill').toBeLessThan(1000);
      const probe2 = await probeFirstWrite(cluster, topic, 0, killed2);
      const third = await cluster.leaderOf(topic, 0, { exclude: [victim2] });
      report(`second: leader ${victim2} of ${topic}-0 killed, new leader ${third}`, probe2.ms);
      expect(cluster.liveIds).toHaveLength(2);

      await expectIntact(stream, [...probe1.acked, ...probe2.acked]);
    } finally {
      release();
    }
  }, 120_000);

  it('the old leader restarted truncates, rejoins the ISR with the leader’s log, and leads again as preferred replica', async () => {
    const topic = 'failover-rejoin';
    await createTopic(topic);
    const before = (await cluster.describe(topic)).partitions[0];
    const victim = await cluster.leaderOf(topic, 0);
    const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, { total: 600 });
    await stream.ackedAtLeast(200);

    const killedAt = await cluster.kill(victim);
    expect(stream.acked.size, 'the stream was over before the kill').toBeLessThan(600);
    const probe = await probeFirstWrite(cluster, topic, 0, killedAt);
    const newLeader = await cluster.leaderOf(topic, 0, { exclude: [victim] });
    report(`leader ${victim} of ${topic}-0 killed before rejoining, new leader ${newLeader}`, probe.ms);
    await expectIntact(stream, probe.acked);

    await cluster.restart(victim);
    const rejoined = await cluster.waitForIsr(topic, 0, 3);
    expect([...rejoined.isr].sort()).toEqual([1, 2, 3]);

    // same records at the same offsets, up to the high watermark, in every replica's log on disk
    const hw = (await cluster.describe(topic)).partitions[0]?.highWatermark ?? -1;
    const ackedOnP0 = [...stream.acked.values()].filter((m) => m.partition === 0).length + probe.acked.length;
    expect(hw).toBeGreaterThanOrEqual(ackedOnP0);
    const upToHw = (id: number) => cluster.storedRecords(id, topic, 0).filter((r) => r.offset < hw);
    const leaderLog = upToHw(newLeader);
    expect(leaderLog).toHaveLength(hw);
    await cluster.poll(`broker ${victim}'s log of ${topic}-0 to match the leader's`, 15_000, async () =>
      JSON.stringify(upToHw(victim)) === JSON.stringify(leaderLog) ? true : undefined,
    );
    for (const id of cluster.ids) expect(upToHw(id), `broker ${id}`).toEqual(leaderLog);

    // auto.leader.rebalance.enable (checked every 2 s here): the preferred replica leads again
    const preferred = before?.replicas[0];
    expect(preferred).toBe(victim);
    await cluster.poll(`preferred replica ${preferred} to lead ${topic}-0 again`, 20_000, async () =>
      (await cluster.leaderOf(topic, 0)) === preferred ? true : undefined,
    );
  }, 120_000);
});
