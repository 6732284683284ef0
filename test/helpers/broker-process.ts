/**
 * A real broker in a child process (`sluice broker start`), on an ephemeral
 * port of 127.0.0.1 with its data in a temp dir, with its Kafka-protocol
 * listener on an ephemeral port too (kafka.port=0). Killed by PID, never by
 * name; restart() starts it again on the same data dir (and the same native
 * and Kafka ports when free, so clients that know the old addresses reconnect).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp-dir.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cliEntry = path.join(repoRoot, 'src/cli/main.ts');
/** The CLI bundled from src by test/global-setup.ts before the tests run (see there). */
export const cliBundle = path.join(repoRoot, 'test/.build/sluice.mjs');

/**
 * Node's arguments that run the CLI from src: the bundle global-setup made
 * for this test run when there is one, else src/cli/main.ts under tsx.
 */
export function cliCommand(): string[] {
  const bundle = process.env.SLUICE_TEST_BUNDLE;
  return bundle ? ['--enable-source-maps', bundle] : ['--import', 'tsx', cliEntry];
}

const startTimeoutMsDefault = 20_000;
const stopTimeoutMs = 10_000;
/** Output kept for diagnostics when the broker fails to start; older output is dropped. */
const outputKeptBytesMax = 64 * 1024;

export interface BrokerProcessOptions {
  /** broker.id (default 0). */
  brokerId?: number;
  /**
   * Extra `--override key=value` entries, applied after port, log.dirs, broker.id,
   * http.port=0 and kafka.port=0 (a later one wins; `kafka.port=-1` turns the Kafka listener off).
   */
  overrides?: string[];
  startTimeoutMs?: number;
  /** Sees every chunk of the broker's stdout and stderr (the kept recentOutput is bounded; a fuzz run reads all of it). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /**
   * The folder of an unpacked `npm pack` tarball: runs its compiled CLI (dist/cli/main.js,
   * plain node) with its config/server.properties, in that folder, instead of src under tsx.
   */
  packageDir?: string;
  /**
   * Runs the broker in a private mount namespace (`unshare -m`) with a tmpfs of this many bytes
   * mounted over its data dir: a small disk that fills, gone with the process (nothing stays
   * mounted on the host). The test sees its files through `inDataDir` (/proc/PID/root). A restart
   * mounts a new, empty tmpfs. Check `tmpfsSupported()` first.
   */
  tmpfsBytes?: number;
  /**
   * A network namespace (test/helpers/netns.ts) to run the broker in: spawned as
   * `ip netns exec NAME node ...` (ip exec's node, so the PID is the broker's).
   */
  netns?: string;
  /**
   * RLIMIT_NOFILE (soft and hard) of the broker: spawned as `prlimit --nofile=N:N node ...`
   * (prlimit execs node in place, so the PID is the broker's). Node raises its soft limit to
   * the hard one at start, so both are set.
   */
  nofile?: number;
  /** The host clients reach the broker on (default 127.0.0.1); set host.name to it in the overrides. */
  host?: string;
}

let tmpfsProbe: { ok: boolean; why: string } | undefined;

/**
 * Whether this machine lets a test mount a tmpfs in a private mount namespace (root, or the
 * capability, and util-linux's unshare); `why` says what failed otherwise.
 */
