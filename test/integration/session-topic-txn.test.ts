/**
 * A transacted session publishing to a JMS topic (issue 21), on a real
 * broker with its transaction coordinator: the publishes to a 3-partition
 * topic and the sends to two queues are one Kafka transaction. JmsTopic
 * subscribers (non-durable and durable) read committed messages only: they
 * see all of it once the commit's EndTxn is answered and nothing while the
 * records are in the log before it; after a failed commit and rollback, or
 * after the session's process is killed between its acknowledged writes and
 * EndTxn (the coordinator aborts at the transaction timeout), they never see
 * any of it — while a read_uncommitted consumer shows the records were
 * written. A plain publish afterwards (same keys, so the same partitions,
 * behind the aborted records) reaches them at once: the barrier that makes
 * "never" checkable. A durable subscriber of the session: the group's
 * committed offsets move only with the commit, rollback() receives the same
 * messages again, and after a kill -9 before EndTxn the next subscriber of
 * that durable name gets them again.
 */
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/client/cluster.js';
import { latestTimestamp, listOffsets } from '../../src/client/offsets.js';
import { SessionTxn } from '../../src/client/session-txn.js';
import { durableGroupOf, SessionCommitError, type Sluice, type TopicMessage } from '../../src/index.js';
import { killAndWait } from '../helpers/child-process.js';
import { waitFor } from '../helpers/group-consumers.js';
import { contents, sessionTxnCluster, text } from '../helpers/session-txn-fixture.js';

const fx = sessionTxnCluster('session-topic-txn', ['group.initial.rebalance.delay.ms=0']);
const { logReaches, crashAtEndTxn } = fx;

const keys = Array.from({ length: 9 }, (_, i) => `k${i}`);
const sorted = (list: string[]): string[] => [...list].sort();

/** The client's cluster (for ListOffsets with an isolation level). */
const clusterOf = (sluice: Sluice): Cluster => (sluice as unknown as { cluster: Cluster }).cluster;

/** Per partition of `topic`: [last stable offset, high watermark]. */
async function stableAndEnd(sluice: Sluice, topic: string): Promise<[number, number][]> {
  const q = [0, 1, 2].map((partition) => ({ topic, partition, timestamp: latestTimestamp }));
  const end = await listOffsets(clusterOf(sluice), q, 0);
  const stable = await listOffsets(clusterOf(sluice), q, 1);
  return end.map((e) => [stable.find((s) => s.partition === e.partition)?.offset ?? -1, e.offset]);
}

/** Every record of `topic` read with read_uncommitted from the start, once there are `count`. */
async function readUncommitted(sluice: Sluice, topic: string, count: number): Promise<string[]> {
  const consumer = sluice.consumer({ isolationLevel: 'read_uncommitted', maxWaitMs: 200 });
  consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, offset: 0 })));
  const got: string[] = [];
  const running = consumer.run({
    eachMessage: async ({ message }) => {
      got.push(text(message));
    },
  });
  try {
    await waitFor(`${count} records of ${topic} (read_uncommitted)`, () => got.length >= count, 60_000);
  } finally {
    await consumer.close();
    await running.catch(() => undefined);
  }
  return got;
}

/** A non-durable and a durable subscriber of `topic`, collecting what they get. */
async function subscribers(sluice: Sluice, topic: string) {
  const live: string[] = [];
  const durable: string[] = [];
  const a = await sluice.topic(topic).subscribe((m: TopicMessage) => {
    live.push(text(m));
  });
  const b = await sluice.topic(topic).subscribe(
    (m: TopicMessage) => {
      durable.push(text(m));
    },
    { durable: 'audit' },
  );
  return { live, durable, close: () => Promise.all([a.close(), b.close()]) };
}

/** Publishes `<prefix>-k0..k8` plainly (no transaction) and waits until both subscribers have them. */
async function barrier(sluice: Sluice, topic: string, subs: { live: string[]; durable: string[] }, prefix: string) {
  for (const k of keys) await sluice.topic(topic).publish(`${prefix}-${k}`, { key: k });
  const want = keys.map((k) => `${prefix}-${k}`);
  const has = (list: string[]) => want.every((w) => list.includes(w));
  await waitFor('the plain publishes at both subscribers', () => has(subs.live) && has(subs.durable), 60_000);
}

/** The committed offsets of durable subscription `name` of `topic`, per partition. */
async function committedOf(sluice: Sluice, topic: string, name: string): Promise<(number | null)[]> {
  const d = await sluice.admin().describeGroup(durableGroupOf(topic, name));
  return [0, 1, 2].map((p) => d.offsets.find((o) => o.topic === topic && o.partition === p)?.committed ?? null);
}

