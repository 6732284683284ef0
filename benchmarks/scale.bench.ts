/**
 * Partitions at scale on one broker (`npm run bench:scale`, issue 20 items 4 and 5): a standalone
 * broker run under `prlimit --nofile=4096:4096` (BrokerProcess nofile, ulimit -n 4096 on the broker
 * only), for each count in BENCH_SCALE_PARTITIONS (default 10000,100000):
 *
 * - create: topics of BENCH_SCALE_TOPIC_PARTITIONS (default 1,000) partitions each, one after
 *   another, until every partition has a leader (seconds);
 * - idle: median % of one core over BENCH_SCALE_IDLE_SECONDS (default 20) 1-s windows after a 5 s
 *   settle, RSS and open file descriptors (/proc/<pid>);
 * - produce: BENCH_SCALE_RECORDS_PER_PARTITION (default 10) keyed 100-byte records per partition,
 *   keys spread over every partition of every topic (murmur2 as the Java client), acks=1, the
 *   client's default batching; records/s from the first send to the last acknowledgement;
 * - restart after SIGTERM and after kill -9 (each with the data above; the kill follows another
 *   round of produce so every partition has unflushed records to recover): seconds from the
 *   signal until the new process logs "broker listening", and the broker's own startMs;
 * - read back: every partition read from offset 0 after the kill -9 restart, every record counted.
 *
 * The broker runs as `npm start` runs it: the compiled build (`node dist/cli/main.js`, built here
 * first with `npm run build`); BENCH_SCALE_RUNTIME=tsx runs src under tsx instead, and
 * BENCH_SCALE_BUILD=0 skips the build (dist/ as it is). Each restart is split into: stop (signal to
 * exit), load (exit to the new `Broker` constructed: exec, node and module loading, config), logs
 * (to "kafka listening": the logs opened and both listeners bound), rest (to "broker listening":
 * coordinator, replicas, HTTP), from the broker's log lines' times.
 *
 * The client runs in this process on the same 2 cores. BENCH_SCALE_NOFILE changes the limit.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { Sluice } from '../src/client/sluice.js';
import { BrokerProcess, repoRoot } from '../test/helpers/broker-process.js';
import { cpuSeconds, envInt, rssBytes } from './lib/procs.js';
import { fmtFixed, median, renderTable } from './lib/stats.js';

const counts = (process.env.BENCH_SCALE_PARTITIONS ?? '10000,100000')
  .split(',')
  .map((s) => Number(s.trim().replace(/_/g, '')))
  .filter((n) => Number.isSafeInteger(n) && n > 0);
const perTopic = envInt('BENCH_SCALE_TOPIC_PARTITIONS', 1000);
const idleSeconds = envInt('BENCH_SCALE_IDLE_SECONDS', 20);
const settleSeconds = 5;
const recordsPerPartition = envInt('BENCH_SCALE_RECORDS_PER_PARTITION', 10);
const nofile = envInt('BENCH_SCALE_NOFILE', 4096);
const valueBytes = 100;
const runtime = process.env.BENCH_SCALE_RUNTIME ?? 'dist';
if (runtime !== 'dist' && runtime !== 'tsx') throw new Error('BENCH_SCALE_RUNTIME is dist or tsx');
const startTimeoutMs = 600_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const rssMiB = (pid: number): number => rssBytes(pid) / 1024 / 1024;

const openFds = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;

async function idleCpu(pid: number): Promise<number> {
  await sleep(settleSeconds * 1000);
  const windows: number[] = [];
  let last = cpuSeconds(pid);
  let lastAt = performance.now();
  for (let i = 0; i < idleSeconds; i++) {
    await sleep(1000);
    const now = cpuSeconds(pid);
    const at = performance.now();
    windows.push((100 * (now - last)) / ((at - lastAt) / 1000));
    last = now;
    lastAt = at;
  }
  return median(windows);
}

function pidOf(broker: BrokerProcess): number {
  const pid = broker.pid;
  if (pid === undefined) throw new Error('the broker has no pid');
  return pid;
}

function lastSummary(broker: BrokerProcess): { startMs?: number; partitions?: number; recovered?: number } {
  const lines = broker.recentOutput.split('\n').filter((l) => l.includes('"broker listening"'));
  return JSON.parse(lines.at(-1) ?? '{}');
}

interface Topic {
  name: string;
  partitions: number;
}

async function untilCreated(client: Sluice, t: Topic): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    const d = await client
      .admin()
      .describeTopic(t.name)
      .catch(() => undefined);
    if (d && d.partitions.filter((p) => p.leader >= 0).length === t.partitions) return;
    if (Date.now() > deadline) throw new Error(`${t.name} was not created within ${startTimeoutMs} ms`);
    await sleep(1000);
  }
}

async function createAll(client: Sluice, total: number): Promise<Topic[]> {
  const topics: Topic[] = [];
  for (let made = 0; made < total; made += perTopic) {
    const t = { name: `scale-${topics.length}`, partitions: Math.min(perTopic, total - made) };
    try {
      await client.admin().createTopic({ topic: t.name, partitions: t.partitions, replicationFactor: 1 });
    } catch (err) {
      // the broker goes on creating what it did not finish within the request's timeout: wait for it
      if ((err as { code?: string }).code !== 'SLUICE_ERR_TIMEOUT') throw err;
      await untilCreated(client, t);
    }
    topics.push(t);
  }
  return topics;
}

/** Keyed records over every partition: `perPartition` rounds, each key `k<i>` of a topic once per round. */
async function produceKeyed(client: Sluice, topics: Topic[], perPartition: number): Promise<number> {
  const producer = client.producer({ acks: 1 });
  const value = Buffer.alloc(valueBytes, 'v');
  const window = 64;
  const perSend = 500;
  let inFlight: Promise<unknown>[] = [];
  let sent = 0;
  const started = performance.now();
  try {
    for (let round = 0; round < perPartition; round++) {
      for (const t of topics) {
        // as many distinct keys as the topic has partitions: murmur2 spreads them over nearly all
        for (let from = 0; from < t.partitions; from += perSend) {
          const n = Math.min(perSend, t.partitions - from);
          const messages = Array.from({ length: n }, (_, i) => ({ key: `k${from + i}-${round}`, value }));
          inFlight.push(producer.send({ topic: t.name, messages }));
          sent += n;
          if (inFlight.length >= window) {
            await Promise.all(inFlight);
            inFlight = [];
          }
        }
      }
    }
    await Promise.all(inFlight);
    return sent / ((performance.now() - started) / 1000);
  } finally {
    await producer.close();
  }
}

