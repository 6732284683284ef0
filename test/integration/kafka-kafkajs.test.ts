/**
 * The Kafka listener (kafka.port) against kafkajs 2.2.4, a Kafka client
 * written independently of Sluice, and a real broker process: the admin
 * client creates a topic and reads its metadata; a producer's keyed records
 * land on the partitions Sluice's own partitioner gives the same keys
 * (kafkajs's DefaultPartitioner is the Java client's murmur2); two consumers
 * of one group split a topic's partitions and read every record exactly
 * once; a group's committed offsets survive its consumers (a new member
 * resumes after them, and `sluice group describe` shows them); an idempotent
 * producer gets a producer id and writes sequenced batches exactly once;
 * the cluster id is the same through Metadata (kafkajs) and DescribeCluster.
 */
import path from 'node:path';
import type { Consumer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/client/partitioner.js';
import { baseSequenceOf, producerIdOf, recordsCountOf } from '../../src/wire/record-batch.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { CliRunner } from '../helpers/cli-runner.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsClients } from '../helpers/kafkajs.js';
import { storedBatches as batchesOnDisk } from '../helpers/storage.js';

const groupTimeoutMs = 30_000;

let broker: BrokerProcess;
const cli = new CliRunner();
const clients = kafkajsClients({ clientId: 'sluice-kafkajs-it', brokers: () => broker.kafkaBrokers, retries: 5 });
const { admin, producer, consumer, createTopic } = clients;

beforeAll(async () => {
  broker = await BrokerProcess.start({
    overrides: ['default.replication.factor=1', 'group.initial.rebalance.delay.ms=0'],
  });
}, 60_000);

afterEach(async () => {
  await clients.disconnectAll();
  cli.killAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await broker?.destroy();
}, 30_000);

/** Polls `cond` every 50 ms; `what` (a function: evaluated at the timeout) says what was awaited. */
async function waitFor(what: string | (() => string), cond: () => boolean, timeoutMs = groupTimeoutMs): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface SluiceRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
}

/** Everything in the topic, read by `sluice consume --from-beginning --json` (ends 1.5 s after the last record). */
async function sluiceReadAll(topic: string): Promise<SluiceRecord[]> {
  const r = await cli.run(['consume', topic, '--from-beginning', '--json', '--timeout-ms', '1500'], {
    brokers: broker.address,
  });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SluiceRecord);
}

interface GroupDescription {
  group: string;
  state: string;
  members: { memberId: string; clientId: string; assignment: { topic: string; partitions: number[] }[] }[];
  offsets: { topic: string; partition: number; committed: number; logEnd: number; lag: number }[];
}

async function describeGroup(group: string): Promise<GroupDescription> {
  const r = await cli.run(['group', 'describe', group, '--json'], { brokers: broker.address });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as GroupDescription;
}

interface Consumed {
  member: string;
  partition: number;
  offset: number;
  key: string;
  value: string;
}

/** Runs `c` on `topic`, pushing every record into `into`, and keeps its latest assignment (GROUP_JOIN). */
async function runCollecting(
  c: Consumer,
  member: string,
  topic: string,
  into: Consumed[],
  assignments: Map<string, number[]>,
): Promise<void> {
  c.on(c.events.GROUP_JOIN, (e) => {
    assignments.set(
      member,
      [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b),
    );
  });
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  await c.run({
    eachMessage: async ({ partition, message }) => {
      into.push({
        member,
        partition,
        offset: Number(message.offset),
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
      });
    },
  });
}

