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

/**
 * Creates `name` (one partition on all three brokers, 1 KiB segments), writes
 * 150 records with acks=-1 in 30 batches, waits for the whole ISR, and gives
 * the partition's leader.
 */
async function filledTopic(name: string): Promise<number> {
  await cluster.createTopic({ topic: name, partitions: 1, replicationFactor: 3, config: { 'segment.bytes': 1024 } });
  await cluster.waitForIsr(name, 0, 3);
  const producer = cluster.client().producer({ acks: -1, idempotent: true });
  for (let i = 0; i < 30; i++) {
    await producer.send({
      topic: name,
      messages: Array.from({ length: 5 }, (_, j) => ({
        key: `k${i}-${j}`,
        value: `value ${i}-${j} ${'x'.repeat(40)}`,
      })),
    });
  }
  await cluster.waitForIsr(name, 0, 3);
  return cluster.leaderOf(name, 0);
}

/**
 * Flips one bit three bytes before the end of the second batch of the first
 * segment in `partitionDir`, in place: a running broker reads the file
 * through its open descriptor and sees the rotten byte.
 */
function rotSecondBatch(partitionDir: string): void {
  const base = segmentFiles(partitionDir)[0] as number;
  const victim = segmentLayout(partitionDir, base)[1] as BatchInfo;
  const fd = fs.openSync(segmentPath(partitionDir, base), 'r+');
  try {
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, victim.position + victim.size - 3);
    flipByte(one, 0, 0x04);
    fs.writeSync(fd, one, 0, 1, victim.position + victim.size - 3);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Waits for `broker` to log that it cut its corrupt records of `name`-0 and
 * gives the ISR that line names (the ISR it saw when it cut).
 */
async function isrWhenCut(name: string, broker: number, what: string): Promise<number[]> {
  const cut = new RegExp(`"partition":"${name}-0"[^\\n]*"isr":\\[([0-9,]*)\\][^\\n]*follower cut its corrupt records`);
  const seen = await cluster.poll(what, 60_000, async () => cut.exec(cluster.output(broker)) ?? undefined);
  return (seen[1] as string).split(',').map(Number);
}

describe('the scrubber on a follower', () => {
  it('finds a flipped byte in a closed segment; the follower leaves the ISR, cuts there, fetches again and is whole', async () => {
    const leader = await filledTopic(topic);
    const follower = cluster.ids.find((id) => id !== leader) as number;
    await cluster.shutdown(follower);

    // a byte of the follower's first closed segment rots while it is down
    const partitionDir = path.join(cluster.broker(follower).dataDir, `${topic}-0`);
    expect(segmentFiles(partitionDir).length).toBeGreaterThan(2);
    rotSecondBatch(partitionDir);
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
    const leader = await filledTopic(rot);
    const follower = cluster.ids.find((id) => id !== leader) as number;
    const partitionDir = path.join(cluster.broker(follower).dataDir, `${rot}-0`);
    rotSecondBatch(partitionDir);
    // out of the ISR first (the leader's lag rule), and only then cut and fetched again: the line
    // the follower logs when it cuts names the ISR it saw then, without itself
    expect(await isrWhenCut(rot, follower, 'the follower to repair its log')).not.toContain(follower);
    await cluster.waitForIsr(rot, 0, 3, 60_000);
    expect(verifyPartitionDir(partitionDir, rot, 0).corrupt).toEqual([]);
    expect(cluster.storedRecords(follower, rot, 0)).toEqual(cluster.storedRecords(leader, rot, 0));
    expect(cluster.storedRecords(follower, rot, 0)).toHaveLength(150);
  }, 120_000);

  it('a byte rotting under the leader: it hands its leadership over, repairs as a follower, and every log is whole', async () => {
    const rot = 'rot-leader';
    const leader = await filledTopic(rot);
    const partitionDir = path.join(cluster.broker(leader).dataDir, `${rot}-0`);
    rotSecondBatch(partitionDir);
    expect(await isrWhenCut(rot, leader, 'the old leader to repair its log as a follower')).not.toContain(leader);
    await cluster.waitForIsr(rot, 0, 3, 60_000);
    expect(verifyPartitionDir(partitionDir, rot, 0).corrupt).toEqual([]);
    const now = await cluster.leaderOf(rot, 0);
    for (const id of cluster.ids) {
      expect(cluster.storedRecords(id, rot, 0), `broker ${id}`).toEqual(cluster.storedRecords(now, rot, 0));
    }
    expect(cluster.storedRecords(leader, rot, 0)).toHaveLength(150);
  }, 120_000);
});