/** The wall-clock times (ms) of the broker's start-up log lines, newest process only. */
const lineTimes = new Map<string, number>();
let pendingLine = '';

function watchLines(stream: 'stdout' | 'stderr', chunk: Buffer): void {
  if (stream !== 'stdout') return;
  const lines = (pendingLine + chunk.toString('utf8')).split('\n');
  // a chunk may end inside a line (kept, bounded: start-up lines are short)
  pendingLine = (lines.pop() ?? '').slice(-64 * 1024);
  for (const line of lines) {
    for (const msg of ['kafka listening', 'broker listening']) {
      if (!line.includes(`"msg":"${msg}"`)) continue;
      const entry = JSON.parse(line) as { time: number; startMs?: number };
      lineTimes.set(msg, entry.time);
      // the Broker is constructed startMs before it listens
      if (entry.startMs !== undefined) lineTimes.set('constructed', entry.time - entry.startMs);
    }
  }
}

/**
 * Seconds from the signal until the broker listens again, its own startMs, and the split: stop
 * (signal to exit), load (exit to `Broker` constructed), logs (to "kafka listening"), rest.
 */
async function timedRestart(broker: BrokerProcess, signal: NodeJS.Signals): Promise<[number, number, string]> {
  const at = Date.now();
  await broker.stop(signal);
  const exited = Date.now();
  lineTimes.clear();
  await broker.restart(signal);
  const listening = Date.now();
  const s = (from: number, to: number | undefined): string => fmtFixed(((to ?? Number.NaN) - from) / 1000, 1);
  const constructed = lineTimes.get('constructed') ?? Number.NaN;
  const kafka = lineTimes.get('kafka listening') ?? Number.NaN;
  const split = `stop ${s(at, exited)} load ${s(exited, constructed)} logs ${s(constructed, kafka)} rest ${s(kafka, lineTimes.get('broker listening'))}`;
  return [(listening - at) / 1000, (lastSummary(broker).startMs ?? Number.NaN) / 1000, split];
}

/**
 * Reads every partition from offset 0 with a consumer (no group offsets yet: earliest) until
 * `expected` records arrived or `maxSeconds` passed; returns the records read and the high
 * watermarks' sum (what the broker says it holds).
 */
