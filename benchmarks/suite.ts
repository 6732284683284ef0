/**
 * The benchmark suite of issue 7 (`npm run bench`; not part of `npm test`).
 * One go, on loopback; each figure is the median of --runs runs, the systems
 * interleaved round by round (ceiling, Sluice, Redis, ActiveMQ; then the
 * Sluice cluster):
 *
 * 1. Ceilings: 104-byte frames in 64 KiB writes over TCP into a child Node
 *    process that appends them to a file; the raw fs append rate of 100-byte
 *    records in 1 MiB writes.
 * 2. Sluice (a real broker process, dist/ or tsx): produce with acks 0, 1, -1,
 *    100-byte and 1 KiB records, 1 and 8 partitions; consume 100-byte records;
 *    end-to-end latency at 10,000 and 100,000 records/s; broker RSS while
 *    producing; a producer outrunning a slow consumer (RSS must stay bounded);
 *    3 brokers with ZooKeeper, replication factor 3, acks -1.
 * 3. Peers when installed (`npm run peers:install`): Redis Streams with
 *    redis-benchmark, ActiveMQ 5.17 with its own producer/consumer tools.
 *
 * Writes benchmarks/results/<date>.json and <date>.svg (`<date>-quick.*` for
 * --quick) and rewrites the results section of benchmarks/README.md.
 *
 *   npm run bench [-- --runs N] [--quick] [--skip-peers] [--skip-cluster]
 *
 * Every process it starts is stopped by PID at the end, on an error, and on
 * Ctrl-C / SIGTERM (lib/procs.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { producePerf } from '../src/cli/perf-commands.js';
import { Sluice } from '../src/client/sluice.js';
import type { Acks } from '../src/client/types.js';
import { frameBytes, fsAppendRun, TcpSink } from './lib/ceiling.js';
import { ActiveMq, activemqMissing, type RedisPersistence, RedisServer, redisMissing } from './lib/peers.js';
import { installCleanupHandlers, liveChildren, sampleRss } from './lib/procs.js';
import {
  type Figure,
  Figures,
  fmt,
  markdown,
  type Ratio,
  type Results,
  type Section,
  svgChart,
  type Target,
  updateReadme,
  writeJson,
} from './lib/report.js';
import {
  backlogRun,
  consumeRun,
  createTopic,
  deleteTopic,
  latencyRun,
  produceRun,
  topicName,
} from './lib/sluice-bench.js';
import { type BrokerRuntime, LocalCluster, prepareBrokerRuntime, repoRoot, SluiceBroker } from './lib/sluice-procs.js';

installCleanupHandlers();

const { values: argv } = parseArgs({
  options: {
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'skip-peers': { type: 'boolean', default: false },
    'skip-cluster': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (argv.help) {
  process.stdout.write(
    'usage: npm run bench [-- --runs N] [--quick] [--skip-peers] [--skip-cluster]\n' +
      '  --runs N        runs per figure, the median is reported (default 3; 1 with --quick)\n' +
      '  --quick         a ~2 minute smoke run: smaller counts, shorter caps; writes results/<date>-quick.*\n' +
      '  --skip-peers    no Redis / ActiveMQ\n' +
      '  --skip-cluster  no ZooKeeper + 3-broker cluster\n',
  );
  process.exit(0);
}
const quick = argv.quick === true;
const runs = argv.runs === undefined ? (quick ? 1 : 3) : Number(argv.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
  process.stderr.write(`bench: --runs must be an integer in 1..20, not ${argv.runs}\n`);
  process.exit(2);
}

const MiB = 1024 * 1024;
const settings = quick
  ? {
      warmupRecords: 300_000,
      produce100: 1_000_000,
      produce1k: 250_000,
      produceSeconds: 3,
      consumeSeconds: 5,
      latencySeconds: 2,
      backlogSeconds: 4,
      ceilingBytes: 256 * MiB,
      fsRecords: 3_000_000,
      redisRequests: 300_000,
      amqSync: 2_000,
      amqTx: 20_000,
      cluster100: 300_000,
      clusterSeconds: 2.5,
    }
  : {
      warmupRecords: 1_000_000,
      produce100: 2_000_000,
      produce1k: 600_000,
      produceSeconds: 8,
      consumeSeconds: 10,
      latencySeconds: 5,
      backlogSeconds: 10,
      ceilingBytes: 1024 * MiB,
      fsRecords: 10_000_000,
      redisRequests: 1_000_000,
      amqSync: 6_000,
      amqTx: 60_000,
      cluster100: 1_000_000,
      clusterSeconds: 8,
    };
const batchSize = 1024 * 1024;
const rssLimitMiB = 256;
const acksCases: Acks[] = [1, -1, 0];
const sizes = [100, 1024];
const partitionCases = [1, 8];
const latencyRates = [10_000, 100_000];
const kafka = { produce: 821_557, replicated: 421_823, consume: 940_521 };

const t0 = Date.now();
const log = (s: string): void => {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);
};
const figures = new Figures();
const details: Record<string, unknown> = { settings: { ...settings, batchSize, runs } };

/** Runs one measurement; a failure is logged and recorded, and the suite goes on. */
async function attempt(section: Section, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? String(err);
    log(`${section} ${what}: FAILED: ${msg}`);
    figures.skip(section, what, `failed: ${msg.slice(0, 160)}`);
  }
}

