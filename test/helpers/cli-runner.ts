/**
 * Runs the `sluice` CLI as a child process (as a user would), with a bounded
 * time, and remembers every child so a test's afterEach can kill them by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { expect } from 'vitest';
import { cliCommand, repoRoot } from './broker-process.js';
import { type RunResult, runToEnd } from './child-process.js';

export type CliResult = RunResult;

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
    const child = spawn(process.execPath, [...cliCommand(), ...args, '--brokers', options.brokers], {
      cwd: repoRoot,
      env: { ...process.env, SLUICE_BROKERS: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    return runToEnd(
      child,
      `sluice ${args.join(' ')}`,
      options.input ?? '',
      options.timeoutMs ?? cliTimeoutMsDefault,
    ).finally(() => this.children.delete(child));
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
