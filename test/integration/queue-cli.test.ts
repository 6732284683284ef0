/**
 * `sluice queue send|receive|browse|stats|purge` and `sluice dlq list|redrive`
 * as users run them: CLI child processes against a real broker child process.
 * Dead letters are made with the bare queue protocol (RawClient: QueueFetch,
 * then QueueAck 'reject'), so these tests check the CLI and the broker, not
 * the client library's listeners.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import type {
  QueueAckRequest,
  QueueAckResponse,
  QueueFetchRequest,
  QueueFetchResponse,
  QueueStats,
} from '../../src/protocol/native/queue-messages.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { type CliResult, CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { RawClient } from '../helpers/raw-client.js';

interface MessageJson {
  queue: string;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  deliveryCount: number;
}

const cliTimeoutMs = 30_000;
const statsKeys = ['consumers', 'deadLettered', 'depth', 'dequeued', 'enqueued', 'inFlight', 'queue'];
const messageKeys = ['deliveryCount', 'headers', 'key', 'offset', 'queue', 'timestamp', 'value'];

const cli = new CliRunner();
const raws: RawClient[] = [];
let broker: BrokerProcess;

function runCli(args: string[], input = ''): Promise<CliResult> {
  return cli.run(args, { input, brokers: broker.address, timeoutMs: cliTimeoutMs });
}

async function ok(args: string[], input = ''): Promise<CliResult> {
  const r = await runCli(args, input);
  expect(r.code, `sluice ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

const lines = (s: string): string[] => (s.length === 0 ? [] : s.replace(/\n$/, '').split('\n'));

async function stats(queue: string): Promise<QueueStats> {
  const r = await ok(['queue', 'stats', queue, '--json']);
  expect(lines(r.stdout)).toHaveLength(1);
  const s = JSON.parse(r.stdout) as QueueStats;
  expect(Object.keys(s).sort()).toEqual(statsKeys);
  expect(s.queue).toBe(queue);
  return s;
}

async function raw(): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  raws.push(c);
  return c;
}

/** A queue request, retried while the broker is still setting the queue up (its first use creates it). */
async function call<T extends { errorCode: number; errorMessage?: string }>(
  c: RawClient,
  apiKey: number,
  body: unknown,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await c.call<T>(apiKey, body);
    if (res.errorCode === 0 || attempt >= 50) return res;
    await sleep(100);
  }
}

/** Acquires up to `count` messages of `queue` with the bare protocol and rejects them: they are dead-lettered at once. */
async function deadLetter(queue: string, count: number): Promise<number[]> {
  const c = await raw();
  const consumerId = `cli-test-${queue}`;
  const offsets: number[] = [];
  for (let i = 0; i < 20 && offsets.length < count; i++) {
    const fetch: QueueFetchRequest = {
      queue,
      consumerId,
      prefetch: count,
      maxMessages: count - offsets.length,
      maxWaitMs: 500,
    };
    const res = await call<QueueFetchResponse>(c, ApiKey.QueueFetch, fetch);
    expect(res.errorCode, res.errorMessage).toBe(0);
    offsets.push(...res.messages.map((m) => m.offset));
  }
  expect(offsets).toHaveLength(count);
  const ack: QueueAckRequest = { queue, consumerId, acks: offsets.map((offset) => ({ offset, type: 'reject' })) };
  const res = await call<QueueAckResponse>(c, ApiKey.QueueAck, ack);
  expect(res.errorCode, res.errorMessage).toBe(0);
  for (const r of res.results) expect(r.errorCode, r.errorMessage).toBe(0);
  return offsets;
}

/** A port of 127.0.0.1 nothing listens on (bound, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it passes (dead-lettering and redrive may finish just after their acknowledgement). */
async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

beforeAll(async () => {
  broker = await BrokerProcess.start();
});

afterEach(() => {
  cli.killAll();
});

afterAll(async () => {
  for (const c of raws) c.socket.destroy();
  await broker?.destroy();
});