const sizeLabel = (bytes: number): string => (bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`);
const produceId = (acks: Acks, size: number, partitions: number, cluster = false): string =>
  `${cluster ? 'cluster' : 'sluice'}.produce.acks${acks}.${size}B.p${partitions}`;

// ---- one round of each system ----

async function ceilingRound(sink: TcpSink): Promise<void> {
  await attempt('Ceiling', 'TCP into a file', async () => {
    const r = await sink.run(settings.ceilingBytes);
    figures.add(
      {
        id: 'ceiling.tcp',
        section: 'Ceiling',
        label: 'Node TCP into a file (104-byte frames, 64 KiB writes)',
        unit: 'records/s',
        bytesPerRecord: frameBytes,
      },
      r.records / r.seconds,
    );
    log(`ceiling TCP into a file: ${fmt(r.records / r.seconds)} frames/s, ${fmt(r.bytes / r.seconds / 1e6)} MB/s`);
  });
  await attempt('Ceiling', 'fs append', async () => {
    const r = fsAppendRun(settings.fsRecords);
    figures.add(
      {
        id: 'ceiling.fs',
        section: 'Ceiling',
        label: 'Node fs append (100-byte records, 1 MiB writes)',
        unit: 'records/s',
        bytesPerRecord: 100,
      },
      r.records / r.seconds,
    );
    log(`ceiling fs append: ${fmt(r.records / r.seconds)} records/s`);
  });
}

async function produceCase(
  client: Sluice,
  section: Section,
  id: string,
  acks: Acks,
  size: number,
  partitions: number,
  replication: number,
  records: number,
  maxSeconds: number,
  rssPids: number[],
  keepTopic = false,
): Promise<{ topic: string; records: number; rssMax: number } | null> {
  const label = `produce acks=${acks}, ${sizeLabel(size)}, ${partitions} partition${partitions > 1 ? 's' : ''}${replication > 1 ? `, RF ${replication}` : ''}`;
  let out: { topic: string; records: number; rssMax: number } | null = null;
  await attempt(section, label, async () => {
    const topic = topicName(`p${partitions}-a${acks}-${size}`);
    await createTopic(client, topic, partitions, replication);
    const sampler = sampleRss(() => rssPids, 100);
    let rssMax = 0;
    try {
      const r = await produceRun(client, { topic, acks, valueBytes: size, records, maxSeconds, batchSize });
      // the largest single broker's RSS
      rssMax = sampler.stop().reduce((m, s) => Math.max(m, s.rss), 0);
      figures.add(
        {
          id,
          section,
          label,
          unit: 'records/s',
          bytesPerRecord: size,
          ...(r.capped ? { note: `time-capped at ${maxSeconds} s` } : {}),
        },
        r.records / r.seconds,
      );
      log(
        `${section} ${label}: ${fmt(r.records / r.seconds)} records/s (${fmt(r.records)} in ${r.seconds.toFixed(2)} s${r.capped ? ', capped' : ''}), broker RSS max ${fmt(rssMax / MiB)} MiB`,
      );
      out = { topic, records: r.records, rssMax };
    } finally {
      sampler.stop();
      if (!keepTopic || out === null) await deleteTopic(client, topic);
    }
  });
  return out;
}

const defaultsId = (acks: Acks, size: number, cluster = false): string =>
  `${produceId(acks, size, 1, cluster)}.defaults`;

/**
 * The figure users get: `sluice perf produce`'s loop with the producer's defaults (no batch
 * size, no linger, default buffer memory), one partition; beside the tuned figures (1 MiB batches).
 */
async function produceDefaultsCase(
  client: Sluice,
  section: Section,
  acks: Acks,
  size: number,
  replication: number,
  records: number,
): Promise<void> {
  const label = `produce acks=${acks}, ${sizeLabel(size)}, 1 partition${replication > 1 ? `, RF ${replication}` : ''}, defaults (perf tool)`;
  await attempt(section, label, async () => {
    const topic = topicName(`d-a${acks}-${size}`);
    await createTopic(client, topic, 1, replication);
    const producer = client.producer({ acks });
    try {
      // metadata and connection before the clock starts, as produceRun does
      await producer.send({ topic, messages: [{ value: Buffer.alloc(size) }] });
      const r = await producePerf(producer, topic, records, size, -1);
      const rate = r.records / (r.elapsedMs / 1000);
      figures.add(
        {
          id: defaultsId(acks, size, section === 'Sluice cluster'),
          section,
          label,
          unit: 'records/s',
          bytesPerRecord: size,
        },
        rate,
      );
      log(`${section} ${label}: ${fmt(rate)} records/s (${fmt(r.records)} in ${(r.elapsedMs / 1000).toFixed(2)} s)`);
    } finally {
      await producer.close().catch(() => undefined);
      await deleteTopic(client, topic);
    }
  });
}

async function sluiceRound(client: Sluice, broker: SluiceBroker, round: number): Promise<void> {
  await produceDefaultsCase(client, 'Sluice', 1, 100, 1, settings.produce100);
  await produceDefaultsCase(client, 'Sluice', 1, 1024, 1, settings.produce1k);
  let rssMax = 0;
  const perCase: Record<string, number> = {};
  for (const size of sizes) {
    for (const partitions of partitionCases) {
      for (const acks of acksCases) {
        const id = produceId(acks, size, partitions);
        const consumeAfter = size === 100 && partitions === 1 && acks === 1;
        const r = await produceCase(
          client,
          'Sluice',
          id,
          acks,
          size,
          partitions,
          1,
          size === 100 ? settings.produce100 : settings.produce1k,
          settings.produceSeconds,
          [broker.pid],
          consumeAfter,
        );
        if (r) {
          rssMax = Math.max(rssMax, r.rssMax);
          perCase[id] = Math.round(r.rssMax / MiB);
        }
        if (r && consumeAfter) {
          await attempt('Sluice', 'consume 100 B, 1 partition', async () => {
            const c = await consumeRun(client, r.topic, 1, r.records, settings.consumeSeconds);
            figures.add(
              {
                id: 'sluice.consume.100B.p1',
                section: 'Sluice',
                label: 'consume 100 B, 1 partition (from the beginning)',
                unit: 'records/s',
                bytesPerRecord: 100,
                ...(c.capped ? { note: `time-capped at ${settings.consumeSeconds} s` } : {}),
              },
              c.records / c.seconds,
            );
            log(
              `Sluice consume: ${fmt(c.records / c.seconds)} records/s (${fmt(c.records)} in ${c.seconds.toFixed(2)} s)`,
            );
          });
          await deleteTopic(client, r.topic);
        }
      }
    }
  }
  if (rssMax > 0) {
    figures.add(
      { id: 'sluice.rss.produce', section: 'Sluice', label: 'broker RSS, max during the produce runs', unit: 'MiB' },
      rssMax / MiB,
    );
    details[`rssDuringProduceRound${round}`] = perCase;
  }
  for (const rate of latencyRates) {
    await attempt('Sluice', `end-to-end latency at ${fmt(rate)} records/s`, async () => {
      const topic = topicName(`e2e-${rate}`);
      await createTopic(client, topic, 1);
      try {
        const r = await latencyRun(client, topic, rate, settings.latencySeconds);
        const base = `end-to-end latency at ${fmt(rate)} records/s`;
        const note = r.received < r.sent ? `${fmt(r.sent - r.received)} of ${fmt(r.sent)} not received` : undefined;
        for (const [k, v] of [
          ['p50', r.p50],
          ['p99', r.p99],
          ['max', r.max],
        ] as const) {
          figures.add(
            {
              id: `sluice.e2e.${rate}.${k}`,
              section: 'Sluice',
              label: `${base}: ${k}`,
              unit: 'ms',
              ...(note ? { note } : {}),
            },
            v,
          );
        }
        log(
          `Sluice e2e at ${fmt(rate)}/s: p50 ${fmt(r.p50, 'ms')} ms, p99 ${fmt(r.p99, 'ms')} ms, max ${fmt(r.max, 'ms')} ms`,
        );
      } finally {
        await deleteTopic(client, topic);
      }
    });
  }
}

async function backlogCheck(client: Sluice, broker: SluiceBroker): Promise<void> {
  await attempt('Sluice', 'unbounded-queue check', async () => {
    const topic = topicName('backlog');
    await createTopic(client, topic, 1);
    try {
      const r = await backlogRun(client, topic, settings.backlogSeconds, () => broker.rss(), rssLimitMiB);
      details.backlog = r;
      figures.add(
        {
          id: 'sluice.backlog.rss',
          section: 'Sluice',
          label: `producer outruns a slow consumer for ${settings.backlogSeconds} s: broker RSS max`,
          unit: 'MiB',
          note: `${fmt(r.produced)} produced, ${fmt(r.consumed)} consumed; RSS ${fmt(r.rssStartMiB, 'MiB')} → max ${fmt(r.rssMaxFirstHalfMiB, 'MiB')} (1st half) / ${fmt(r.rssMaxSecondHalfMiB, 'MiB')} (2nd half) → ${fmt(r.rssEndMiB, 'MiB')} MiB; client RSS max ${fmt(r.clientRssMaxMiB, 'MiB')} MiB; ${r.bounded ? 'bounded' : 'NOT bounded'}`,
        },
        r.rssMaxMiB,
      );
      log(
        `backlog: produced ${fmt(r.produced)}, consumed ${fmt(r.consumed)}, broker RSS max ${fmt(r.rssMaxMiB, 'MiB')} MiB (${r.bounded ? 'bounded' : 'NOT bounded'})`,
      );
    } finally {
      await deleteTopic(client, topic);
    }
  });
}

async function redisRound(servers: Map<RedisPersistence, RedisServer>): Promise<void> {
  for (const [persistence, server] of servers) {
    const label =
      persistence === 'none'
        ? 'XADD 100 B, pipelined (-P 64 -c 50), no persistence'
        : 'XADD 100 B, pipelined (-P 64 -c 50), AOF fsync everysec';
    await attempt('Redis Streams', label, async () => {
      const rps = await server.xadd(settings.redisRequests);
      figures.add(
        { id: `redis.xadd.${persistence}`, section: 'Redis Streams', label, unit: 'records/s', bytesPerRecord: 100 },
        rps,
      );
      log(`Redis ${persistence}: ${fmt(rps)} ops/s`);
    });
  }
}

let amqRound = 0;
async function activemqRound(amq: ActiveMq): Promise<void> {
  amqRound++;
  const queue = `bench${amqRound}`;
  let backlog = 0;
  await attempt('ActiveMQ', 'persistent send', async () => {
    const rate = await amq.send(queue, settings.amqSync);
    backlog += settings.amqSync;
    figures.add(
      {
        id: 'activemq.send',
        section: 'ActiveMQ',
        label: 'persistent queue, send 100 B',
        unit: 'records/s',
        bytesPerRecord: 100,
      },
      rate,
    );
    log(`ActiveMQ send: ${fmt(rate)} msgs/s`);
  });
  await attempt('ActiveMQ', 'persistent send, tx of 1000', async () => {
    const rate = await amq.send(queue, settings.amqTx, 1000);
    backlog += settings.amqTx;
    figures.add(
      {
        id: 'activemq.send.tx1000',
        section: 'ActiveMQ',
        label: 'persistent queue, send 100 B in transactions of 1000',
        unit: 'records/s',
        bytesPerRecord: 100,
      },
      rate,
    );
    log(`ActiveMQ send tx1000: ${fmt(rate)} msgs/s`);
  });
  if (backlog > 0) {
    await attempt('ActiveMQ', 'consume', async () => {
      const { rate, received } = await amq.consume(queue, backlog);
      figures.add(
        {
          id: 'activemq.consume',
          section: 'ActiveMQ',
          label: 'persistent queue, consume the backlog',
          unit: 'records/s',
          bytesPerRecord: 100,
          note: `${fmt(received)} messages (the tool's transacted producer leaves its last transaction uncommitted)`,
        },
        rate,
      );
      log(`ActiveMQ consume: ${fmt(rate)} msgs/s`);
    });
  }
}

