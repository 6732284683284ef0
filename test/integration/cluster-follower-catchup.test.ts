/**
 * A follower that was down while its leader's retention deleted everything
 * after the follower's log end: it cannot fetch from its own log end any
 * more (the leader answers OFFSET_OUT_OF_RANGE), so it truncates its log
 * fully and starts again at the leader's log start (Kafka's
 * truncateFullyAndStartAt). It then catches up, rejoins the ISR, holds the
 * same records at the same offsets as the leader, and can take over as
 * leader without losing anything the leader still had.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    brokers: 2,
    overrides: ['log.retention.check.interval.ms=300', 'min.insync.replicas=1'],
    label: 'catchup',
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('a follower behind its leader log start', () => {
  it('truncates fully, starts at the leader log start, catches up and rejoins the ISR', async () => {
    const topic = 'short-memory';
    const sluice = cluster.client({ retries: 10, retryBackoffMs: 100 });
    // small segments and a size limit: retention deletes old segments within a second of rolling
    await sluice.admin().createTopic({
      topic,
      partitions: 1,
      replicationFactor: 2,
      config: { 'segment.bytes': 4096, 'retention.bytes': 16_384 },
    });
    await cluster.waitForIsr(topic, 0, 2);
    const producer = sluice.producer({ acks: 1, batchSize: 1024 });
    const send = async (from: number, count: number): Promise<void> => {
      for (let i = from; i < from + count; i += 10) {
        await producer.send({
          topic,
          messages: Array.from({ length: 10 }, (_, j) => ({
            key: `k${i + j}`,
            value: `record-${i + j}-${'x'.repeat(60)}`,
          })),
        });
      }
    };
    await send(0, 50);
    const leader = await cluster.leaderOf(topic, 0);
    const follower = cluster.ids.find((id) => id !== leader) as number;
    await cluster.poll('the follower to hold the first 50 records', 20_000, async () =>
      cluster.storedRecords(follower, topic, 0).length >= 50 ? true : undefined,
    );
    await cluster.kill(follower);

    // far more than retention keeps: the leader's log start moves past the follower's log end (50)
    await send(50, 1500);
    // (the high watermark moves on once the leader has dropped the dead follower from the ISR)
    await cluster.poll('the leader log start to pass 50 and every record to be committed', 30_000, async () => {
      const p = (await cluster.describe(topic)).partitions[0];
      return p && p.logStartOffset > 50 && p.highWatermark === 1550 ? p : undefined;
    });

    await cluster.restart(follower);
    const isr = await cluster.waitForIsr(topic, 0, 2, 60_000);
    expect(isr.isr.sort()).toEqual([leader, follower].sort());
    expect(cluster.output(follower)).toMatch(/truncating fully/);

    // the follower's copy equals the leader's from the follower's (new) log start on
    const leaderRecords = cluster.storedRecords(leader, topic, 0);
    const followerRecords = await cluster.poll('the follower to reach the log end', 20_000, async () => {
      const r = cluster.storedRecords(follower, topic, 0);
      return r.at(-1)?.offset === 1549 ? r : undefined;
    });
    const followerStart = (followerRecords[0] as { offset: number }).offset;
    expect(followerStart).toBeGreaterThan(50);
    expect(followerRecords).toEqual(leaderRecords.filter((r) => r.offset >= followerStart));

    // the follower can lead: with the old leader gone, what it holds is served, and writes go on
    await cluster.kill(leader);
    expect(await cluster.leaderOf(topic, 0, { exclude: [leader], timeoutMs: 30_000 })).toBe(follower);
    await send(1550, 10);
    const consumer = sluice.consumer({ maxWaitMs: 200 });
    consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const read: { offset: number; value: string }[] = [];
    const deadline = Date.now() + 30_000;
    while ((read.at(-1)?.offset ?? -1) < 1559 && Date.now() < deadline) {
      for (const r of await consumer.poll({ maxRecords: 5000 }))
        read.push({ offset: r.offset, value: r.value?.toString() ?? '' });
    }
    await consumer.close();
    expect(read[0]?.offset).toBe(followerStart);
    expect(read.map((r) => r.offset)).toEqual(
      Array.from({ length: 1560 - followerStart }, (_, i) => followerStart + i),
    );
    expect(read.at(-1)?.value).toMatch(/^record-1559-/);
    await producer.close();
  }, 180_000);
});
