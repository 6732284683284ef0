/**
 * What a broker writes on stdout (issue 19): JSON lines when stdout is not a terminal
 * (log.format=auto, as here: the tests pipe it), human lines with log.format=pretty, and
 * at start one summary line instead of a line per partition; a leadership change after
 * the start is still logged per partition.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { BrokerProcess, cliCommand, repoRoot } from '../helpers/broker-process.js';
import { killAndWait } from '../helpers/child-process.js';
import { waitFor } from '../helpers/group-consumers.js';
import { tempDir } from '../helpers/temp-dir.js';

const startTimeoutMs = 30_000;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
const ansi = /\u001b\[[0-9;]*m/g;

let broker: BrokerProcess | undefined;
const clients: Sluice[] = [];
const dirs: (() => void)[] = [];

afterAll(async () => {
  for (const c of clients) await c.close();
  await broker?.destroy();
  for (const cleanup of dirs) cleanup();
});

function lines(output: string): string[] {
  return output.split('\n').filter((l) => l.trim() !== '');
}

interface Entry {
  msg?: string;
  level?: number;
  [key: string]: unknown;
}

function entries(output: string): Entry[] {
  return lines(output).map((l) => JSON.parse(l) as Entry);
}

describe('broker log lines', () => {
  it('auto under a pipe: JSON lines; one start-up summary, the partitions it had at debug, later changes at info', async () => {
    broker = await BrokerProcess.start();
    const sluice = new Sluice({ brokers: [broker.address], clientId: 'logs-test' });
    clients.push(sluice);
    await sluice.admin().createTopic({ topic: 'orders', partitions: 3, replicationFactor: 1 });
    const producer = sluice.producer({ acks: -1 });
    await producer.send({ topic: 'orders', messages: [{ key: 'k', value: 'v', partition: 1 }] });
    await producer.close();
    // a topic created after the start: its leaderships are changes, logged one per partition
    // the broker has written its lines before it answered; this process may read its stdout pipe a little later
    const leadingOrders = () =>
      entries(broker?.recentOutput ?? '').filter((e) => e.msg === 'leading partition' && e.topic === 'orders');
    await waitFor('the leading partition lines of orders', () => leadingOrders().length >= 3);
    const created = leadingOrders();
    expect(created.map((e) => e.partition).sort()).toEqual([0, 1, 2]);
    // a topic of 50 partitions (as the first group's __consumer_offsets): a few lines, then one summary
    await sluice.admin().createTopic({ topic: 'wide', partitions: 50, replicationFactor: 1 });
    // every one of the 50 changes is either a line of its own or counted in a summary line
    const wideLines = () =>
      entries(broker?.recentOutput ?? '').filter((e) => e.topic === 'wide' && String(e.msg).startsWith('leading'));
    const accounted = () => wideLines().reduce((n, e) => n + (e.msg === 'leading partitions' ? Number(e.count) : 1), 0);
    await waitFor('every leadership of the wide topic, logged or summarised', () => accounted() >= 50);
    expect(accounted()).toBe(50);
    const own = wideLines().filter((e) => e.msg === 'leading partition');
    const wideSummaries = wideLines().filter((e) => e.msg === 'leading partitions');
    // at most 8 lines per one-second window (a busy machine may spread the creation over two windows)
    expect(wideSummaries.length).toBeGreaterThanOrEqual(1);
    expect(own.length).toBeGreaterThanOrEqual(8);
    expect(own.length).toBeLessThanOrEqual(8 * (wideSummaries.length + 1));

    // the broker dies without closing its logs: the next start recovers them, and says so in its summary
    await broker.restart('SIGKILL');
    const after = entries(broker.recentOutput);
    expect(after.filter((e) => e.msg === 'leading partition' || e.msg === 'following partition')).toEqual([]);
    expect(after.filter((e) => e.msg === 'recovering segments')).toEqual([]);
    const summaries = after.filter((e) => e.msg === 'broker listening');
    expect(summaries).toHaveLength(1);
    const summary = summaries[0] as Entry;
    expect(summary).toMatchObject({
      level: 30,
      brokerId: 0,
      mode: 'standalone',
      port: broker.port,
      native: `PLAINTEXT://127.0.0.1:${broker.port}`,
      kafka: `PLAINTEXT://127.0.0.1:${broker.kafkaPort}`,
      http: `http://127.0.0.1:${broker.httpPort}`,
      dirs: [broker.dataDir],
      topics: 2,
      partitions: 53,
      leaders: 53,
      followers: 0,
    });
    // the partition holding the record was not closed cleanly (every log of a kill -9 counts as recovered)
    expect(summary.recovered).toBeGreaterThanOrEqual(1);
    expect(summary.recovered).toBeLessThanOrEqual(53);
    expect(typeof summary.startMs).toBe('number');
  }, 90_000);

  it('log.format=pretty: human lines (no JSON), the summary on one line', async () => {
    const { dir, cleanup } = tempDir('sluice-pretty-');
    dirs.push(cleanup);
    const overrides = ['port=0', 'http.port=0', 'kafka.port=0', `log.dirs=${dir}`, 'log.format=pretty'];
    const child = spawn(
      process.execPath,
      [
        ...cliCommand(),
        'broker',
        'start',
        '--config',
        path.join(repoRoot, 'config/server.properties'),
        ...overrides.flatMap((o) => ['--override', o]),
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no summary line in ${startTimeoutMs} ms\n${output}`)),
          startTimeoutMs,
        );
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          if (/broker listening.*\n/.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.stderr.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`broker exited (code ${code})\n${output}`));
        });
      });
    } finally {
      await killAndWait(child);
    }
    const shown = lines(output.replace(ansi, ''));
    expect(shown.length).toBeGreaterThan(1);
    for (const line of shown) {
      expect(line.startsWith('{'), line).toBe(false);
      expect(line, line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN): \[broker 0\] /);
    }
    const summary = shown.find((l) => l.includes('broker listening')) ?? '';
    expect(summary).toMatch(
      / mode=standalone native=PLAINTEXT:\/\/127\.0\.0\.1:\d+ kafka=PLAINTEXT:\/\/127\.0\.0\.1:\d+ /,
    );
    expect(summary).toMatch(/ http=http:\/\/127\.0\.0\.1:\d+ /);
    expect(summary).toContain(` dirs=${dir} `);
    expect(summary).toMatch(
      / partitions=0 leaders=0 followers=0 recovered=0 openFiles=\d+ openFilesLimit=\d+ segmentFilesMax=\d+ startMs=\d+$/,
    );
  }, 60_000);
});