// ---- phases ----

/** Untimed: JIT and page cache of the client and the broker(s) warm before the first measured run. */
async function warmUp(client: Sluice, replication: number): Promise<void> {
  await attempt(replication > 1 ? 'Sluice cluster' : 'Sluice', 'warm-up', async () => {
    const topic = topicName('warmup');
    await createTopic(client, topic, 1, replication);
    try {
      const p = await produceRun(client, {
        topic,
        acks: 1,
        valueBytes: 100,
        records: settings.warmupRecords,
        maxSeconds: settings.produceSeconds,
        batchSize,
      });
      await consumeRun(client, topic, 1, p.records, settings.consumeSeconds);
      log(`warm-up: ${fmt(p.records)} records produced and consumed (untimed)`);
    } finally {
      await deleteTopic(client, topic);
    }
  });
}

async function standalonePhase(runtime: BrokerRuntime): Promise<void> {
  const sink = await TcpSink.start();
  let broker: SluiceBroker | null = null;
  let client: Sluice | null = null;
  const redis = new Map<RedisPersistence, RedisServer>();
  const peers: { amq: ActiveMq | null } = { amq: null };
  try {
    broker = await SluiceBroker.start(runtime, 0);
    log(`Sluice broker pid ${broker.pid} on ${broker.address}`);
    client = new Sluice({ brokers: broker.address, clientId: 'bench' });
    if (argv['skip-peers']) {
      figures.skip('Redis Streams', 'XADD', 'skipped (--skip-peers)');
      figures.skip('ActiveMQ', 'persistent queue', 'skipped (--skip-peers)');
    } else {
      const rMissing = redisMissing();
      if (rMissing) {
        log(`Redis: ${rMissing}`);
        figures.skip('Redis Streams', 'XADD', rMissing);
      } else {
        for (const p of ['aof-everysec', 'none'] as const) {
          await attempt('Redis Streams', `redis-server (${p})`, async () => {
            redis.set(p, await RedisServer.start(p));
          });
        }
      }
      const aMissing = activemqMissing();
      if (aMissing) {
        log(`ActiveMQ: ${aMissing}`);
        figures.skip('ActiveMQ', 'persistent queue', aMissing);
      } else {
        await attempt('ActiveMQ', 'broker start', async () => {
          const amq = await ActiveMq.start();
          peers.amq = amq;
          log(`ActiveMQ pid ${amq.child.pid} on 127.0.0.1:${amq.port}`);
        });
      }
    }
    await warmUp(client, 1);
    for (let round = 1; round <= runs; round++) {
      log(`---- round ${round} of ${runs} ----`);
      await ceilingRound(sink);
      await sluiceRound(client, broker, round);
      if (redis.size > 0) await redisRound(redis);
      if (peers.amq) await activemqRound(peers.amq);
    }
    await backlogCheck(client, broker);
  } finally {
    await client?.close().catch(() => undefined);
    await Promise.all([sink.stop(), broker?.stop(), ...[...redis.values()].map((r) => r.stop()), peers.amq?.stop()]);
  }
}

