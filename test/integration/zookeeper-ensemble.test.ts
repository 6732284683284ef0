/**
 * A three-broker cluster on a three-node ZooKeeper ensemble (issue 18): while
 * an idempotent acks=-1 producer streams numbered records, ZooKeeper members
 * die one at a time (kill -9 by PID) — the ensemble's leader first, then a
 * follower — and come back. A quorum keeps serving, so the brokers' sessions
 * move to a live member and survive: nothing acknowledged is lost,
 * duplicated or reordered, and the producer is never refused.
 *
 * "zookeeper member stall ms" (printed) is the longest time without an
 * acknowledgement while a member was down or rejoining.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';
import { checkStream, NumberedStream } from '../helpers/numbered-stream.js';
import { ZooKeeperEnsemble, zookeeperMode } from '../helpers/zookeeper.js';

const partitions = 3;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    brokers: 3,
    zookeeperNodes: 3,
    overrides: ['min.insync.replicas=2'],
    label: 'zookeeper-ensemble',
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** The longest stretch (ms) in which the count of acknowledged records did not grow, sampled every 10 ms. */
function watchAcks(stream: NumberedStream): { stop(): number } {
  let last = Date.now();
  let count = stream.acked.size;
  let longest = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    if (stream.acked.size !== count) {
      count = stream.acked.size;
      last = now;
    }
    longest = Math.max(longest, now - last);
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return longest;
    },
  };
}

describe('a cluster on a three-node ZooKeeper ensemble', () => {
  it('keeps acknowledging acks=-1 writes while one ZooKeeper member at a time is killed and restarted, losing nothing', async () => {
    const ensemble = cluster.zookeeper;
    if (!(ensemble instanceof ZooKeeperEnsemble)) throw new Error('the cluster runs no ensemble');
    const topic = 'zk-ensemble';
    await cluster.client().admin().createTopic({ topic, partitions, replicationFactor: 3 });
    for (let p = 0; p < partitions; p++) await cluster.waitForIsr(topic, p, 3);
    // the ensemble's helper session would not follow a killed member's clients: the test reads ZooKeeper no more
    await cluster.closeZk();

    const total = 8000;
    const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, { total, batch: 10, pauseMs: 20 });
    await stream.ackedAtLeast(100);
    const modes = await Promise.all(ensemble.members.map((m) => zookeeperMode(m.port)));
    const leader = modes.indexOf('leader');
    expect(leader, `members' modes: ${modes.join(', ')}`).toBeGreaterThanOrEqual(0);
    const follower = modes.indexOf('follower');
    const stalls: string[] = [];
    for (const [what, index] of [
      ['leader', leader],
      ['follower', follower],
    ] as const) {
      const member = ensemble.members[index];
      if (!member) throw new Error(`no ${what} member`);
      const before = stream.acked.size;
      const watch = watchAcks(stream);
      await member.kill();
      // a few seconds without it: more than the brokers' session timeout (3 s), so any session it held has moved
      await new Promise((r) => setTimeout(r, 4000));
      await member.restart();
      await new Promise((r) => setTimeout(r, 1000));
      stalls.push(`${what} member ${index + 1}: ${watch.stop()} ms`);
      expect(stream.acked.size, `acknowledgements while the ${what} member was down`).toBeGreaterThan(before);
    }
    console.log(`zookeeper member stall ms: ${stalls.join('; ')}`);

    await stream.done;
    const { problems } = await checkStream(cluster, stream, partitions);
    expect(problems).toEqual([]);
    expect(stream.failures).toEqual([]);
    expect(stream.acked.size).toBe(total);
  }, 120_000);
});
