/**
 * The runner's side of a chaos worker: a child process (`node --import tsx
 * test/chaos/workers/<script>.ts OPTIONS_JSON`) whose stderr goes to a file,
 * whose status lines (stdout JSON) are tracked, and which is stopped by PID
 * (SIGTERM to finish cleanly, SIGKILL on cleanup).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from '../helpers/broker-process.js';
import { exited, killAndWait } from '../helpers/child-process.js';

/** Error lines a worker reports that the runner keeps (the rest are counted). */
const errorsKeptMax = 50;

export class WorkerProcess {
  private readonly child: ChildProcess;
  private readonly exit: Promise<number | null>;
  private readyResolve: () => void = () => undefined;
  readonly ready: Promise<void>;
  /** The last "progress" line's fields. */
  progress: Record<string, number> = {};
  done: Record<string, unknown> | undefined;
  readonly errors: string[] = [];
  errorCount = 0;

  constructor(
    readonly name: string,
    script: string,
    options: Record<string, unknown>,
    resultsDir: string,
  ) {
    const stderr = fs.openSync(path.join(resultsDir, `${name}.stderr.log`), 'a');
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'test/chaos/workers', script), JSON.stringify(options)],
      { cwd: repoRoot, stdio: ['pipe', 'pipe', stderr] },
    );
    fs.closeSync(stderr);
    this.child.stdin?.on('error', () => undefined);
    this.exit = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      void this.exit.then((code) => reject(new Error(`worker ${name} exited (code ${code}) before it was ready`)));
    });
    this.ready.catch(() => undefined);
    const lines = readline.createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => this.onLine(line));
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (msg.ev === 'ready') this.readyResolve();
    else if (msg.ev === 'progress') this.progress = msg as Record<string, number>;
    else if (msg.ev === 'done') this.done = msg;
    else if (msg.ev === 'error') {
      this.errorCount++;
      if (this.errors.length < errorsKeptMax)
        this.errors.push(`${new Date(Number(msg.t)).toISOString()} ${String(msg.error)}`);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !exited(this.child);
  }

  command(value: unknown): void {
    this.child.stdin?.write(`${JSON.stringify(value)}\n`);
  }

  /** SIGTERM by PID: the worker finishes cleanly. */
  terminate(): void {
    if (this.running && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGTERM');
  }

  /** Resolves with the exit code, or 'timeout' when the worker still runs after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<number | null | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL by PID and wait until it is gone. */
  kill(): Promise<void> {
    return killAndWait(this.child);
  }
}
