/**
 * Runs test/integration/fixtures/txn-processor.ts (a kafkajs
 * consume-transform-produce processor) as a supervised child process: started
 * again whenever it exits (killed or failed) until stop(), a bounded number
 * of times; killed by PID. Its JSON status lines are kept as events, and the
 * test holds one of its transactions open ("hold" → "held") to inject a fault
 * mid-transaction, then releases it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from './broker-process.js';
import { exited, killAndWait } from './child-process.js';
import { pollUntil } from './poll.js';

const script = path.join(repoRoot, 'test/integration/fixtures/txn-processor.ts');
/** Events kept for the test and its failure messages; older ones are dropped. */
const eventsKeptMax = 10_000;
const stderrKeptBytesMax = 32 * 1024;

export interface ProcessorOptions {
  input: string;
  output: string;
  groupId: string;
  transactionalId: string;
  /** Records per transaction, at most. */
  chunk: number;
}

export interface ProcessorEvent {
  ev: 'ready' | 'committed' | 'held' | 'error';
  /** Which incarnation (1, 2, ...) reported it. */
  incarnation: number;
  partition?: number;
  records?: number;
  error?: string;
}

export class ProcessorSupervisor {
  readonly events: ProcessorEvent[] = [];
  private child: ChildProcess | undefined;
  private stopping = false;
  incarnation = 0;
  stderr = '';

  constructor(
    private readonly options: ProcessorOptions,
    /** The Kafka listeners' addresses, asked at each start (a restarted broker may have moved). */
    private readonly brokers: () => string[],
    private readonly restartsMax: number,
  ) {}

  start(): void {
    if (this.stopping) return;
    if (this.incarnation > this.restartsMax) {
      this.events.push({ ev: 'error', incarnation: this.incarnation, error: 'too many restarts: not started again' });
      return;
    }
    const incarnation = ++this.incarnation;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, JSON.stringify({ ...this.options, brokers: this.brokers() })],
      { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdin?.on('error', () => undefined);
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-stderrKeptBytesMax);
    });
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        const e = JSON.parse(line) as Omit<ProcessorEvent, 'incarnation'>;
        this.events.push({ ...e, incarnation });
        if (this.events.length > eventsKeptMax) this.events.splice(0, this.events.length - eventsKeptMax);
      } catch {
        // not a status line
      }
    });
    child.once('exit', () => {
      if (!this.stopping) setTimeout(() => this.start(), 200);
    });
  }

  /** The running incarnation's PID (undefined between incarnations). */
  get pid(): number | undefined {
    return this.child && !exited(this.child) ? this.child.pid : undefined;
  }

  /** SIGKILL of the current incarnation by PID; the supervisor starts the next one. */
  async kill(): Promise<void> {
    if (this.child) await killAndWait(this.child);
  }

  private send(cmd: string): void {
    if (this.child && !exited(this.child)) this.child.stdin?.write(`${JSON.stringify({ cmd })}\n`);
  }

  /** The events after index `from` that match. */
  since(from: number, ev: ProcessorEvent['ev']): ProcessorEvent[] {
    return this.events.slice(from).filter((e) => e.ev === ev);
  }

  /** Waits until an event `ev` arrives after index `from` (and at least `count` of them). */
  waitFor(what: string, from: number, ev: ProcessorEvent['ev'], timeoutMs: number, count = 1): Promise<ProcessorEvent> {
    return pollUntil(`the processor's ${what}`, timeoutMs, async () => this.since(from, ev)[count - 1]).catch(
      (err: Error) => {
        throw new Error(`${err.message}\nevents: ${JSON.stringify(this.events.slice(-20))}\nstderr: ${this.stderr}`);
      },
    );
  }

  /**
   * Asks the running incarnation to hold its next transaction open once its records are
   * acknowledged; resolves with the "held" event (which names the partition written). An
   * incarnation that dies first is replaced and asked again.
   */
  async hold(timeoutMs: number): Promise<ProcessorEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const from = this.events.length;
      const asked = this.incarnation;
      this.send('hold');
      const held = await pollUntil(
        'a held transaction',
        Math.max(0, deadline - Date.now()),
        async () => this.since(from, 'held')[0] ?? (this.incarnation !== asked ? null : undefined),
      );
      if (held) return held;
      // the incarnation asked was replaced: wait for the new one to be ready, then ask it
      await this.waitFor('next incarnation to be ready', from, 'ready', Math.max(0, deadline - Date.now()));
    }
  }

  release(): void {
    this.send('release');
  }

  /** Stops supervising and kills the current incarnation by PID. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child) await killAndWait(this.child);
  }
}
