/**
 * The Kafka listener (kafka.port) against an independent Kafka client:
 * Debian's kcat (librdkafka 2.0) and a real broker process. kcat -L sees the
 * broker and a topic's partitions with their leaders; kcat -P -K produces
 * keyed records that kcat -C reads back whole (keys, values, headers) on the
 * partitions Sluice's own partitioner gives the same keys (murmur2); what
 * kcat writes `sluice consume` reads and the other way round; two kcat -G
 * consumers of one group split a topic's partitions and read every record
 * exactly once between them.
 *
 * librdkafka's default partitioner is consistent_random (CRC32 of the key),
 * not the Java client's murmur2: every kcat producer here passes
 * `-X partitioner=murmur2_random`, the Java-compatible one Sluice implements.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/client/partitioner.js';
import { batchSizeOf, Compression, compressionOf } from '../../src/wire/record-batch.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { CliRunner } from '../helpers/cli-runner.js';
import { ensureKcat, Kcat, type KcatProcess } from '../helpers/kcat.js';
import { storedBatches } from '../helpers/storage.js';

/** The Java client's partitioner in librdkafka (its default, consistent_random, hashes with CRC32). */
const murmur2 = ['-X', 'partitioner=murmur2_random'];
const groupTimeoutMs = 30_000;

let broker: BrokerProcess;
const kcat = new Kcat();
const cli = new CliRunner();

beforeAll(async () => {
  ensureKcat();
  broker = await BrokerProcess.start({
    overrides: ['default.replication.factor=1', 'group.initial.rebalance.delay.ms=0'],
  });
}, 360_000);

afterEach(async () => {
  cli.killAll();
  await kcat.stopAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await kcat.stopAll();
  await broker?.destroy();
}, 30_000);

/** The sluice CLI against the native listener; exit 0 expected. */
async function sluice(args: string[], input?: string): Promise<string> {
  const r = await cli.run(args, { brokers: broker.address, ...(input === undefined ? {} : { input }) });
  expect(r.code, `sluice ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  await sluice(['topic', 'create', topic, '--partitions', String(partitions), '--replication-factor', '1']);
}

/** kcat against the Kafka listener; exit 0 expected. */
async function kcatOk(args: string[], input?: string): Promise<string> {
  const r = await kcat.run(['-b', broker.kafkaBrokers, ...args], input === undefined ? {} : { input });
  expect(r.code, `kcat ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

/** Everything in the topic, read by kcat -C from the beginning to the end (-e), as kcat's JSON envelopes. */
async function kcatReadAll(topic: string, extra: string[] = []): Promise<KcatRecord[]> {
  const out = await kcatOk(['-C', '-t', topic, '-o', 'beginning', '-e', '-J', ...extra]);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as KcatRecord);
}

interface SluiceRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Everything in the topic, read by `sluice consume --from-beginning --json` (ends 1.5 s after the last record). */
async function sluiceReadAll(topic: string): Promise<SluiceRecord[]> {
  const out = await sluice(['consume', topic, '--from-beginning', '--json', '--timeout-ms', '1500']);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SluiceRecord);
}

const byPartitionOffset = <T extends { partition: number; offset: number }>(a: T, b: T): number =>
  a.partition - b.partition || a.offset - b.offset;

/** Per partition, the offsets must be 0, 1, 2, ... (nothing skipped, nothing twice). */
function expectDenseOffsets(records: { partition: number; offset: number }[], partitions: number): void {
  for (let p = 0; p < partitions; p++) {
    const offsets = records.filter((r) => r.partition === p).map((r) => r.offset);
    expect(offsets, `offsets of partition ${p}`).toEqual(offsets.map((_, i) => i));
  }
}

