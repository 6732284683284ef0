/**
 * Queue benchmark against a real standalone broker process (fresh temp data
 * dir, free port on 127.0.0.1; started like the integration tests start one):
 *
 * - persistent sends one at a time (each send waits for its write) versus
 *   sends grouped in transactions of BENCH_TX_SIZE (one atomic write per
 *   commit) — the seed's advice for slow persistent sends;
 * - receive throughput (auto-acknowledged receive()) with prefetch 1 versus
 *   prefetch BENCH_PREFETCH (ActiveMQ's default 1000).
 *
 * Both with the broker's default flushing and with log.flush.interval.messages=1
 * (an fsync per append: "persistent" in ActiveMQ's sense). Each figure is the
 * median of BENCH_RUNS runs, each run on a fresh queue. Prints a table with
 * the speed-up ratios, then one JSON line.
 *
 * Environment:
 *   BENCH_RUNS              measured runs of each case (default 5)
 *   BENCH_SINGLE_MESSAGES   messages sent one at a time per run (default 2000)
 *   BENCH_TX_MESSAGES       messages sent in transactions per run (default 20000; rounded up to whole transactions)
 *   BENCH_TX_SIZE           messages per transaction (default 1000)
 *   BENCH_RECV1_MESSAGES    messages received with prefetch 1 per run (default 2000)
 *   BENCH_RECV_MESSAGES     messages received with the large prefetch per run (default 20000)
 *   BENCH_PREFETCH          the large prefetch (default 1000)
 *   BENCH_VALUE_BYTES       message size (default 100)
 *   BENCH_FSYNC             0 skips the fsync-per-append variant (default 1)
 *   BENCH_FSYNC_SCALE       message counts of the fsync variant are divided by this (default 4)
 */
import { randomFillSync } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Sluice } from '../src/client/sluice.js';
import { BrokerProcess } from '../test/helpers/broker-process.js';
import { fmtFixed, fmtInt, median, type RateSummary, renderTable, summarize } from './lib/stats.js';