describe('kafkajs against the Kafka listener', () => {
  it('admin.describeCluster answers the cluster id (Metadata v2+), the same on every call', async () => {
    const a = await admin();
    const first = await a.describeCluster();
    expect(first.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(first.brokers.map((b) => b.port)).toContain(Number(broker.kafkaBrokers.split(':').at(-1)));
    const again = await (await admin()).describeCluster();
    expect(again.clusterId).toBe(first.clusterId);

    // DescribeCluster (60) v0, which kafkajs does not speak, laid out by hand: flexible, so the
    // request header ends with tagged fields (the first 00 of the body) and so does the response's
    const raw = await KafkaRawClient.connect(broker.kafkaPort);
    try {
      const body = await raw.call({ apiKey: 60, apiVersion: 0, body: Buffer.from('000000', 'hex') });
      // header tags 00, throttle 0, error 0, error message null 00, cluster id as a compact string
      expect(body.subarray(0, 8).toString('hex')).toBe('0000000000000000');
      expect(body[8]).toBe(first.clusterId.length + 1);
      expect(body.subarray(9, 9 + first.clusterId.length).toString()).toBe(first.clusterId);
      expect(body.readInt32BE(9 + first.clusterId.length)).toBe(first.controller);
    } finally {
      raw.close();
    }
  });

  it('admin.createTopics creates a topic that fetchTopicMetadata, listTopics and sluice describe agree on', async () => {
    const topic = 'kjs-admin';
    await createTopic(topic, 3);
    const a = await admin();

    const { topics } = await a.fetchTopicMetadata({ topics: [topic] });
    expect(topics).toHaveLength(1);
    expect(topics[0]?.name).toBe(topic);
    const partitions = [...(topics[0]?.partitions ?? [])].sort((x, y) => x.partitionId - y.partitionId);
    expect(partitions.map((p) => p.partitionId)).toEqual([0, 1, 2]);
    for (const p of partitions) {
      expect(p.partitionErrorCode, `partition ${p.partitionId}`).toBe(0);
      expect(p.leader).toBe(0);
      expect(p.replicas).toEqual([0]);
      expect(p.isr).toEqual([0]);
    }
    expect(await a.listTopics()).toContain(topic);
    // a second create of the same topic is refused with TOPIC_ALREADY_EXISTS, which kafkajs reports as false
    expect(await a.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] })).toBe(false);

    const r = await cli.run(['topic', 'describe', topic, '--json'], { brokers: broker.address });
    expect(r.code, r.stderr).toBe(0);
    const described = JSON.parse(r.stdout) as { name: string; partitions: { partition: number; leader: number }[] };
    expect(described.name).toBe(topic);
    expect(described.partitions.map((p) => [p.partition, p.leader])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
  });

  it('a keyed send lands each key on the partition Sluice gives it (murmur2) and is read back whole', async () => {
    const topic = 'kjs-keyed';
    const partitions = 3;
    await createTopic(topic, partitions);
    const p = await producer();
    const keys = Array.from({ length: 60 }, (_, i) => `customer-${i}`);
    const meta = await p.send({
      topic,
      acks: -1,
      messages: keys.map((key, i) => ({ key, value: `order ${i}` })),
    });
    // one entry per partition written, each batch starting at offset 0 of its empty partition
    expect(meta.map((m) => m.partition).sort((a, b) => a - b)).toEqual([0, 1, 2]);
    for (const m of meta) {
      expect(m.errorCode, `partition ${m.partition}`).toBe(0);
      expect(m.baseOffset).toBe('0');
    }

    const got = await sluiceReadAll(topic);
    expect(got).toHaveLength(keys.length);
    for (const r of got) {
      const i = Number(r.key?.slice('customer-'.length));
      expect(r.value).toBe(`order ${i}`);
      expect(r.partition, `${r.key}`).toBe(partitionForKey(Buffer.from(r.key ?? ''), partitions));
    }
    expect(new Set(got.map((r) => r.key)).size).toBe(keys.length);
    // per partition: offsets 0.. in send order
    for (let part = 0; part < partitions; part++) {
      const mine = got.filter((r) => r.partition === part).sort((a, b) => a.offset - b.offset);
      expect(
        mine.map((r) => r.offset),
        `offsets of ${part}`,
      ).toEqual(mine.map((_, i) => i));
      const order = mine.map((r) => Number(r.key?.slice('customer-'.length)));
      expect(order, `order in ${part}`).toEqual([...order].sort((a, b) => a - b));
    }
  });

  it('two consumers of one group split the partitions and read every record exactly once', async () => {
    const topic = 'kjs-group';
    const group = 'kjs-group-g';
    const partitions = 4;
    await createTopic(topic, partitions);
    const got: Consumed[] = [];
    const assignments = new Map<string, number[]>();
    await runCollecting(consumer({ groupId: group }), 'a', topic, got, assignments);
    await runCollecting(consumer({ groupId: group }), 'b', topic, got, assignments);

    // records go out only once the group has settled on a split (no rebalance moves a partition mid-read)
    await waitFor('both members to hold disjoint, non-empty assignments covering every partition', () => {
      const a = assignments.get('a') ?? [];
      const b = assignments.get('b') ?? [];
      return a.length > 0 && b.length > 0 && new Set([...a, ...b]).size === partitions && a.length + b.length === 4;
    });

    // the group as Sluice's own tools see it: both members, each with its share of the partitions
    const live = await describeGroup(group);
    expect(live.state).toBe('Stable');
    expect(live.members).toHaveLength(2);
    const shares = live.members
      .map((m) => m.assignment.filter((a) => a.topic === topic).flatMap((a) => a.partitions))
      .map((ps) => [...ps].sort((x, y) => x - y));
    expect(shares.every((ps) => ps.length > 0)).toBe(true);
    expect(shares.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3]);
    expect(shares.map((ps) => ps.join(',')).sort()).toEqual(
      [assignments.get('a') ?? [], assignments.get('b') ?? []].map((ps) => ps.join(',')).sort(),
    );

    const n = 100;
    const p = await producer();
    await p.send({
      topic,
      acks: -1,
      messages: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await waitFor(
      () => `${n} records (have ${got.length})`,
      () => got.length >= n,
    );
    await sleep(1000); // a duplicate would show up now

    expect(got).toHaveLength(n);
    expect(new Set(got.map((r) => r.key)).size, 'each record exactly once').toBe(n);
    for (const r of got) {
      expect(r.value).toBe(`v${r.key.slice(1)}`);
      expect(r.partition).toBe(partitionForKey(Buffer.from(r.key), partitions));
    }
    const partsOf = (m: string) => new Set(got.filter((r) => r.member === m).map((r) => r.partition));
    const a = partsOf('a');
    const b = partsOf('b');
    expect(a.size, 'member a read some partitions').toBeGreaterThan(0);
    expect(b.size, 'member b read some partitions').toBeGreaterThan(0);
    expect(
      [...a].filter((x) => b.has(x)),
      'no partition read by both',
    ).toEqual([]);
    expect(new Set([...a, ...b]).size, 'every partition read').toBe(partitions);
    expect([...a].every((x) => assignments.get('a')?.includes(x))).toBe(true);
    expect([...b].every((x) => assignments.get('b')?.includes(x))).toBe(true);
  }, 90_000);

  it('committed offsets outlive the consumer: a new member resumes after them, and sluice group describe shows them', async () => {
    const topic = 'kjs-resume';
    const group = 'kjs-resume-g';
    const partitions = 2;
    await createTopic(topic, partitions);
    const p = await producer();
    const send = (from: number, count: number) =>
      p.send({
        topic,
        acks: -1,
        messages: Array.from({ length: count }, (_, i) => ({ key: `r${from + i}`, value: `n${from + i}` })),
      });
    const first = 20;
    const more = 12;
    await send(0, first);

    const gotA: Consumed[] = [];
    const a = consumer({ groupId: group });
    await runCollecting(a, 'a', topic, gotA, new Map());
    await waitFor(
      () => `the first consumer to read ${first} (has ${gotA.length})`,
      () => gotA.length >= first,
    );
    await sleep(500);
    await a.disconnect(); // commits what it has processed and leaves the group
    expect(gotA.map((r) => r.value).sort()).toEqual(Array.from({ length: first }, (_, i) => `n${i}`).sort());

    const afterFirst = await describeGroup(group);
    expect(afterFirst.group).toBe(group);
    const offsets1 = afterFirst.offsets.filter((o) => o.topic === topic).sort((x, y) => x.partition - y.partition);
    expect(offsets1.map((o) => o.partition)).toEqual([0, 1]);
    for (const o of offsets1) {
      expect(o.committed, `committed offset of ${topic}-${o.partition}`).toBe(o.logEnd);
      expect(o.lag).toBe(0);
    }
    expect(offsets1.reduce((s, o) => s + o.committed, 0)).toBe(first);

    await send(first, more);
    const gotB: Consumed[] = [];
    const b = consumer({ groupId: group });
    await runCollecting(b, 'b', topic, gotB, new Map());
    await waitFor(
      () => `the second consumer to read ${more} (has ${gotB.length})`,
      () => gotB.length >= more,
    );
    await sleep(1000); // anything older than the committed offsets would show up now
    expect(gotB.map((r) => r.value).sort()).toEqual(Array.from({ length: more }, (_, i) => `n${first + i}`).sort());
    await b.disconnect();

    const afterSecond = await describeGroup(group);
    const offsets2 = afterSecond.offsets.filter((o) => o.topic === topic);
    for (const o of offsets2) {
      expect(o.committed, `committed offset of ${topic}-${o.partition}`).toBe(o.logEnd);
      expect(o.lag).toBe(0);
    }
    expect(offsets2.reduce((s, o) => s + o.committed, 0)).toBe(first + more);
  }, 90_000);

  it('an idempotent producer gets a producer id and writes sequenced batches exactly once', async () => {
    const topic = 'kjs-idempotent';
    const partitions = 2;
    await createTopic(topic, partitions);
    const p = await producer({ idempotent: true, maxInFlightRequests: 1 });
    const sends = 6;
    const perSend = 10;
    for (let s = 0; s < sends; s++) {
      const meta = await p.send({
        topic,
        acks: -1,
        messages: Array.from({ length: perSend }, (_, i) => ({ key: `id${s * perSend + i}`, value: `s${s}-${i}` })),
      });
      for (const m of meta) expect(m.errorCode).toBe(0);
    }
    const total = sends * perSend;

    const got = await sluiceReadAll(topic);
    expect(got).toHaveLength(total);
    expect(new Set(got.map((r) => r.key)).size, 'each record exactly once').toBe(total);
    for (const r of got) expect(r.partition).toBe(partitionForKey(Buffer.from(r.key ?? ''), partitions));

    // the batches on disk carry one producer id and gapless sequences per partition (idempotence was on)
    const producerIds = new Set<number>();
    for (let part = 0; part < partitions; part++) {
      let expectedSequence = 0;
      for (const batch of storedBatches(topic, part)) {
        producerIds.add(batch.producerId);
        expect(batch.baseSequence, `batch sequence in ${topic}-${part}`).toBe(expectedSequence);
        expectedSequence += batch.records;
      }
      expect(expectedSequence, `records in ${topic}-${part}`).toBe(got.filter((r) => r.partition === part).length);
    }
    expect(producerIds.size).toBe(1);
    expect([...producerIds][0]).toBeGreaterThanOrEqual(0);
  }, 60_000);
});

/** The record batches in the broker's own segment files of a partition (headers only). */
function storedBatches(
  topic: string,
  partition: number,
): { producerId: number; baseSequence: number; records: number }[] {
  return batchesOnDisk(path.join(broker.dataDir, `${topic}-${partition}`)).map(({ buf, pos }) => ({
    producerId: producerIdOf(buf, pos),
    baseSequence: baseSequenceOf(buf, pos),
    records: recordsCountOf(buf, pos),
  }));
}