describe('kcat against the Kafka listener', () => {
  it('kcat -L lists the broker on its Kafka port and the topic partitions with leaders, replicas and ISR', async () => {
    const topic = 'kcat-meta';
    await createTopic(topic, 3);

    const meta = JSON.parse(await kcatOk(['-L', '-J', '-t', topic])) as {
      controllerid: number;
      brokers: { id: number; name: string }[];
      topics: {
        topic: string;
        error?: string;
        partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[];
      }[];
    };
    expect(meta.brokers).toEqual([{ id: 0, name: broker.kafkaBrokers }]);
    expect(meta.controllerid).toBe(0);
    expect(meta.topics).toHaveLength(1);
    const t = meta.topics[0];
    expect(t?.topic).toBe(topic);
    expect(t?.error).toBeUndefined();
    expect(t?.partitions.map((p) => p.partition).sort((a, b) => a - b)).toEqual([0, 1, 2]);
    for (const p of t?.partitions ?? []) {
      expect(p.leader, `leader of partition ${p.partition}`).toBe(0);
      expect(p.replicas).toEqual([{ id: 0 }]);
      expect(p.isrs).toEqual([{ id: 0 }]);
    }

    // the human-readable listing of every topic names the same broker and partitions
    const text = await kcatOk(['-L']);
    expect(text).toContain(`broker 0 at ${broker.kafkaBrokers}`);
    expect(text).toContain(`topic "${topic}" with 3 partitions:`);
    for (let p = 0; p < 3; p++) expect(text).toContain(`partition ${p}, leader 0, replicas: 0, isrs: 0`);
  });

  it('kcat -P -K: produces keyed records that kcat -C reads back whole, on the murmur2 partition of each key', async () => {
    const topic = 'kcat-keyed';
    const partitions = 3;
    await createTopic(topic, partitions);
    const n = 60;
    const lines = Array.from({ length: n }, (_, i) => `user-${i}:value ${i}`);
    await kcatOk(['-P', '-t', topic, '-K', ':', ...murmur2], `${lines.join('\n')}\n`);

    const got = (await kcatReadAll(topic)).sort(byPartitionOffset);
    expect(got).toHaveLength(n);
    const byKey = new Map(got.map((r) => [r.key, r]));
    expect(byKey.size, 'every key exactly once').toBe(n);
    for (let i = 0; i < n; i++) {
      const key = `user-${i}`;
      const r = byKey.get(key);
      expect(r?.payload, key).toBe(`value ${i}`);
      expect(r?.topic).toBe(topic);
      expect(r?.partition, `partition of ${key}`).toBe(partitionForKey(Buffer.from(key), partitions));
    }
    expectDenseOffsets(got, partitions);
    // with 60 keys every partition gets some (else the partition check above proves little)
    for (let p = 0; p < partitions; p++)
      expect(
        got.some((r) => r.partition === p),
        `partition ${p}`,
      ).toBe(true);
    // records of one key set keep their production order within a partition
    for (let p = 0; p < partitions; p++) {
      const indexes = got.filter((r) => r.partition === p).map((r) => Number(r.key?.slice('user-'.length)));
      expect(indexes, `order in partition ${p}`).toEqual([...indexes].sort((a, b) => a - b));
    }
  });

  it('kcat and `sluice produce --key-separator :` put the same keys on the same partitions', async () => {
    const partitions = 3;
    await createTopic('kcat-part-k', partitions);
    await createTopic('kcat-part-s', partitions);
    const keys = Array.from({ length: 40 }, (_, i) => `order-${i * 7919}`);
    const input = `${keys.map((k) => `${k}:x`).join('\n')}\n`;
    await kcatOk(['-P', '-t', 'kcat-part-k', '-K', ':', ...murmur2], input);
    await sluice(['produce', 'kcat-part-s', '--key-separator', ':'], input);

    const viaKcat = new Map((await kcatReadAll('kcat-part-k')).map((r) => [r.key, r.partition]));
    const viaSluice = new Map((await sluiceReadAll('kcat-part-s')).map((r) => [r.key, r.partition]));
    expect(viaKcat.size).toBe(keys.length);
    expect(viaSluice.size).toBe(keys.length);
    for (const k of keys) expect(viaKcat.get(k), k).toBe(viaSluice.get(k));
    expect(new Set(viaKcat.values()).size, 'the keys spread over every partition').toBe(partitions);
  });

  it('records produced by kcat are read by `sluice consume --json`, with keys, values, headers and timestamps', async () => {
    const topic = 'kcat-to-sluice';
    const partitions = 3;
    await createTopic(topic, partitions);
    const n = 30;
    const lines = Array.from({ length: n }, (_, i) => `k${i}:payload-${i}`);
    await kcatOk(
      ['-P', '-t', topic, '-K', ':', '-H', 'origin=kcat', '-H', 'seq=1', ...murmur2],
      `${lines.join('\n')}\n`,
    );

    const viaSluice = (await sluiceReadAll(topic)).sort(byPartitionOffset);
    const viaKcat = (await kcatReadAll(topic)).sort(byPartitionOffset);
    expect(viaSluice).toHaveLength(n);
    expect(viaKcat).toHaveLength(n);
    for (const [i, s] of viaSluice.entries()) {
      const k = viaKcat[i] as KcatRecord;
      expect({ partition: s.partition, offset: s.offset, key: s.key, value: s.value, timestamp: s.timestamp }).toEqual({
        partition: k.partition,
        offset: k.offset,
        key: k.key,
        value: k.payload,
        timestamp: k.ts,
      });
      expect(s.value).toBe(`payload-${s.key?.slice(1)}`);
      expect(s.partition).toBe(partitionForKey(Buffer.from(s.key ?? ''), partitions));
      expect(s.headers).toEqual({ origin: 'kcat', seq: '1' });
    }
    expectDenseOffsets(viaSluice, partitions);
  });

  it('records produced by `sluice produce` are read by kcat -C, keyed and unkeyed', async () => {
    const topic = 'sluice-to-kcat';
    const partitions = 3;
    await createTopic(topic, partitions);
    const keyed = Array.from({ length: 20 }, (_, i) => `key-${i}:keyed ${i}`);
    await sluice(['produce', topic, '--key-separator', ':'], `${keyed.join('\n')}\n`);
    const unkeyed = Array.from({ length: 10 }, (_, i) => `plain ${i}`);
    await sluice(['produce', topic], `${unkeyed.join('\n')}\n`);

    const got = await kcatReadAll(topic);
    expect(got).toHaveLength(30);
    const keyedGot = got.filter((r) => r.key !== null);
    expect(keyedGot.map((r) => r.payload).sort()).toEqual(keyed.map((l) => l.slice(l.indexOf(':') + 1)).sort());
    for (const r of keyedGot) {
      expect(r.payload).toBe(`keyed ${r.key?.slice('key-'.length)}`);
      expect(r.partition, `${r.key}`).toBe(partitionForKey(Buffer.from(r.key ?? ''), partitions));
    }
    expect(
      got
        .filter((r) => r.key === null)
        .map((r) => r.payload)
        .sort(),
    ).toEqual([...unkeyed].sort());
    expectDenseOffsets(got, partitions);
  });

  it("kcat's zstd batches are stored as sent and read back by kcat and by `sluice consume`", async () => {
    // zstd needs Produce v7 of the broker; gzip, snappy and lz4 need its Produce range to include v0
    // (librdkafka 2.0's rule): kafka-versions.test.ts checks gzip and snappy
    const topic = 'compressed-zstd';
    await createTopic(topic, 1);
    // compressible values, all in one batch (linger), so librdkafka really compresses
    const lines = Array.from({ length: 200 }, (_, i) => `zstd record ${i} ${'x'.repeat(200)}`);
    await kcatOk(['-P', '-t', topic, '-z', 'zstd', '-X', 'linger.ms=100'], `${lines.join('\n')}\n`);
    // the first stored batch carries the codec in its attributes (bits 0-2): the broker kept the bytes
    const batches = storedBatches(path.join(broker.dataDir, `${topic}-0`));
    const first = batches[0] as { buf: Buffer; pos: number };
    expect(compressionOf(first.buf, first.pos), 'codec of the stored batch').toBe(Compression.zstd);
    expect(batches.reduce((n, b) => n + batchSizeOf(b.buf, b.pos), 0)).toBeLessThan(lines.join('').length / 4);
    expect((await kcatReadAll(topic)).map((r) => r.payload)).toEqual(lines);
    expect((await sluiceReadAll(topic)).map((r) => r.value)).toEqual(lines);
  });

  it('kcat -Q looks offsets up by time: the first record at or after it, -1 after the last record (as Kafka)', async () => {
    const topic = 'kcat-times';
    await createTopic(topic, 1);
    await kcatOk(['-P', '-t', topic], 'early-0\nearly-1\nearly-2\n');
    await new Promise((r) => setTimeout(r, 50));
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    await kcatOk(['-P', '-t', topic], 'late-0\nlate-1\n');
    const lookup = async (ts: number): Promise<number> => {
      const out = await kcatOk(['-Q', '-t', `${topic}:0:${ts}`]);
      const m = new RegExp(`${topic} \\[0\\] offset (-?\\d+)`).exec(out);
      if (!m) throw new Error(`no offset in kcat -Q output: ${out}`);
      return Number(m[1]);
    };
    expect(await lookup(0), 'before every record').toBe(0);
    expect(await lookup(between), 'between the two runs').toBe(3);
    // Kafka answers "no record at or after this time" with offset -1 (Java's offsetsForTimes: null)
    expect(await lookup(Date.now() + 3_600_000), 'after the last record').toBe(-1);
  });

  it('two kcat -G consumers of one group split a 4-partition topic and read every record exactly once', async () => {
    const topic = 'kcat-group';
    const group = 'kcat-group-g';
    const partitions = 4;
    await createTopic(topic, partitions);
    const consumerArgs = [
      '-b',
      broker.kafkaBrokers,
      // unbuffered: each record's line reaches the pipe at once (stdout to a pipe is block-buffered)
      '-u',
      // without -o: -o would reset every assigned partition's position at each rebalance
      '-X',
      'auto.offset.reset=earliest',
      '-f',
      '%p|%o|%k|%s\\n',
      '-G',
      group,
      topic,
    ];
    const a = kcat.spawn(consumerArgs);
    const b = kcat.spawn(consumerArgs);

    // records are produced only once the group has settled on a split, so no rebalance moves a
    // partition while records are in flight (each member's latest assignment, disjoint, covering all)
    await waitForSplit([a, b], topic, partitions);

    const n = 80;
    const lines = Array.from({ length: n }, (_, i) => `g${i}:m${i}`);
    await kcatOk(['-P', '-t', topic, '-K', ':', ...murmur2], `${lines.join('\n')}\n`);

    const total = (): number => a.lines.length + b.lines.length;
    await a
      .waitUntil(`${n} records between both consumers`, () => total() >= n, groupTimeoutMs)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n(have ${a.lines.length} + ${b.lines.length}; B's stderr:\n${b.stderr})`);
      });
    // a little longer: a duplicate would show up now
    await new Promise((r) => setTimeout(r, 1000));
    const assigned = [latestAssignment(a, topic), latestAssignment(b, topic)];
    await Promise.all([a.stop(), b.stop()]);

    const parse = (line: string) => {
      const [p, o, k, v] = line.split('|');
      return { partition: Number(p), offset: Number(o), key: k, value: v };
    };
    const gotA = a.lines.map(parse);
    const gotB = b.lines.map(parse);
    const all = [...gotA, ...gotB];
    expect(all).toHaveLength(n);
    expect(new Set(all.map((r) => r.key)).size, 'each record exactly once').toBe(n);
    for (const r of all) {
      expect(r.value).toBe(`m${r.key?.slice(1)}`);
      expect(r.partition).toBe(partitionForKey(Buffer.from(r.key ?? ''), partitions));
    }
    const partsA = new Set(gotA.map((r) => r.partition));
    const partsB = new Set(gotB.map((r) => r.partition));
    expect(partsA.size, 'consumer A read some partitions').toBeGreaterThan(0);
    expect(partsB.size, 'consumer B read some partitions').toBeGreaterThan(0);
    expect(
      [...partsA].filter((p) => partsB.has(p)),
      'no partition read by both',
    ).toEqual([]);
    // each read only what it was assigned
    expect([...partsA].every((p) => assigned[0]?.includes(p))).toBe(true);
    expect([...partsB].every((p) => assigned[1]?.includes(p))).toBe(true);
    expectDenseOffsets(all.sort(byPartitionOffset), partitions);

    // kcat commits its positions when it closes (SIGTERM): the group is at the end of every partition
    const described = JSON.parse(await sluice(['group', 'describe', group, '--json'])) as {
      group: string;
      offsets: { topic: string; partition: number; committed: number; logEnd: number; lag: number }[];
    };
    expect(described.group).toBe(group);
    const offsets = described.offsets.filter((o) => o.topic === topic).sort((x, y) => x.partition - y.partition);
    expect(offsets.map((o) => o.partition)).toEqual([0, 1, 2, 3]);
    for (const o of offsets) {
      expect(o.committed, `committed offset of ${topic}-${o.partition}`).toBe(o.logEnd);
      expect(o.lag).toBe(0);
    }
    expect(offsets.reduce((sum, o) => sum + o.logEnd, 0)).toBe(n);
  }, 90_000);
});

