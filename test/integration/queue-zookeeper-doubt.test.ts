/**
 * A queue leader whose ZooKeeper connection is down cannot know whether it
 * still leads (its session may be expiring and another broker taking over),
 * so it hands out nothing until the connection is back. One broker with a
 * real ZooKeeper server that is paused (SIGSTOP): once the broker's client
 * notices (no answer within two thirds of the 3 s session timeout), a
 * receiver gets no message however long it waits; after SIGCONT every
 * message is delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 1, label: 'queue-zookeeper-doubt' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** Times the broker's ZooKeeper client reported a request or connection timing out (the native client's own log). */
const zkTimeouts = (): number => cluster.output(1).split('timed out').length - 1;

describe('queue deliveries while the ZooKeeper connection is down', () => {
  it('stop while leadership is in doubt and resume once ZooKeeper answers again', async () => {
    const sluice = cluster.client({ retries: 30, retryBackoffMs: 100 });
    const q = sluice.queue('doubt');
    await q.sendBatch(Array.from({ length: 50 }, (_, i) => ({ value: `d${i}` })));
    const r = q.receiver({ prefetch: 1 });
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await r.receive(10_000))?.value?.toString() ?? 'none');
    expect(got).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);

    const zkPid = cluster.zookeeper.pid as number;
    const before = zkTimeouts();
    process.kill(zkPid, 'SIGSTOP');
    try {
      await cluster.poll('the broker to notice ZooKeeper is not answering', 20_000, async () =>
        zkTimeouts() > before ? true : undefined,
      );
      // what the receiver had prefetched before is handed over; nothing more comes while in doubt
      for (let m = await r.receive(0); m; m = await r.receive(0)) got.push(m.value?.toString() ?? '');
      const during = await r.receive(2000);
      expect(during?.value?.toString() ?? null).toBeNull();
    } finally {
      process.kill(zkPid, 'SIGCONT');
    }

    while (got.length < 50) {
      const m = await r.receive(30_000);
      if (!m) break;
      got.push(m.value?.toString() ?? '');
    }
    expect(new Set(got).size).toBe(50);
    await r.close();
  }, 120_000);
});
