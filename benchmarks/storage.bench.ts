/**
 * Storage benchmark: append ~16 KiB batches of 100-byte records to one
 * partition through LogManager/PartitionLog, read them all back, and measure
 * the same bytes written and read with plain `fs` as the ceiling, interleaved
 * in the same process run. Prints a table, then one JSON line:
 *   {"appendRecordsPerSec","readRecordsPerSec","appendCeilingRatio","readCeilingRatio",...}
 *
 * Environment:
 *   BENCH_RECORDS         records per run (default 4,500,000; rounded up to whole batches)
 *   BENCH_RUNS            measured runs of each side (default 5)
 *   BENCH_WARMUP_RECORDS  records of the untimed warm-up run of each side (default BENCH_RECORDS, so no
 *                         measured run pays for JIT warm-up or first-touch page cache; 0 skips it)
 *   BENCH_KEY_BYTES       key size, 0 for null keys (default 8)
 *   BENCH_VALUE_BYTES     value size (default 100)
 *   BENCH_BATCH_BYTES     largest batch size (default 16384)
 *   BENCH_POOL_BATCHES    distinct prebuilt batches cycled through (default 1024, ~16 MiB)
 *   BENCH_READ_BYTES      maxBytes of one read / size of one ceiling read (default 1 MiB)
 *   BENCH_READ_PASSES     times each run reads everything back, timed together (default 3; a single
 *                         pass takes ~0.1-0.2 s, too short to be stable here)
 *   BENCH_FSYNC           0 skips the fsync figures (default 1)
 *   BENCH_MARKS           1 prints each timed phase's CLOCK_MONOTONIC span (µs) to stderr, to cut a
 *                         --cpu-prof profile into phases (its timestamps use the same clock)
 */
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { LogManager } from '../src/storage/log-manager.js';
import { baseOffsetOf, batchSizeOf, Field, recordsCountOf, validateBatch } from '../src/wire/record-batch.js';
import { type BatchPool, buildBatchPool } from './lib/batches.js';
import { fmtFixed, fmtInt, median, type RateSummary, renderTable, summarize } from './lib/stats.js';
import { liveTempDirs, withTempDir } from './lib/temp.js';

