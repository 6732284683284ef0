/**
 * Partition reassignment (KIP-455) in a real three-broker cluster with
 * min.insync.replicas=2: a topic with replication factor 2 on brokers 1,2 is
 * moved to 2,3 while a native producer and kafkajs (Kafka listener) send with
 * acks=-1 without pause.
 * Every acknowledged record is read back afterwards, from the new leader and
 * from broker 3's own log on disk; broker 1 no longer leads, follows or
 * keeps the partition's directory. Bad requests are refused with Kafka's
 * codes and change nothing (native client, CLI, and the Kafka listener with
 * hand-laid bytes: NOT_CONTROLLER from a broker that is not the controller);
 * a throttled reassignment is cancelled back to the original replicas; and a
 * fourth broker joins the running cluster and takes partitions through
 * `--generate` and `--execute` (the CLI, Kafka's reassignment JSON).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type Sluice } from '../../src/index.js';
import { KafkaReader } from '../../src/protocol/binary/primitives.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { TestCluster } from '../helpers/cluster.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';

let cluster: TestCluster;
const cli = new CliRunner();

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, overrides: ['min.insync.replicas=2'], label: 'reassign' });
}, 90_000);

afterAll(async () => {
  cli.killAll();
  await cluster?.stop();
}, 60_000);

/** Reassigns and waits until the controller reports nothing left and the metadata shows `replicas` with a full ISR. */
async function reassignAndWait(
  c: TestCluster,
  sluice: Sluice,
  topic: string,
  partition: number,
  replicas: number[],
): Promise<void> {
  await sluice.admin().reassignPartitions({ partitions: [{ topic, partition, replicas }] });
  await c.poll(`${topic}-${partition} reassigned to ${replicas.join(',')}`, 60_000, async () => {
    const ongoing = await sluice.admin().listPartitionReassignments();
    if (ongoing.some((r) => r.topic === topic && r.partition === partition)) return undefined;
    const p = (await c.describe(topic)).partitions.find((x) => x.partition === partition);
    return p &&
      p.replicas.join() === replicas.join() &&
      [...p.isr].sort().join() === [...replicas].sort().join() &&
      replicas.includes(p.leader)
      ? p
      : undefined;
  });
}

