/**
 * A real crash: a child process appends to a partition log and acknowledges
 * every append on stdout; the test kills it with SIGKILL at a random moment,
 * reopens the data directory and checks that every acknowledged record is
 * there with its contents, that everything served is whole and CRC-valid, and
 * that the log carries on. Repeated on fresh directories and on one directory
 * crashed again and again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogConfig } from '../../src/storage/log-config.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { exited, killAndWait } from '../helpers/child-process.js';
import {
  crashRecordProblem,
  crashRecords,
  filesProblems,
  indexProblems,
  prng,
  readAll,
  storageFixture,
} from '../helpers/storage.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const writer = fileURLToPath(new URL('./fixtures/storage-crash-writer.ts', import.meta.url));
const fx = storageFixture(afterEach);
const children: ChildProcess[] = [];

afterEach(async () => {
  // never leave a writer running, whatever happened to the test
  for (const child of children.splice(0)) await killAndWait(child);
});

interface Run {
  startOffset: number;
  acks: [number, number][];
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Starts the writer, lets it append for `runMs` after it is ready, then kills it with SIGKILL. */
async function crashRun(dir: string, seed: number, config: Partial<LogConfig>, runMs: number): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(seed), JSON.stringify(config)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const exit = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const deadline = Date.now() + 15_000;
  while (!stdout.includes('\n') && !exited(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  expect(stdout, `writer did not start: ${stderr}`).toMatch(/^ready \d+\n/);
  // the run time counts from the first acknowledgement: a log's first append after a start reads
  // its producers' state back first (partition-log.ts prepareWrites), which a loaded machine may
  // stretch past the shortest run time
  while (!stdout.includes('\nack ') && !exited(child) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, runMs));
  expect(exited(child), `writer died by itself: ${stderr}`).toBe(false);
  if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  const signal = await exit;
  // only whole lines are acknowledgements: a line cut by the kill was never completed
  const lines = stdout.split('\n').slice(0, -1);
  const startOffset = Number((lines[0] as string).split(' ')[1]);
  const acks = lines.slice(1).map((l) => {
    const [word, base, last] = l.split(' ');
    expect(word).toBe('ack');
    return [Number(base), Number(last)] as [number, number];
  });
  return { startOffset, acks, stderr, signal };
}

/** Opens the crashed directory and checks everything acknowledged and everything served. */
async function verifyAfterCrash(dir: string, config: Partial<LogConfig>, run: Run): Promise<number> {
  expect(run.signal).toBe('SIGKILL');
  expect(run.acks.length, 'the writer acknowledged nothing before the kill').toBeGreaterThan(0);
  const manager = await fx.open(dir, config);
  const log = manager.get('crash', 0) as PartitionLog;
  const lastAck = run.acks.at(-1) as [number, number];
  expect(log.logStartOffset).toBe(0);
  expect(log.logEndOffset).toBeGreaterThanOrEqual(lastAck[1] + 1);
  // acknowledged appends are contiguous from where the run started
  let expected = run.startOffset;
  for (const [base, last] of run.acks) {
    expect(base).toBe(expected);
    expected = last + 1;
  }
  // every batch served decodes with a valid CRC (readAll decodes all), offsets run on without a gap,
  // and every record holds what the writer wrote at its offset (acknowledged or not)
  const { records } = await readAll(log, 0, 16 * 1024);
  expect(records.length).toBe(log.logEndOffset);
  const problems: string[] = [];
  records.forEach((r, i) => {
    if (r.offset !== i) problems.push(`record ${i} has offset ${r.offset}`);
    const p = crashRecordProblem(r);
    if (p) problems.push(p);
  });
  expect(problems.slice(0, 5)).toEqual([]);
  // reads at the acknowledged offsets themselves
  const random = prng(lastAck[1]);
  for (let i = 0; i < 50; i++) {
    const [base, last] = run.acks[Math.floor(random() * run.acks.length)] as [number, number];
    const offset = base + Math.floor(random() * (last - base + 1));
    const read = await log.read(offset, 1);
    expect(read.records.length).toBeGreaterThan(0);
  }
  expect(filesProblems(path.join(dir, 'crash-0'))).toEqual([]);
  // the log carries on where it ends
  const end = log.logEndOffset;
  const next = await log.append(encodeRecordBatch(crashRecords(end, 2)));
  expect(next.baseOffset).toBe(end);
  await manager.close();
  expect(await indexProblems(dir, 'crash', 0)).toEqual([]);
  return end + 2;
}

describe('kill -9 of a process appending to a partition log', () => {
  const configs: Partial<LogConfig>[] = [
    { segmentBytes: 4096, indexIntervalBytes: 256 },
    { segmentBytes: 2048, indexIntervalBytes: 100, flushIntervalMessages: 20 },
    { segmentBytes: 64 * 1024, indexIntervalBytes: 512, flushIntervalMessages: 1 },
  ];

  it('loses no acknowledged record and serves nothing corrupt (fresh directories)', { timeout: 60_000 }, async () => {
    const random = prng(4242);
    for (const [i, config] of configs.entries()) {
      const dir = fx.dir();
      const run = await crashRun(dir, 100 + i, config, 30 + Math.floor(random() * 250));
      await verifyAfterCrash(dir, config, run);
    }
  });

  it('recovers again and again when one directory is crashed repeatedly', { timeout: 60_000 }, async () => {
    const random = prng(777);
    const dir = fx.dir();
    const config = configs[0] as Partial<LogConfig>;
    let end = 0;
    for (let round = 0; round < 3; round++) {
      const run = await crashRun(dir, round, config, 20 + Math.floor(random() * 200));
      expect(run.startOffset).toBe(end); // the writer continues where the last recovery left the log
      end = await verifyAfterCrash(dir, config, run);
    }
  });
});