async function clusterPhase(runtime: BrokerRuntime): Promise<void> {
  if (argv['skip-cluster']) {
    figures.skip('Sluice cluster', '3 brokers, RF 3, acks=-1', 'skipped (--skip-cluster)');
    return;
  }
  let cluster: LocalCluster | null = null;
  let client: Sluice | null = null;
  try {
    try {
      cluster = await LocalCluster.start(runtime, 3);
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0] ?? '';
      log(`cluster: ${msg}`);
      figures.skip('Sluice cluster', '3 brokers, RF 3, acks=-1', `not started: ${msg.slice(0, 160)}`);
      return;
    }
    log(`cluster: ZooKeeper ${cluster.zookeeper.connect}, brokers ${cluster.bootstrap}`);
    client = new Sluice({ brokers: cluster.bootstrap, clientId: 'bench-cluster' });
    const pids = cluster.brokers.map((b) => b.pid);
    await warmUp(client, 3);
    let rssMax = 0;
    for (let round = 1; round <= runs; round++) {
      log(`---- cluster round ${round} of ${runs} ----`);
      await produceDefaultsCase(client, 'Sluice cluster', -1, 100, 3, settings.cluster100);
      for (const partitions of partitionCases) {
        const r = await produceCase(
          client,
          'Sluice cluster',
          produceId(-1, 100, partitions, true),
          -1,
          100,
          partitions,
          3,
          settings.cluster100,
          settings.clusterSeconds,
          pids,
        );
        if (r) rssMax = Math.max(rssMax, r.rssMax);
      }
    }
    if (rssMax > 0) details.clusterBrokerRssMaxMiB = Math.round(rssMax / MiB);
  } finally {
    await client?.close().catch(() => undefined);
    await cluster?.stop();
  }
}