/**
 * The partitions of `topic` in the consumer's latest "Group ... rebalanced
 * (memberid ...): assigned: t [0], t [2]" line (kcat's stderr, eager
 * protocol); undefined before the first assignment or after a revoke.
 */
function latestAssignment(c: KcatProcess, topic: string): number[] | undefined {
  const events = [...c.stderr.matchAll(/rebalanced \(memberid [^)]*\): (assigned|revoked): ([^\n]*)\n/g)];
  const last = events.at(-1);
  if (last === undefined || last[1] !== 'assigned') return undefined;
  const listed = last[2] ?? '';
  const escaped = topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [...listed.matchAll(new RegExp(`${escaped} \\[(\\d+)\\]`, 'g'))]
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

async function waitForSplit(consumers: KcatProcess[], topic: string, partitions: number): Promise<void> {
  const split = (): boolean => {
    const sets = consumers.map((c) => latestAssignment(c, topic));
    if (sets.some((s) => s === undefined || s.length === 0)) return false;
    const all = sets.flatMap((s) => s ?? []);
    return all.length === partitions && new Set(all).size === partitions;
  };
  await (consumers[0] as KcatProcess).waitUntil(
    `the group to split ${partitions} partitions between ${consumers.length} kcat consumers`,
    split,
    groupTimeoutMs,
  );
}
