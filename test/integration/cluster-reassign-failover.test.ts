/**
 * A reassignment survives its controller: in a three-broker cluster the
 * controller C and broker x hold a partition that is moved to x and y, with
 * y throttled to 1000 B/s so that the move is still under way when C is
 * killed (kill -9 by PID; C is also a replica being removed, maybe the
 * leader). The next controller finds the reassignment in ZooKeeper (it lists
 * it, with the same adding and removing replicas), and once the throttle is
 * raised (the same target asked again, now at 1 MB/s) it completes the move
 * itself when y joins the ISR. C, restarted, deletes the copy it no longer
 * replicates. Every acknowledged record is read back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, label: 'reassign-failover' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('partition reassignment across a controller failover', () => {
  it('a new controller completes a reassignment the killed one started', async () => {
    const topic = 'failover-move';
    const sluice = cluster.client({ retries: 30, retryBackoffMs: 200 });
    const admin = sluice.admin();
    await admin.createTopic({ topic, partitions: 1, replicationFactor: 2 });
    const c = await cluster.waitForController();
    const [x, y] = cluster.ids.filter((id) => id !== c) as [number, number];
    // start from replicas [C, x]
    await admin.reassignPartitions({ partitions: [{ topic, partition: 0, replicas: [c, x] }] });
    await cluster.poll('replicas C,x', 30_000, async () => {
      const p = (await cluster.describe(topic)).partitions[0];
      return (await admin.listPartitionReassignments()).length === 0 &&
        p?.replicas.join() === [c, x].join() &&
        [...p.isr].sort().join() === [c, x].sort().join()
        ? true
        : undefined;
    });

    const producer = sluice.producer({ acks: -1, retries: 30, retryBackoffMs: 200 });
    const value = 'y'.repeat(1000);
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) {
      const sent = await producer.send({
        topic,
        messages: Array.from({ length: 10 }, () => ({ value, partition: 0 })),
      });
      acked.push(...sent.map((r) => r.offset));
    }

    await admin.reassignPartitions({
      partitions: [{ topic, partition: 0, replicas: [x, y] }],
      throttleBytesPerSec: 1000,
    });
    const expected = { topic, partition: 0, replicas: [x, y, c], addingReplicas: [y], removingReplicas: [c] };
    expect(await admin.listPartitionReassignments()).toEqual([expected]);

    await cluster.kill(c);
    const next = await cluster.waitForController([c]);
    expect(next).not.toBe(c);
    // the new controller knows the reassignment from ZooKeeper alone
    await cluster.poll('the new controller to list the reassignment', 30_000, async () => {
      const listed = await admin.listPartitionReassignments();
      return listed.length === 1 ? listed : undefined;
    });
    expect(await admin.listPartitionReassignments()).toEqual([expected]);

    // acks=-1 still works meanwhile (x leads, with the ISR it has)
    const [during] = await producer.send({ topic, messages: [{ value: 'during', partition: 0 }] });
    if (during) acked.push(during.offset);

    // the same target again, throttled at 1 MB/s: the origin stays C,x (not the union); y catches up and the
    // new controller completes the move when y joins the ISR
    await admin.reassignPartitions({
      partitions: [{ topic, partition: 0, replicas: [x, y] }],
      throttleBytesPerSec: 1_000_000,
    });
    const oneOrNone = await admin.listPartitionReassignments();
    for (const r of oneOrNone) expect(r).toEqual(expected);
    await cluster.poll('the move to finish under the new controller', 60_000, async () => {
      if ((await admin.listPartitionReassignments()).length > 0) return undefined;
      const p = (await cluster.describe(topic)).partitions[0];
      return p?.replicas.join() === [x, y].join() && [...p.isr].sort().join() === [x, y].sort().join() ? p : undefined;
    });
    await producer.close();

    const read = await cluster.readPartition(topic, 0);
    const offsets = new Set(read.map((r) => r.offset));
    expect(acked.filter((o) => !offsets.has(o))).toEqual([]);

    // C comes back: it is no replica any more, and deletes its copy at start
    const stray = path.join(cluster.broker(c).dataDir, `${topic}-0`);
    expect(fs.existsSync(stray)).toBe(true);
    await cluster.restart(c);
    await cluster.poll(`broker ${c} to delete its stray copy`, 30_000, async () =>
      fs.existsSync(stray) ? undefined : true,
    );
    expect((await cluster.describe(topic)).partitions[0]?.replicas).toEqual([x, y]);
  }, 240_000);
});
