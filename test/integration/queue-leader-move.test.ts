/**
 * A queue's leadership moves while its old leader stays up (3 brokers; the
 * replicas reordered, then the controller's preferred-leader check, every
 * 2 s in test clusters, moves the leadership; in the chaos suite it was a
 * restarted preferred replica taking its queue back). A client-ack receiver
 * has messages prefetched from the old leader, unseen by its application; the
 * new leader knows their delivery counts but not who holds them, so it hands
 * them to another consumer, which acknowledges them. The first receiver must
 * not hand those messages to its application afterwards: an acknowledgement
 * that succeeded means the message is not delivered again (chaos seed 12,
 * "acknowledged then redelivered", found a transacted session's receiver
 * doing it). The old leader closes its queue consumers' connections when it
 * stops leading the queue; that is how the receiver learns to drop them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, overrides: ['min.insync.replicas=2'], label: 'queue-leader-move' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('queue leadership moving away from a live broker', () => {
  it('a receiver does not hand out a message prefetched from the old leader once another consumer acknowledged it', async () => {
    const queue = 'leader-move';
    const topic = `__queue.${queue}`;
    const total = 20;
    const sluice = cluster.client({ retries: 30, retryBackoffMs: 100 });
    await sluice.queue(queue).sendBatch(Array.from({ length: total }, (_, i) => ({ value: `m${i}` })));
    await cluster.waitForIsr(topic, 0, 3);
    const oldLeader = await cluster.leaderOf(topic, 0);

    // receiver A takes one message; its first fetch prefetched nine more (unseen by the application)
    const a = cluster.client({ retries: 30, retryBackoffMs: 100 });
    const receiverA = a.queue(queue).receiver({ ackMode: 'client', prefetch: 10 });
    const first = await receiverA.receive(10_000);
    expect(first?.value?.toString()).toBe('m0');
    await first?.ack();
    const stats = await sluice.admin().queueStats(queue);
    expect(stats.inFlight).toBe(9);

    // the leadership moves to another broker; the old leader keeps running
    const replicas = (await cluster.describe(topic)).partitions[0]?.replicas ?? [];
    const newPreferred = replicas.find((id) => id !== oldLeader) as number;
    await sluice.admin().reassignPartitions({
      partitions: [{ topic, partition: 0, replicas: [newPreferred, ...replicas.filter((id) => id !== newPreferred)] }],
    });
    await cluster.poll(`broker ${newPreferred} to lead ${topic}`, 30_000, async () =>
      (await cluster.describe(topic)).partitions[0]?.leader === newPreferred ? true : undefined,
    );
    expect(cluster.broker(oldLeader).running).toBe(true);

    // receiver B gets the other nineteen from the new leader (A's nine flagged redelivered) and acknowledges them
    const b = cluster.client({ retries: 30, retryBackoffMs: 100 });
    const receiverB = b.queue(queue).receiver({ ackMode: 'client', prefetch: 10 });
    const ackedByB = new Set<string>();
    await cluster.poll('receiver B to acknowledge the other messages', 60_000, async () => {
      const m = await receiverB.receive(500);
      if (m) {
        await m.ack();
        ackedByB.add(m.value?.toString() ?? '');
      }
      return ackedByB.size >= total - 1 ? true : undefined;
    });
    await receiverB.close();

    // what A hands out now must not be one of those (before the fix: m1, from its stale prefetch)
    const handedToA: string[] = [];
    for (let m = await receiverA.receive(0); m; m = await receiverA.receive(0))
      handedToA.push(m.value?.toString() ?? '');
    expect(handedToA.filter((v) => ackedByB.has(v))).toEqual([]);
    await receiverA.close();
    const after = await sluice.admin().queueStats(queue);
    expect(after).toMatchObject({ depth: 0, inFlight: 0 });
    await Promise.all([a.close(), b.close(), sluice.close()]);
  }, 180_000);
});