async function readBack(
  client: Sluice,
  topics: Topic[],
  expected: number,
  maxSeconds: number,
): Promise<[number, number]> {
  let held = 0;
  for (const t of topics) {
    const d = await client.admin().describeTopic(t.name);
    for (const p of d.partitions) held += p.highWatermark - p.logStartOffset;
  }
  const consumer = client.consumer({ groupId: 'bench-scale-read', autoOffsetReset: 'earliest', autoCommit: false });
  let read = 0;
  try {
    await consumer.subscribe({ topics: topics.map((t) => t.name) });
    let done = (): void => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    void consumer.run({
      eachMessage: async () => {
        read++;
        if (read >= expected) done();
      },
    });
    await Promise.race([finished, sleep(maxSeconds * 1000)]);
  } finally {
    await consumer.close();
  }
  return [read, held];
}

if (runtime === 'dist' && process.env.BENCH_SCALE_BUILD !== '0') {
  process.stderr.write('building dist/ (npm run build)\n');
  const built = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
}

const rows: string[][] = [];

for (const total of counts) {
  const broker = await BrokerProcess.start({
    nofile,
    startTimeoutMs,
    onOutput: watchLines,
    // `npm start`: node dist/cli/main.js with config/server.properties, in the repository
    ...(runtime === 'dist' ? { packageDir: repoRoot } : {}),
    overrides: ['http.port=0', 'log.scrub.enable=false'],
  });
  const row: string[] = [`${total}`];
  try {
    const pid = pidOf(broker);
    let client = new Sluice({ brokers: broker.address, clientId: 'bench-scale', requestTimeoutMs: 300_000 });
    let started = performance.now();
    const topics = await createAll(client, total);
    row.push(fmtFixed((performance.now() - started) / 1000, 1));
    process.stderr.write(`${total}: created in ${row[1]} s\n`);
    const cpu = await idleCpu(pid);
    row.push(fmtFixed(cpu, 2), fmtFixed(rssMiB(pid), 0), `${openFds(pid)}`);
    process.stderr.write(`${total}: idle ${row.slice(2).join(' ')}\n`);
    const rate = await produceKeyed(client, topics, recordsPerPartition);
    row.push(fmtFixed(rate / 1000, 1));
    process.stderr.write(`${total}: produce ${row.at(-1)} k rec/s\n`);
    await client.close();

    const [termWall, termStart, termSplit] = await timedRestart(broker, 'SIGTERM');
    row.push(`${fmtFixed(termWall, 1)} (${fmtFixed(termStart, 1)})`);
    process.stderr.write(`${total}: SIGTERM restart ${row.at(-1)} s: ${termSplit}\n`);
    client = new Sluice({ brokers: broker.address, clientId: 'bench-scale', requestTimeoutMs: 300_000 });
    started = performance.now();
    await produceKeyed(client, topics, 1);
    await client.close();
    const [killWall, killStart, killSplit] = await timedRestart(broker, 'SIGKILL');
    row.push(`${fmtFixed(killWall, 1)} (${fmtFixed(killStart, 1)})`);
    process.stderr.write(
      `${total}: kill -9 restart ${row.at(-1)} s: ${killSplit}, ${JSON.stringify(lastSummary(broker))}\n`,
    );
    client = new Sluice({ brokers: broker.address, clientId: 'bench-scale', requestTimeoutMs: 300_000 });
    const expected = total * (recordsPerPartition + 1);
    started = performance.now();
    const [read, held] = await readBack(client, topics, expected, 600);
    row.push(
      `${read}/${held}/${expected} in ${fmtFixed((performance.now() - started) / 1000, 0)} s`,
      fmtFixed(rssMiB(pidOf(broker)), 0),
      `${openFds(pidOf(broker))}`,
    );
    await client.close();
  } catch (err) {
    row.push(`failed: ${(err as Error).message}`);
    process.stderr.write(`${total}: ${(err as Error).stack}\n`);
  } finally {
    await broker.destroy();
  }
  rows.push(row);
}

process.stdout.write(
  `scale: one standalone broker (${runtime === 'dist' ? 'node dist/cli/main.js' : 'src under tsx'}) under prlimit --nofile=${nofile}, topics of ${perTopic} partitions, ${recordsPerPartition}+1 keyed ${valueBytes}-byte records per partition; restart = s from the signal to "broker listening" (the broker's own startMs)\n${renderTable(
    [
      'partitions',
      'create s',
      'idle % core',
      'RSS MiB',
      'fds',
      'produce k rec/s',
      'restart SIGTERM s',
      'restart kill -9 s',
      'read back (read/held/sent)',
      'RSS after MiB',
      'fds after',
    ],
    rows,
  )}\n`,
);
// the consumer of the read-back may keep a timer alive after close: the run is over
process.exit(0);
