/**
 * A real three-broker cluster (real ZooKeeper, broker processes): brokers
 * register under /brokers/ids with one controller; a topic created with
 * `-r 3` through the CLI gets a leader, three replicas and a full ISR per
 * partition, shown by `topic describe` (JSON in the CONTRACT's shape, and
 * Kafka's text layout); a duplicate broker.id is refused; acks=-1 records are
 * on every replica and a consumer reads them all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/index.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { TestCluster } from '../helpers/cluster.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';

let cluster: TestCluster;
const cli = new CliRunner();

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, label: 'basics' });
}, 90_000);

afterAll(async () => {
  cli.killAll();
  await cluster?.stop();
}, 60_000);

function run(args: string[], input?: string) {
  return cli.run(args, { brokers: cluster.bootstrap, input, timeoutMs: 30_000 });
}

interface PartitionJson {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  logStartOffset: number;
  highWatermark: number;
}

async function describeJson(topic: string): Promise<{ name: string; partitions: PartitionJson[] }> {
  const r = await run(['topic', 'describe', topic, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { name: string; partitions: PartitionJson[] };
}

const sorted = (ids: number[]): number[] => [...ids].sort((a, b) => a - b);

describe('cluster basics', () => {
  it('registers three brokers in ZooKeeper with their addresses, and elects one controller', async () => {
    await cluster.poll('three registered brokers', 15_000, async () =>
      (await cluster.registeredIds()).length === 3 ? true : undefined,
    );
    expect(await cluster.registeredIds()).toEqual([1, 2, 3]);
    for (const id of cluster.ids) {
      expect(await cluster.registration(id), `broker ${id}`).toMatchObject({
        host: '127.0.0.1',
        port: cluster.broker(id).port,
      });
    }
    expect([1, 2, 3]).toContain(await cluster.waitForController([], 15_000));
  }, 30_000);

  it('creates a topic with -r 3 through the CLI; describe shows leader, replicas, ISR and offsets', async () => {
    const created = await run(['topic', 'create', 'replicated', '-p', '3', '-r', '3']);
    expect(created.code, created.stderr).toBe(0);
    for (let p = 0; p < 3; p++) await cluster.waitForIsr('replicated', p, 3);

    const json = await describeJson('replicated');
    expect(Object.keys(json).sort()).toEqual(['name', 'partitions']);
    expect(json.name).toBe('replicated');
    expect(json.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const p of json.partitions) {
      expect(Object.keys(p).sort()).toEqual(
        ['highWatermark', 'isr', 'leader', 'logStartOffset', 'partition', 'replicas'].sort(),
      );
      expect(sorted(p.replicas)).toEqual([1, 2, 3]);
      expect(sorted(p.isr)).toEqual([1, 2, 3]);
      // the first replica is the preferred leader, and a new partition starts with it
      expect(p.leader).toBe(p.replicas[0]);
      expect(p.logStartOffset).toBe(0);
      expect(p.highWatermark).toBe(0);
    }
    // rack-unaware round-robin: each broker is the preferred leader of one partition
    expect(sorted(json.partitions.map((p) => p.leader))).toEqual([1, 2, 3]);

    const text = await run(['topic', 'describe', 'replicated']);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Topic: replicated\tPartitionCount: 3\tReplicationFactor: 3');
    json.partitions.forEach((p, i) => {
      expect(lines[i + 1]).toContain(
        `\tTopic: replicated\tPartition: ${p.partition}\tLeader: ${p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`,
      );
    });

    const tooMany = await run(['topic', 'create', 'overreplicated', '-p', '1', '-r', '4']);
    expectOneLineError(tooMany, /replication/i);
  }, 60_000);

  it('refuses to start a second broker with a broker.id that is already registered', async () => {
    const err = await cluster.startExtraBroker(2).then(
      async (b) => {
        await b.destroy();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err, 'the duplicate broker started').toBeInstanceOf(Error);
    expect(err?.message).toMatch(/^sluice: broker\.id 2 is already registered in ZooKeeper.*$/m);
    // the first broker 2 keeps its registration and keeps serving
    expect(await cluster.registration(2)).toMatchObject({ port: cluster.broker(2).port });
    expect(cluster.broker(2).running).toBe(true);
  }, 60_000);

  it('produces with acks=-1 to every replica; a consumer reads everything back', async () => {
    const count = 60;
    const input = Array.from({ length: count }, (_, i) => `key-${i}:value-${i}\n`).join('');
    const produced = await run(['produce', 'replicated', '--key-separator', ':', '--acks', '-1'], input);
    expect(produced.code, produced.stderr).toBe(0);

    const json = await describeJson('replicated');
    expect(json.partitions.reduce((n, p) => n + p.highWatermark, 0)).toBe(count);

    const consumed = await run([
      'consume',
      'replicated',
      '--from-beginning',
      '--max-messages',
      String(count),
      '--timeout-ms',
      '15000',
      '--json',
    ]);
    expect(consumed.code, consumed.stderr).toBe(0);
    const records = consumed.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { partition: number; offset: number; key: string; value: string });
    expect(records).toHaveLength(count);
    expect(new Set(records.map((r) => r.value)).size).toBe(count);
    for (const r of records) {
      const i = Number(r.key.slice('key-'.length));
      expect(r.value).toBe(`value-${i}`);
      expect(r.partition).toBe(partitionForKey(Buffer.from(r.key), 3));
    }
    for (let p = 0; p < 3; p++) {
      // in each partition the records keep the order they were produced in, without gaps
      const mine = records.filter((r) => r.partition === p);
      expect(mine.map((r) => r.offset)).toEqual(mine.map((_, i) => i));
      const numbers = mine.map((r) => Number(r.key.slice('key-'.length)));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    }

    // the client library: acks=-1 offsets, and the same records on every replica's disk
    const sluice = cluster.client();
    const producer = sluice.producer({ acks: -1 });
    const acked = await producer.send({
      topic: 'replicated',
      messages: Array.from({ length: 30 }, (_, i) => ({ value: `client-${i}`, partition: i % 3 })),
    });
    await producer.close();
    for (let p = 0; p < 3; p++) {
      const read = await cluster.readPartition('replicated', p);
      const mine = acked.filter((m) => m.partition === p);
      for (const m of mine) expect(read.find((r) => r.offset === m.offset)?.value?.toString()).toMatch(/^client-/);
      const hw = (json.partitions[p]?.highWatermark ?? 0) + mine.length;
      expect(read).toHaveLength(hw);
      const leaderCopy = cluster.storedRecords(json.partitions[p]?.leader as number, 'replicated', p);
      for (const id of cluster.ids) {
        await cluster.poll(`broker ${id}'s copy of replicated-${p}`, 10_000, async () =>
          JSON.stringify(cluster.storedRecords(id, 'replicated', p).slice(0, hw)) ===
          JSON.stringify(leaderCopy.slice(0, hw))
            ? true
            : undefined,
        );
      }
      expect(leaderCopy.slice(0, hw).map((r) => r.value)).toEqual(read.map((r) => r.value?.toString()));
    }
  }, 90_000);

  it("the console's topic sizes are the cluster's: every broker answers DescribeLogDirs for its replicas, and each HTTP API sums them", async () => {
    const client = cluster.client();
    const admin = client.admin();
    await admin.createTopic({ topic: 'sized', partitions: 3, replicationFactor: 1 });
    const producer = client.producer({ acks: -1 });
    // a different count per partition, so no one broker's own replicas add up to the cluster's sum
    for (const [partition, n] of [
      [0, 1],
      [1, 20],
      [2, 300],
    ] as const) {
      await producer.send({
        topic: 'sized',
        messages: Array.from({ length: n }, (_, i) => ({ value: `record-${i}`, partition })),
      });
    }
    const { dirs, unreachable } = await admin.describeLogDirs();
    expect(unreachable).toEqual([]);
    expect([...new Set(dirs.map((d) => d.broker))]).toEqual([1, 2, 3]);
    const replicas = dirs.flatMap((d) =>
      d.replicas.filter((r) => r.topic === 'sized').map((r) => ({ ...r, broker: d.broker })),
    );
    expect(replicas.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
    const leaders = (await admin.describeTopic('sized')).partitions.map((p) => p.leader);
    for (const r of replicas) expect(r.broker).toBe(leaders[r.partition]);
    const total = replicas.reduce((n, r) => n + r.sizeBytes, 0);
    for (const d of dirs) expect(d.totalBytes ?? 0).toBeGreaterThan(0);

    // the same sizes over the Kafka listener: DescribeLogDirs v1 (hand-laid: null topics), read by hand
    const viaKafka: { broker: number; partition: number; sizeBytes: number }[] = [];
    for (const id of cluster.ids) {
      const raw = await KafkaRawClient.connect(cluster.broker(id).kafkaPort);
      try {
        const body = await raw.call({ apiKey: 35, apiVersion: 1, body: Buffer.from('ffffffff', 'hex') });
        let pos = 4; // throttle_time_ms
        const int16 = () => {
          pos += 2;
          return body.readInt16BE(pos - 2);
        };
        const int32 = () => {
          pos += 4;
          return body.readInt32BE(pos - 4);
        };
        const str = () => {
          const n = int16();
          pos += n;
          return body.subarray(pos - n, pos).toString('utf8');
        };
        for (let d = int32(); d > 0; d--) {
          expect(int16()).toBe(0);
          str(); // log dir
          for (let t = int32(); t > 0; t--) {
            const name = str();
            for (let p = int32(); p > 0; p--) {
              const partition = int32();
              const size = Number(body.readBigInt64BE(pos));
              pos += 17; // size, offset lag, is future
              if (name === 'sized') viaKafka.push({ broker: id, partition, sizeBytes: size });
            }
          }
        }
        expect(pos).toBe(body.length);
      } finally {
        raw.close();
      }
    }
    const byPartition = (a: { partition: number }, b: { partition: number }) => a.partition - b.partition;
    expect(viaKafka.sort(byPartition)).toEqual(
      replicas.map((r) => ({ broker: r.broker, partition: r.partition, sizeBytes: r.sizeBytes })).sort(byPartition),
    );

    const auth = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };
    for (const id of cluster.ids) {
      const port = cluster.broker(id).httpPort;
      const topics = (await (await fetch(`http://127.0.0.1:${port}/api/topics`, { headers: auth })).json()) as {
        name: string;
        sizeBytes: number;
        records: number;
      }[];
      expect(
        topics.find((t) => t.name === 'sized'),
        `broker ${id}`,
      ).toMatchObject({ sizeBytes: total, records: 321 });
      const logDirs = (await (await fetch(`http://127.0.0.1:${port}/api/log-dirs`, { headers: auth })).json()) as {
        dirs: { broker: number }[];
      };
      expect(logDirs.dirs.map((d) => d.broker)).toEqual([1, 2, 3]);
    }
  }, 60_000);
});
