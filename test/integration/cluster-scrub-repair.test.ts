/**
 * A follower repairs rotten bytes from its leader (issue 18): a byte of a
 * closed segment of a stopped follower is flipped; restarted, it rejoins, its
 * scrubber finds the corrupt batch, it stops fetching until the leader takes
 * it out of the ISR (never electable while it lacks what it acknowledged),
 * cuts its log there, fetches the rest again and comes back into the ISR
 * with a log identical to the leader's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPartitionDir } from '../../src/storage/log-verify.js';
import { TestCluster } from '../helpers/cluster.js';
import { type BatchInfo, flipByte, segmentFiles, segmentLayout, segmentPath } from '../helpers/storage.js';

const topic = 'scrubbed';
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    brokers: 3,
    overrides: ['min.insync.replicas=2', 'log.scrub.bytes.per.second=104857600', 'log.scrub.interval.ms=300'],
    label: 'scrub-repair',
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('the scrubber on a follower', () => {
  it('finds a flipped byte in a closed segment; the follower leaves the ISR, cuts there, fetches again and is whole', async () => {
    await cluster
      .client()
      .admin()
      .createTopic({ topic, partitions: 1, replicationFactor: 3, config: { 'segment.bytes': 1024 } });
    await cluster.waitForIsr(topic, 0, 3);
    const producer = cluster.client().producer({ acks: -1, idempotent: true });
    for (let i = 0; i < 30; i++) {
      await producer.send({
        topic,
        messages: Array.from({ length: 5 }, (_, j) => ({
          key: `k${i}-${j}`,
          value: `value ${i}-${j} ${'x'.repeat(40)}`,
        })),
      });
    }
    await cluster.waitForIsr(topic, 0, 3);
    const leader = await cluster.leaderOf(topic, 0);
    const follower = cluster.ids.find((id) => id !== leader) as number;
    await cluster.shutdown(follower);

    // a byte of the follower's first closed segment rots while it is down
    const partitionDir = path.join(cluster.broker(follower).dataDir, `${topic}-0`);
    const bases = segmentFiles(partitionDir);
    expect(bases.length).toBeGreaterThan(2);
    const layout = segmentLayout(partitionDir, bases[0] as number);
    const victim = layout[1] as BatchInfo;
    const file = segmentPath(partitionDir, bases[0] as number);
    const bytes = fs.readFileSync(file);
    flipByte(bytes, victim.position + victim.size - 3, 0x04);
    fs.writeFileSync(file, bytes);
    expect(verifyPartitionDir(partitionDir, topic, 0).corrupt).toHaveLength(1);

    await cluster.restart(follower);
    await cluster.poll('the follower to repair its log', 60_000, async () =>
      cluster.output(follower).includes('follower cut its corrupt records') ? true : undefined,
    );
    await cluster.waitForIsr(topic, 0, 3, 60_000);
    expect(cluster.output(follower)).toMatch(/log scrub found a corrupt batch/);
    expect(verifyPartitionDir(partitionDir, topic, 0).corrupt).toEqual([]);
    expect(cluster.storedRecords(follower, topic, 0)).toEqual(cluster.storedRecords(leader, topic, 0));
    expect(cluster.storedRecords(follower, topic, 0)).toHaveLength(150);
  }, 120_000);

  it('a byte rotting under a running follower in the ISR: it leaves the ISR before it cuts anything, then is whole again', async () => {
    const rot = 'rot-live';
    await cluster
      .client()
      .admin()
      .createTopic({ topic: rot, partitions: 1, replicationFactor: 3, config: { 'segment.bytes': 1024 } });
    await cluster.waitForIsr(rot, 0, 3);
    const producer = cluster.client().producer({ acks: -1, idempotent: true });
    for (let i = 0; i < 30; i++) {
      await producer.send({
        topic: rot,
        messages: Array.from({ length: 5 }, (_, j) => ({
          key: `k${i}-${j}`,
          value: `value ${i}-${j} ${'x'.repeat(40)}`,
        })),
      });
    }
    await cluster.waitForIsr(rot, 0, 3);
    const leader = await cluster.leaderOf(rot, 0);
    const follower = cluster.ids.find((id) => id !== leader) as number;
    const partitionDir = path.join(cluster.broker(follower).dataDir, `${rot}-0`);
    const base = segmentFiles(partitionDir)[0] as number;
    const victim = segmentLayout(partitionDir, base)[1] as BatchInfo;
    // the running broker reads the file through its open descriptor: it sees the rotten byte
    const fd = fs.openSync(segmentPath(partitionDir, base), 'r+');
    try {
      const one = Buffer.alloc(1);
      fs.readSync(fd, one, 0, 1, victim.position + victim.size - 3);
      one[0] = (one[0] as number) ^ 0x04;
      fs.writeSync(fd, one, 0, 1, victim.position + victim.size - 3);
    } finally {
      fs.closeSync(fd);
    }
    // out of the ISR first (the leader's lag rule), and only then cut and fetched again: the line
    // the follower logs when it cuts names the ISR it saw then, without itself
    const cut = new RegExp(`"partition":"${rot}-0"[^\\n]*"isr":\\[([0-9,]*)\\][^\\n]*follower cut its corrupt records`);
    const seen = await cluster.poll(
      'the follower to repair its log',
      60_000,
      async () => cut.exec(cluster.output(follower)) ?? undefined,
    );
    expect((seen[1] as string).split(',').map(Number)).not.toContain(follower);
    await cluster.waitForIsr(rot, 0, 3, 60_000);
    expect(verifyPartitionDir(partitionDir, rot, 0).corrupt).toEqual([]);
    expect(cluster.storedRecords(follower, rot, 0)).toEqual(cluster.storedRecords(leader, rot, 0));
    expect(cluster.storedRecords(follower, rot, 0)).toHaveLength(150);
  }, 120_000);

  it('a byte rotting under the leader: it hands its leadership over, repairs as a follower, and every log is whole', async () => {
    const rot = 'rot-leader';
    await cluster
      .client()
      .admin()
      .createTopic({ topic: rot, partitions: 1, replicationFactor: 3, config: { 'segment.bytes': 1024 } });
    await cluster.waitForIsr(rot, 0, 3);
    const producer = cluster.client().producer({ acks: -1, idempotent: true });
    for (let i = 0; i < 30; i++) {
      await producer.send({
        topic: rot,
        messages: Array.from({ length: 5 }, (_, j) => ({
          key: `k${i}-${j}`,
          value: `value ${i}-${j} ${'x'.repeat(40)}`,
        })),
      });
    }
    await cluster.waitForIsr(rot, 0, 3);
    const leader = await cluster.leaderOf(rot, 0);
    const partitionDir = path.join(cluster.broker(leader).dataDir, `${rot}-0`);
    const base = segmentFiles(partitionDir)[0] as number;
    const victim = segmentLayout(partitionDir, base)[1] as BatchInfo;
    const fd = fs.openSync(segmentPath(partitionDir, base), 'r+');
    try {
      const one = Buffer.alloc(1);
      fs.readSync(fd, one, 0, 1, victim.position + victim.size - 3);
      one[0] = (one[0] as number) ^ 0x04;
      fs.writeSync(fd, one, 0, 1, victim.position + victim.size - 3);
    } finally {
      fs.closeSync(fd);
    }
    const cut = new RegExp(`"partition":"${rot}-0"[^\\n]*"isr":\\[([0-9,]*)\\][^\\n]*follower cut its corrupt records`);
    const seen = await cluster.poll(
      'the old leader to repair its log as a follower',
      60_000,
      async () => cut.exec(cluster.output(leader)) ?? undefined,
    );
    expect((seen[1] as string).split(',').map(Number)).not.toContain(leader);
    await cluster.waitForIsr(rot, 0, 3, 60_000);
    expect(verifyPartitionDir(partitionDir, rot, 0).corrupt).toEqual([]);
    const now = await cluster.leaderOf(rot, 0);
    for (const id of cluster.ids) {
      expect(cluster.storedRecords(id, rot, 0), `broker ${id}`).toEqual(cluster.storedRecords(now, rot, 0));
    }
    expect(cluster.storedRecords(leader, rot, 0)).toHaveLength(150);
  }, 120_000);
});
