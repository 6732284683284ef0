/**
 * A group consumer keeps running while the controller is paused (SIGSTOP)
 * past its ZooKeeper session: the metadata it asks for meanwhile has gaps
 * (leaders moving, a broker rebuilding its cache after the lost session,
 * connections timing out and being dropped), and each must be retried, never
 * end run() — the consumer gets every record written before, during and after
 * the pause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, zkSessionTimeoutMs } from '../helpers/cluster.js';
import { waitFor } from '../helpers/group-consumers.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, overrides: ['min.insync.replicas=2'], label: 'controller-pause' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('cluster: a group consumer through a controller pause', () => {
  it('run() keeps going and the consumer gets every record', async () => {
    const topic = 'controller-pause';
    // on a loaded machine a broker can lose its first session while starting (it then rejoins): wait for all
    await cluster.poll('every broker to be registered', 60_000, async () =>
      (await cluster.registeredIds()).length === cluster.ids.length ? true : undefined,
    );
    const partitions = 3;
    const sluice = cluster.client({ retries: 20, requestTimeoutMs: 4000 });
    await sluice.admin().createTopic({ topic, partitions, replicationFactor: 3 });
    for (let p = 0; p < partitions; p++) await cluster.waitForIsr(topic, p, 3);
    const producer = sluice.producer({ acks: -1, idempotent: true, timeoutMs: 4000 });
    const sent: string[] = [];
    const send = async (label: string, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const value = `${label}-${i}`;
        await producer.send({ topic, messages: [{ value, partition: i % partitions }] });
        sent.push(value);
      }
    };

    const consumer = cluster.client({ retries: 10, requestTimeoutMs: 4000 }).consumer({
      groupId: 'through-the-pause',
      autoOffsetReset: 'smallest',
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 300,
      maxWaitMs: 200,
    });
    await consumer.subscribe({ topics: [topic] });
    const seen = new Set<string>();
    let runError: unknown;
    let runEnded = false;
    const running = consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.add(message.value?.toString() ?? '');
        },
      })
      .catch((err: unknown) => {
        runError = err;
      })
      .finally(() => {
        runEnded = true;
      });

    await send('before', 60);
    await waitFor('the records written before the pause', () => seen.size >= 60 || runEnded);

    const controller = await cluster.waitForController();
    const pid = cluster.broker(controller).pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      // past its session: another broker becomes the controller and leads its partitions
      await cluster.waitForController([controller], zkSessionTimeoutMs * 6);
      await send('during', 60);
      await waitFor('the records written during the pause', () => seen.size >= 120 || runEnded, 60_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // back: it notices the lost session, rebuilds its caches and rejoins while the consumer keeps asking
    await send('after', 60);
    await waitFor('every record', () => seen.size >= sent.length || runEnded, 60_000);
    await producer.close();

    expect(runError).toBeUndefined();
    expect(runEnded).toBe(false);
    expect([...seen].sort()).toEqual([...sent].sort());
    await consumer.close();
    await running;
    expect(runError).toBeUndefined();
  }, 180_000);
});
