/**
 * Queues of the client library across a leader failover (3 brokers with
 * ZooKeeper, the queue's log replicated 3 ways): a listener carries on with
 * the new leader after kill -9 of the queue's leader, and between the sends
 * before and after the failover nothing is lost — a message is delivered
 * again only when it was unacknowledged when the leader died. Delivery counts
 * of acquisitions are in the log, so the new leader redelivers those as
 * redeliveries (JMSRedelivered: "may have been delivered before").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/group-consumers.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, label: 'queue-client' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('queue client across a leader failover', () => {
  it('a listener keeps going with the new leader; nothing is lost, only unacknowledged messages come again', async () => {
    const sluice = cluster.client({ retries: 30, retryBackoffMs: 100 });
    const queue = sluice.queue('jobs-ha');
    const seen = new Map<string, number>();
    let redelivered = 0;
    const listener = queue.listen(
      async (m) => {
        const v = m.value?.toString() ?? '';
        seen.set(v, (seen.get(v) ?? 0) + 1);
        if (m.redelivered) redelivered++;
        await new Promise((r) => setTimeout(r, 2));
      },
      { prefetch: 10 },
    );
    await queue.sendBatch(Array.from({ length: 200 }, (_, i) => ({ value: `before-${i}` })));
    await cluster.waitForIsr('__queue.jobs-ha', 0, 3);
    await waitFor('some messages handled', () => seen.size >= 50);
    const leader = await cluster.leaderOf('__queue.jobs-ha', 0);
    await cluster.kill(leader);

    // sent through the new leader (the client finds it)
    for (let i = 0; i < 50; i++) await queue.send(`after-${i}`);
    await waitFor('every message', () => seen.size >= 250, 60_000);
    await listener.close();
    for (let i = 0; i < 200; i++) expect(seen.has(`before-${i}`)).toBe(true);
    for (let i = 0; i < 50; i++) expect(seen.get(`after-${i}`)).toBe(1);
    const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
    // at most what the listener held (prefetch) when the leader died, plus acknowledgements lost with it
    expect(duplicates).toBeLessThanOrEqual(20);
    // flagged redelivered: what the handler saw again, plus what the client had prefetched but not yet handed
    // over when the leader died (the broker knew it was delivered, JMS's "may have been delivered before")
    expect(redelivered).toBeGreaterThanOrEqual(duplicates > 0 ? 1 : 0);
    expect(redelivered).toBeLessThanOrEqual(duplicates + 10);
    const stats = await sluice.admin().queueStats('jobs-ha');
    expect(stats).toMatchObject({ depth: 0, inFlight: 0, consumers: 0 });
  }, 120_000);
});
