/**
 * Controlled shutdown (issue 18) in a real three-broker cluster: under a
 * continuous idempotent acks=-1 stream to a 6-partition topic with
 * replication factor 3 and min.insync.replicas=2, every broker in turn gets
 * SIGTERM (controlled.shutdown.enable, the default): it has the controller
 * move its leaderships and ISR memberships away, stops, starts again and is
 * back in every ISR before the next one goes — a rolling restart. Nothing
 * acknowledged is lost (every acknowledged offset holds its record, read back
 * from the leaders), and the leadership a broker gave away was given before
 * it stopped (it leads nothing when its process exits). The longest gap
 * between two acknowledgements is printed (no timed assertion).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';
import { checkStream, NumberedStream } from '../helpers/numbered-stream.js';

const partitions = 6;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    brokers: 3,
    overrides: ['min.insync.replicas=2'],
    label: 'controlled-shutdown',
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

async function waitForFullIsr(topic: string): Promise<void> {
  for (let p = 0; p < partitions; p++) await cluster.waitForIsr(topic, p, 3, 60_000);
}

describe('controlled shutdown', () => {
  it('a rolling restart by SIGTERM under acks=-1 load loses nothing acknowledged', async () => {
    const topic = 'rolling';
    await cluster.client().admin().createTopic({ topic, partitions, replicationFactor: 3 });
    await waitForFullIsr(topic);
    const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, { total: 1_000_000, pauseMs: 10 });
    const gaps: string[] = [];
    try {
      await stream.ackedAtLeast(200);
      for (const id of cluster.ids) {
        const before = stream.acked.size;
        const from = Date.now();
        await cluster.shutdown(id);
        const stoppedMs = Date.now() - from;
        expect(cluster.broker(id).recentOutput, `broker ${id} logs its controlled shutdown`).toContain(
          'controlled shutdown succeeded',
        );
        // the broker handed everything over before it exited: no partition state in ZooKeeper (read at
        // once, not through a broker's cache) names it leader or ISR member
        const zk = await cluster.zk();
        for (let p = 0; p < partitions; p++) {
          const node = await zk.get(`/brokers/topics/${topic}/partitions/${p}/state`);
          const state = JSON.parse(node?.data ?? '{}') as { leader: number; isr: number[] };
          expect(state.leader, `${topic}-${p} after broker ${id} stopped`).not.toBe(id);
          expect(state.isr, `${topic}-${p} after broker ${id} stopped`).not.toContain(id);
        }
        const stoppedAt = Date.now();
        await cluster.restartNow(id);
        const restartedAt = Date.now();
        await waitForFullIsr(topic);
        const inIsrAt = Date.now();
        await stream.ackedAtLeast(stream.acked.size + 50);
        const gap = stream.longestGap(from);
        // when the longest gap began: while the broker stopped, was down, started or rejoined the ISRs
        const phase =
          gap.at < stoppedAt
            ? 'stopping'
            : gap.at < restartedAt
              ? 'down/starting'
              : gap.at < inIsrAt
                ? 'rejoining'
                : 'after rejoining (preferred leader back)';
        const line = `broker ${id}: SIGTERM to exit ${stoppedMs} ms, longest gap between acks ${gap.ms} ms (${phase}; ${stream.acked.size - before} acked meanwhile)`;
        gaps.push(line);
        console.log(line);
      }
    } finally {
      stream.stop();
      await stream.done;
    }
    console.log(`rolling restart: longest gap between acks ${stream.longestGapMs()} ms over ${stream.acked.size} acks`);
    const { problems } = await checkStream(cluster, stream, partitions);
    expect(problems).toEqual([]);
    expect(stream.failures).toEqual([]);
    expect(stream.acked.size).toBeGreaterThan(200);
  }, 240_000);
});
