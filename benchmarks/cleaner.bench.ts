/**
 * Log-cleaner benchmark (npm run bench:cleaner): builds one compacted
 * partition log of BENCH_MB megabytes whose records cycle over BENCH_KEYS
 * distinct keys, then, side by side in one run:
 *
 *   1. append latency with no cleaner running: paced appends of one
 *      10-record batch every BENCH_PACE_MS for BENCH_LATENCY_MS;
 *   2. one full cleaner pass over every closed segment (its MB/s: bytes of
 *      segments read and rewritten per second), with the same paced appends
 *      running beside it for as long as the pass lasts.
 *
 * Appends run in the same process and on the same event loop as the cleaner,
 * as they do in a broker (the cleaner yields between chunks of its work and
 * swaps each segment in a short synchronous step): the latency of an append
 * here is what a produce request's append costs while the cleaner runs.
 * Prints a table and one JSON line.
 *
 * Environment: BENCH_MB (200), BENCH_KEYS (100000), BENCH_VALUE_BYTES (100),
 * BENCH_SEGMENT_MB (16), BENCH_LATENCY_MS (5000), BENCH_PACE_MS (2).
 */
import { performance } from 'node:perf_hooks';
import { LogManager } from '../src/storage/log-manager.js';
import type { PartitionLog } from '../src/storage/partition-log.js';
import { encodeRecordBatch } from '../src/wire/record-batch-encoder.js';
import { withTempDir } from './lib/temp.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}=${raw} is not a positive integer`);
  return n;
}

const settings = {
  mb: envInt('BENCH_MB', 200),
  keys: envInt('BENCH_KEYS', 100_000),
  valueBytes: envInt('BENCH_VALUE_BYTES', 100),
  segmentMb: envInt('BENCH_SEGMENT_MB', 16),
  latencyMs: envInt('BENCH_LATENCY_MS', 5_000),
  paceMs: envInt('BENCH_PACE_MS', 2),
};

const recordsPerBatch = 100;

function batch(from: number, count: number, tag: string): Buffer {
  const value = Buffer.alloc(settings.valueBytes, 'v');
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({
      key: Buffer.from(`key-${String((from + i) % settings.keys).padStart(8, '0')}`),
      value: Buffer.concat([Buffer.from(tag), value]).subarray(0, settings.valueBytes),
    })),
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Paced appends until `until` resolves (or for `ms`); returns the latencies in ms, sorted. */
async function pacedAppends(log: PartitionLog, stop: { done: boolean }): Promise<number[]> {
  const latencies: number[] = [];
  let n = 0;
  while (!stop.done) {
    const b = batch(n * 10, 10, 'live');
    n++;
    const t0 = performance.now();
    await log.append(b);
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, settings.paceMs));
  }
  return latencies.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  await withTempDir('sluice-cleaner-bench-', async (dir) => {
    const logs = await LogManager.open({
      logDirs: [dir],
      config: {
        cleanupPolicy: 'compact',
        segmentBytes: settings.segmentMb * 1024 * 1024,
        minCleanableDirtyRatio: 0.5,
      },
      retentionCheckIntervalMs: 0,
    });
    try {
      const log = await logs.getOrCreate('bench-compacted', 0);
      const target = settings.mb * 1024 * 1024;
      const buildStart = performance.now();
      for (let i = 0; log.sizeBytes < target; i += recordsPerBatch) await log.append(batch(i, recordsPerBatch, 'old'));
      await log.flush();
      const buildSeconds = (performance.now() - buildStart) / 1000;
      log.roll();
      const closedBytes = log.sizeBytes;

      // 1. appends alone
      const quiet = { done: false };
      const quietRun = pacedAppends(log, quiet);
      await new Promise((r) => setTimeout(r, settings.latencyMs));
      quiet.done = true;
      const alone = await quietRun;

      // 2. one full cleaner pass with the same appends beside it
      const busy = { done: false };
      const busyRun = pacedAppends(log, busy);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const stats = await log.clean({ nowMs: Date.now(), force: true });
      const cleanSeconds = (performance.now() - t0) / 1000;
      // CPU of the whole process (the cleaner and the paced appends): wall time on a shared machine says less
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      busy.done = true;
      const during = await busyRun;
      if (!stats) throw new Error('the cleaner found nothing to clean');

      const mbPerSec = stats.bytesRead / 1e6 / cleanSeconds;
      const rows = [
        ['', 'appends', 'p50 ms', 'p99 ms', 'max ms'],
        [
          'no cleaner',
          String(alone.length),
          percentile(alone, 50).toFixed(3),
          percentile(alone, 99).toFixed(3),
          (alone.at(-1) ?? 0).toFixed(3),
        ],
        [
          'cleaner running',
          String(during.length),
          percentile(during, 50).toFixed(3),
          percentile(during, 99).toFixed(3),
          (during.at(-1) ?? 0).toFixed(3),
        ],
      ];
      console.log(
        `log: ${(closedBytes / 1e6).toFixed(1)} MB in ${log.segmentCount} segments, ${settings.keys} keys (built in ${buildSeconds.toFixed(1)} s)`,
      );
      console.log(
        `cleaner: ${(stats.bytesRead / 1e6).toFixed(1)} MB read, ${(stats.bytesWritten / 1e6).toFixed(1)} MB written, ` +
          `${stats.recordsRead} records -> ${stats.recordsKept} in ${cleanSeconds.toFixed(2)} s = ${mbPerSec.toFixed(1)} MB/s ` +
          `(${cpuSeconds.toFixed(2)} CPU s: ${(stats.bytesRead / 1e6 / cpuSeconds).toFixed(1)} MB per CPU second)`,
      );
      for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(16) : c.padStart(10))).join(''));
      console.log(
        JSON.stringify({
          logMB: Number((closedBytes / 1e6).toFixed(1)),
          keys: settings.keys,
          cleanerMBPerSec: Number(mbPerSec.toFixed(1)),
          cleanSeconds: Number(cleanSeconds.toFixed(2)),
          cleanCpuSeconds: Number(cpuSeconds.toFixed(2)),
          bytesWritten: stats.bytesWritten,
          appendP50MsAlone: Number(percentile(alone, 50).toFixed(3)),
          appendP99MsAlone: Number(percentile(alone, 99).toFixed(3)),
          appendP50MsCleaning: Number(percentile(during, 50).toFixed(3)),
          appendP99MsCleaning: Number(percentile(during, 99).toFixed(3)),
        }),
      );
    } finally {
      await logs.close();
    }
  });
}

await main();
