/**
 * Issue 14's memory attack against a broker with its DEFAULT configuration
 * (`npm run bench:attack`): ATTACK_CONNECTIONS connections each announce a
 * frame of ATTACK_ANNOUNCE_MIB and send ATTACK_SEND_MIB of it (as fast as the
 * broker reads), hold their connection for ATTACK_HOLD_MS, then close. A
 * well-behaved producer (acks 1, one 1 KiB record every 20 ms) and a consumer
 * run on the same broker throughout.
 *
 * Prints the broker's VmRSS (/proc/<pid>/status) before the attack, its peak
 * during it (sampled every 100 ms) and after the attackers closed, and, from a
 * probe preloaded into the broker (lib/memory-probe.ts, SIGUSR2), its
 * process.memoryUsage() before and after a full GC: a leak keeps heapUsed /
 * arrayBuffers high after the GC, allocator retention keeps only RSS high.
 * The producer's and consumer's figures say whether they kept working.
 *
 * Then a fuzz-like churn: ATTACK_CHURN short connections (50 at a time, on
 * both listeners) each send a random length prefix (up to 100 MiB, some
 * negative) and up to 64 KiB of random bytes, and close; the probe after it
 * says whether anything per connection stays reachable (heapUsed would grow).
 *
 * Environment: ATTACK_CONNECTIONS (20), ATTACK_ANNOUNCE_MIB (100),
 * ATTACK_SEND_MIB (40), ATTACK_HOLD_MS (45000), ATTACK_LISTENER (native|kafka),
 * ATTACK_SETTLE_MS (5000: wait after the attackers closed), ATTACK_CHURN (5000).
 */
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Sluice } from '../src/client/sluice.js';
import {
  installCleanupHandlers,
  removeDir,
  rssBytes,
  sleep,
  spawnChild,
  stopChild,
  tempDir,
  waitFor,
} from './lib/procs.js';
import { repoRoot } from './lib/sluice-procs.js';
import { fmtInt, renderTable } from './lib/stats.js';

const mib = 1024 * 1024;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

const connections = envInt('ATTACK_CONNECTIONS', 20);
const announceBytes = envInt('ATTACK_ANNOUNCE_MIB', 100) * mib;
const sendBytes = envInt('ATTACK_SEND_MIB', 40) * mib;
const holdMs = envInt('ATTACK_HOLD_MS', 45_000);
const settleMs = envInt('ATTACK_SETTLE_MS', 5_000);
const churnConnections = envInt('ATTACK_CHURN', 5_000);
const churnParallel = 50;
const listener = process.env.ATTACK_LISTENER === 'kafka' ? 'kafka' : 'native';
const writeChunkBytes = mib;
const probeWaitMs = 10_000;

interface Probe {
  before: Record<string, number>;
  after: Record<string, number>;
}

interface Broker {
  pid: number;
  port: number;
  kafkaPort: number;
  probes: Probe[];
  stop(): Promise<void>;
}

async function startBroker(): Promise<Broker> {
  const dataDir = tempDir('sluice-attack-');
  const child = spawnChild(
    'broker',
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './benchmarks/lib/memory-probe.ts',
      path.join(repoRoot, 'src/cli/main.ts'),
      'broker',
      'start',
      '--config',
      path.join(repoRoot, 'config/server.properties'),
      // only where it runs: everything else is the shipped default configuration
      ...['port=0', 'kafka.port=0', 'http.port=0', `log.dirs=${dataDir}`].flatMap((o) => ['--override', o]),
    ],
    { cwd: repoRoot },
  );
  const broker: Broker = {
    pid: child.pid,
    port: 0,
    kafkaPort: 0,
    probes: [],
    stop: async () => {
      await stopChild(child, 10_000);
      removeDir(dataDir);
    },
  };
  child.onLine((line) => {
    let entry: { msg?: unknown; port?: unknown; before?: Record<string, number>; after?: Record<string, number> };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (entry.msg === 'broker listening' && typeof entry.port === 'number') broker.port = entry.port;
    if (entry.msg === 'kafka listening' && typeof entry.port === 'number') broker.kafkaPort = entry.port;
    if (entry.msg === 'memory probe' && entry.before && entry.after) {
      broker.probes.push({ before: entry.before, after: entry.after });
    }
  });
  await waitFor('broker', () => broker.port !== 0, 60_000, child);
  return broker;
}