describe('partition reassignment', () => {
  it('moves a partition from brokers 1,2 to 2,3 under acks=-1 load without losing an acknowledged record', async () => {
    const topic = 'moving';
    const sluice = cluster.client({ retries: 20, retryBackoffMs: 100 });
    await sluice.admin().createTopic({ topic, partitions: 1, replicationFactor: 2 });
    // start from replicas [1,2] (the assignment is random): itself a reassignment, maybe an order change only
    await reassignAndWait(cluster, sluice, topic, 0, [1, 2]);
    // broker 1, the preferred replica, leads (preferred leader election every 2 s here)
    await cluster.poll('broker 1 to lead', 30_000, async () =>
      (await cluster.describe(topic)).partitions[0]?.leader === 1 ? true : undefined,
    );

    const producer = sluice.producer({ acks: -1, retries: 20, retryBackoffMs: 100, timeoutMs: 10_000 });
    const kafkajs = new Kafka({
      clientId: 'reassign-it',
      brokers: cluster.kafkaBootstrap.split(','),
      logLevel: logLevel.NOTHING,
      retry: { retries: 40, initialRetryTime: 100, maxRetryTime: 1000 },
    }).producer();
    await kafkajs.connect();
    const acked = new Map<number, string>();
    let failures = 0;
    let stop = false;
    let sent = 0;
    const load = (async () => {
      while (!stop) {
        const value = `v-${sent++}`;
        try {
          const [r] = await producer.send({ topic, messages: [{ value, partition: 0 }] });
          if (r) acked.set(r.offset, value);
        } catch {
          failures++; // not acknowledged: may or may not be in the log, never counted as acknowledged
        }
      }
    })();
    let kafkajsSent = 0;
    const kafkajsLoad = (async () => {
      while (!stop) {
        const value = `k-${kafkajsSent++}`;
        try {
          const [r] = await kafkajs.send({ topic, acks: -1, messages: [{ value, partition: 0 }] });
          if (r?.baseOffset !== undefined) acked.set(Number(r.baseOffset), value);
        } catch {
          failures++;
        }
      }
    })();
    const until = (n: number) =>
      cluster.poll(`${n} acknowledged records`, 60_000, async () => (acked.size >= n ? true : undefined));
    try {
      await until(100);
      await sluice.admin().reassignPartitions({ partitions: [{ topic, partition: 0, replicas: [2, 3] }] });
      // while under way, the controller lists it with broker 3 being added and broker 1 being removed
      // (unless it was already done: broker 3 can catch up 100 records fast)
      const ongoing = await sluice.admin().listPartitionReassignments();
      for (const r of ongoing) {
        expect(r).toEqual({ topic, partition: 0, replicas: [2, 3, 1], addingReplicas: [3], removingReplicas: [1] });
      }
      await cluster.poll('the reassignment to finish', 60_000, async () => {
        if ((await sluice.admin().listPartitionReassignments()).length > 0) return undefined;
        const p = (await cluster.describe(topic)).partitions[0];
        return p && p.replicas.join() === '2,3' && [...p.isr].sort().join() === '2,3' ? p : undefined;
      });
      const moved = acked.size;
      await until(moved + 100);
    } finally {
      stop = true;
      await load;
      await kafkajsLoad;
    }
    await producer.close();
    await kafkajs.disconnect();
    // both clients' records were acknowledged during the test
    expect([...acked.values()].some((v) => v.startsWith('k-'))).toBe(true);

    const p = (await cluster.describe(topic)).partitions[0];
    expect(p).toMatchObject({ replicas: [2, 3] });
    expect(p?.leader === 2 || p?.leader === 3).toBe(true);
    expect([...(p?.isr ?? [])].sort()).toEqual([2, 3]);

    const read = await cluster.readPartition(topic, 0);
    const byOffset = new Map(read.map((r) => [r.offset, r.value?.toString()]));
    const lost = [...acked].filter(([offset, value]) => byOffset.get(offset) !== value);
    expect(lost, `acknowledged records missing or changed (of ${acked.size}, ${failures} sends failed)`).toEqual([]);

    // broker 3's own copy holds every acknowledged record once it has caught up to the high watermark
    const highWatermark = p?.highWatermark ?? 0;
    await cluster.poll('broker 3 to have the whole log', 30_000, async () =>
      cluster.storedRecords(3, topic, 0).length >= highWatermark ? true : undefined,
    );
    const onThree = new Map(cluster.storedRecords(3, topic, 0).map((r) => [r.offset, r.value]));
    expect([...acked].filter(([offset, value]) => onThree.get(offset) !== value)).toEqual([]);

    // broker 1 stopped its replica and deleted the partition's directory
    const oldDir = path.join(cluster.broker(1).dataDir, `${topic}-0`);
    await cluster.poll('broker 1 to delete its copy', 30_000, async () => (fs.existsSync(oldDir) ? undefined : true));
    expect(fs.existsSync(path.join(cluster.broker(2).dataDir, `${topic}-0`))).toBe(true);
  }, 240_000);

  it('refuses bad requests with Kafka codes and changes nothing', async () => {
    const topic = 'refusals';
    const sluice = cluster.client({ retries: 5, retryBackoffMs: 100 });
    await sluice.admin().createTopic({ topic, partitions: 1, replicationFactor: 2 });
    const before = (await cluster.describe(topic)).partitions[0];
    const refused = async (replicas: number[] | null, t = topic, partition = 0) =>
      sluice
        .admin()
        .reassignPartitions({ partitions: [{ topic: t, partition, replicas }] })
        .then(
          () => undefined,
          (e: unknown) => e as Error & { code: string },
        );
    expect(await refused([1, 2], 'no-such-topic')).toMatchObject({ code: ErrorCode.UnknownPartition });
    expect(await refused([1, 2], topic, 7)).toMatchObject({ code: ErrorCode.UnknownPartition });
    const dup = await refused([1, 1]);
    expect(dup).toMatchObject({ code: ErrorCode.InvalidReplicaAssignment });
    expect(dup?.message).toMatch(/INVALID_REPLICA_ASSIGNMENT \(39\).*duplicate/);
    expect(await refused([])).toMatchObject({ code: ErrorCode.InvalidReplicaAssignment });
    const dead = await refused([1, 9]);
    expect(dead?.message).toMatch(/not alive: 9/);
    const nothing = await refused(null);
    expect(nothing).toMatchObject({ code: ErrorCode.NoReassignmentInProgress });
    expect(nothing?.message).toMatch(/NO_REASSIGNMENT_IN_PROGRESS \(85\)/);

    const cliRefused = await cli.run(
      ['partition', 'reassign', '--topic', topic, '--partition', '0', '--replicas', '1,9'],
      {
        brokers: cluster.bootstrap,
      },
    );
    expectOneLineError(cliRefused, /INVALID_REPLICA_ASSIGNMENT/);

    // the Kafka listener, bytes laid out by hand: a broker that is not the controller answers NOT_CONTROLLER
    const controller = await cluster.controllerId();
    const other = cluster.ids.find((id) => id !== controller) as number;
    const name = Buffer.from(topic);
    // request header tagged fields (00), timeout, topics[1]{name, partitions[1]{0, replicas [1,9]}}
    const alter = Buffer.concat([
      Buffer.from('00 0000ea60 02'.replace(/ /g, ''), 'hex'),
      Buffer.from([name.length + 1]),
      name,
      Buffer.from('02 00000000 03 00000001 00000009 00 00 00'.replace(/ /g, ''), 'hex'),
    ]);
    const answers: Record<string, [number, number | null]> = {};
    for (const [who, id] of [
      ['other', other],
      ['controller', controller],
    ] as const) {
      const raw = await KafkaRawClient.connect(cluster.broker(id).kafkaPort);
      try {
        const r = new KafkaReader(await raw.call({ apiKey: 45, apiVersion: 0, body: alter }));
        r.skipTaggedFields();
        r.int32();
        const top = r.int16();
        r.compactNullableString();
        const partitionCodes = r.compactArray(() => {
          r.compactString();
          const codes = r.compactArray(() => {
            r.int32();
            const code = r.int16();
            r.compactNullableString();
            r.skipTaggedFields();
            return code;
          });
          r.skipTaggedFields();
          return codes;
        });
        answers[who] = [top, partitionCodes?.[0]?.[0] ?? null];
      } finally {
        raw.close();
      }
    }
    expect(answers).toEqual({ other: [41, null], controller: [0, 39] });

    const after = (await cluster.describe(topic)).partitions[0];
    expect(after?.replicas).toEqual(before?.replicas);
    expect(await sluice.admin().listPartitionReassignments()).toEqual([]);
  }, 120_000);

  it('throttles the added replica and cancels back to the original replicas', async () => {
    const topic = 'cancelled';
    const sluice = cluster.client({ retries: 10, retryBackoffMs: 100 });
    await sluice.admin().createTopic({ topic, partitions: 1, replicationFactor: 2 });
    const original = (await cluster.describe(topic)).partitions[0]?.replicas as number[];
    const extra = cluster.ids.find((id) => !original.includes(id)) as number;
    const producer = sluice.producer({ acks: -1 });
    const value = 'x'.repeat(1000);
    // 20 batches of 10 KB: at 1000 B/s the added replica needs minutes to catch up
    for (let i = 0; i < 20; i++) {
      await producer.send({ topic, messages: Array.from({ length: 10 }, () => ({ value, partition: 0 })) });
    }
    await producer.close();

    const started = await cli.run(
      [
        'partition',
        'reassign',
        '--topic',
        topic,
        '--partition',
        '0',
        '--replicas',
        [...original, extra].join(','),
        '--throttle',
        '1000',
        '--no-wait',
      ],
      { brokers: cluster.bootstrap },
    );
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/Successfully started partition reassignments for cancelled-0/);
    const listed = await cli.run(['partition', 'reassign', '--list', '--json'], { brokers: cluster.bootstrap });
    expect(JSON.parse(listed.stdout)).toEqual([
      { topic, partition: 0, replicas: [...original, extra], addingReplicas: [extra], removingReplicas: [] },
    ]);
    // the added replica has started (a first batch) but is held back by the throttle
    const extraDir = path.join(cluster.broker(extra).dataDir, `${topic}-0`);
    await cluster.poll('the added replica to fetch', 30_000, async () =>
      cluster.storedRecords(extra, topic, 0).length > 0 ? true : undefined,
    );
    expect(cluster.storedRecords(extra, topic, 0).length).toBeLessThan(200);

    const cancelled = await cli.run(['partition', 'reassign', '--cancel', '--topic', topic, '--partition', '0'], {
      brokers: cluster.bootstrap,
    });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    await cluster.poll('the original replicas back', 30_000, async () => {
      if ((await sluice.admin().listPartitionReassignments()).length > 0) return undefined;
      const p = (await cluster.describe(topic)).partitions[0];
      return p?.replicas.join() === original.join() && !fs.existsSync(extraDir) ? p : undefined;
    });
    const p = (await cluster.describe(topic)).partitions[0];
    expect([...(p?.isr ?? [])].sort()).toEqual([...original].sort());
    expect((await cluster.readPartition(topic, 0)).length).toBe(200);
  }, 120_000);

  it('moves partitions onto a fourth broker added to the running cluster (--generate, then --execute)', async () => {
    const topic = 'spread';
    const sluice = cluster.client({ retries: 10, retryBackoffMs: 100 });
    await sluice.admin().createTopic({ topic, partitions: 4, replicationFactor: 2 });
    const producer = sluice.producer({ acks: -1 });
    const acked = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const value = `s-${i}`;
      const [r] = await producer.send({ topic, messages: [{ value, partition: i % 4 }] });
      if (r) acked.set(`${r.partition}:${r.offset}`, value);
    }
    await producer.close();

    await cluster.addBroker(4);
    await cluster.poll('broker 4 to register', 30_000, async () =>
      (await cluster.registeredIds()).includes(4) ? true : undefined,
    );

    const generated = await cli.run(
      ['partition', 'reassign', '--generate', '--topic', topic, '--broker-list', '1,2,3,4'],
      { brokers: cluster.bootstrap },
    );
    expect(generated.code, generated.stderr).toBe(0);
    const lines = generated.stdout.trim().split('\n');
    expect(lines[0]).toBe('Current partition replica assignment');
    expect(lines.at(-2)).toBe('Proposed partition reassignment configuration');
    const plan = JSON.parse(lines.at(-1) as string) as {
      version: number;
      partitions: { topic: string; partition: number; replicas: number[] }[];
    };
    expect(plan.version).toBe(1);
    expect(plan.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    for (const p of plan.partitions) expect(p.replicas).toHaveLength(2);
    // round-robin over four brokers: each broker leads one partition
    expect(plan.partitions.map((p) => p.replicas[0]).sort()).toEqual([1, 2, 3, 4]);

    const dir = tempDir('reassign-plan-');
    try {
      const file = path.join(dir.dir, 'plan.json');
      fs.writeFileSync(file, JSON.stringify(plan));
      const executed = await cli.run(['partition', 'reassign', '--execute', '--reassignment-json-file', file], {
        brokers: cluster.bootstrap,
        timeoutMs: 120_000,
      });
      expect(executed.code, executed.stderr).toBe(0);
      for (let p = 0; p < 4; p++) {
        expect(executed.stdout).toContain(`Reassignment of partition ${topic}-${p} is complete.`);
      }
    } finally {
      dir.cleanup();
    }

    const d = await cluster.describe(topic);
    expect(d.partitions.map((p) => p.replicas)).toEqual(plan.partitions.map((p) => p.replicas));
    for (const p of d.partitions) expect([...p.isr].sort()).toEqual([...p.replicas].sort());
    // broker 4 holds full copies of its partitions; every acknowledged record is read back
    for (const p of plan.partitions.filter((x) => x.replicas.includes(4))) {
      const hw = d.partitions[p.partition]?.highWatermark ?? 0;
      await cluster.poll(`broker 4's copy of ${topic}-${p.partition}`, 30_000, async () =>
        cluster.storedRecords(4, topic, p.partition).length >= hw ? true : undefined,
      );
    }
    for (let p = 0; p < 4; p++) {
      const read = await cluster.readPartition(topic, p);
      for (const r of read) expect(r.value?.toString()).toBe(acked.get(`${p}:${r.offset}`));
      expect(read.length).toBe([...acked.keys()].filter((k) => k.startsWith(`${p}:`)).length);
      // brokers that left a partition deleted it
      for (const id of [1, 2, 3, 4].filter((b) => !plan.partitions[p]?.replicas.includes(b))) {
        const gone = path.join(cluster.broker(id).dataDir, `${topic}-${p}`);
        await cluster.poll(`broker ${id} to delete ${topic}-${p}`, 30_000, async () =>
          fs.existsSync(gone) ? undefined : true,
        );
      }
    }
  }, 240_000);
});