export function tmpfsSupported(): { ok: boolean; why: string } {
  if (tmpfsProbe) return tmpfsProbe;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-tmpfs-probe-'));
  try {
    const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$0"', dir], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const why = r.error ? r.error.message : (r.stderr || `exit code ${r.status}`).trim();
    tmpfsProbe = { ok: r.status === 0, why };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return tmpfsProbe;
}

export class BrokerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private output = '';
  port = 0;
  /** The admin HTTP API's port (from the 'http listening' log line). */
  httpPort = 0;
  /** The Kafka-protocol listener's port (from the 'kafka listening' log line); 0 when it is off. */
  kafkaPort = 0;

  private constructor(
    readonly dataDir: string,
    private readonly removeDataDir: () => void,
    private readonly options: BrokerProcessOptions,
  ) {}

  static async start(options: BrokerProcessOptions = {}): Promise<BrokerProcess> {
    const { dir, cleanup } = tempDir('sluice-broker-');
    const broker = new BrokerProcess(dir, cleanup, options);
    try {
      await broker.launch(0, 0);
    } catch (err) {
      await broker.destroy();
      throw err;
    }
    return broker;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get address(): string {
    return `${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  /** The Kafka listener's address for Kafka clients (kcat -b, kafkajs brokers). */
  get kafkaBrokers(): string {
    if (this.kafkaPort === 0) throw new Error('this broker has no Kafka listener (kafka.port=-1?)');
    return `${this.options.host ?? '127.0.0.1'}:${this.kafkaPort}`;
  }

  /** True while the process started last has not exited (stopped, killed or crashed). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private launch(port: number, kafkaPort: number): Promise<void> {
    const root = this.options.packageDir ?? repoRoot;
    const entry = this.options.packageDir ? [path.join(root, 'dist/cli/main.js')] : cliCommand();
    const args = [
      ...entry,
      'broker',
      'start',
      '--config',
      path.join(root, 'config/server.properties'),
      '--override',
      `port=${port}`,
      '--override',
      `log.dirs=${this.dataDir}`,
      '--override',
      `broker.id=${this.options.brokerId ?? 0}`,
      // an ephemeral admin HTTP port: parallel tests never collide on 8161 (an override may set one)
      '--override',
      'http.port=0',
      // an ephemeral Kafka-protocol port likewise (kept across restart() when free)
      '--override',
      `kafka.port=${kafkaPort}`,
      ...(this.options.overrides ?? []).flatMap((o) => ['--override', o]),
    ];
    // with tmpfsBytes: unshare and sh exec in place, and with netns ip exec's node: the child's PID is the broker's
    const { netns, tmpfsBytes, nofile } = this.options;
    if (netns !== undefined && tmpfsBytes !== undefined) throw new Error('netns and tmpfsBytes cannot be combined');
    if (nofile !== undefined && (netns !== undefined || tmpfsBytes !== undefined))
      throw new Error('nofile cannot be combined with netns or tmpfsBytes');
    const [command, commandArgs]: [string, string[]] =
      nofile !== undefined
        ? ['prlimit', [`--nofile=${nofile}:${nofile}`, '--', process.execPath, ...args]]
        : netns !== undefined
          ? ['ip', ['netns', 'exec', netns, process.execPath, ...args]]
          : tmpfsBytes === undefined
            ? [process.execPath, args]
            : [
                'unshare',
                [
                  '-m',
                  'sh',
                  '-c',
                  `mount -t tmpfs -o size=${tmpfsBytes} tmpfs "$0" && exec "$@"`,
                  this.dataDir,
                  process.execPath,
                  ...args,
                ],
              ];
    const child = spawn(command, commandArgs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    this.kafkaPort = 0;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const timeoutMs = this.options.startTimeoutMs ?? startTimeoutMsDefault;
    return new Promise<void>((resolve, reject) => {
      let pending = '';
      let started = false;
      const timer = setTimeout(() => fail(new Error(`broker did not start within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(new Error(`${err.message}\n${this.output}`));
      };
      const keep = (chunk: Buffer): void => {
        this.output = (this.output + chunk.toString('utf8')).slice(-outputKeptBytesMax);
      };
      const onOutput = this.options.onOutput;
      if (onOutput) {
        child.stderr?.on('data', (chunk: Buffer) => onOutput('stderr', chunk));
        child.stdout?.on('data', (chunk: Buffer) => onOutput('stdout', chunk));
      }
      child.stderr?.on('data', keep);
      child.stdout?.on('data', (chunk: Buffer) => {
        keep(chunk);
        if (started) return;
        pending += chunk.toString('utf8');
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          nl = pending.indexOf('\n');
          let entry: { msg?: unknown; port?: unknown };
          try {
            entry = JSON.parse(line) as typeof entry;
          } catch {
            continue;
          }
          if (entry.msg === 'http listening' && typeof entry.port === 'number') this.httpPort = entry.port;
          if (entry.msg === 'kafka listening' && typeof entry.port === 'number') this.kafkaPort = entry.port;
          if (entry.msg === 'broker listening' && typeof entry.port === 'number') {
            this.port = entry.port;
            started = true;
            pending = '';
            clearTimeout(timer);
            resolve();
            return;
          }
        }
        if (pending.length > outputKeptBytesMax) pending = pending.slice(-outputKeptBytesMax);
      });
      child.once('exit', (code, signal) => fail(new Error(`broker exited early (code ${code}, signal ${signal})`)));
      child.once('error', fail);
    });
  }

  /** Sends `signal` to the broker's PID and waits for it to exit; SIGKILL if it takes too long. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return null;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      return exited;
    }
    return code;
  }

  /**
   * Stops (if running) and starts again on the same data dir, on the same
   * native and Kafka ports if they are still free (else on fresh ephemeral ones).
   */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    const previous = this.port;
    const previousKafka = this.kafkaPort;
    try {
      await this.launch(previous, previousKafka);
    } catch {
      await this.stop('SIGKILL');
      this.port = 0;
      await this.launch(0, 0);
    }
  }

  /** Stops the broker and removes its data dir. */
  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    this.removeDataDir();
  }

  /**
   * A path under the data dir as the broker sees it: through /proc/PID/root, so a test reaches the
   * files of a tmpfs mounted in the broker's own mount namespace (tmpfsBytes).
   */
  inDataDir(...parts: string[]): string {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('the broker is not running');
    return path.join(`/proc/${pid}/root`, this.dataDir, ...parts);
  }

  /** The broker's recent stdout/stderr, for failure messages. */
  get recentOutput(): string {
    return this.output;
  }
}
