/**
 * Idle cost of partitions (`npm run bench:idle`, issue 20 item 4): the CPU a
 * broker burns with nothing produced or consumed, only followers fetching at
 * the log end and the broker's own timers.
 *
 * - cluster: 3 broker processes on a real ZooKeeper, one topic of
 *   BENCH_IDLE_CLUSTER_PARTITIONS (default 1,000) partitions at RF 3, every
 *   ISR whole before sampling;
 * - standalone: one broker, BENCH_IDLE_STANDALONE_PARTITIONS (default 10,000)
 *   partitions (topics of at most 1,000 partitions each).
 *
 * After a settle pause (BENCH_IDLE_SETTLE_SECONDS, default 5) each broker's CPU
 * time (utime + stime of /proc/<pid>/stat) is sampled every second for
 * BENCH_IDLE_SECONDS (default 30); the report gives the median over those
 * 1-second windows, in % of one core, per broker, and the mean (CPU time over
 * the whole sample / its wall time): a timer firing every few seconds (the
 * controller's periodic checks) shows in the mean, not in the median. The
 * cluster's controller is marked. BENCH_IDLE_ONLY=cluster or standalone runs
 * one of the two.
 */
import { Sluice } from '../src/client/sluice.js';
import { configKeys } from '../src/config/config-keys.js';
import { SluiceError } from '../src/shared/errors.js';
import { BrokerProcess } from '../test/helpers/broker-process.js';
import { clusterOverrides, TestCluster } from '../test/helpers/cluster.js';
import { cpuSeconds, envInt } from './lib/procs.js';
import { fmtFixed, median, renderTable } from './lib/stats.js';

const clusterPartitions = envInt('BENCH_IDLE_CLUSTER_PARTITIONS', 1000);
const standalonePartitions = envInt('BENCH_IDLE_STANDALONE_PARTITIONS', 10_000);
const sampleSeconds = envInt('BENCH_IDLE_SECONDS', 30);
const settleSeconds = envInt('BENCH_IDLE_SETTLE_SECONDS', 5);
const only = process.env.BENCH_IDLE_ONLY;
/**
 * Topics are made of at most this many partitions (BENCH_IDLE_TOPIC_PARTITIONS, default 100): a
 * cluster's controller used to answer a creation of 1,000 partitions at RF 3 with REQUEST_TIMED_OUT
 * on a busy 2-core machine (it goes on creating them; waitForWholeIsrs waits for it).
 */
const partitionsPerTopic = envInt('BENCH_IDLE_TOPIC_PARTITIONS', 100);
const waitMs = 300_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Per pid, % of a core over sampleSeconds: the median of the 1-second windows, and the mean. */
async function sampleIdle(pids: number[]): Promise<{ median: number; mean: number }[]> {
  await sleep(settleSeconds * 1000);
  const windows: number[][] = pids.map(() => []);
  const first = pids.map(cpuSeconds);
  const firstAt = performance.now();
  let last = first;
  let lastAt = firstAt;
  for (let i = 0; i < sampleSeconds; i++) {
    await sleep(1000);
    const now = pids.map(cpuSeconds);
    const at = performance.now();
    for (const [j, cpu] of now.entries()) windows[j]?.push((100 * (cpu - (last[j] ?? 0))) / ((at - lastAt) / 1000));
    last = now;
    lastAt = at;
  }
  const seconds = (lastAt - firstAt) / 1000;
  return windows.map((w, j) => ({ median: median(w), mean: (100 * ((last[j] ?? 0) - (first[j] ?? 0))) / seconds }));
}

async function createTopics(
  client: Sluice,
  prefix: string,
  total: number,
  replicationFactor: number,
): Promise<string[]> {
  const topics: string[] = [];
  for (let made = 0; made < total; made += partitionsPerTopic) {
    const topic = `${prefix}-${topics.length}`;
    const partitions = Math.min(partitionsPerTopic, total - made);
    topics.push(topic);
    try {
      await client.admin().createTopic({ topic, partitions, replicationFactor });
    } catch (err) {
      // the controller goes on creating what it did not finish in time: waitForWholeIsrs waits for it
      if ((err as { code?: string }).code !== 'SLUICE_ERR_TIMEOUT') throw err;
    }
  }
  return topics;
}

