/**
 * A broker whose ZooKeeper session expires while it still runs (SIGSTOP for
 * longer than the session timeout: a long GC pause or a network partition):
 * the others elect new leaders for its partitions and keep accepting acks=-1
 * writes; when it runs again it resigns its stale leadership (its own writes
 * are refused, no split brain), opens a new session, registers again,
 * follows the new leader and rejoins the ISR. Nothing acknowledged is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, zkSessionTimeoutMs } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, overrides: ['min.insync.replicas=2'], label: 'session' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('cluster: lost ZooKeeper session', () => {
  it('a paused leader loses its session, resigns, re-registers and rejoins the ISR', async () => {
    const topic = 'session-loss';
    // a short request timeout: a send in flight to the paused broker gives up and retries at the new leader
    const sluice = cluster.client({ retries: 20, requestTimeoutMs: 4000 });
    await sluice.admin().createTopic({ topic, partitions: 1, replicationFactor: 3 });
    await cluster.waitForIsr(topic, 0, 3);
    // likewise for produce requests (their timeout is the producer's, 30 s by default as in Kafka)
    const producer = sluice.producer({ acks: -1, idempotent: true, timeoutMs: 4000 });
    const acked: string[] = [];
    for (let i = 0; i < 50; i++) {
      await producer.send({ topic, messages: [{ value: `before-${i}`, partition: 0 }] });
      acked.push(`before-${i}`);
    }
    const victim = await cluster.leaderOf(topic, 0);
    const pid = cluster.broker(victim).pid as number;

    process.kill(pid, 'SIGSTOP');
    try {
      // the session expires on the server and the others elect a new leader
      const next = await cluster.leaderOf(topic, 0, { exclude: [victim], timeoutMs: 20_000 });
      expect(next).not.toBe(victim);
      expect(await cluster.registeredIds()).not.toContain(victim);
      for (let i = 0; i < 10; i++) {
        await producer.send({ topic, messages: [{ value: `during-${i}`, partition: 0 }] });
        acked.push(`during-${i}`);
      }
      await sleep(zkSessionTimeoutMs / 2);
    } finally {
      process.kill(pid, 'SIGCONT');
    }

    // back: it registers again with a new session and catches up into the ISR
    await cluster.poll('the paused broker to register again', 20_000, async () =>
      (await cluster.registeredIds()).includes(victim) ? true : undefined,
    );
    await cluster.waitForIsr(topic, 0, 3, 30_000);
    expect(cluster.output(victim)).toContain('ZooKeeper session lost');
    // logged once its partitions' roles are applied again, which can end after the ISR is whole again;
    // and this process reads the broker's stdout a little after the broker wrote it
    await cluster.poll('the paused broker to log its rejoining', 20_000, async () =>
      cluster.output(victim).includes('rejoined the cluster') ? true : undefined,
    );

    for (let i = 0; i < 50; i++) {
      await producer.send({ topic, messages: [{ value: `after-${i}`, partition: 0 }] });
      acked.push(`after-${i}`);
    }
    await producer.close();
    const stored = (await cluster.readPartition(topic, 0)).map((r) => r.value?.toString());
    expect(stored).toEqual(acked);
    // the returned broker's own copy agrees with the leader's
    await cluster.poll('the returned broker to hold every record', 20_000, async () =>
      cluster.storedRecords(victim, topic, 0).length === acked.length ? true : undefined,
    );
    expect(cluster.storedRecords(victim, topic, 0).map((r) => r.value)).toEqual(acked);
  }, 120_000);
});