function envInt(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}=${raw} is not an integer >= ${min}`);
  return n;
}

const records = envInt('BENCH_RECORDS', 4_500_000, 1);
const settings = {
  records,
  runs: envInt('BENCH_RUNS', 5, 1),
  warmupRecords: envInt('BENCH_WARMUP_RECORDS', records, 0),
  keyBytes: envInt('BENCH_KEY_BYTES', 8, 0),
  valueBytes: envInt('BENCH_VALUE_BYTES', 100, 0),
  batchBytes: envInt('BENCH_BATCH_BYTES', 16 * 1024, 128),
  poolBatches: envInt('BENCH_POOL_BATCHES', 1024, 1),
  readBytes: envInt('BENCH_READ_BYTES', 1024 * 1024, 1024),
  readPasses: envInt('BENCH_READ_PASSES', 3, 1),
  fsync: envInt('BENCH_FSYNC', 1, 0) !== 0,
  marks: envInt('BENCH_MARKS', 0, 0) !== 0,
};

/** performance.now() ms -> CLOCK_MONOTONIC µs (both come from uv_hrtime). */
const monotonicOffsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
function mark(phase: string, startMs: number, endMs: number): void {
  if (!settings.marks) return;
  const us = (ms: number): number => Math.round(ms * 1000 + monotonicOffsetUs);
  process.stderr.write(`mark ${phase} ${us(startMs)} ${us(endMs)}\n`);
}

/** A full GC between phases keeps one phase's garbage from being collected in the next's timed region. */
const collectGarbage: () => void = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // not available: run without forced collections
  }
  return () => undefined;
})();

interface SluiceRun {
  appendMs: number;
  appendFlushMs: number;
  readMs: number;
}

interface CeilingRun {
  writeMs: number;
  /** writeSync of the same buffers, each first checked with validateBatch (CRC + record walk): the floor of any broker that validates on append. */
  validateWriteMs: number;
  writeSyncMs: number;
  /** A fresh Buffer.allocUnsafe per read, as PartitionLog.read does: the ceiling used for the ratio. */
  readFreshMs: number;
  /** One buffer reused for every read: the best plain-fs read. */
  readReuseMs: number;
}

/** Records in whole batches `buf[0, length)`; checks the first batch starts at `expectedBase`. */
function countWholeBatches(buf: Buffer, expectedBase: number): number {
  if (buf.length > 0 && baseOffsetOf(buf, 0) !== expectedBase) {
    throw new Error(`read returned a batch at offset ${baseOffsetOf(buf, 0)}, expected ${expectedBase}`);
  }
  let records = 0;
  for (let p = 0; p < buf.length; p += batchSizeOf(buf, p)) records += recordsCountOf(buf, p);
  return records;
}

/** Counts records of batches streamed in arbitrary chunks, hopping headers (a header may straddle chunks). */
class StreamingBatchCounter {
  records = 0;
  private next = 0;
  private readonly carry = Buffer.alloc(Field.records);
  private carried = 0;

  feed(chunk: Buffer, length: number, start: number): void {
    const end = start + length;
    if (this.carried > 0) {
      const need = Field.records - this.carried;
      if (length < need) throw new Error('chunk smaller than the rest of a batch header');
      chunk.copy(this.carry, this.carried, 0, need);
      this.carried = 0;
      this.take(this.carry, 0);
    }
    while (this.next + Field.records <= end) this.take(chunk, this.next - start);
    if (this.next < end) {
      chunk.copy(this.carry, 0, this.next - start, length);
      this.carried = end - this.next;
    }
  }

  private take(buf: Buffer, at: number): void {
    this.records += recordsCountOf(buf, at);
    this.next += batchSizeOf(buf, at);
  }
}

async function sluiceRun(pool: BatchPool, batches: number): Promise<SluiceRun> {
  const expectedRecords = batches * pool.recordsPerBatch;
  return withTempDir('sluice-bench-log-', async (dir) => {
    const manager = await LogManager.open({ logDirs: [dir], retentionCheckIntervalMs: 0 });
    try {
      const log = await manager.getOrCreate('bench', 0);
      const { buffers } = pool;
      collectGarbage();

      const t0 = performance.now();
      for (let i = 0; i < batches; i++) await log.append(buffers[i % buffers.length] as Buffer);
      const t1 = performance.now();
      await log.flush();
      const t2 = performance.now();
      if (log.logEndOffset !== expectedRecords) {
        throw new Error(`log end offset ${log.logEndOffset} after appending ${expectedRecords} records`);
      }
      collectGarbage();

      const t3 = performance.now();
      const end = log.logEndOffset;
      for (let pass = 0; pass < settings.readPasses; pass++) {
        let offset = 0;
        let records = 0;
        while (offset < end) {
          const r = await log.read(offset, settings.readBytes);
          if (r.nextOffset <= offset) throw new Error(`read at ${offset} made no progress`);
          records += countWholeBatches(r.records, offset);
          offset = r.nextOffset;
        }
        if (records !== expectedRecords) throw new Error(`read back ${records} records, appended ${expectedRecords}`);
      }
      const t4 = performance.now();
      mark('sluice-append', t0, t1);
      mark('sluice-flush', t1, t2);
      mark('sluice-read', t3, t4);
      return { appendMs: t1 - t0, appendFlushMs: t2 - t0, readMs: t4 - t3 };
    } finally {
      await manager.close();
    }
  });
}

function readAll(fd: number, size: number, fresh: boolean, expectedRecords: number): number {
  const chunk = settings.readBytes;
  const shared = fresh ? undefined : Buffer.allocUnsafe(chunk);
  collectGarbage();
  const t0 = performance.now();
  for (let pass = 0; pass < settings.readPasses; pass++) {
    const counter = new StreamingBatchCounter();
    for (let position = 0; position < size; ) {
      const buf = shared ?? Buffer.allocUnsafe(chunk);
      const n = fs.readSync(fd, buf, 0, Math.min(chunk, size - position), position);
      if (n === 0) throw new Error(`unexpected end of file at ${position}`);
      counter.feed(buf, n, position);
      position += n;
    }
    if (counter.records !== expectedRecords)
      throw new Error(`ceiling read ${counter.records} records, wrote ${expectedRecords}`);
  }
  const t1 = performance.now();
  mark(fresh ? 'fs-read-fresh' : 'fs-read-reused', t0, t1);
  return t1 - t0;
}

/** The ceiling's write loop with Sluice's own batch validation in front of each write; returns ms. */
function validatingWrite(dir: string, buffers: readonly Buffer[], batches: number): number {
  const file = `${dir}/validated.log`;
  const fd = fs.openSync(file, 'wx+');
  try {
    collectGarbage();
    const t0 = performance.now();
    let position = 0;
    for (let i = 0; i < batches; i++) {
      const buf = buffers[i % buffers.length] as Buffer;
      validateBatch(buf, 0, buf.length);
      for (let written = 0; written < buf.length; ) {
        written += fs.writeSync(fd, buf, written, buf.length - written, position + written);
      }
      position += buf.length;
    }
    return performance.now() - t0;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file);
  }
}

async function ceilingRun(pool: BatchPool, batches: number, freshFirst: boolean): Promise<CeilingRun> {
  const expectedRecords = batches * pool.recordsPerBatch;
  return withTempDir('sluice-bench-fs-', (dir) => {
    // alternate which of the two plain-fs writes goes first: the second meets more dirty pages
    const floorFirstMs = freshFirst ? validatingWrite(dir, pool.buffers, batches) : undefined;
    const fd = fs.openSync(`${dir}/ceiling.log`, 'wx+');
    try {
      const { buffers } = pool;
      collectGarbage();
      const t0 = performance.now();
      let position = 0;
      for (let i = 0; i < batches; i++) {
        const buf = buffers[i % buffers.length] as Buffer;
        for (let written = 0; written < buf.length; ) {
          written += fs.writeSync(fd, buf, written, buf.length - written, position + written);
        }
        position += buf.length;
      }
      const t1 = performance.now();
      if (settings.fsync) fs.fdatasyncSync(fd);
      const t2 = performance.now();
      mark('fs-append', t0, t1);
      const validateWriteMs = floorFirstMs ?? validatingWrite(dir, buffers, batches);
      mark('fs-fdatasync', t1, t2);

      let readFreshMs: number;
      let readReuseMs: number;
      if (freshFirst) {
        readFreshMs = readAll(fd, position, true, expectedRecords);
        readReuseMs = readAll(fd, position, false, expectedRecords);
      } else {
        readReuseMs = readAll(fd, position, false, expectedRecords);
        readFreshMs = readAll(fd, position, true, expectedRecords);
      }
      return { writeMs: t1 - t0, validateWriteMs, writeSyncMs: t2 - t0, readFreshMs, readReuseMs };
    } finally {
      fs.closeSync(fd);
    }
  });
}

async function main(): Promise<void> {
  const pool = buildBatchPool({
    poolBatches: settings.poolBatches,
    targetBatchBytes: settings.batchBytes,
    keyBytes: settings.keyBytes,
    valueBytes: settings.valueBytes,
  });
  const batches = Math.ceil(settings.records / pool.recordsPerBatch);
  const records = batches * pool.recordsPerBatch;
  const bytes = batches * pool.batchBytes;
  const bytesPerRecord = pool.batchBytes / pool.recordsPerBatch;
  const warmupBatches = settings.warmupRecords > 0 ? Math.ceil(settings.warmupRecords / pool.recordsPerBatch) : 0;

  const keyDesc = pool.keyBytes > 0 ? `${pool.keyBytes}-byte keys` : 'null keys';
  console.log('Sluice storage benchmark');
  console.log(
    `  records      ${fmtInt(records)} per run: ${pool.valueBytes}-byte values, ${keyDesc}, no headers, uncompressed`,
  );
  console.log(
    `  batches      ${fmtInt(batches)} per run of ${pool.recordsPerBatch} records, ${fmtInt(pool.batchBytes)} bytes each ` +
      `(${fmtFixed(bytesPerRecord, 2)} bytes/record on disk), ${fmtFixed(bytes / 1e6, 1)} MB per run`,
  );
  console.log(
    `  pool         ${pool.buffers.length} prebuilt batches (${fmtFixed((pool.buffers.length * pool.batchBytes) / 2 ** 20, 1)} MiB) cycled; the fs ceiling writes the same buffers in the same order`,
  );
  console.log(
    `  runs         ${settings.runs} per side, interleaved (Sluice/fs alternate which goes first), each read phase reads everything ${settings.readPasses}x; ` +
      `warm-up ${fmtInt(warmupBatches * pool.recordsPerBatch)} records per side untimed`,
  );
  console.log(
    `  sluice       LogManager defaults (1 GiB segments, 4096-byte index interval, no fsync policy), one partition; read(offset, ${fmtInt(settings.readBytes)}) following nextOffset`,
  );
  console.log(`  temp dir     ${os.tmpdir()} (fresh dir per run, removed afterwards)`);
  console.log(`  node         ${process.version} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`);
  console.log('');

  if (warmupBatches > 0) {
    await sluiceRun(pool, warmupBatches);
    await ceilingRun(pool, warmupBatches, true);
  }

  const sluice: SluiceRun[] = [];
  const ceiling: CeilingRun[] = [];
  for (let run = 0; run < settings.runs; run++) {
    const sluiceFirst = run % 2 === 0;
    if (sluiceFirst) sluice.push(await sluiceRun(pool, batches));
    ceiling.push(await ceilingRun(pool, batches, run % 4 < 2));
    if (!sluiceFirst) sluice.push(await sluiceRun(pool, batches));
    const s = sluice[run] as SluiceRun;
    const c = ceiling[run] as CeilingRun;
    const rate = (ms: number, passes = 1): string => `${fmtFixed((passes * records) / ms / 1000, 2)}M/s`;
    const p = settings.readPasses;
    process.stderr.write(
      `  run ${run + 1}/${settings.runs}: append ${rate(s.appendMs)} vs fs ${rate(c.writeMs)}, ` +
        `read ${rate(s.readMs, p)} vs fs ${rate(c.readFreshMs, p)} (fresh) / ${rate(c.readReuseMs, p)} (reused)\n`,
    );
  }

  /** Records per second of each run; reads cover the data `readPasses` times. */
  const perSec = <T>(xs: readonly T[], ms: (x: T) => number, passes = 1): number[] =>
    xs.map((x) => (passes * records) / (ms(x) / 1000));
  const passes = settings.readPasses;
  const appendS = summarize(
    perSec(sluice, (r) => r.appendMs),
    bytesPerRecord,
  );
  const appendC = summarize(
    perSec(ceiling, (r) => r.writeMs),
    bytesPerRecord,
  );
  const appendFloor = summarize(
    perSec(ceiling, (r) => r.validateWriteMs),
    bytesPerRecord,
  );
  const readS = summarize(
    perSec(sluice, (r) => r.readMs, passes),
    bytesPerRecord,
  );
  const readC = summarize(
    perSec(ceiling, (r) => r.readFreshMs, passes),
    bytesPerRecord,
  );
  const readReuse = summarize(
    perSec(ceiling, (r) => r.readReuseMs, passes),
    bytesPerRecord,
  );
  const appendFlushS = summarize(
    perSec(sluice, (r) => r.appendFlushMs),
    bytesPerRecord,
  );
  const appendSyncC = summarize(
    perSec(ceiling, (r) => r.writeSyncMs),
    bytesPerRecord,
  );

  const row = (name: string, s: RateSummary): string[] => [
    name,
    fmtInt(s.median),
    fmtFixed(s.medianMBps, 1),
    fmtInt(s.min),
    fmtInt(s.max),
    String(s.rates.length),
  ];
  const rows: string[][] = [
    row('sluice append (no fsync)', appendS),
    row('fs append ceiling (writeSync)', appendC),
    row('  fs append + validateBatch per batch (floor)', appendFloor),
    row('sluice read', readS),
    row('fs read ceiling (readSync, fresh 1 MiB buffer per read)', readC),
    [],
    row('  fs read, one reused buffer (best plain fs; not the ratio)', readReuse),
  ];
  if (settings.fsync) {
    rows.push(row('  sluice append + log.flush() (fsync)', appendFlushS), row('  fs append + fdatasync', appendSyncC));
  }
  console.log(renderTable(['', 'median records/s', 'MB/s', 'min records/s', 'max records/s', 'runs'], rows));

  const pairedRatio = (a: readonly number[], b: readonly number[]): number =>
    median(a.map((x, i) => x / (b[i] as number)));
  const round3 = (n: number): number => Math.round(n * 1000) / 1000;
  const appendCeilingRatio = appendS.median / appendC.median;
  const readCeilingRatio = readS.median / readC.median;
  console.log('');
  console.log(
    `append: ${fmtFixed(appendCeilingRatio, 3)} of the fs ceiling (paired per-run median ${fmtFixed(pairedRatio(appendS.rates, appendC.rates), 3)}; target >= 0.7 and >= 2,000,000 records/s)`,
  );
  console.log(
    `read:   ${fmtFixed(readCeilingRatio, 3)} of the fs ceiling (paired per-run median ${fmtFixed(pairedRatio(readS.rates, readC.rates), 3)}; ` +
      `${fmtFixed(readS.median / readReuse.median, 3)} of the reused-buffer read; target >= 0.7)`,
  );
  console.log(
    `floor:  fs append with the same validation is ${fmtFixed(appendFloor.median / appendC.median, 3)} of the ceiling; ` +
      `Sluice append is ${fmtFixed(appendS.median / appendFloor.median, 3)} of that floor`,
  );
  if (settings.fsync) {
    console.log(
      `fsync:  append + flush ${fmtFixed(appendFlushS.median / appendSyncC.median, 3)} of fs append + fdatasync (reported only)`,
    );
  }

  const result = {
    appendRecordsPerSec: Math.round(appendS.median),
    readRecordsPerSec: Math.round(readS.median),
    appendCeilingRatio: round3(appendCeilingRatio),
    readCeilingRatio: round3(readCeilingRatio),
    appendCeilingRecordsPerSec: Math.round(appendC.median),
    readCeilingRecordsPerSec: Math.round(readC.median),
    readReusedBufferRecordsPerSec: Math.round(readReuse.median),
    appendValidatingFloorRecordsPerSec: Math.round(appendFloor.median),
    appendValidatingFloorRatio: round3(appendFloor.median / appendC.median),
    appendFlushRecordsPerSec: settings.fsync ? Math.round(appendFlushS.median) : null,
    appendFsyncCeilingRecordsPerSec: settings.fsync ? Math.round(appendSyncC.median) : null,
    appendPairedRatio: round3(pairedRatio(appendS.rates, appendC.rates)),
    readPairedRatio: round3(pairedRatio(readS.rates, readC.rates)),
    records,
    recordsPerBatch: pool.recordsPerBatch,
    batchBytes: pool.batchBytes,
    valueBytes: pool.valueBytes,
    keyBytes: pool.keyBytes,
    runs: settings.runs,
    readPasses: settings.readPasses,
  };
  if (liveTempDirs() !== 0) throw new Error('a temp dir was left behind');
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