async function waitForWholeIsrs(client: Sluice, topics: string[], size: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let short = 0;
    for (const topic of topics) {
      try {
        const d = await client.admin().describeTopic(topic);
        short += d.partitions.filter((p) => p.isr.length < size || p.leader < 0).length;
      } catch (err) {
        // a leader that has not made the replica yet answers UNKNOWN_TOPIC_OR_PARTITION (retriable)
        // until the creation reaches it: at 10,000 partitions that can outlast the client's retries
        if (!(err instanceof SluiceError && err.retriable)) throw err;
        short++;
      }
    }
    if (short === 0) return;
    if (Date.now() > deadline) throw new Error(`${short} partitions still lack a whole ISR after ${waitMs} ms`);
    await sleep(1000);
  }
}

/**
 * The test cluster shortens timeouts and the leader-balance interval (every 2 s) for quick failover
 * tests; an idle cost is what a user's broker pays, so those keys go back to their defaults here
 * (all but http.port, which stays 0 so nothing collides on 8161).
 */
const userDefaults = clusterOverrides
  .map((o) => o.slice(0, o.indexOf('=')))
  .filter((key): key is keyof typeof configKeys => key !== 'http.port' && Object.hasOwn(configKeys, key))
  .map((key) => `${key}=${configKeys[key].default}`);

const rows: string[][] = [];

async function clusterRun(): Promise<void> {
  const cluster = await TestCluster.start({ brokers: 3, label: 'bench-idle', overrides: userDefaults });
  try {
    const client = cluster.client();
    const pids = cluster.ids.map((id) => {
      const pid = cluster.broker(id).pid;
      if (pid === undefined) throw new Error(`broker ${id} has no pid`);
      return pid;
    });
    const cpuBefore = pids.map(cpuSeconds);
    const started = performance.now();
    const topics = await createTopics(client, 'idle', clusterPartitions, 3);
    await waitForWholeIsrs(client, topics, 3);
    const ready = (performance.now() - started) / 1000;
    // on a shared machine the wall time follows the load; the brokers' CPU for the creation does not
    const createCpu = pids.map((pid, i) => cpuSeconds(pid) - (cpuBefore[i] ?? 0));
    const cpu = await sampleIdle(pids);
    const controller = await cluster.controllerId();
    for (const [i, id] of cluster.ids.entries()) {
      rows.push([
        `cluster (3 brokers, RF 3)`,
        `${clusterPartitions}`,
        `broker ${id}${id === controller ? ' (controller)' : ''}`,
        fmtFixed(cpu[i]?.median ?? Number.NaN, 2),
        fmtFixed(cpu[i]?.mean ?? Number.NaN, 2),
        fmtFixed(ready, 1),
        fmtFixed(createCpu[i] ?? Number.NaN, 1),
      ]);
    }
  } finally {
    await cluster.stop();
  }
}

async function standaloneRun(): Promise<void> {
  // as a cluster test broker: the same overrides, without ZooKeeper
  const broker = await BrokerProcess.start({
    overrides: [...clusterOverrides, ...userDefaults],
    startTimeoutMs: 60_000,
  });
  try {
    const client = new Sluice({ brokers: broker.address, clientId: 'bench-idle' });
    const started = performance.now();
    const topics = await createTopics(client, 'idle', standalonePartitions, 1);
    await waitForWholeIsrs(client, topics, 1);
    const ready = (performance.now() - started) / 1000;
    await client.close();
    const pid = broker.pid;
    if (pid === undefined) throw new Error('the broker has no pid');
    const [cpu] = await sampleIdle([pid]);
    rows.push([
      'standalone',
      `${standalonePartitions}`,
      'broker 0',
      fmtFixed(cpu?.median ?? Number.NaN, 2),
      fmtFixed(cpu?.mean ?? Number.NaN, 2),
      fmtFixed(ready, 1),
      '',
    ]);
  } finally {
    await broker.destroy();
  }
}

if (only !== 'standalone') await clusterRun();
if (only !== 'cluster') await standaloneRun();
process.stdout.write(
  `idle CPU: median of ${sampleSeconds} 1-s windows after ${settleSeconds} s settling\n${renderTable(
    ['setup', 'partitions', 'broker', 'median % of a core', 'mean % of a core', 'create+ISR s', 'create CPU s'],
    rows,
  )}\n`,
);