// ---- ratios and targets ----

function summarize(): { ratios: Ratio[]; targets: Target[] } {
  const m = (id: string): number => figures.median(id);
  const best = (...ids: string[]): { v: number; id: string } =>
    ids.map((id) => ({ v: m(id), id })).reduce((a, b) => (b.v > a.v || !Number.isFinite(a.v) ? b : a));
  const sluice100 = m(produceId(1, 100, 1));
  const sluiceAll = m(produceId(-1, 100, 1));
  const sluice1k = best(produceId(1, 1024, 1), produceId(1, 1024, 8));
  const sluice1kMBps = (sluice1k.v * 1024) / 1e6;
  const ceilingMBps = (m('ceiling.tcp') * frameBytes) / 1e6;
  const consume = m('sluice.consume.100B.p1');
  const cluster = best(produceId(-1, 100, 1, true), produceId(-1, 100, 8, true));
  const redisAof = m('redis.xadd.aof-everysec');
  const redisNone = m('redis.xadd.none');
  const amqSend = m('activemq.send');
  const amqTx = m('activemq.send.tx1000');
  const amqConsume = m('activemq.consume');
  const partitionsOf = (id: string): string => (id.endsWith('p8') ? '8 partitions' : '1 partition');
  const ratios: Ratio[] = [
    {
      label: 'Sluice / ceiling, records/s',
      value: sluice100 / m('ceiling.tcp'),
      detail: `produce acks=1 100 B 1 partition ${fmt(sluice100)} / TCP-into-file ${fmt(m('ceiling.tcp'))} frames/s`,
    },
    {
      label: 'Sluice / ceiling, bytes/s',
      value: sluice1kMBps / ceilingMBps,
      detail: `produce acks=1 1 KiB (${partitionsOf(sluice1k.id)}) ${fmt(sluice1kMBps)} MB/s / TCP-into-file ${fmt(ceilingMBps)} MB/s`,
    },
    {
      label: 'Sluice / fs append',
      value: sluice100 / m('ceiling.fs'),
      detail: `produce acks=1 100 B ${fmt(sluice100)} / fs append ${fmt(m('ceiling.fs'))} records/s`,
    },
    {
      label: 'Sluice / Redis Streams (AOF everysec)',
      value: sluice100 / redisAof,
      detail: `produce acks=1 100 B ${fmt(sluice100)} / XADD ${fmt(redisAof)} ops/s`,
    },
    {
      label: 'Sluice / Redis Streams (no persistence)',
      value: sluice100 / redisNone,
      detail: `produce acks=1 100 B ${fmt(sluice100)} / XADD ${fmt(redisNone)} ops/s`,
    },
    {
      label: 'Sluice / ActiveMQ, persistent send',
      value: sluiceAll / amqSend,
      detail: `produce acks=-1 100 B ${fmt(sluiceAll)} / ActiveMQ send ${fmt(amqSend)} msgs/s`,
    },
    {
      label: 'Sluice / ActiveMQ, send in tx of 1000',
      value: sluiceAll / amqTx,
      detail: `produce acks=-1 100 B ${fmt(sluiceAll)} / ActiveMQ tx send ${fmt(amqTx)} msgs/s`,
    },
    {
      label: 'Sluice / ActiveMQ, consume',
      value: consume / amqConsume,
      detail: `consume ${fmt(consume)} / ActiveMQ consume ${fmt(amqConsume)} msgs/s`,
    },
    {
      label: "Sluice / Kafka's published producer figure",
      value: sluice100 / kafka.produce,
      detail: `${fmt(sluice100)} / ${fmt(kafka.produce)} records/s (Kafka: 6-core servers, 1 GbE)`,
    },
    {
      label: "Sluice cluster / Kafka's 3x replication figure",
      value: cluster.v / kafka.replicated,
      detail: `${fmt(cluster.v)} (${partitionsOf(cluster.id)}) / ${fmt(kafka.replicated)} records/s`,
    },
    {
      label: "Sluice consume / Kafka's consumer figure",
      value: consume / kafka.consume,
      detail: `${fmt(consume)} / ${fmt(kafka.consume)} records/s`,
    },
  ];
  const known = (...xs: number[]): boolean => xs.every((x) => Number.isFinite(x));
  const check = (ok: boolean, ...xs: number[]): boolean | null => (known(...xs) ? ok : null);
  const rssFig = figures.get('sluice.rss.produce');
  const rssWorst = rssFig ? Math.max(...rssFig.runs) : Number.NaN;
  const backlog = details.backlog as { bounded: boolean; rssMaxMiB: number } | undefined;
  const e2e = m('sluice.e2e.10000.p99');
  const defaults100 = m(defaultsId(1, 100));
  const defaults1kMBps = (m(defaultsId(1, 1024)) * 1024) / 1e6;
  const defaultsCluster = m(defaultsId(-1, 100, true));
  const targets: Target[] = [
    {
      target: 'defaults (perf tool): produce 100 B, acks=1 ≥ 2,000,000 records/s',
      measured: `${fmt(defaults100)} records/s`,
      met: check(defaults100 >= 2_000_000, defaults100),
    },
    {
      target: 'defaults (perf tool): produce 1 KiB, acks=1 ≥ 0.7 × TCP-into-file ceiling (bytes/s)',
      measured: `${fmt(defaults1kMBps)} / ${fmt(ceilingMBps)} MB/s = ${fmt(defaults1kMBps / ceilingMBps, 'ratio')}`,
      met: check(defaults1kMBps >= 0.7 * ceilingMBps, defaults1kMBps, ceilingMBps),
    },
    {
      target: 'defaults (perf tool): 3 brokers, RF 3, acks=-1 ≥ 1,000,000 records/s',
      measured: `${fmt(defaultsCluster)} records/s`,
      met: check(defaultsCluster >= 1_000_000, defaultsCluster),
    },
    {
      target: 'produce 100 B, acks=1, 1 partition ≥ 1,200,000 records/s',
      measured: `${fmt(sluice100)} records/s`,
      met: check(sluice100 >= 1_200_000, sluice100),
    },
    {
      target: 'produce 1 KiB, acks=1 ≥ 0.5 × TCP-into-file ceiling (bytes/s)',
      measured: `${fmt(sluice1kMBps)} / ${fmt(ceilingMBps)} MB/s = ${fmt(sluice1kMBps / ceilingMBps, 'ratio')} (${partitionsOf(sluice1k.id)})`,
      met: check(sluice1kMBps >= 0.5 * ceilingMBps, sluice1kMBps, ceilingMBps),
    },
    {
      target: 'consume 100 B ≥ 2,000,000 records/s',
      measured: `${fmt(consume)} records/s`,
      met: check(consume >= 2_000_000, consume),
    },
    {
      target: '3 brokers, RF 3, acks=-1 ≥ 300,000 records/s',
      measured: `${fmt(cluster.v)} records/s (${partitionsOf(cluster.id)})`,
      met: check(cluster.v >= 300_000, cluster.v),
    },
    {
      target: 'end-to-end latency at 10,000 records/s: p99 ≤ 5 ms',
      measured: `p99 ${fmt(e2e, 'ms')} ms`,
      met: check(e2e <= 5, e2e),
    },
    {
      target: `broker RSS ≤ ${rssLimitMiB} MiB during the produce runs`,
      measured: `max ${fmt(rssWorst, 'MiB')} MiB`,
      met: check(rssWorst <= rssLimitMiB, rssWorst),
    },
    {
      target: 'no unbounded queues (producer outrunning a slow consumer)',
      measured: backlog
        ? `broker RSS max ${fmt(backlog.rssMaxMiB, 'MiB')} MiB, ${backlog.bounded ? 'bounded' : 'growing'}`
        : '–',
      met: backlog ? backlog.bounded : null,
    },
    {
      target: 'ahead of Redis Streams (100 B appends, both configurations)',
      measured: `${fmt(sluice100)} vs ${fmt(redisAof)} (AOF) / ${fmt(redisNone)} (none)`,
      met: check(sluice100 > redisAof && sluice100 > redisNone, sluice100, redisAof, redisNone),
    },
    {
      target: 'ahead of ActiveMQ (persistent send vs acks=-1; consume)',
      measured: `${fmt(sluiceAll)} vs ${fmt(Math.max(amqSend, amqTx))} send; ${fmt(consume)} vs ${fmt(amqConsume)} consume`,
      met: check(
        sluiceAll > Math.max(amqSend, amqTx) && consume > amqConsume,
        sluiceAll,
        amqSend,
        amqTx,
        consume,
        amqConsume,
      ),
    },
  ];
  return { ratios, targets };
}

