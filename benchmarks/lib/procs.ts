/**
 * Child processes and temp dirs of the benchmark suite, all registered here so
 * that they are stopped (by PID, never by name) and removed whatever happens:
 * normal end, an exception, Ctrl-C or SIGTERM.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// one free-port probe for tests and benchmarks
export { freePort } from '../../test/helpers/zookeeper.js';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
/** Output kept per child for diagnostics. */
const keptBytes = 64 * 1024;

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly name: string;
  /** The child's recent stdout+stderr. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the child is gone. */
  readonly exited: Promise<number | string>;
  running(): boolean;
  /** Calls `fn` with each complete stdout line (the output is read either way, so the child never blocks on a full pipe). */
  onLine(fn: (line: string) => void): void;
}

export function spawnChild(name: string, command: string, args: string[], options: SpawnOptions = {}): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (proc.pid === undefined) {
    throw new Error(`${name}: could not start ${command}`);
  }
  children.add(proc);
  let out = '';
  let pending = '';
  const lineListeners: ((line: string) => void)[] = [];
  const keep = (d: Buffer): void => {
    out = (out + d.toString('utf8')).slice(-keptBytes);
  };
  proc.stderr?.on('data', keep);
  proc.stdout?.on('data', (d: Buffer) => {
    keep(d);
    if (lineListeners.length === 0) return;
    pending += d.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      for (const fn of lineListeners) fn(line);
      nl = pending.indexOf('\n');
    }
    if (pending.length > keptBytes) pending = pending.slice(-keptBytes);
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
    proc.once('error', (err) => {
      children.delete(proc);
      keep(Buffer.from(String(err)));
      resolve('error');
    });
  });
  return {
    proc,
    pid: proc.pid,
    name,
    output: () => out,
    exited,
    running: () => proc.exitCode === null && proc.signalCode === null && children.has(proc),
    onLine: (fn) => {
      lineListeners.push(fn);
    },
  };
}

/** SIGTERM by PID, SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(child: Child, graceMs = 5_000): Promise<void> {
  if (!child.running()) return;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    child.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await child.exited;
  }
}

/** Runs a command to its end, with its stdout lines passed to `onLine`; rejects on a non-zero exit. */
export async function runChild(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions & { onLine?: (line: string) => void; timeoutMs?: number } = {},
): Promise<string> {
  const { onLine, timeoutMs, ...spawnOptions } = options;
  const child = spawnChild(name, command, args, spawnOptions);
  if (onLine) child.onLine(onLine);
  let timer: NodeJS.Timeout | undefined;
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
  }
  const code = await child.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${child.output().slice(-2000)}`);
  return child.output();
}

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** SIGKILLs every child still running and removes every temp dir (synchronous: usable in 'exit'). */
export function cleanupAllSync(): number {
  let killed = 0;
  for (const proc of children) {
    if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(proc.pid, 'SIGKILL');
        killed++;
      } catch {
        // gone
      }
    }
  }
  children.clear();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs.clear();
  return killed;
}

let hooked = false;
/** Ctrl-C / SIGTERM / exit: stop every child by PID and remove the temp dirs. */
export function installCleanupHandlers(): void {
  if (hooked) return;
  hooked = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      const killed = cleanupAllSync();
      process.stderr.write(`\nbench: ${signal}: stopped ${killed} child process(es), removed temp dirs\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  process.once('exit', () => {
    cleanupAllSync();
  });
}

export function liveChildren(): number {
  return children.size;
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it is true; throws after `timeoutMs` or when `child` exits. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  child?: Child,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (child && !child.running()) {
      throw new Error(`${what}: ${child.name} exited:\n${child.output().slice(-2000)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${timeoutMs} ms${child ? `:\n${child.output().slice(-2000)}` : ''}`);
    }
    await sleep(everyMs);
  }
}

/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat (100 on every Linux this runs on; `getconf CLK_TCK`). */
const clockTicksPerSecond = 100;

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the fields after the command name (which may hold spaces) start at field 3 (state)
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

/** A positive integer from the environment variable `name` (underscores allowed), else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}=${raw} is not a positive integer`);
  return n;
}

/** VmRSS of a process in bytes, or NaN when it cannot be read. */
export function rssBytes(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples the RSS of `pids` every `everyMs`; stop() returns the samples (ms since start, the largest process's bytes). */
export function sampleRss(pids: () => number[], everyMs = 100): { stop(): { t: number; rss: number }[] } {
  const samples: { t: number; rss: number }[] = [];
  const start = Date.now();
  const take = (): void => {
    let max = 0;
    for (const pid of pids()) {
      const r = rssBytes(pid);
      if (Number.isFinite(r)) max = Math.max(max, r);
    }
    if (max > 0) samples.push({ t: Date.now() - start, rss: max });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

export function commandExists(command: string): boolean {
  const dirsOnPath = (process.env.PATH ?? '').split(':');
  return dirsOnPath.some((d) => {
    try {
      fs.accessSync(path.join(d, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
