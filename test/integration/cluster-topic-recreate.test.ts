/**
 * A topic deleted and created again at once in a real two-broker cluster
 * (real ZooKeeper, broker processes): the new topic is new on every broker.
 * Its partitions start empty at offset 0, a consumer of the new topic sees
 * none of the old topic's records, and no broker's log of it — the leader's
 * or the follower's, which hears of the deletion and the re-creation only
 * through its ZooKeeper watches — holds any of them (acknowledged records of
 * a deleted topic must never reappear). The second case makes the follower
 * late for certain: it is paused (SIGSTOP, shorter than its ZooKeeper session)
 * while the topic is deleted and created again, so its watches only fire
 * once both are done.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { type StoredRecord, TestCluster } from '../helpers/cluster.js';

const partitions = 4;
const perPartition = 20;
let topic = '';
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 2, label: 'topic-recreate' });
}, 90_000);

afterEach(() => {
  // a test that failed while a broker was paused leaves it running
  for (const id of cluster?.ids ?? []) cluster.resume(id);
});

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** Produces `perPartition` records to every partition (acks=-1); returns the offsets acknowledged per partition. */
async function produceRound(round: number): Promise<number[][]> {
  const sluice = cluster.client({ retries: 10 });
  const producer = sluice.producer({ acks: -1 });
  const acked = await producer.send({
    topic,
    messages: Array.from({ length: partitions * perPartition }, (_, i) => ({
      key: `round-${round}`,
      value: `round-${round}-${i}`,
      partition: i % partitions,
    })),
  });
  await producer.close();
  const offsets: number[][] = Array.from({ length: partitions }, () => []);
  for (const m of acked) offsets[m.partition]?.push(m.offset);
  return offsets;
}

/** A broker's own copy of a partition once it holds `count` records (a follower catches up by fetching). */
function storedCopy(id: number, partition: number, count: number): Promise<StoredRecord[]> {
  return cluster.poll(`broker ${id}'s copy of ${topic}-${partition} to hold ${count} records`, 15_000, async () => {
    const records = cluster.storedRecords(id, topic, partition);
    return records.length >= count ? records : undefined;
  });
}

/** The new topic's partitions start empty; this round's records are at offsets 0.. everywhere, nothing else. */
async function expectFreshRound(round: number): Promise<void> {
  // a broker that has not heard of the deletion yet still serves the old topic (as it would without
  // topic ids on the wire); once it has, it must not: a leader that kept an old log never gets here
  const fresh = JSON.stringify(Array.from({ length: partitions }, (_, p) => [p, 0, 0]));
  let seen = '';
  await cluster
    .poll(`every partition of the new ${topic} empty at offset 0 on its leader`, 15_000, async () => {
      const described = await cluster.describe(topic);
      seen = JSON.stringify(described.partitions.map((p) => [p.partition, p.logStartOffset, p.highWatermark]));
      return seen === fresh ? true : undefined;
    })
    .catch((err: unknown) => {
      throw new Error(`${String(err)}; last seen [partition, logStartOffset, highWatermark]: ${seen}`);
    });
  const offsets = await produceRound(round);
  const expected = Array.from({ length: perPartition }, (_, i) => i);
  for (let p = 0; p < partitions; p++) {
    expect(offsets[p], `acknowledged offsets of ${topic}-${p} in round ${round}`).toEqual(expected);
    const read = await cluster.readPartition(topic, p);
    expect(read.map((r) => r.offset)).toEqual(expected);
    expect(read.every((r) => r.key?.toString() === `round-${round}`)).toBe(true);
    for (const id of cluster.ids) {
      const stored = await storedCopy(id, p, perPartition);
      expect(
        stored.map((r) => [r.offset, r.key]),
        `broker ${id}'s log of ${topic}-${p}`,
      ).toEqual(expected.map((o) => [o, `round-${round}`]));
    }
  }
}

async function createAndFill(): Promise<void> {
  await cluster.client().admin().createTopic({ topic, partitions, replicationFactor: 2 });
  for (let p = 0; p < partitions; p++) await cluster.waitForIsr(topic, p, 2);
  await produceRound(0);
}

it('a topic deleted and created again at once starts empty at offset 0 on every broker, with none of the old records', async () => {
  topic = 'reborn';
  await createAndFill();
  const admin = cluster.client().admin();
  // several lives in a row: each re-creation right after the deletion, by the same client
  for (let round = 1; round <= 3; round++) {
    await admin.deleteTopic(topic);
    await admin.createTopic({ topic, partitions, replicationFactor: 2 });
    await expectFreshRound(round);
  }
}, 180_000);

it('a broker that hears of the deletion and the re-creation only afterwards drops the old logs too', async () => {
  topic = 'reborn-late';
  await createAndFill();
  const controller = await cluster.waitForController();
  const late = cluster.ids.find((id) => id !== controller);
  if (late === undefined) throw new Error('a two-broker cluster has a broker besides the controller');
  // a client of the controller only: the paused broker answers nothing
  const sluice = new Sluice({ brokers: cluster.broker(controller).address, clientId: 'recreate-it' });
  try {
    const admin = sluice.admin();
    cluster.pause(late);
    try {
      await admin.deleteTopic(topic);
      await admin.createTopic({ topic, partitions, replicationFactor: 2 });
    } finally {
      cluster.resume(late);
    }
  } finally {
    await sluice.close();
  }
  for (let p = 0; p < partitions; p++) await cluster.waitForIsr(topic, p, 2);
  await expectFreshRound(1);
}, 180_000);
