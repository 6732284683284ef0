/**
 * The client library against a real broker: `sluice broker start` as a child
 * process on an ephemeral port with a temporary log dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../../src/client/cluster.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { type ConsumerRecord, ErrorCode, type RecordMetadata, Sluice } from '../../src/index.js';
import { cliCommand } from '../helpers/broker-process.js';
import { exited, killAndWait } from '../helpers/child-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { expectSluiceErrorAsync } from '../helpers/wire-bytes.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];
const clients: Sluice[] = [];

interface RunningBroker {
  child: ChildProcess;
  port: number;
  dir: string;
  output: () => string;
}

async function startBroker(opts: { dir?: string; port?: number } = {}): Promise<RunningBroker> {
  let dir = opts.dir;
  if (!dir) {
    const t = tempDir('sluice-client-it-');
    cleanups.push(t.cleanup);
    dir = t.dir;
  }
  const child = spawn(
    process.execPath,
    [
      ...cliCommand(),
      'broker',
      'start',
      '--config',
      path.join(repoRoot, 'config/server.properties'),
      '--override',
      `port=${opts.port ?? 0}`,
      '--override',
      `log.dirs=${dir}`,
      '--override',
      'http.port=0',
      '--override',
      'kafka.port=0',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  const deadline = Date.now() + 20_000;
  let port = 0;
  while (port === 0 && !exited(child) && Date.now() < deadline) {
    for (const line of out.split('\n')) {
      if (!line.includes('broker listening')) continue;
      port = (JSON.parse(line) as { port: number }).port;
    }
    if (port === 0) await new Promise((r) => setTimeout(r, 20));
  }
  if (port === 0) throw new Error(`broker did not start:\n${out}`);
  return { child, port, dir, output: () => out };
}

function client(port: number | string, extra: Partial<ConstructorParameters<typeof Sluice>[0]> = {}): Sluice {
  const s = new Sluice({ brokers: typeof port === 'number' ? [`127.0.0.1:${port}`] : port, clientId: 'it', ...extra });
  clients.push(s);
  return s;
}

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await Promise.all(children.splice(0).map(killAndWait));
  for (const c of cleanups.splice(0)) c();
});

const keyCount = 37;
const total = 1000;

/** Reads `n` records from every partition of `topic`, starting at `offset`, by assign. */
async function readAll(sluice: Sluice, topic: string, partitions: number, n: number): Promise<ConsumerRecord[]> {
  const consumer = sluice.consumer({ maxWaitMs: 100 });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 20_000;
  while (out.length < n && Date.now() < deadline) out.push(...(await consumer.poll()));
  await consumer.close();
  return out;
}

function byPartition(records: ConsumerRecord[]): Map<number, ConsumerRecord[]> {
  const m = new Map<number, ConsumerRecord[]>();
  for (const r of records) {
    const list = m.get(r.partition) ?? [];
    list.push(r);
    m.set(r.partition, list);
  }
  return m;
}