/** Sends SIGUSR2 to the broker and waits for its probe line (GC, then memoryUsage()). */
async function probe(broker: Broker): Promise<Probe> {
  const seen = broker.probes.length;
  process.kill(broker.pid, 'SIGUSR2');
  await waitFor('memory probe', () => broker.probes.length > seen, probeWaitMs);
  return broker.probes[seen] as Probe;
}

interface Attacker {
  /** Bytes handed to the kernel (write callbacks called). */
  flushed: number;
  closedByBroker: boolean;
  done: Promise<void>;
  close(): void;
}

/** Announces `announceBytes`, then writes `sendBytes` of it as fast as the broker takes it. */
function attack(port: number): Attacker {
  const socket = net.connect(port, '127.0.0.1');
  let closing = false;
  const state: Attacker = {
    flushed: 0,
    closedByBroker: false,
    done: Promise.resolve(),
    close: () => {
      closing = true;
      socket.destroy();
    },
  };
  socket.on('error', () => undefined);
  state.done = new Promise<void>((resolve) => {
    socket.on('close', () => {
      if (!closing) state.closedByBroker = true;
      resolve();
    });
    socket.on('connect', () => {
      const head = Buffer.alloc(4);
      head.writeInt32BE(announceBytes, 0);
      socket.write(head);
      const chunk = Buffer.alloc(writeChunkBytes, 0x41);
      let written = 0;
      const pump = (): void => {
        while (written < sendBytes && !socket.destroyed) {
          const n = Math.min(writeChunkBytes, sendBytes - written);
          const ok = socket.write(n === chunk.length ? chunk : chunk.subarray(0, n), (err) => {
            if (!err) state.flushed += n;
          });
          written += n;
          if (!ok) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
  return state;
}

/** One short connection: a random length prefix, random bytes, then close (or the broker closes it first). */
function churnOnce(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.on('connect', () => {
      const head = Buffer.alloc(4);
      head.writeInt32BE(randomInt(10) === 0 ? -randomInt(1, 1000) : randomInt(100 * mib), 0);
      socket.write(head);
      socket.end(randomBytes(randomInt(1, 64 * 1024)));
    });
  });
}

async function churn(ports: number[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < churnConnections) {
      const i = next++;
      await churnOnce(ports[i % ports.length] as number);
    }
  };
  await Promise.all(Array.from({ length: churnParallel }, worker));
}

interface Traffic {
  produced: number;
  consumed: number;
  errors: number;
  ackLatencyMsMax: number;
  /** Longest time without an acknowledged record while the attack ran. */
  ackGapMsMax: number;
  stop(): Promise<void>;
}

/** A producer (one 1 KiB record every 20 ms, acks 1) and a consumer reading them back, on the native listener. */
async function wellBehaved(port: number): Promise<Traffic> {
  const topic = `attack-${process.pid}`;
  const client = new Sluice({ brokers: [`127.0.0.1:${port}`], clientId: 'well-behaved' });
  await client.admin().createTopic({ topic, partitions: 1, replicationFactor: 1 });
  const producer = client.producer({ acks: 1, lingerMs: 0 });
  const consumer = client.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic, partition: 0, offset: 0 }]);
  const traffic: Traffic = {
    produced: 0,
    consumed: 0,
    errors: 0,
    ackLatencyMsMax: 0,
    ackGapMsMax: 0,
    stop: async () => undefined,
  };
  let running = true;
  let lastAck = performance.now();
  const value = Buffer.alloc(1024, 0x62);
  const produceLoop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        await producer.send({ topic, messages: [{ value }] });
        const now = performance.now();
        traffic.produced++;
        traffic.ackLatencyMsMax = Math.max(traffic.ackLatencyMsMax, now - started);
        traffic.ackGapMsMax = Math.max(traffic.ackGapMsMax, now - lastAck);
        lastAck = now;
      } catch {
        traffic.errors++;
      }
      await sleep(20);
    }
  })();
  const consumeLoop = (async () => {
    while (running) {
      try {
        traffic.consumed += (await consumer.poll()).length;
      } catch {
        traffic.errors++;
        await sleep(100);
      }
    }
  })();
  traffic.stop = async () => {
    running = false;
    await Promise.allSettled([produceLoop, consumeLoop]);
    await producer.close().catch(() => undefined);
    await consumer.close().catch(() => undefined);
    await client.close();
  };
  return traffic;
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const broker = await startBroker();
  try {
    const traffic = await wellBehaved(broker.port);
    await sleep(3_000);
    const rssBefore = rssBytes(broker.pid);
    const probeBefore = await probe(broker);
    const rssAfterWarmGc = rssBytes(broker.pid);

    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(broker.pid) || 0);
    }, 100);
    const attackPort = listener === 'kafka' ? broker.kafkaPort : broker.port;
    const producedBefore = traffic.produced;
    const consumedBefore = traffic.consumed;
    traffic.ackGapMsMax = 0;
    const attackers = Array.from({ length: connections }, () => attack(attackPort));
    await sleep(holdMs);
    const producedDuring = traffic.produced - producedBefore;
    const consumedDuring = traffic.consumed - consumedBefore;
    const gapDuring = traffic.ackGapMsMax;
    const closedByBroker = attackers.filter((a) => a.closedByBroker).length;
    const sentMib = attackers.reduce((sum, a) => sum + a.flushed, 0) / mib;
    for (const a of attackers) a.close();
    await Promise.all(attackers.map((a) => a.done));
    await sleep(settleMs);
    clearInterval(sampler);
    const rssAfter = rssBytes(broker.pid);
    const probeAfter = await probe(broker);
    const rssAfterGc = rssBytes(broker.pid);
    const churnStarted = performance.now();
    await churn([broker.port, broker.kafkaPort]);
    const churnMs = performance.now() - churnStarted;
    await sleep(settleMs);
    const probeChurn = await probe(broker);
    await traffic.stop();

    const m = (n: number | undefined): string => fmtInt((n ?? 0) / mib);
    console.log(
      `attack: ${connections} connections to the ${listener} listener, each announcing ${announceBytes / mib} MiB ` +
        `and sending up to ${sendBytes / mib} MiB; held ${holdMs} ms; default broker config\n`,
    );
    console.log(
      renderTable(
        ['broker RSS', 'MiB'],
        [
          ['before the attack', m(rssBefore)],
          ['before, after a full GC', m(rssAfterWarmGc)],
          ['peak during the attack', m(peak)],
          [`${settleMs} ms after the attackers closed`, m(rssAfter)],
          ['after that, after a full GC', m(rssAfterGc)],
        ],
      ),
    );
    console.log();
    const row = (what: string, p: Probe): string[] => [
      what,
      m(p.after.rss),
      m(p.after.heapTotal),
      m(p.after.heapUsed),
      m(p.after.external),
      m(p.after.arrayBuffers),
    ];
    console.log(
      renderTable(
        ['after GC (MiB)', 'rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'],
        [
          row('before the attack', probeBefore),
          row('after the attack', probeAfter),
          row(`after ${fmtInt(churnConnections)} fuzz-like connections`, probeChurn),
        ],
      ),
    );
    console.log();
    console.log(
      renderTable(
        ['attack / well-behaved clients', 'value'],
        [
          ['bytes the attackers got written (MiB, into socket buffers)', fmtInt(sentMib)],
          ['attackers closed by the broker before they gave up', String(closedByBroker)],
          ['records produced during the attack', fmtInt(producedDuring)],
          ['records consumed during the attack', fmtInt(consumedDuring)],
          ['longest time without an acknowledgement during the attack (ms)', fmtInt(gapDuring)],
          ['slowest acknowledgement overall (ms)', fmtInt(traffic.ackLatencyMsMax)],
          ['produced / consumed in all', `${fmtInt(traffic.produced)} / ${fmtInt(traffic.consumed)}`],
          ['client errors', fmtInt(traffic.errors)],
          [`fuzz-like connections (ms for ${fmtInt(churnConnections)})`, fmtInt(churnMs)],
        ],
      ),
    );
  } finally {
    await broker.stop();
  }
}

await main();
