/**
 * Codec benchmark: compress and decompress the records area of RecordBatch v2
 * batches of 1 KiB JSON-ish records through src/wire/compression.ts (the
 * code the producer, the broker's recompression and every reader use), per
 * codec: gzip (Node's zlib), snappy (snappyjs, xerial framing), lz4 (Sluice's
 * frame codec), zstd (written by zstd-wasm, level 3; read by fzstd behind the
 * frame walk). zstd's read figure is taken on frames the `zstd` tool wrote
 * (as an independent writer) and, beside it, on Sluice's own.
 * MB/s counts uncompressed bytes. Prints a table, then one JSON line.
 *
 * Environment:
 *   BENCH_BATCH_RECORDS  records per batch (default 16, ~16 KiB, Kafka's default batch.size)
 *   BENCH_BATCHES        distinct batches cycled through (default 256, ~4 MiB)
 *   BENCH_MB             uncompressed MB per timed run (default 64)
 *   BENCH_RUNS           timed runs per figure, the median reported (default 5)
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { deflateRecords, inflateRecords } from '../src/wire/compression.js';
import { Compression } from '../src/wire/record-batch.js';
import { encodeRecordBatch } from '../src/wire/record-batch-encoder.js';
import { initZstd } from '../src/wire/zstd.js';
import { fmtFixed, median, renderTable } from './lib/stats.js';

function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}=${raw} is not an integer >= ${min}`);
  return n;
}

await initZstd();

const batchRecords = envInt('BENCH_BATCH_RECORDS', 16);
const batchCount = envInt('BENCH_BATCHES', 256);
const mbPerRun = envInt('BENCH_MB', 64);
const runs = envInt('BENCH_RUNS', 5);

/** A seeded 1 KiB JSON-ish record: repeated field names, varying ids, words and numbers. */
function record(n: number, next: () => number): Buffer {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  const parts: string[] = [];
  let s = `{"id":${n},"ts":${1_700_000_000_000 + n},"user":"user-${Math.floor(next() * 5000)}","items":[`;
  while (s.length < 950) {
    parts.push(
      `{"sku":"${words[Math.floor(next() * 10)]}-${Math.floor(next() * 1e6)}","qty":${Math.floor(next() * 20)},"price":${(next() * 500).toFixed(2)}}`,
    );
    s = `${s}${parts.length > 1 ? ',' : ''}${parts[parts.length - 1]}`;
  }
  return Buffer.from(`${s}],"note":"${'x'.repeat(Math.max(0, 1020 - s.length))}"}`.slice(0, 1024));
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// the records areas (what a codec sees) of uncompressed batches
const next = prng(42);
const areas: Buffer[] = [];
for (let b = 0; b < batchCount; b++) {
  const records = Array.from({ length: batchRecords }, (_, i) => ({
    key: Buffer.from(`key-${(b * batchRecords + i) % 1000}`),
    value: record(b * batchRecords + i, next),
    timestamp: 1_700_000_000_000 + i,
  }));
  areas.push(encodeRecordBatch(records).subarray(61));
}
const areaBytes = areas.reduce((n, a) => n + a.length, 0);
const iterations = Math.max(1, Math.round((mbPerRun * 1e6) / (areaBytes / batchCount)));

function rate(fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(iterations, 2 * batchCount); i++) fn(i); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let bytes = 0;
    const start = performance.now();
    for (let i = 0; i < iterations; i++) {
      fn(i);
      bytes += (areas[i % batchCount] as Buffer).length;
    }
    rates.push(bytes / 1e6 / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

const codecs = [
  ['gzip', Compression.gzip],
  ['snappy', Compression.snappy],
  ['lz4', Compression.lz4],
  ['zstd', Compression.zstd],
] as const;
const results: Record<string, { compressMBps: number; decompressMBps: number; ratio: number }> = {};
const rows: string[][] = [];
for (const [name, codec] of codecs) {
  const compressed =
    codec === Compression.zstd
      ? areas.map((a) => execFileSync('zstd', ['-3', '-c', '-q'], { input: a }))
      : areas.map((a) => deflateRecords(codec, a));
  for (let i = 0; i < batchCount; i++) {
    if (!inflateRecords(codec, compressed[i] as Buffer).equals(areas[i] as Buffer))
      throw new Error(`${name} round trip`);
  }
  const ratio = areaBytes / compressed.reduce((n, c) => n + c.length, 0);
  const compressMBps = rate((i) => deflateRecords(codec, areas[i % batchCount] as Buffer));
  const decompressMBps = rate((i) => inflateRecords(codec, compressed[i % batchCount] as Buffer));
  results[name] = { compressMBps, decompressMBps, ratio };
  rows.push([name, fmtFixed(compressMBps, 1), fmtFixed(decompressMBps, 1), fmtFixed(ratio, 2)]);
  if (codec === Compression.zstd) {
    // Sluice's own zstd frames (what a zstd topic stores), read back
    const own = areas.map((a) => deflateRecords(codec, a));
    const ownRatio = areaBytes / own.reduce((n, c) => n + c.length, 0);
    const ownDecompress = rate((i) => inflateRecords(codec, own[i % batchCount] as Buffer));
    results['zstd (sluice-written)'] = { compressMBps, decompressMBps: ownDecompress, ratio: ownRatio };
    rows.push(['zstd (sluice-written)', fmtFixed(compressMBps, 1), fmtFixed(ownDecompress, 1), fmtFixed(ownRatio, 2)]);
  }
}

console.log(
  `${batchCount} batches of ${batchRecords} × 1 KiB JSON-ish records (${Math.round(areaBytes / batchCount)} bytes each), ` +
    `${mbPerRun} MB per run, median of ${runs} runs, Node ${process.version}`,
);
console.log(renderTable(['codec', 'compress MB/s', 'decompress MB/s', 'ratio'], rows));
console.log(JSON.stringify({ batchRecords, batchBytes: Math.round(areaBytes / batchCount), runs, results }));
