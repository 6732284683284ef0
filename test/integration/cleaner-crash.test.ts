/**
 * A real crash of the log cleaner: a child process writes a compacted log,
 * starts a cleaning pass and stops at one step of a segment's swap, where the
 * test kills it with SIGKILL. Reopening the data directory finishes or rolls
 * back the swap (no .cleaned or .swap file stays), every record left is the
 * one written at its offset, every key's latest value is there, and a pass
 * after the restart completes the clean.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killAndWait } from '../helpers/child-process.js';
import { readAll, replicatedToEnd, storageFixture } from '../helpers/storage.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const childScript = fileURLToPath(new URL('./fixtures/cleaner-crash-child.ts', import.meta.url));
const fx = storageFixture(afterEach);
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) await killAndWait(child);
});

/** Runs the child until it prints "at <step>"; returns the log end and active segment it reported. */
function runToStep(dir: string, step: string): Promise<{ child: ChildProcess; end: number; active: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, dir, step], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`child never reached ${step}\n${out}\n${err}`)), 60_000);
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const written = /written (\d+) (\d+)/.exec(out);
      if (written && out.includes(`at ${step}\n`)) {
        clearTimeout(timer);
        resolve({ child, end: Number(written[1]), active: Number(written[2]) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before ${step}\n${out}\n${err}`));
    });
  });
}

const steps = ['cleaned-written', 'summary-forgotten', 'swap-renamed', 'replaced', 'indexed'];

describe('kill -9 of a cleaning pass', () => {
  for (const step of steps) {
    it(`after "${step}": the reopened log keeps every key's latest value at its offset`, async () => {
      const dir = fx.dir();
      const { child, end, active } = await runToStep(dir, step);
      child.kill('SIGKILL');
      await killAndWait(child);

      const manager = await fx.open(dir, { cleanupPolicy: 'compact', segmentBytes: 1024, indexIntervalBytes: 200 });
      const log = await manager.getOrCreate('kv', 0);
      const partitionDir = path.join(dir, 'kv-0');
      expect(fs.readdirSync(partitionDir).filter((f) => f.endsWith('.cleaned') || f.endsWith('.swap'))).toEqual([]);
      expect(log.logEndOffset).toBe(end);
      const written = (i: number) => ({ key: `key-${i % 10}`, value: `v${i}-${'x'.repeat(40)}` });
      const records = (await readAll(log)).records.map((r) => ({
        offset: r.offset,
        key: r.key?.toString(),
        value: r.value?.toString(),
      }));
      for (const r of records) expect(r).toEqual({ offset: r.offset, ...written(r.offset) });
      const latest = new Map<string, number>();
      for (const r of records) latest.set(r.key as string, r.offset);
      expect([...latest.values()].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => end - 10 + i));
      // a pass after the restart completes the clean: below the active segment, one record per key at most
      await replicatedToEnd(log).clean({ nowMs: Date.now(), force: true });
      const below = (await readAll(log)).records.filter((r) => r.offset < active).map((r) => r.key?.toString());
      expect(new Set(below).size).toBe(below.length);
    }, 90_000);
  }
});