describe('queue CLI', () => {
  it('send, stats, browse (not consuming), receive --max-messages, receive --json, purge', async () => {
    const queue = 'cli-orders';
    const input = ['one', 'two', 'three', 'four', 'five'].join('\n');
    const sent = await ok(['queue', 'send', queue], `${input}\n`);
    expect(sent.stdout).toBe('');

    const before = await stats(queue);
    expect(before).toMatchObject({ depth: 5, inFlight: 0, consumers: 0, enqueued: 5, dequeued: 0, deadLettered: 0 });

    // the table and the array of every queue
    const table = await ok(['queue', 'stats']);
    expect(lines(table.stdout)[0]).toMatch(
      /^QUEUE\s+DEPTH\s+IN-FLIGHT\s+CONSUMERS\s+ENQUEUED\s+DEQUEUED\s+DEAD-LETTERED$/,
    );
    expect(table.stdout).toMatch(new RegExp(`^${queue}\\s+5\\s+0\\s+0\\s+5\\s+0\\s+0$`, 'm'));
    const all = JSON.parse((await ok(['queue', 'stats', '--json'])).stdout) as QueueStats[];
    expect(Array.isArray(all)).toBe(true);
    expect(all.find((s) => s.queue === queue)).toMatchObject({ depth: 5, enqueued: 5 });

    // browse twice: the same five, in order, and nothing consumed
    const browsed = await ok(['queue', 'browse', queue]);
    expect(lines(browsed.stdout)).toEqual(['one', 'two', 'three', 'four', 'five']);
    const browsedJson = lines((await ok(['queue', 'browse', queue, '--json'])).stdout).map(
      (l) => JSON.parse(l) as MessageJson,
    );
    expect(browsedJson.map((m) => m.value)).toEqual(['one', 'two', 'three', 'four', 'five']);
    for (const m of browsedJson) {
      expect(Object.keys(m).sort()).toEqual(messageKeys);
      expect(m.queue).toBe(queue);
      expect(m.key).toBeNull();
    }
    expect((await stats(queue)).depth).toBe(5);

    // receive two, then the rest as JSON
    const two = await ok(['queue', 'receive', queue, '--max-messages', '2', '--timeout-ms', '10000']);
    expect(lines(two.stdout)).toEqual(['one', 'two']);
    await eventually(async () => {
      expect(await stats(queue)).toMatchObject({ depth: 3, inFlight: 0, consumers: 0, enqueued: 5, dequeued: 2 });
    });

    const rest = await ok(['queue', 'receive', queue, '--json', '--prefetch', '1', '--timeout-ms', '1500']);
    const received = lines(rest.stdout).map((l) => JSON.parse(l) as MessageJson);
    expect(received.map((m) => m.value)).toEqual(['three', 'four', 'five']);
    for (const m of received) {
      expect(Object.keys(m).sort()).toEqual(messageKeys);
      expect(m.queue).toBe(queue);
      expect(m.deliveryCount).toBe(1);
      expect(m.timestamp).toBeGreaterThan(Date.UTC(2020, 0, 1));
    }
    expect(received.map((m) => m.offset)).toEqual([...received.map((m) => m.offset)].sort((a, b) => a - b));
    await eventually(async () => {
      expect(await stats(queue)).toMatchObject({ depth: 0, inFlight: 0, enqueued: 5, dequeued: 5 });
    });

    // an empty queue: receive ends after the idle timeout with nothing printed
    const empty = await ok(['queue', 'receive', queue, '--timeout-ms', '500']);
    expect(empty.stdout).toBe('');

    // purge empties the queue
    await ok(['queue', 'send', queue], 'a\nb\nc\n');
    expect((await stats(queue)).depth).toBe(3);
    const purged = await ok(['queue', 'purge', queue]);
    expect(purged.stdout).toMatch(/\b3 messages\b/);
    expect(await stats(queue)).toMatchObject({ depth: 0, inFlight: 0 });
    expect((await ok(['queue', 'browse', queue])).stdout).toBe('');
    expect((await ok(['queue', 'receive', queue, '--timeout-ms', '300'])).stdout).toBe('');
  });

  it('receive --max-messages takes no more than it prints: the next message keeps delivery count 1', async () => {
    const queue = 'cli-one-by-one';
    await ok(['queue', 'send', queue], 'a\nb\nc\nd\n');
    for (const [i, value] of ['a', 'b', 'c'].entries()) {
      const r = await ok(['queue', 'receive', queue, '--max-messages', '1', '--json', '--timeout-ms', '10000']);
      const got = lines(r.stdout).map((l) => JSON.parse(l) as MessageJson);
      expect(got.map((m) => [m.value, m.deliveryCount])).toEqual([[value, 1]]);
      expect(await stats(queue)).toMatchObject({ depth: 3 - i, inFlight: 0, consumers: 0 });
    }
    const two = await ok([
      'queue',
      'receive',
      queue,
      '--max-messages',
      '5',
      '--prefetch',
      '3',
      '--timeout-ms',
      '500',
      '--json',
    ]);
    expect(lines(two.stdout).map((l) => (JSON.parse(l) as MessageJson).deliveryCount)).toEqual([1]);
  });

  it('sends many lines in order, one message per line (including empty lines)', async () => {
    const queue = 'cli-many';
    const count = 2_500;
    const values = Array.from({ length: count }, (_, i) => (i % 500 === 7 ? '' : `m-${i}`));
    await ok(['queue', 'send', queue], `${values.join('\n')}\n`);
    expect((await stats(queue)).enqueued).toBe(count);
    const r = await ok(['queue', 'receive', queue, '--max-messages', String(count), '--timeout-ms', '10000']);
    expect(lines(r.stdout)).toEqual(values);
  });

  it('dlq list shows dead letters per queue and dlq redrive moves them back', async () => {
    const queue = 'cli-poison';
    await ok(['queue', 'send', queue], 'p1\np2\np3\n');
    await deadLetter(queue, 2);

    await eventually(async () => {
      const listed = JSON.parse((await ok(['dlq', 'list', '--json'])).stdout) as {
        dlq: string;
        queue: string;
        depth: number;
      }[];
      expect(listed).toContainEqual({ dlq: `DLQ.${queue}`, queue, depth: 2 });
    });
    const table = await ok(['dlq', 'list']);
    expect(lines(table.stdout)[0]).toMatch(/^DLQ\s+QUEUE\s+DEPTH$/);
    expect(table.stdout).toMatch(new RegExp(`^DLQ\\.${queue}\\s+${queue}\\s+2$`, 'm'));
    expect(await stats(queue)).toMatchObject({ depth: 1, deadLettered: 2 });
    const dead = lines((await ok(['queue', 'browse', `DLQ.${queue}`, '--json'])).stdout).map(
      (l) => JSON.parse(l) as MessageJson,
    );
    expect(dead.map((m) => m.value).sort()).toEqual(['p1', 'p2']);
    for (const m of dead) expect(m.headers['sluice.dlq.original.queue']).toBe(queue);

    const redriven = await ok(['dlq', 'redrive', queue]);
    expect(redriven.stdout).toMatch(/\b2 messages\b/);
    await eventually(async () => {
      expect((await stats(queue)).depth).toBe(3);
    });
    expect((await stats(`DLQ.${queue}`)).depth).toBe(0);
    const r = await ok(['queue', 'receive', queue, '--max-messages', '3', '--timeout-ms', '10000']);
    expect(lines(r.stdout).sort()).toEqual(['p1', 'p2', 'p3']);
  });

  it('bad usage exits 2, bad values exit 1 with one line, --help exits 0', async () => {
    const [noName, badFlag, noSub, badDlqSub, extraArg] = await Promise.all([
      runCli(['queue', 'send']),
      runCli(['queue', 'receive', 'q', '--no-such-flag']),
      runCli(['queue', 'frobnicate', 'q']),
      runCli(['dlq', 'redrive']),
      runCli(['queue', 'purge', 'a', 'b']),
    ]);
    for (const r of [noName, badFlag, noSub, badDlqSub, extraArg]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/error/);
    }

    const [badMax, badPrefetch, badTimeout] = await Promise.all([
      runCli(['queue', 'receive', 'q', '--max-messages', 'many']),
      runCli(['queue', 'receive', 'q', '--prefetch', 'lots']),
      runCli(['queue', 'receive', 'q', '--timeout-ms', '-5']),
    ]);
    expectOneLineError(badMax, /--max-messages/);
    expectOneLineError(badPrefetch, /--prefetch/);
    expectOneLineError(badTimeout, /--timeout-ms/);

    // nothing listens on a port just closed: every command fails with one line
    const closed = await closedPort();
    const unreachable = await Promise.all(
      [
        ['queue', 'send', 'q'],
        ['queue', 'receive', 'q', '--timeout-ms', '500'],
        ['queue', 'stats'],
        ['dlq', 'list'],
      ].map((args) => cli.run(args, { input: 'x\n', brokers: `127.0.0.1:${closed}`, timeoutMs: cliTimeoutMs })),
    );
    for (const r of unreachable) expectOneLineError(r, /reachable/);

    const helps = await Promise.all(
      [
        ['queue', '--help'],
        ['queue', 'send', '--help'],
        ['queue', 'receive', '--help'],
        ['queue', 'browse', '--help'],
        ['queue', 'stats', '--help'],
        ['queue', 'purge', '--help'],
        ['dlq', '--help'],
        ['dlq', 'list', '--help'],
        ['dlq', 'redrive', '--help'],
      ].map((args) => runCli(args)),
    );
    for (const h of helps) {
      expect(h.code, h.stderr).toBe(0);
      expect(h.stdout).toMatch(/Usage: sluice (queue|dlq)/);
    }
    expect(helps[2]?.stdout).toMatch(/--max-messages/);
    expect(helps[2]?.stdout).toMatch(/--prefetch/);
  });
});
