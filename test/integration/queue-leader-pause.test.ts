/**
 * A queue's leader paused (SIGSTOP) past its ZooKeeper session while a
 * receiver consumes, then resumed (3 brokers, session timeout 3 s). The
 * resumed broker does not know yet that it lost its session and its
 * leadership; a fetch it had queued from before the pause must not hand out
 * messages whose delivery the new leader never hears of. So every message the
 * application sees a second time comes flagged: redelivered, with a delivery
 * count of at least 2 (JMSRedelivered / JMSXDeliveryCount). Once the broker
 * rejoins with a new session and leads the queue again, it delivers again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/group-consumers.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, label: 'queue-leader-pause' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Seen {
  deliveryCount: number;
  redelivered: boolean;
}

describe('queue leader paused past its ZooKeeper session', () => {
  it('every message delivered again after the pause is flagged redelivered with a count of at least 2', async () => {
    const queue = 'paused-leader';
    const total = 2000;
    const sluice = cluster.client({ retries: 30, retryBackoffMs: 100 });
    const q = sluice.queue(queue);
    await q.sendBatch(Array.from({ length: total }, (_, i) => ({ value: `m${i}` })));
    await cluster.waitForIsr(`__queue.${queue}`, 0, 3);
    const victim = await cluster.leaderOf(`__queue.${queue}`, 0);
    const pid = cluster.broker(victim).pid as number;

    // an auto-acknowledging receiver with a small prefetch: it always has a fetch on its way to the leader
    const seen = new Map<string, Seen[]>();
    const receiver = q.receiver({ prefetch: 10 });
    let stop = false;
    const consuming = (async () => {
      while (!stop) {
        const m = await receiver.receive(500);
        if (!m) continue;
        const v = m.value?.toString() ?? '';
        seen.set(v, [...(seen.get(v) ?? []), { deliveryCount: m.deliveryCount, redelivered: m.redelivered }]);
        await sleep(1);
      }
    })();

    try {
      await waitFor('some messages consumed', () => seen.size >= 100, 30_000);
      process.kill(pid, 'SIGSTOP');
      try {
        // the session expires on the server and another broker leads the queue
        await cluster.leaderOf(`__queue.${queue}`, 0, { exclude: [victim], timeoutMs: 30_000 });
        await sleep(500);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await waitFor('every message consumed', () => seen.size >= total, 90_000);
      // the paused broker rejoins with a new session and, as the preferred replica, leads the queue again:
      // it delivers again (its leadership is no longer in doubt)
      await cluster.poll(`broker ${victim} to lead the queue again`, 60_000, async () =>
        (await cluster.leaderOf(`__queue.${queue}`, 0)) === victim ? true : undefined,
      );
      await q.sendBatch(Array.from({ length: 20 }, (_, i) => ({ value: `after-${i}` })));
      await waitFor('the messages sent after the rejoin', () => seen.size >= total + 20, 60_000);
    } finally {
      stop = true;
      await consuming;
      await receiver.close();
    }

    const unflagged: string[] = [];
    for (const [value, deliveries] of seen) {
      for (const d of deliveries.slice(1)) {
        if (!d.redelivered || d.deliveryCount < 2) unflagged.push(`${value} (count ${d.deliveryCount})`);
      }
    }
    expect(unflagged).toEqual([]);
    for (let i = 0; i < total; i++) expect(seen.has(`m${i}`)).toBe(true);
    expect(cluster.output(victim)).toContain('ZooKeeper session lost');
  }, 240_000);
});
