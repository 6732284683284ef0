/**
 * A transacted in -> out session on a 3-broker cluster whose `out` queue is
 * led by another broker than `in`, and that broker paused (SIGSTOP) during
 * commit(), until another broker leads `out`. The application rolls back as
 * usual; nothing received is lost: every input is in `in` again or its output
 * is in `out`. The commit is one Kafka transaction (issue 21): it fails (and
 * rollback() aborts it), or, when the client's retries outlast the failover
 * of `out`, it commits whole; either way the invariant holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueMessage, Sluice } from '../../src/index.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, label: 'queue-session-cluster' });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const text = (m: { value: Buffer | null }): string => m.value?.toString() ?? '';

/** Every message left in `queue`, received by a fresh auto-acknowledging receiver until it is quiet. */
async function drainQueue(sluice: Sluice, queue: string): Promise<string[]> {
  const r = sluice.queue(queue).receiver({ prefetch: 100 });
  const out: string[] = [];
  try {
    for (let m = await r.receive(10_000); m; m = await r.receive(2000)) out.push(text(m));
  } finally {
    await r.close();
  }
  return out;
}

describe('transacted session across brokers', () => {
  it("with out's leader paused during commit, rollback() loses no input", async () => {
    const sluice = cluster.client({ retries: 30, retryBackoffMs: 100, requestTimeoutMs: 4000 });
    const admin = sluice.admin();
    const inputs = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    await sluice.queue('pause-in').sendBatch(inputs.map((value) => ({ value })));
    const inLeader = await cluster.leaderOf('__queue.pause-in', 0);
    // an output queue led by another broker (queues are spread over the brokers as they are created)
    let out = '';
    let outLeader = -1;
    for (let i = 0; i < 20 && outLeader < 0; i++) {
      const name = `pause-out-${i}`;
      await admin.queueStats(name); // creates it
      const leader = await cluster.leaderOf(`__queue.${name}`, 0);
      if (leader !== inLeader) {
        out = name;
        outLeader = leader;
      }
    }
    expect(outLeader).toBeGreaterThan(0);
    // a follower in the ISR, so that another broker can take `out` over while its leader is paused
    await cluster.poll(`a follower in the ISR of ${out}`, 30_000, async () => {
      const p = (await cluster.describe(`__queue.${out}`)).partitions[0];
      return p && p.isr.length >= 2 ? true : undefined;
    });

    const session = sluice.session({ transacted: true });
    const rx = session.queue('pause-in').receiver({ prefetch: 20 });
    const output = session.queue(out);
    const received: QueueMessage[] = [];
    while (received.length < inputs.length) {
      const m = await rx.receive(10_000);
      if (!m) throw new Error(`received ${received.length} of ${inputs.length}`);
      received.push(m);
    }
    for (const m of received) await output.send(`out-${text(m)}`);

    const pid = cluster.broker(outLeader).pid as number;
    process.kill(pid, 'SIGSTOP');
    let failure: unknown;
    try {
      failure = await session.commit().then(
        () => undefined,
        (err: unknown) => err,
      );
      await session.rollback();
      // paused until another broker leads `out`: the paused one can no longer store that write late
      await cluster.leaderOf(`__queue.${out}`, 0, { exclude: [outLeader], timeoutMs: 30_000 });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // the commit may also have succeeded at out's new leader (then rollback() had nothing to undo)
    void failure;
    await session.close();

    const back = new Set(await drainQueue(sluice, 'pause-in'));
    const outputs = new Set(await drainQueue(sluice, out));
    const lost = inputs.filter((v) => !back.has(v) && !outputs.has(`out-${v}`));
    expect(lost).toEqual([]);
  }, 180_000);
});
