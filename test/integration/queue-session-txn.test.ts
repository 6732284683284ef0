/**
 * A transacted session spanning queues commits through a Kafka transaction
 * (issue 21), on a real broker with its transaction coordinator: a session
 * receiving from `in` and sending to `out1` and `out2` makes all of it
 * visible at commit (the input acknowledged), none of it after a failed
 * commit and rollback (the input redelivered), none of it after its process
 * is killed between the QueueSends and EndTxn (the coordinator aborts the
 * transaction at its timeout; the input comes again), and a broker restart
 * keeps a committed transaction's outputs and acknowledgement.
 */
import { describe, expect, it } from 'vitest';
import { SessionCommitError, type Sluice } from '../../src/index.js';
import { killAndWait } from '../helpers/child-process.js';
import { contents, sessionTxnCluster, text } from '../helpers/session-txn-fixture.js';

const fx = sessionTxnCluster('queue-session-txn');
const { logReaches } = fx;

/** Receives one message of the session from `queue` and buffers one send to each output. */
async function transform(sluice: Sluice, input: string, outputs: string[]) {
  const session = sluice.session({ transacted: true });
  const rx = session.queue(input).receiver({ prefetch: 1 });
  const m = await rx.receive(30_000);
  if (!m) throw new Error(`nothing received from ${input}`);
  for (const out of outputs) await session.queue(out).send(`${out}-${text(m)}`);
  return { session, rx, m };
}

describe('transacted session across queues (Kafka transaction)', () => {
  it('commit: both outputs visible and the input acknowledged', async () => {
    const sluice = fx.cluster.client();
    await sluice.queue('c-in').send('job');
    const { session } = await transform(sluice, 'c-in', ['c-out1', 'c-out2']);
    await session.commit();
    // EndTxn answers once the decision is logged; the markers follow (Kafka's order): each queue's
    // batch and marker in its log, then the outputs are there and the input acknowledged
    for (const out of ['c-out1', 'c-out2']) await logReaches(out, 2);
    expect(await contents(sluice, 'c-out1')).toEqual(['c-out1-job']);
    expect(await contents(sluice, 'c-out2')).toEqual(['c-out2-job']);
    await session.close();
    await fx.cluster.poll('c-in acknowledged', 30_000, async () => {
      const stats = await sluice.admin().queueStats('c-in');
      return stats.dequeued === 1 ? stats : undefined;
    });
    expect(await sluice.admin().queueStats('c-in')).toMatchObject({ depth: 0, dequeued: 1 });
  });

  it('a commit failing on one queue, then rollback: no output visible, the input redelivered', async () => {
    const sluice = fx.cluster.client();
    await sluice.queue('r-in').send('job');
    const { session, rx } = await transform(sluice, 'r-in', ['r-out1']);
    // the broker refuses this message (a reserved header): r-out2's QueueSend fails, the others are written
    await session.queue('r-out2').send('bad', { headers: { 'sluice.q': 'x' } });
    const failure = await session.commit().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(SessionCommitError);
    expect((failure as SessionCommitError).committed).toEqual([]);
    await expect(session.commit()).rejects.toThrow(/rollback/);
    await session.rollback();
    // the session's receiver gets it again (released at the abort marker), its delivery counted
    const m = await rx.receive(60_000);
    expect(m && text(m)).toBe('job');
    expect(m?.deliveryCount).toBe(2);
    await session.commit(); // acknowledges it (one queue: no transaction)
    // r-out1's transactional batch and its abort marker are both in its log (high watermark 2): nothing visible
    await logReaches('r-out1', 2);
    expect(await contents(sluice, 'r-out1')).toEqual([]);
    expect(await contents(sluice, 'r-out2')).toEqual([]);
    await session.close();
  }, 180_000);

  it('kill -9 of the session process between its QueueSends and EndTxn: after the transaction timeout nothing is visible and the input comes again', async () => {
    const sluice = fx.cluster.client();
    await sluice.queue('k-in').send('job');
    const { child } = await fx.crashAtEndTxn(['2000', 'k-in', 'k-out1', 'k-out2']);
    // the transaction's batches are in the logs, pending: nothing visible, the input held
    expect(await contents(sluice, 'k-out1')).toEqual([]);
    await killAndWait(child);

    // the coordinator aborts the transaction at its timeout: the input is released by its abort marker
    const again = sluice.queue('k-in').receiver({ prefetch: 1, ackMode: 'client' });
    const m = await again.receive(60_000);
    expect(m && text(m)).toBe('job');
    expect(m?.deliveryCount).toBe(2);
    await m?.ack();
    await again.close();
    for (const out of ['k-out1', 'k-out2']) {
      await logReaches(out, 2);
      expect(await contents(sluice, out)).toEqual([]);
    }
  }, 180_000);

  it('a broker restart keeps a committed transaction: outputs there once, the input not redelivered', async () => {
    const sluice = fx.cluster.client({ retries: 30, retryBackoffMs: 200 });
    await sluice.queue('b-in').send('job');
    const { session } = await transform(sluice, 'b-in', ['b-out1', 'b-out2']);
    await session.commit();
    await session.close();
    for (const out of ['b-out1', 'b-out2']) await logReaches(out, 2);
    await fx.cluster.restart(1);
    expect(await contents(sluice, 'b-out1')).toEqual(['b-out1-job']);
    expect(await contents(sluice, 'b-out2')).toEqual(['b-out2-job']);
    expect(await contents(sluice, 'b-in')).toEqual([]);
  }, 180_000);
});
