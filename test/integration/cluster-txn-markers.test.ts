/**
 * Transaction markers replicated in a real three-broker cluster (real ZooKeeper, broker
 * processes killed by PID; issue 21): the followers copy the leader's control batches and keep
 * the same transaction state, so after the leader is killed the new leader answers the same last
 * stable offset and lists the same aborted transaction to read_committed fetches, and ends the
 * transaction still open with a marker of its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { TestCluster } from '../helpers/cluster.js';
import { pollUntil } from '../helpers/poll.js';
import { RawClient } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

let cluster: TestCluster | undefined;
const raws: RawClient[] = [];

afterAll(async () => {
  for (const c of raws.splice(0)) c.close();
  await cluster?.stop();
}, 60_000);

const topic = 'txn-replicated';
const producerA = 11;
const producerB = 22;

async function rawTo(id: number): Promise<RawClient> {
  const c = await RawClient.connect((cluster as TestCluster).broker(id).port);
  raws.push(c);
  return c;
}

const tx = (pid: number, vals: string[]): Buffer =>
  encodeRecordBatch(
    vals.map((v) => ({ key: Buffer.from(v), value: Buffer.from(v) })),
    { producerId: pid, producerEpoch: 0, baseSequence: 0, transactional: true },
  );

async function produce(c: RawClient, records: Buffer): Promise<Body> {
  const r = await c.call<Body>(ApiKey.Produce, {
    acks: -1,
    timeoutMs: 10_000,
    topics: [{ name: topic, partitions: [{ partition: 0, records }] }],
  });
  return r.topics[0].partitions[0];
}

async function latest(c: RawClient, isolationLevel: 0 | 1): Promise<number | undefined> {
  const r = await c.call<Body>(ApiKey.ListOffsets, {
    isolationLevel,
    topics: [{ name: topic, partitions: [{ partition: 0, timestamp: -1 }] }],
  });
  const p = r.topics[0].partitions[0];
  return p.errorCode === 0 ? Number(p.offset) : undefined;
}

async function marker(c: RawClient, producerId: number, committed: boolean): Promise<number> {
  const r = await c.call<Body>(ApiKey.WriteTxnMarkers, {
    markers: [
      { producerId, producerEpoch: 0, committed, coordinatorEpoch: 0, topics: [{ name: topic, partitions: [0] }] },
    ],
  });
  return r.markers[0].topics[0].partitions[0].errorCode;
}

async function committedFetch(c: RawClient): Promise<Body> {
  const r = await c.call<Body>(ApiKey.Fetch, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 1,
    topics: [{ name: topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
  });
  return r.topics[0].partitions[0];
}

describe('transaction markers in a cluster', () => {
  it('a new leader has the old leader’s LSO and aborted-transaction index after a kill -9', async () => {
    cluster = await TestCluster.start({ brokers: 3, overrides: ['min.insync.replicas=2'], label: 'txn-markers' });
    const admin = (cluster as TestCluster).client().admin();
    // at load a broker may still be registering: the creation is asked again until three are seen
    await pollUntil('the topic created on three brokers', 30_000, async () => {
      await admin.createTopic({ topic, partitions: 1, replicationFactor: 3 }).catch((err: unknown) => {
        if ((err as Error).message.includes('TOPIC_ALREADY_EXISTS')) return;
        throw err;
      });
      return true;
    });
    await cluster.waitForIsr(topic, 0, 3);
    const leader = await cluster.leaderOf(topic, 0);
    const c = await rawTo(leader);
    expect((await produce(c, tx(producerA, ['a0', 'a1']))).errorCode).toBe(0); // 0-1
    expect((await produce(c, tx(producerB, ['b0']))).errorCode).toBe(0); // 2
    expect(await marker(c, producerA, false)).toBe(0); // 3: A aborted, replicated to the ISR
    expect(await latest(c, 1)).toBe(2); // B's transaction holds the LSO

    await cluster.kill(leader);
    const next = await cluster.leaderOf(topic, 0, { exclude: [leader] });
    const d = await rawTo(next);
    // the new leader's high watermark reaches the log end once the other follower has fetched
    await pollUntil('the new leader to answer the whole log', 30_000, async () =>
      (await latest(d, 0)) === 4 ? true : undefined,
    );
    expect(await latest(d, 1)).toBe(2);
    const before = await committedFetch(d);
    expect(before.errorCode).toBe(0);
    expect(Number(before.lastStableOffset)).toBe(2);
    expect(before.abortedTransactions.map((t: Body) => [Number(t.producerId), Number(t.firstOffset)])).toEqual([
      [producerA, 0],
    ]);

    // the new leader ends B's transaction: the LSO reaches the high watermark
    expect(await marker(d, producerB, true)).toBe(0); // 4
    expect(await latest(d, 1)).toBe(5);
    const after = await committedFetch(d);
    expect(Number(after.lastStableOffset)).toBe(5);
    expect(after.abortedTransactions.map((t: Body) => Number(t.firstOffset))).toEqual([0]);
  }, 120_000);
});
