/**
 * Debian's kcat (librdkafka 2.x) as an independent Kafka client for the
 * Kafka-listener tests. `run` is for commands that end by themselves (-L,
 * -P, -C -e): bounded by a timeout, then SIGKILL by PID. `spawn` is for the
 * long-running ones (-G group consumers): the child's stdout is collected
 * line by line and stopAll() ends it by PID (SIGTERM, then SIGKILL when it
 * lingers). Every child is remembered so an afterEach/afterAll leaves none.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './broker-process.js';
import { exited, type RunResult, runToEnd } from './child-process.js';

export const kcatPath = '/usr/bin/kcat';
const runTimeoutMsDefault = 20_000;
/** How long a SIGTERMed kcat may take to leave its group and exit before it gets SIGKILL. */
const stopGraceMs = 5_000;
/** Output kept per stream of a spawned kcat; older output is dropped (lines already parsed are kept). */
const outputKeptBytesMax = 256 * 1024;

/** Installs Debian's kcat when it is missing (root only; otherwise fails with the command to run). */
export function ensureKcat(): void {
  execFileSync('bash', [path.join(repoRoot, 'scripts/kcat.sh'), 'ensure'], { stdio: 'inherit', timeout: 300_000 });
}

export type KcatResult = RunResult;

export interface KcatRunOptions {
  /** Written to kcat's stdin, which is then closed (kcat -P ends at EOF). */
  input?: string;
  timeoutMs?: number;
}

/** A kcat that runs until stopped, its stdout split into lines as they come. */
export class KcatProcess {
  readonly lines: string[] = [];
  stderr = '';
  private pending = '';
  private readonly exit: Promise<void>;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly child: ChildProcess,
    readonly args: readonly string[],
  ) {
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout?.on('data', (chunk: Buffer) => {
      this.pending += chunk.toString('utf8');
      let nl = this.pending.indexOf('\n');
      while (nl >= 0) {
        this.lines.push(this.pending.slice(0, nl));
        this.pending = this.pending.slice(nl + 1);
        nl = this.pending.indexOf('\n');
      }
      this.wake();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-outputKeptBytesMax);
      this.wake();
    });
    child.once('exit', () => this.wake());
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !exited(this.child);
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /**
   * Resolves when `cond` holds (checked on every output chunk and every
   * 100 ms); rejects after `timeoutMs` or when kcat exits first.
   */
  waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let tick: NodeJS.Timeout | undefined;
      const done = (err?: Error): void => {
        clearTimeout(timer);
        clearInterval(tick);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const check = (): void => {
        if (cond()) done();
        else if (!this.running) done(new Error(`kcat exited while waiting for ${what}\n${this.stderr}`));
      };
      timer = setTimeout(
        () => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr:\n${this.stderr}`)),
        timeoutMs,
      );
      tick = setInterval(check, 100);
      this.waiters.add(check);
      check();
    });
  }

  /** SIGTERM by PID (kcat closes its consumer: leaves the group), SIGKILL if it lingers. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    let timer: NodeJS.Timeout | undefined;
    const lingering = await Promise.race([
      this.exit.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), stopGraceMs);
      }),
    ]);
    clearTimeout(timer);
    if (lingering && this.running) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await this.exit;
    }
  }
}

/** Runs kcat; remembers every child so stopAll() (afterEach/afterAll) can end them by PID. */
export class Kcat {
  private readonly children = new Set<ChildProcess>();
  private readonly spawned = new Set<KcatProcess>();

  /** kcat with `args`, stdin from `input`, bounded by `timeoutMs` (then SIGKILL by PID and a rejection). */
  run(args: string[], options: KcatRunOptions = {}): Promise<KcatResult> {
    const child = spawn(kcatPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    return runToEnd(
      child,
      `kcat ${args.join(' ')}`,
      options.input ?? '',
      options.timeoutMs ?? runTimeoutMsDefault,
    ).finally(() => this.children.delete(child));
  }

  /** A long-running kcat (e.g. a -G group consumer); stop it with its stop() or stopAll(). */
  spawn(args: string[]): KcatProcess {
    const child = spawn(kcatPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.once('error', () => undefined);
    const p = new KcatProcess(child, args);
    this.spawned.add(p);
    return p;
  }

  /** Stops every spawned kcat (SIGTERM, then SIGKILL) and kills every run() still going, by PID. */
  async stopAll(): Promise<void> {
    const running = [...this.children].filter((child) => !exited(child));
    this.children.clear();
    const gone = running.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
    for (const child of running) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    const spawned = [...this.spawned];
    this.spawned.clear();
    await Promise.all([...gone, ...spawned.map((p) => p.stop())]);
  }
}