/** Holds the commits' EndTxn of this process until release() (the transaction's writes are acknowledged then). */
function holdEndTxn() {
  const original = SessionTxn.prototype.end;
  let reached: () => void = () => undefined;
  let release: () => void = () => undefined;
  const atEnd = new Promise<void>((r) => {
    reached = r;
  });
  const go = new Promise<void>((r) => {
    release = r;
  });
  SessionTxn.prototype.end = async function (this: SessionTxn, p, committed) {
    if (committed) {
      reached();
      await go;
    }
    return original.call(this, p, committed);
  };
  return {
    atEnd,
    release: () => {
      SessionTxn.prototype.end = original;
      release();
    },
  };
}

describe('transacted session publishing to a topic (one Kafka transaction with its queue sends)', () => {
  it('commit: the publishes to 3 partitions and the sends to two queues become visible together at EndTxn', async () => {
    const sluice = fx.cluster.client();
    await fx.cluster.createTopic({ topic: 'c-news', partitions: 3, replicationFactor: 1 });
    const subs = await subscribers(sluice, 'c-news');
    const session = sluice.session({ transacted: true });
    await session.queue('c-q1').send('q1');
    await session.queue('c-q2').send('q2');
    for (const k of keys) await session.topic('c-news').publish(`txn-${k}`, { key: k });
    const hold = holdEndTxn();
    const committing = session.commit();
    try {
      await hold.atEnd;
      // every write is in the logs (a read_uncommitted reader has them) but nothing is stable or visible
      expect(sorted(await readUncommitted(sluice, 'c-news', 9))).toEqual(keys.map((k) => `txn-${k}`));
      for (const [stable, end] of await stableAndEnd(sluice, 'c-news')) expect(stable).toBeLessThan(end);
      expect(subs.live).toEqual([]);
      expect(subs.durable).toEqual([]);
      expect(await contents(sluice, 'c-q1')).toEqual([]);
      expect(await contents(sluice, 'c-q2')).toEqual([]);
    } finally {
      hold.release();
    }
    await committing;
    const want = keys.map((k) => `txn-${k}`);
    await waitFor(
      'the committed publishes at both subscribers',
      () => subs.live.length >= 9 && subs.durable.length >= 9,
    );
    expect(sorted(subs.live)).toEqual(want);
    expect(sorted(subs.durable)).toEqual(want);
    for (const q of ['c-q1', 'c-q2']) await logReaches(q, 2);
    expect(await contents(sluice, 'c-q1')).toEqual(['q1']);
    expect(await contents(sluice, 'c-q2')).toEqual(['q2']);
    // the subscribers got each committed publish once: the plain publishes come next, and nothing else
    await barrier(sluice, 'c-news', subs, 'plain');
    expect(sorted(subs.live)).toEqual(sorted([...want, ...keys.map((k) => `plain-${k}`)]));
    expect(sorted(subs.durable)).toEqual(sorted(subs.live));
    await session.close();
    await subs.close();
  }, 180_000);

  it('a failed commit, then rollback: the publishes were written but no subscriber ever sees them, nor the queue sends', async () => {
    const sluice = fx.cluster.client();
    await fx.cluster.createTopic({ topic: 'r-news', partitions: 3, replicationFactor: 1 });
    const subs = await subscribers(sluice, 'r-news');
    const session = sluice.session({ transacted: true });
    await session.queue('r-q1').send('q1');
    // the broker refuses this message (a reserved header): r-q2's QueueSend fails, the other writes are made
    await session.queue('r-q2').send('bad', { headers: { 'sluice.q': 'x' } });
    for (const k of keys) await session.topic('r-news').publish(`aborted-${k}`, { key: k });
    const failure = await session.commit().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(SessionCommitError);
    expect((failure as SessionCommitError).topics).toEqual(['r-news']);
    await session.rollback();
    // written (read_uncommitted has them), then aborted: behind them the plain publishes arrive alone
    expect(sorted(await readUncommitted(sluice, 'r-news', 9))).toEqual(keys.map((k) => `aborted-${k}`));
    await barrier(sluice, 'r-news', subs, 'plain');
    expect(sorted(subs.live)).toEqual(keys.map((k) => `plain-${k}`));
    expect(sorted(subs.durable)).toEqual(keys.map((k) => `plain-${k}`));
    await logReaches('r-q1', 2);
    expect(await contents(sluice, 'r-q1')).toEqual([]);
    // nothing buffered is left: a commit now writes nothing
    await session.commit();
    await session.close();
    await subs.close();
  }, 180_000);

  it('kill -9 of the session process after its writes are acknowledged, before EndTxn: aborted at the timeout, never seen', async () => {
    const sluice = fx.cluster.client();
    await fx.cluster.createTopic({ topic: 'k-news', partitions: 3, replicationFactor: 1 });
    const subs = await subscribers(sluice, 'k-news');
    const { child } = await crashAtEndTxn(['2000', '-', 'k-q1', 'k-q2', 'topic:k-news']);
    await killAndWait(child);
    const written = keys.map((k) => `k-news-${k}`);
    // the records are in the log (the test would pass vacuously otherwise)
    expect(sorted(await readUncommitted(sluice, 'k-news', 9))).toEqual(written);
    // the coordinator aborts the transaction at its timeout: its markers make every partition stable again
    await fx.cluster.poll('k-news stable again (the abort markers written)', 60_000, async () => {
      const offsets = await stableAndEnd(sluice, 'k-news');
      return offsets.every(([stable, end]) => stable === end) ? true : undefined;
    });
    await barrier(sluice, 'k-news', subs, 'plain');
    expect(sorted(subs.live)).toEqual(keys.map((k) => `plain-${k}`));
    expect(sorted(subs.durable)).toEqual(keys.map((k) => `plain-${k}`));
    await subs.close();
    // a new subscriber of the durable subscription resumes after the plain publishes: nothing of the transaction
    const later: string[] = [];
    const again = await sluice.topic('k-news').subscribe(
      (m: TopicMessage) => {
        later.push(text(m));
      },
      { durable: 'audit' },
    );
    await barrier(sluice, 'k-news', { live: later, durable: later }, 'after');
    expect(sorted(later)).toEqual(keys.map((k) => `after-${k}`));
    await again.close();
    for (const q of ['k-q1', 'k-q2']) {
      await logReaches(q, 2);
      expect(await contents(sluice, q)).toEqual([]);
    }
  }, 180_000);

  it('a durable subscriber of the session: offsets move only with commit(); rollback() receives the same again', async () => {
    const sluice = fx.cluster.client();
    await fx.cluster.createTopic({ topic: 's-news', partitions: 3, replicationFactor: 1 });
    const session = sluice.session({ transacted: true });
    const sub = session.topic('s-news').subscriber({ durable: 'work', prefetch: 4 });
    expect(await sub.receive(0)).toBeNull(); // the subscription exists from here (its offsets committed)
    expect(await committedOf(sluice, 's-news', 'work')).toEqual([0, 0, 0]);
    for (const k of keys) await sluice.topic('s-news').publish(`m-${k}`, { key: k });
    const receiveAll = async (): Promise<string[]> => {
      const got: string[] = [];
      while (got.length < keys.length) {
        const m = await sub.receive(30_000);
        if (!m) throw new Error(`received ${got.length} of ${keys.length}`);
        got.push(text(m));
      }
      return got;
    };
    const want = keys.map((k) => `m-${k}`);
    expect(sorted(await receiveAll())).toEqual(want);
    // received, not committed: the group has not moved
    expect(await committedOf(sluice, 's-news', 'work')).toEqual([0, 0, 0]);
    await session.rollback();
    expect(sorted(await receiveAll())).toEqual(want);
    expect(await committedOf(sluice, 's-news', 'work')).toEqual([0, 0, 0]);
    await session.commit();
    // the transaction's offsets: each partition's end (its records and the commit marker after them)
    const ends = (await stableAndEnd(sluice, 's-news')).map(([, end]) => end);
    const committed = await committedOf(sluice, 's-news', 'work');
    expect(committed.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(keys.length);
    for (const [i, c] of committed.entries()) expect(c).toBeLessThanOrEqual(ends[i] as number);
    // acknowledged: nothing comes again after a rollback, and a new publish is the next message
    await session.rollback();
    await sluice.topic('s-news').publish('next', { key: 'k0' });
    const m = await sub.receive(30_000);
    expect(m && text(m)).toBe('next');
    await session.close();
  }, 180_000);

  it('kill -9 of a session with a durable subscriber before EndTxn: the next subscriber of that name gets the messages again', async () => {
    const sluice = fx.cluster.client();
    await fx.cluster.createTopic({ topic: 'x-news', partitions: 3, replicationFactor: 1 });
    // the durable subscription exists before anything is published (its offsets at the end of the empty topic)
    const first = await sluice.topic('x-news').subscribe(() => undefined, { durable: 'work' });
    await first.close();
    for (const k of keys) await sluice.topic('x-news').publish(`x-${k}`, { key: k });
    const { child, stdout } = await crashAtEndTxn(['2000', '-', 'sub:x-news:work:9', 'x-out']);
    expect(stdout).toContain('received ');
    await killAndWait(child);
    // aborted at the transaction timeout: the group's offsets never moved
    await logReaches('x-out', 2);
    expect(await contents(sluice, 'x-out')).toEqual([]);
    expect(await committedOf(sluice, 'x-news', 'work')).toEqual([0, 0, 0]);
    const again: string[] = [];
    const next = await sluice.topic('x-news').subscribe(
      (m: TopicMessage) => {
        again.push(text(m));
      },
      { durable: 'work' },
    );
    await waitFor('the messages again at the next subscriber', () => again.length >= keys.length, 120_000);
    expect(sorted(again)).toEqual(keys.map((k) => `x-${k}`));
    await next.close();
  }, 400_000);
});
