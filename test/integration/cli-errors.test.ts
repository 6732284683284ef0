/**
 * Errors say what went wrong and what to do (issue 19 item 2): the `sluice`
 * CLI and the client against a real broker child process — an unknown host,
 * a refused port, a port that never answers, the broker's HTTP port, its
 * Kafka port, and a listener that closes without answering.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import { ErrorCode, SluiceError } from '../../src/shared/errors.js';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { killAndWait } from '../helpers/child-process.js';
import { type CliResult, CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { freePort } from '../helpers/zookeeper.js';

const cli = new CliRunner();
let broker: BrokerProcess;

function runCli(args: string[], options: { input?: string; brokers?: string } = {}): Promise<CliResult> {
  return cli.run(args, { ...options, brokers: options.brokers ?? broker.address });
}

async function caught(p: Promise<unknown>): Promise<SluiceError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SluiceError) return err;
    throw err;
  }
  throw new Error('expected a SluiceError');
}

beforeAll(async () => {
  // no auto-creation: a missing topic stays missing (a produce would create it otherwise)
  broker = await BrokerProcess.start({ overrides: ['auto.create.topics.enable=false'] });
});

afterEach(() => {
  cli.killAll();
});

afterAll(async () => {
  await broker?.destroy();
});

describe('connection errors name their cause', () => {
  it('an unknown host: cannot resolve host X', async () => {
    const r = await runCli(['topic', 'list'], { brokers: 'no-such-host.invalid:9092' });
    expectOneLineError(r, /cannot resolve host no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\)/);
    expect(r.stderr).toMatch(/SLUICE_ERR_BROKER_UNREACHABLE/);
  });

  it('a refused port: nothing listens on host:port (connection refused)', async () => {
    const port = await freePort();
    const r = await runCli(['topic', 'list'], { brokers: `127.0.0.1:${port}` });
    expectOneLineError(r, new RegExp(`nothing listens on 127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
  });

  it('every broker of the list with its own cause', async () => {
    const port = await freePort();
    const r = await runCli(['topic', 'list'], { brokers: `127.0.0.1:${port},no-such-host.invalid:9092` });
    expectOneLineError(r, /nothing listens on .*; cannot resolve host no-such-host\.invalid/);
  });

  it('a port that never answers the connect: no answer from host:port within N ms', async () => {
    // a listener with a backlog of 1 in a stopped process: once its accept queue is full the kernel
    // drops further SYNs, so a connect gets no answer at all (as from a firewalled host)
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '-e',
        "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const fillers: net.Socket[] = [];
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once('exit', () => reject(new Error('listener exited')));
      });
      if (child.pid !== undefined) process.kill(child.pid, 'SIGSTOP');
      // fill the accept queue (backlog + 1 on Linux): these complete in the kernel, nobody accepts them
      for (let i = 0; i < 2; i++) {
        const s = net.createConnection({ host: '127.0.0.1', port });
        fillers.push(s);
        await new Promise<void>((resolve, reject) => {
          s.once('connect', resolve);
          s.once('error', reject);
        });
      }
      const sluice = new Sluice({
        brokers: `127.0.0.1:${port}`,
        clientId: 'errors',
        connectTimeoutMs: 500,
        retries: 0,
      });
      try {
        const err = await caught(sluice.admin().listTopics());
        expect(err.code).toBe(ErrorCode.BrokerUnreachable);
        expect(err.message).toMatch(new RegExp(`no answer from 127\\.0\\.0\\.1:${port} within 500 ms`));
      } finally {
        await sluice.close();
      }
    } finally {
      for (const s of fillers) s.destroy();
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGCONT');
      await killAndWait(child);
    }
  });
});

describe('the wrong port is recognised', () => {
  it("the broker's HTTP port: an HTTP listener, and where the native one is", async () => {
    const r = await runCli(['topic', 'list'], { brokers: `127.0.0.1:${broker.httpPort}` });
    expectOneLineError(
      r,
      new RegExp(`127\\.0\\.0\\.1:${broker.httpPort} is an HTTP listener \\(the admin console/API\\?\\).*\`port\``),
    );
    expect(r.stderr).not.toMatch(/frame of/);
  });

  it("the broker's Kafka port answers a native request naming this broker's native port", async () => {
    const r = await runCli(['topic', 'list'], { brokers: broker.kafkaBrokers });
    expectOneLineError(
      r,
      new RegExp(
        `^sluice: ${broker.kafkaBrokers} is Sluice's Kafka listener .*native listener is port ${broker.port}\\b.*\\(SLUICE_ERR_WRONG_LISTENER\\)`,
      ),
    );
    // the broker goes on serving both listeners
    const ok = await runCli(['topic', 'list']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('a listener that closes without answering (as Apache Kafka does): is it a Kafka listener?', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['topic', 'list'], { brokers: `127.0.0.1:${port}` });
      expectOneLineError(
        r,
        new RegExp(
          `127\\.0\\.0\\.1:${port} closed the connection without answering: is it a Kafka listener\\? Sluice's native listener is`,
        ),
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/** Exit 1 with exactly one "sluice: ..." line on stderr (log lines may precede it on either stream). */
function expectOneStartError(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.startsWith('sluice: '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('broker start errors name the config key', () => {
  const start = (overrides: string[]): Promise<CliResult> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-errors-'));
    dirs.push(dir);
    return runCli([
      'broker',
      'start',
      ...['port=0', 'http.port=0', 'kafka.port=0', `log.dirs=${dir}`, ...overrides].flatMap((o) => ['--override', o]),
    ]);
  };
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the native port in use: port=N, and --override', async () => {
    const r = await start([`port=${broker.port}`]);
    expectOneStartError(r, new RegExp(`port=${broker.port}: .* is already in use .*--override port=PORT`));
  });

  it('the Kafka port in use: kafka.port=N', async () => {
    const r = await start([`kafka.port=${broker.kafkaPort}`]);
    expectOneStartError(
      r,
      new RegExp(`kafka\\.port=${broker.kafkaPort}: .* is already in use .*--override kafka\\.port=PORT`),
    );
  });

  it('the HTTP port in use: http.port=N', async () => {
    const r = await start([`http.port=${broker.httpPort}`]);
    expectOneStartError(
      r,
      new RegExp(`http\\.port=${broker.httpPort}: .* is already in use .*--override http\\.port=PORT`),
    );
  });

  it('log.dirs naming a file, or a path through a file: the key and the path', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-errors-')), 'a-file');
    dirs.push(path.dirname(file));
    fs.writeFileSync(file, 'not a directory');
    const r = await start([`log.dirs=${file}`]);
    expectOneStartError(r, new RegExp(`log\\.dirs=${file}: cannot use ${file} as a data directory: it is a file`));
    const below = path.join(file, 'data');
    const r2 = await start([`log.dirs=${below}`]);
    expectOneStartError(
      r2,
      new RegExp(`log\\.dirs=${below}: cannot use ${below} as a data directory: a part of the path is a file`),
    );
  });

  it('an unknown key suggests the nearest known one', async () => {
    // the start fails (a file as log.dirs) after the warnings are logged
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-errors-')), 'a-file');
    dirs.push(path.dirname(file));
    fs.writeFileSync(file, '');
    const r = await start(['log.retention.msec=1000', 'zzz.unrelated=1', `log.dirs=${file}`]);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toContain('unknown config key log.retention.msec (ignored): did you mean log.retention.ms?');
    expect(out).toContain('unknown config key zzz.unrelated (ignored)');
    expect(out).not.toMatch(/zzz\.unrelated \(ignored\): did you mean/);
  });
});