describe('client against a real broker', () => {
  it('produces 1,000 keyed records with acks 0, 1 and -1 and reads them back in order per partition', async () => {
    const broker = await startBroker();
    const sluice = client(broker.port);
    const admin = sluice.admin();
    const base = Date.now() - 1_000_000;
    for (const acks of [0, 1, -1] as const) {
      const topic = `keyed-acks${acks === -1 ? 'all' : acks}`;
      await admin.createTopic({ topic, partitions: 3, replicationFactor: 1 });
      const producer = sluice.producer({ acks, lingerMs: 5, batchSize: 4096 });
      const sent: RecordMetadata[] = [];
      for (let chunk = 0; chunk < total; chunk += 100) {
        const messages = Array.from({ length: 100 }, (_, j) => {
          const i = chunk + j;
          return {
            key: `key-${i % keyCount}`,
            value: i % 2 === 0 ? `value-${i}` : Buffer.from(`value-${i}`),
            headers: { seq: String(i) },
            timestamp: base + i * 10,
          };
        });
        sent.push(...(await producer.send({ topic, messages })));
      }
      await producer.flush();
      expect(sent).toHaveLength(total);
      sent.forEach((m, i) => {
        expect(m.topic).toBe(topic);
        expect(m.partition).toBe(partitionForKey(Buffer.from(`key-${i % keyCount}`), 3));
        if (acks === 0) expect(m.offset).toBe(-1);
        else expect(m.offset).toBeGreaterThanOrEqual(0);
      });

      const records = await readAll(sluice, topic, 3, total);
      expect(records).toHaveLength(total);
      const seen = new Set<number>();
      const partitionOfKey = new Map<string, number>();
      for (const [partition, list] of byPartition(records)) {
        // offsets dense and increasing, sequence numbers increasing: order kept
        list.forEach((r, idx) => {
          expect(r.offset).toBe(idx);
          if (idx > 0) expect(Number(r.headers.seq)).toBeGreaterThan(Number(list[idx - 1]?.headers.seq));
        });
        for (const r of list) {
          const seq = Number(r.headers.seq?.toString());
          seen.add(seq);
          const key = r.key?.toString() as string;
          expect(key).toBe(`key-${seq % keyCount}`);
          expect(r.value?.toString()).toBe(`value-${seq}`);
          expect(Buffer.isBuffer(r.value)).toBe(true);
          expect(r.timestamp).toBe(base + seq * 10);
          expect(partitionOfKey.get(key) ?? partition).toBe(partition);
          partitionOfKey.set(key, partition);
          if (acks !== 0) expect(sent[seq]).toEqual({ topic, partition, offset: r.offset });
        }
      }
      expect(seen.size).toBe(total);
      expect(partitionOfKey.size).toBe(keyCount);
      await producer.close();
    }

    // replay from a middle offset and from a timestamp
    const topic = 'keyed-acksall';
    const all = byPartition(await readAll(sluice, topic, 3, total));
    const [partition, list] = [...all].sort((a, b) => b[1].length - a[1].length)[0] as [number, ConsumerRecord[]];
    const mid = Math.floor(list.length / 2);
    const replay = sluice.consumer({ maxWaitMs: 100 });
    replay.assign([{ topic, partition }]);
    replay.seek({ topic, partition, offset: mid });
    const fromMid: ConsumerRecord[] = [];
    while (fromMid.length < list.length - mid) fromMid.push(...(await replay.poll()));
    expect(fromMid.map((r) => [r.offset, r.value?.toString()])).toEqual(
      list.slice(mid).map((r) => [r.offset, r.value?.toString()]),
    );

    const target = (list[mid] as ConsumerRecord).timestamp - 1; // just before the middle record
    await replay.seekToTimestamp({ topic, partition, timestamp: target });
    const firstAtTime = list.findIndex((r) => r.timestamp >= target);
    const fromTime: ConsumerRecord[] = [];
    while (fromTime.length < list.length - firstAtTime) fromTime.push(...(await replay.poll()));
    expect(fromTime[0]?.offset).toBe(firstAtTime);
    expect(fromTime.map((r) => r.offset)).toEqual(list.slice(firstAtTime).map((r) => r.offset));

    // seek to earliest / latest
    replay.seek({ topic, partition, offset: 'earliest' });
    expect((await replay.poll({ maxRecords: 1 }))[0]?.offset).toBe(0);
    replay.seek({ topic, partition, offset: 'latest' });
    expect(await replay.poll({ maxWaitMs: 100 })).toEqual([]);
    await replay.close();

    // describe: the CONTRACT's shape
    const d = await admin.describeTopic(topic);
    expect(Object.keys(d).sort()).toEqual(['name', 'partitions']);
    expect(d.name).toBe(topic);
    expect(d.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const p of d.partitions) {
      expect(Object.keys(p).sort()).toEqual([
        'highWatermark',
        'isr',
        'leader',
        'logStartOffset',
        'partition',
        'replicas',
      ]);
      expect(p.leader).toBe(0);
      expect(p.replicas).toEqual([0]);
      expect(p.isr).toEqual([0]);
      expect(p.logStartOffset).toBe(0);
      expect(p.highWatermark).toBe(all.get(p.partition)?.length ?? 0);
    }
    expect(d.partitions.reduce((n, p) => n + p.highWatermark, 0)).toBe(total);
    const every = await admin.describeTopic();
    expect(every.map((t) => t.name)).toEqual(['keyed-acks0', 'keyed-acks1', 'keyed-acksall']);
  });

  it('admin: list, describe, duplicate create, delete', async () => {
    const broker = await startBroker();
    const admin = client(broker.port).admin();
    await admin.createTopic({ topic: 'a', partitions: 2 });
    await admin.createTopic({ topic: 'b', partitions: 1, config: { 'retention.ms': 60000 } });
    expect(await admin.listTopics()).toEqual(['a', 'b']);
    await expectSluiceErrorAsync(admin.createTopic({ topic: 'a', partitions: 2 }), ErrorCode.TopicExists);
    await admin.deleteTopic('a');
    expect(await admin.listTopics()).toEqual(['b']);
    await expectSluiceErrorAsync(admin.describeTopic('a'), ErrorCode.UnknownPartition);
  });

  it('null keys stick to one partition per batch; explicit partitions are kept; run() delivers until close()', async () => {
    const broker = await startBroker();
    const sluice = client(broker.port);
    await sluice.admin().createTopic({ topic: 'n', partitions: 4 });
    const producer = sluice.producer({ acks: 1, lingerMs: 0, batchSize: 1 << 20 });
    const res = await producer.send({
      topic: 'n',
      messages: Array.from({ length: 50 }, (_, i) => ({ value: `x${i}` })),
    });
    expect(new Set(res.map((r) => r.partition)).size).toBe(1); // one batch: one partition
    const explicit = await producer.send({ topic: 'n', messages: [{ key: 'k', value: 'v', partition: 3 }] });
    expect(explicit[0]?.partition).toBe(3);
    await expectSluiceErrorAsync(
      producer.send({ topic: 'n', messages: [{ value: 'v', partition: 9 }] }),
      ErrorCode.UnknownPartition,
    );

    const consumer = sluice.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 });
    await consumer.subscribe({ topics: ['n'] });
    const got: string[] = [];
    const running = consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value?.toString() ?? '');
        if (got.length === 51) await consumer.close(); // from inside the handler: must not deadlock
      },
    });
    await running;
    expect(got).toHaveLength(51);
    expect(got.slice().sort()).toEqual([...Array.from({ length: 50 }, (_, i) => `x${i}`), 'v'].sort());

    // 'largest' (the default): only what arrives after the start
    const late = sluice.consumer({ maxWaitMs: 100 });
    await late.subscribe({ topics: ['n'] });
    expect(await late.poll()).toEqual([]);
    await producer.send({ topic: 'n', messages: [{ key: 'later', value: 'new' }] });
    let fresh: ConsumerRecord[] = [];
    for (let i = 0; i < 50 && fresh.length === 0; i++) fresh = await late.poll();
    expect(fresh.map((r) => r.value?.toString())).toEqual(['new']);
  });

  it('a long-polling fetch does not hold back produce acknowledgements on the same client (own connection, at most 2 per broker)', async () => {
    const broker = await startBroker();
    const sluice = client(broker.port);
    // the client's connection pool (not public API): which connections it holds to the broker
    const cluster = (sluice as unknown as { cluster: Cluster }).cluster;
    const address = { host: '127.0.0.1', port: broker.port };
    const admin = sluice.admin();
    await admin.createTopic({ topic: 'idle', partitions: 1 });
    await admin.createTopic({ topic: 'busy', partitions: 1 });
    const producer = sluice.producer({ acks: 1, lingerMs: 0 });
    await producer.send({ topic: 'busy', messages: [{ value: 'warm-up' }] }); // metadata known, nothing left to ask
    const consumer = sluice.consumer({ maxWaitMs: 1 });
    consumer.assign([{ topic: 'idle', partition: 0 }]);
    expect(await consumer.poll({ maxWaitMs: 1 })).toEqual([]); // the position is resolved: next comes only a Fetch

    // a long poll on the idle partition: the broker holds it for up to maxWaitMs
    let pollSettled = false;
    const polling = consumer.poll({ maxWaitMs: 25_000 }).finally(() => {
      pollSettled = true;
    });
    for (let i = 0; i < 2_000 && !cluster.connectionsTo(address).some((c) => c.inFlight > 0); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(cluster.connectionsTo(address).some((c) => c.inFlight > 0)).toBe(true); // the Fetch is at the broker

    // acks=1 on the same client: answered while the fetch still waits (not queued behind its response)
    const [ack] = await producer.send({ topic: 'busy', messages: [{ value: 'while polling' }] });
    expect(ack?.offset).toBe(1);
    // the Fetch is still unanswered (on one shared connection its response had to come first)
    expect(cluster.connectionsTo(address).some((c) => c.inFlight > 0)).toBe(true);
    expect(pollSettled).toBe(false);
    expect(cluster.connectionsTo(address)).toHaveLength(2); // default + fetch, no more

    // a record on the idle partition ends the long poll
    await producer.send({ topic: 'idle', messages: [{ value: 'wake' }] });
    const got = await polling;
    expect(got.map((r) => r.value?.toString())).toEqual(['wake']);
    expect(cluster.connectionsTo(address).length).toBeLessThanOrEqual(2);
    await sluice.close();
    expect(cluster.connectionsTo(address)).toHaveLength(0);
  });

  it('backpressure: a small buffer makes send() wait, and everything still arrives', async () => {
    const broker = await startBroker();
    const sluice = client(broker.port);
    await sluice.admin().createTopic({ topic: 'bp', partitions: 2 });
    const producer = sluice.producer({ acks: 1, bufferMemory: 4096, batchSize: 1024, lingerMs: 50 });
    const value = Buffer.alloc(200, 1);
    const sends = Array.from({ length: 20 }, (_, i) =>
      producer.send({ topic: 'bp', messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i}-${j}`, value })) }),
    );
    const results = (await Promise.all(sends)).flat();
    expect(results).toHaveLength(200);
    const d = await sluice.admin().describeTopic('bp');
    expect(d.partitions.reduce((n, p) => n + p.highWatermark, 0)).toBe(200);
    await producer.close();
    await expectSluiceErrorAsync(producer.send({ topic: 'bp', messages: [{ value: 'x' }] }), ErrorCode.ClientClosed);
  });

  it('overlapping send() calls keep their call order within a partition, even while waiting for memory', async () => {
    const broker = await startBroker();
    const sluice = client(broker.port);
    await sluice.admin().createTopic({ topic: 'order', partitions: 1 });
    const producer = sluice.producer({ acks: 1, bufferMemory: 4096, batchSize: 1024, lingerMs: 5 });
    const value = (i: number, j: number): Buffer => Buffer.concat([Buffer.from(`${i}:${j}:`), Buffer.alloc(150, 1)]);
    const sends = Array.from({ length: 30 }, (_, i) =>
      producer.send({
        topic: 'order',
        messages: Array.from({ length: 5 }, (_, j) => ({ key: 'same', value: value(i, j) })),
      }),
    );
    await Promise.all(sends);
    const records = await readAll(sluice, 'order', 1, 150);
    const seen = records.map((r) => (r.value ?? Buffer.alloc(0)).toString().split(':').slice(0, 2).join(':'));
    const expected = Array.from({ length: 30 }, (_, i) => Array.from({ length: 5 }, (_, j) => `${i}:${j}`)).flat();
    expect(seen).toEqual(expected);
    await producer.close();
  });

  it('failover URL: a broker restart emits transportInterrupted / transportResumed and the client carries on', async () => {
    const first = await startBroker();
    const sluice = client(`failover:(tcp://127.0.0.1:${first.port})?randomize=false&initialReconnectDelay=100`, {
      retries: 20,
      retryBackoffMs: 100,
    });
    const events: string[] = [];
    sluice.on('transportInterrupted', (e) => events.push(`interrupted ${e.broker}`));
    sluice.on('transportResumed', (e) => events.push(`resumed ${e.broker}`));
    await sluice.admin().createTopic({ topic: 'f', partitions: 1 });
    const producer = sluice.producer({ acks: -1 });
    await producer.send({ topic: 'f', messages: [{ value: 'before' }] });

    await killAndWait(first.child);
    for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([`interrupted 127.0.0.1:${first.port}`]);

    await startBroker({ dir: first.dir, port: first.port });
    const after = await producer.send({ topic: 'f', messages: [{ value: 'after' }] });
    expect(after[0]?.offset).toBe(1);
    expect(events).toEqual([`interrupted 127.0.0.1:${first.port}`, `resumed 127.0.0.1:${first.port}`]);
    const records = await readAll(sluice, 'f', 1, 2);
    expect(records.map((r) => r.value?.toString())).toEqual(['before', 'after']);
  });

  it('an unreachable broker fails with BrokerUnreachable within the retry budget', async () => {
    const broker = await startBroker();
    const port = broker.port;
    await killAndWait(broker.child);
    const sluice = client(port, { retries: 2, retryBackoffMs: 10 });
    await expectSluiceErrorAsync(sluice.admin().listTopics(), ErrorCode.BrokerUnreachable);
  });
});
