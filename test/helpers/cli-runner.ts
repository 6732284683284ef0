/**
 * Runs the `sluice` CLI as a child process (as a user would), with a bounded
 * time, and remembers every child so a test's afterEach can kill them by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { expect } from 'vitest';
import { cliEntry, repoRoot } from './broker-process.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export interface CliOptions {
  input?: string;
  brokers: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

const cliTimeoutMsDefault = 20_000;

export class CliRunner {
  private readonly children = new Set<ChildProcess>();

  run(args: string[], options: CliOptions): Promise<CliResult> {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args, '--brokers', options.brokers], {
      cwd: repoRoot,
      env: { ...process.env, SLUICE_BROKERS: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
    const timeoutMs = options.timeoutMs ?? cliTimeoutMsDefault;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        reject(new Error(`sluice ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}`));
      }, timeoutMs);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        this.children.delete(child);
        resolve({ code, stdout, stderr, elapsedMs: Date.now() - started });
      });
    });
  }

  /** Kills (by PID) every CLI process still running. */
  killAll(): void {
    for (const child of this.children)
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    this.children.clear();
  }
}

/** Exit 1 with exactly one "sluice: ..." line on stderr and no stack trace. */
export function expectOneLineError(r: CliResult, pattern?: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^sluice: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  if (pattern) expect(r.stderr).toMatch(pattern);
}