describe('CLI answers in words', () => {
  it('a missing topic is "unknown topic X" for produce, consume and describe', async () => {
    const runs = await Promise.all([
      runCli(['produce', 'no-such-topic'], { input: 'a\n' }),
      runCli(['consume', 'no-such-topic', '--max-messages', '1', '--timeout-ms', '500']),
      runCli(['consume', 'no-such-topic', '--partition', '0', '--offset', '0', '--timeout-ms', '500']),
      runCli(['topic', 'describe', 'no-such-topic']),
    ]);
    for (const r of runs) {
      expectOneLineError(r, /^sluice: unknown topic no-such-topic .*sluice topic create no-such-topic/);
      expect(r.stderr).not.toMatch(/UNKNOWN_PARTITION|UNKNOWN_TOPIC_OR_PARTITION/);
    }
  });

  it('a missing partition of an existing topic is not called an unknown topic', async () => {
    expect((await runCli(['topic', 'create', 'words-one', '-p', '1'])).code).toBe(0);
    const r = await runCli(['produce', 'words-one', '--partition', '5'], { input: 'a\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/unknown topic words-one/);
  });

  it('consume --offset past the log end says so instead of jumping', async () => {
    expect((await runCli(['topic', 'create', 'words-end', '-p', '2'])).code).toBe(0);
    expect((await runCli(['produce', 'words-end', '--partition', '1'], { input: 'a\nb\nc\n' })).code).toBe(0);
    const past = await runCli(['consume', 'words-end', '--partition', '1', '--offset', '7', '--timeout-ms', '500']);
    expectOneLineError(past, /offset 7 is past the end of words-end-1 \(log end 3\)/);
    // the log end itself is no error: nothing yet, the consumer waits (bounded by --timeout-ms)
    const atEnd = await runCli(['consume', 'words-end', '--partition', '1', '--offset', '3', '--timeout-ms', '300']);
    expect(atEnd.code, atEnd.stderr).toBe(0);
    const within = await runCli(['consume', 'words-end', '--partition', '1', '--offset', '1', '--max-messages', '2']);
    expect(within.code, within.stderr).toBe(0);
    expect(within.stdout).toBe('b\nc\n');
  });

  it('dlq list with no dead-letter queue says so (and --json stays an empty array)', async () => {
    const r = await runCli(['dlq', 'list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^No dead-letter queues/);
    const json = await runCli(['dlq', 'list', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('sluice --version prints the package version', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe('one error style, one exit-code scheme (docs/errors.md)', () => {
  it('usage errors: exit 2, one line "sluice: usage error: <what> — see --help for the usage"', async () => {
    const runs = await Promise.all([
      runCli(['topic', 'create', 'style-t', '--no-such-flag']),
      runCli(['topic', 'create']),
      runCli(['consume', 'style-t', '--offset', '3']),
      runCli(['no-such-command']),
    ]);
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^sluice: usage error: .+ — see --help for the usage$/);
    }
  });

  it('runtime errors: exit 1, one line "sluice: <what> — <what to do> (SLUICE_ERR_…)"', async () => {
    const port = await freePort();
    const r = await runCli(['topic', 'list'], { brokers: `127.0.0.1:${port}` });
    expectOneLineError(
      r,
      /^sluice: no broker reachable: .+ — check that the broker runs and that --brokers .+ \(SLUICE_ERR_BROKER_UNREACHABLE\)$/m,
    );
    const bad = await runCli(['topic', 'create', 'style-t', '-p', 'many']);
    expectOneLineError(bad, /^sluice: .+ \(SLUICE_ERR_INVALID_ARGUMENT\)$/m);
  });
});
