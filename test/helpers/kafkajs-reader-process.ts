/**
 * A kafkajs group consumer run as a child process
 * (test/integration/fixtures/kafkajs-reader.ts) and ended by SIGKILL by PID:
 * for tests whose brokers are killed and restarted, where stopping an
 * in-process kafkajs 2.2.4 consumer can spin the test process in a promise
 * loop (the fixture's header says which kafkajs code and why).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from './broker-process.js';
import { exited, killAndWait } from './child-process.js';
import type { ReadOptions, ReadRecord } from './kafkajs-transactions.js';
import { pollUntil } from './poll.js';

const script = path.join(repoRoot, 'test/integration/fixtures/kafkajs-reader.ts');
/** Records kept; past it the reader fails its reads instead of dropping any (a test compares them all). */
const recordsKeptMax = 100_000;
const stderrKeptBytesMax = 32 * 1024;
const crashesKeptMax = 20;

export interface ReaderProcessOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  /** false: read_committed. */
  readUncommitted: boolean;
}

export class KafkajsReaderProcess {
  /** Every record the consumer was handed, in the order it was handed them. */
  readonly records: ReadRecord[] = [];
  /** kafkajs crashes reported (it restarts the consumer after retriable ones), for failure messages. */
  readonly crashes: string[] = [];
  stderr = '';
  private overflowed = false;

  private constructor(private readonly child: ChildProcess) {
    child.stdin?.on('error', () => undefined);
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-stderrKeptBytesMax);
    });
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.take(line));
  }

  static start(options: ReaderProcessOptions): KafkajsReaderProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new KafkajsReaderProcess(child);
  }

  private take(line: string): void {
    let e: { ev?: string; partition?: number; offset?: number; value?: string; error?: string };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      return; // not a status line
    }
    if (e.ev === 'record') {
      if (this.records.length >= recordsKeptMax) {
        this.overflowed = true;
        return;
      }
      this.records.push({ partition: e.partition ?? -1, offset: e.offset ?? -1, value: e.value ?? '' });
    } else if (e.ev === 'crash' && this.crashes.length < crashesKeptMax) {
      this.crashes.push(e.error ?? 'crash');
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** What was read so far; throws if more records came than are kept. */
  read(): ReadRecord[] {
    if (this.overflowed) throw new Error(`the reader was handed more than ${recordsKeptMax} records`);
    return this.records;
  }

  /** Waits until `until` holds for what was read; the error names what was read and the reader's state. */
  async readUntil(what: string, until: (records: ReadRecord[]) => boolean, timeoutMs: number): Promise<ReadRecord[]> {
    await pollUntil(what, timeoutMs, async () => (until(this.read()) ? true : undefined)).catch((err: Error) => {
      const seen = this.records.map((r) => `${r.partition}@${r.offset}=${r.value}`).join(' ');
      const state = exited(this.child) ? `exited (${this.child.exitCode ?? this.child.signalCode})` : 'running';
      throw new Error(
        `${err.message}; read so far: ${seen || 'nothing'}; reader ${state}; crashes: ${this.crashes.join(' | ') || 'none'}\nstderr: ${this.stderr}`,
      );
    });
    return this.read();
  }

  /** SIGKILL by PID (never disconnect(): see the fixture's header); the group forgets it after its session. */
  stop(): Promise<void> {
    return killAndWait(this.child);
  }
}

/**
 * readTopic() (kafkajs-transactions.ts) in a child process: reads `topic`
 * from the beginning with a new group consumer until `until` holds, then
 * kills it by PID.
 */
export async function readTopicInChild(brokers: string[], topic: string, options: ReadOptions): Promise<ReadRecord[]> {
  const reader = KafkajsReaderProcess.start({
    brokers,
    topic,
    groupId: options.groupId,
    readUncommitted: options.readUncommitted,
  });
  try {
    const level = options.readUncommitted ? 'read_uncommitted' : 'read_committed';
    return [...(await reader.readUntil(`${level} records of ${topic}`, options.until, options.timeoutMs))];
  } finally {
    await reader.stop();
  }
}