function envInt(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}=${raw} is not an integer >= ${min}`);
  return n;
}

const settings = {
  runs: envInt('BENCH_RUNS', 5, 1),
  singleMessages: envInt('BENCH_SINGLE_MESSAGES', 2_000, 1),
  txMessages: envInt('BENCH_TX_MESSAGES', 20_000, 1),
  txSize: envInt('BENCH_TX_SIZE', 1_000, 1),
  recv1Messages: envInt('BENCH_RECV1_MESSAGES', 2_000, 1),
  recvMessages: envInt('BENCH_RECV_MESSAGES', 20_000, 1),
  prefetch: envInt('BENCH_PREFETCH', 1_000, 1),
  valueBytes: envInt('BENCH_VALUE_BYTES', 100, 0),
  fsync: envInt('BENCH_FSYNC', 1, 0) !== 0,
  fsyncScale: envInt('BENCH_FSYNC_SCALE', 4, 1),
};

/** Longest one receive() waits before the run is declared stuck. */
const receiveTimeoutMs = 10_000;

interface Counts {
  single: number;
  tx: number;
  recv1: number;
  recv: number;
}

interface VariantResult {
  name: string;
  counts: Counts;
  single: RateSummary;
  tx: RateSummary;
  recv1: RateSummary;
  recv: RateSummary;
}

function values(count: number): Buffer[] {
  const pool = Array.from({ length: Math.min(count, 256) }, () =>
    randomFillSync(Buffer.allocUnsafe(settings.valueBytes)),
  );
  return Array.from({ length: count }, (_, i) => pool[i % pool.length] as Buffer);
}

const rate = (count: number, ms: number): number => (count * 1000) / Math.max(ms, 0.001);

/** Sends `count` messages one at a time, each awaited: messages/s. */
async function sendSingle(sluice: Sluice, queue: string, count: number): Promise<number> {
  const q = sluice.queue(queue);
  const vs = values(count);
  const t0 = performance.now();
  for (const v of vs) await q.send(v);
  return rate(count, performance.now() - t0);
}

/** Sends `count` messages (rounded up to whole transactions) in transactions of txSize: messages/s. */
async function sendTransacted(sluice: Sluice, queue: string, count: number): Promise<number> {
  const transactions = Math.ceil(count / settings.txSize);
  const total = transactions * settings.txSize;
  const vs = values(total);
  const session = sluice.session({ transacted: true });
  try {
    const q = session.queue(queue);
    const t0 = performance.now();
    for (let t = 0; t < transactions; t++) {
      for (let i = t * settings.txSize; i < (t + 1) * settings.txSize; i++) await q.send(vs[i] as Buffer);
      await session.commit();
    }
    return rate(total, performance.now() - t0);
  } finally {
    await session.close();
  }
}

/** Fills `queue` with `count` messages, untimed (transactions of txSize). */
async function fill(sluice: Sluice, queue: string, count: number): Promise<void> {
  await sendTransacted(sluice, queue, count);
}

/** Receives `count` messages (auto-acknowledged) with `prefetch`: messages/s. */
async function receiveAll(sluice: Sluice, queue: string, count: number, prefetch: number): Promise<number> {
  const receiver = sluice.queue(queue).receiver({ prefetch });
  try {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const m = await receiver.receive(receiveTimeoutMs);
      if (!m)
        throw new Error(`queue ${queue}: message ${i + 1} of ${count} did not arrive within ${receiveTimeoutMs} ms`);
    }
    return rate(count, performance.now() - t0);
  } finally {
    await receiver.close();
  }
}

async function variant(name: string, overrides: string[], counts: Counts): Promise<VariantResult> {
  const broker = await BrokerProcess.start({ overrides });
  const sluice = new Sluice({ brokers: broker.address, clientId: 'queue-bench' });
  const single: number[] = [];
  const tx: number[] = [];
  const recv1: number[] = [];
  const recv: number[] = [];
  try {
    // warm-up (untimed): JIT, connections, the first queue's creation path
    await sendSingle(sluice, 'warmup', Math.min(100, counts.single));
    await sendTransacted(sluice, 'warmup', settings.txSize);
    await receiveAll(sluice, 'warmup', Math.min(100, counts.single), 1);
    for (let r = 0; r < settings.runs; r++) {
      process.stderr.write(`  ${name}: run ${r + 1}/${settings.runs}\n`);
      single.push(await sendSingle(sluice, `single-${r}`, counts.single));
      tx.push(await sendTransacted(sluice, `tx-${r}`, counts.tx));
      await fill(sluice, `recv1-${r}`, counts.recv1);
      recv1.push(await receiveAll(sluice, `recv1-${r}`, counts.recv1, 1));
      await fill(sluice, `recv-${r}`, counts.recv);
      recv.push(await receiveAll(sluice, `recv-${r}`, counts.recv, settings.prefetch));
    }
  } finally {
    await sluice.close();
    await broker.destroy();
  }
  const bytes = settings.valueBytes;
  return {
    name,
    counts,
    single: summarize(single, bytes),
    tx: summarize(tx, bytes),
    recv1: summarize(recv1, bytes),
    recv: summarize(recv, bytes),
  };
}

/** Messages sent in whole transactions for at least `n`. */
const wholeTransactions = (n: number): number => Math.ceil(n / settings.txSize) * settings.txSize;

function scaled(counts: Counts, by: number): Counts {
  const s = (n: number): number => Math.max(1, Math.ceil(n / by));
  return {
    single: s(counts.single),
    tx: wholeTransactions(s(counts.tx)),
    recv1: s(counts.recv1),
    recv: s(counts.recv),
  };
}

async function main(): Promise<void> {
  const counts: Counts = {
    single: settings.singleMessages,
    tx: wholeTransactions(settings.txMessages),
    recv1: settings.recv1Messages,
    recv: settings.recvMessages,
  };
  console.log('Sluice queue benchmark (a standalone broker process; persistent messages)');
  console.log(
    `  message      ${settings.valueBytes} bytes, ${settings.runs} runs per case (medians), a fresh queue per run`,
  );
  console.log(`  sends        ${counts.single} one at a time vs ${counts.tx} in transactions of ${settings.txSize}`);
  console.log(`  receives     ${counts.recv1} with prefetch 1 vs ${counts.recv} with prefetch ${settings.prefetch}`);
  if (settings.fsync)
    console.log(`  fsync        counts divided by ${settings.fsyncScale} with log.flush.interval.messages=1`);
  console.log(`  node         ${process.version} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`);
  console.log('');

  const results: VariantResult[] = [];
  results.push(await variant('default flush', [], counts));
  if (settings.fsync) {
    results.push(
      await variant('fsync per append', ['log.flush.interval.messages=1'], scaled(counts, settings.fsyncScale)),
    );
  }

  const row = (label: string, s: RateSummary, ratio?: number): string[] => [
    label,
    fmtInt(s.median),
    fmtInt(s.min),
    fmtInt(s.max),
    ratio === undefined ? '' : `${fmtFixed(ratio, 1)}x`,
  ];
  const pairedRatio = (a: readonly number[], b: readonly number[]): number =>
    median(a.map((x, i) => x / (b[i] as number)));
  const rows: string[][] = [];
  for (const v of results) {
    if (rows.length > 0) rows.push([]);
    rows.push([v.name, '', '', '', '']);
    rows.push(row('  send, one at a time', v.single));
    rows.push(row(`  send, transactions of ${settings.txSize}`, v.tx, v.tx.median / v.single.median));
    rows.push(row('  receive, prefetch 1', v.recv1));
    rows.push(row(`  receive, prefetch ${settings.prefetch}`, v.recv, v.recv.median / v.recv1.median));
  }
  console.log(renderTable(['', 'median msgs/s', 'min msgs/s', 'max msgs/s', 'speed-up'], rows));
  console.log('');

  const round2 = (n: number): number => Math.round(n * 100) / 100;
  const json = Object.fromEntries(
    results.map((v) => [
      v.name === 'default flush' ? 'default' : 'fsyncPerAppend',
      {
        sendSinglePerSec: Math.round(v.single.median),
        sendTransactedPerSec: Math.round(v.tx.median),
        transactionSpeedup: round2(v.tx.median / v.single.median),
        transactionSpeedupPaired: round2(pairedRatio(v.tx.rates, v.single.rates)),
        receivePrefetch1PerSec: Math.round(v.recv1.median),
        receivePrefetchPerSec: Math.round(v.recv.median),
        prefetchSpeedup: round2(v.recv.median / v.recv1.median),
        prefetchSpeedupPaired: round2(pairedRatio(v.recv.rates, v.recv1.rates)),
        counts: v.counts,
      },
    ]),
  );
  console.log(
    JSON.stringify({
      ...json,
      txSize: settings.txSize,
      prefetch: settings.prefetch,
      valueBytes: settings.valueBytes,
      runs: settings.runs,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