function consoleTable(figs: Figure[]): string {
  const rows = figs.map((f) => [
    `${f.section}: ${f.label}`,
    fmt(f.median, f.unit),
    f.unit,
    f.bytesPerRecord !== undefined && f.unit === 'records/s' ? ((f.median * f.bytesPerRecord) / 1e6).toFixed(1) : '',
  ]);
  const header = ['figure', 'median', 'unit', 'MB/s'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  log(`mode ${quick ? 'quick' : 'full'}, ${runs} run(s) per figure, ${os.cpus().length} cores`);
  const { runtime, note } = prepareBrokerRuntime(log);
  log(`brokers run ${runtime === 'dist' ? 'dist/cli/main.js' : 'src/cli/main.ts via tsx'} (${note})`);
  try {
    await standalonePhase(runtime);
    await clusterPhase(runtime);
  } finally {
    if (liveChildren() > 0) log(`warning: ${liveChildren()} child process(es) still running; stopping them`);
  }
  const { ratios, targets } = summarize();
  const date = startedAt.toISOString().slice(0, 10);
  const base = `${date}${quick ? '-quick' : ''}`;
  const results: Results = {
    date,
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - t0) / 1000,
    mode: quick ? 'quick' : 'full',
    runs,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
      node: process.versions.node,
      platform: `${os.platform()} ${os.release()}`,
    },
    brokerRuntime: runtime === 'dist' ? 'dist/ (node)' : 'src/ (tsx)',
    figures: figures.all(),
    skipped: figures.skipped,
    ratios,
    targets,
    details,
  };
  const dir = path.join(repoRoot, 'benchmarks/results');
  const jsonName = `${base}.json`;
  const svgName = `${base}.svg`;
  writeJson(path.join(dir, jsonName), results, repoRoot);
  fs.writeFileSync(path.join(dir, svgName), svgChart(results));
  const md = markdown(results, jsonName, svgName);
  updateReadme(path.join(repoRoot, 'benchmarks/README.md'), md);
  process.stdout.write(`\n${consoleTable(results.figures)}\n\n`);
  for (const s of results.skipped) process.stdout.write(`${s.section}: ${s.what}: ${s.reason}\n`);
  process.stdout.write('\nratios:\n');
  for (const r of ratios) process.stdout.write(`  ${r.label}: ${fmt(r.value, 'ratio')}  (${r.detail})\n`);
  process.stdout.write('\ntargets:\n');
  for (const t of targets) {
    process.stdout.write(
      `  [${t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met'}] ${t.target}: ${t.measured}\n`,
    );
  }
  process.stdout.write(
    `\nwrote benchmarks/results/${jsonName}, benchmarks/results/${svgName}, benchmarks/README.md (${results.durationSeconds.toFixed(0)} s)\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
