/**
 * SASL on the Kafka listener (issue 17), one broker with
 * kafka.security.protocol=SASL_PLAINTEXT and PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512 enabled, its native listener left PLAINTEXT so that
 * `sluice user add` (password from stdin) creates the users through the
 * running broker. Kafka's own clients authenticate with each mechanism:
 * kafkajs 2.2.4 (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and kcat/librdkafka
 * (SCRAM-SHA-512); a wrong password and an unknown user are refused with
 * Kafka's message and the broker keeps serving (the answer and the close wait
 * connection.failed.authentication.delay.ms); any request but ApiVersions
 * and SaslHandshake before authentication closes the connection.
 */
import net from 'node:net';
import { Kafka, type KafkaConfig, logLevel, Partitioners, type SASLOptions } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../helpers/broker-process.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { ensureKcat, Kcat } from '../helpers/kcat.js';

let broker: BrokerProcess;
const cli = new CliRunner();
const kcat = new Kcat();
const opened: { disconnect(): Promise<void> }[] = [];

/** Longer than Kafka's 100 ms default so that the delay stands out from the time a refusal takes without it. */
const failedAuthenticationDelayMs = 600;

const passwords = { alice: 'alice-secret', bob: 'b0b, with = signs' };

async function sluice(args: string[], input?: string): Promise<string> {
  const r = await cli.run(args, { brokers: broker.address, ...(input === undefined ? {} : { input }) });
  expect(r.code, `sluice ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  ensureKcat();
  broker = await BrokerProcess.start({
    overrides: [
      'kafka.security.protocol=SASL_PLAINTEXT',
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'default.replication.factor=1',
      'group.initial.rebalance.delay.ms=0',
      `connection.failed.authentication.delay.ms=${failedAuthenticationDelayMs}`,
    ],
  });
  await sluice(['user', 'add', 'alice', '--mechanism', 'SCRAM-SHA-256'], `${passwords.alice}\n`);
  await sluice(
    ['user', 'add', 'alice', '--mechanism', 'scram-sha-512', '--iterations', '8192'],
    `${passwords.alice}\n`,
  );
  await sluice(['user', 'add', 'bob', '--mechanism', 'SCRAM-SHA-512'], `${passwords.bob}\n`);
  await sluice(['topic', 'create', 'secured', '--partitions', '1', '--replication-factor', '1']);
}, 120_000);

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((c) => c.disconnect()));
  cli.killAll();
  await kcat.stopAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await kcat.stopAll();
  await broker?.destroy();
}, 30_000);

function kafka(sasl: SASLOptions, config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'sluice-sasl-it',
    brokers: [broker.kafkaBrokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 0 },
    sasl,
    ...config,
  });
}

describe('sluice user', () => {
  it('lists the users with their mechanisms and iterations, and refuses what does not exist', async () => {
    expect(JSON.parse(await sluice(['user', 'list', '--json']))).toEqual([
      {
        user: 'alice',
        credentials: [
          { mechanism: 'SCRAM-SHA-256', iterations: 4096 },
          { mechanism: 'SCRAM-SHA-512', iterations: 8192 },
        ],
      },
      { user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    ]);
    expect(await sluice(['user', 'list', 'bob'])).toBe(
      "SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=4096\n",
    );
    expectOneLineError(
      await cli.run(['user', 'delete', 'bob', '--mechanism', 'SCRAM-SHA-256'], { brokers: broker.address }),
      /RESOURCE_NOT_FOUND/,
    );
    expectOneLineError(await cli.run(['user', 'list', 'carol'], { brokers: broker.address }), /RESOURCE_NOT_FOUND/);
    expectOneLineError(
      await cli.run(['user', 'add', 'carol', '--mechanism', 'PLAIN'], { brokers: broker.address, input: 'x\n' }),
      /not a SCRAM mechanism/,
    );
  });
});

describe('kafkajs', () => {
  for (const sasl of [
    { mechanism: 'plain', username: 'alice', password: passwords.alice },
    { mechanism: 'scram-sha-256', username: 'alice', password: passwords.alice },
    { mechanism: 'scram-sha-512', username: 'bob', password: passwords.bob },
  ] as const) {
    it(`produces and reads back with ${sasl.mechanism}`, async () => {
      const client = kafka(sasl);
      const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      opened.push(producer);
      await producer.connect();
      const [sent] = await producer.send({ topic: 'secured', messages: [{ value: `via ${sasl.mechanism}` }] });
      const admin = client.admin();
      opened.push(admin);
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets('secured');
      expect(Number(offsets[0]?.high)).toBeGreaterThan(Number(sent?.baseOffset));
    });
  }

  it('refuses a wrong password and an unknown user with the same message; the broker keeps serving', async () => {
    for (const sasl of [
      { mechanism: 'scram-sha-256', username: 'alice', password: 'guess' },
      { mechanism: 'scram-sha-256', username: 'nobody', password: 'guess' },
    ] as const) {
      const admin = kafka(sasl).admin();
      opened.push(admin);
      await expect(admin.connect()).rejects.toThrow(
        'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256',
      );
    }
    const plain = kafka({ mechanism: 'plain', username: 'bob', password: 'guess' }).admin();
    opened.push(plain);
    await expect(plain.connect()).rejects.toThrow(/invalid credentials with SASL mechanism PLAIN/);
    const good = kafka({ mechanism: 'scram-sha-512', username: 'bob', password: passwords.bob }).admin();
    opened.push(good);
    await good.connect();
    expect(await good.listTopics()).toContain('secured');
  });
});

describe('kcat (librdkafka)', () => {
  const scram = (password: string) => [
    '-b',
    broker.kafkaBrokers,
    '-X',
    'security.protocol=SASL_PLAINTEXT',
    '-X',
    'sasl.mechanisms=SCRAM-SHA-512',
    '-X',
    'sasl.username=alice',
    '-X',
    `sasl.password=${password}`,
  ];

  it('produces and consumes with SCRAM-SHA-512', async () => {
    const produced = await kcat.run([...scram(passwords.alice), '-P', '-t', 'secured'], { input: 'from-kcat\n' });
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat.run([...scram(passwords.alice), '-C', '-t', 'secured', '-o', 'beginning', '-e']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout).toContain('from-kcat');
  });

  it('is refused with a wrong password', async () => {
    const r = await kcat.run([...scram('guess'), '-L', '-m', '2'], { timeoutMs: 20_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Authentication failed/);
  });
});

describe('before authentication', () => {
  /** Sends one Kafka request (v0 header, empty body) on a fresh socket; resolves with the bytes received until close. */
  function rawRequest(
    apiKey: number,
    apiVersion: number,
    body: Buffer,
  ): Promise<{ received: Buffer; closed: boolean }> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: '127.0.0.1', port: broker.kafkaPort });
      const chunks: Buffer[] = [];
      const clientId = Buffer.from('raw');
      const header = Buffer.alloc(10);
      header.writeInt16BE(apiKey, 0);
      header.writeInt16BE(apiVersion, 2);
      header.writeInt32BE(7, 4);
      header.writeInt16BE(clientId.length, 8);
      const payload = Buffer.concat([header, clientId, body]);
      const size = Buffer.alloc(4);
      size.writeInt32BE(payload.length);
      socket.on('connect', () => socket.write(Buffer.concat([size, payload])));
      socket.on('data', (c) => {
        chunks.push(c);
        // ApiVersions is answered and the connection stays: done once a whole frame is in
        const all = Buffer.concat(chunks);
        if (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) {
          socket.destroy();
          resolve({ received: all, closed: false });
        }
      });
      socket.on('close', () => resolve({ received: Buffer.concat(chunks), closed: true }));
      socket.on('error', reject);
      socket.setTimeout(10_000, () => reject(new Error('no answer and no close within 10 s')));
    });
  }

  it("reads SaslHandshake v0's raw SASL frames (no Kafka header) and then serves requests", async () => {
    const socket = net.createConnection({ host: '127.0.0.1', port: broker.kafkaPort });
    const received: Buffer[] = [];
    let wanted: (() => void) | undefined;
    socket.on('data', (c) => {
      received.push(c);
      wanted?.();
    });
    const frame = async (payload: Buffer): Promise<Buffer> => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(payload.length);
      received.length = 0;
      socket.write(Buffer.concat([size, payload]));
      for (;;) {
        const all = Buffer.concat(received);
        if (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) return all.subarray(4, 4 + all.readInt32BE(0));
        await new Promise<void>((resolve) => {
          wanted = resolve;
        });
      }
    };
    const request = (apiKey: number, version: number, body: Buffer): Buffer => {
      const header = Buffer.alloc(10);
      header.writeInt16BE(apiKey, 0);
      header.writeInt16BE(version, 2);
      header.writeInt32BE(1, 4);
      header.writeInt16BE(-1, 8);
      return Buffer.concat([header, body]);
    };
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      const mechanism = Buffer.from('PLAIN');
      const handshake = await frame(request(17, 0, Buffer.concat([Buffer.from([0, mechanism.length]), mechanism])));
      expect(handshake.readInt16BE(4)).toBe(0);
      // the PLAIN message as a raw frame; success is an empty raw frame
      expect(await frame(Buffer.from(`\u0000alice\u0000${passwords.alice}`))).toEqual(Buffer.alloc(0));
      // authenticated: Metadata v0 for every topic is answered
      const metadata = await frame(request(3, 0, Buffer.from([0, 0, 0, 0])));
      expect(metadata.readInt32BE(0)).toBe(1);
    } finally {
      socket.destroy();
    }
  });

  it('answers a failed authentication after connection.failed.authentication.delay.ms, then closes; others are served meanwhile', async () => {
    const socket = net.createConnection({ host: '127.0.0.1', port: broker.kafkaPort });
    const events: { what: 'frame' | 'close'; at: number; frame?: Buffer }[] = [];
    let pending = Buffer.alloc(0);
    let notify: (() => void) | undefined;
    socket.on('data', (c) => {
      pending = Buffer.concat([pending, c]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        events.push({ what: 'frame', at: performance.now(), frame: pending.subarray(4, 4 + pending.readInt32BE(0)) });
        pending = pending.subarray(4 + pending.readInt32BE(0));
      }
      notify?.();
    });
    socket.on('close', () => {
      events.push({ what: 'close', at: performance.now() });
      notify?.();
    });
    socket.on('error', () => {});
    const until = async (n: number): Promise<void> => {
      while (events.length < n) await new Promise<void>((resolve) => (notify = resolve));
    };
    const request = (apiKey: number, version: number, correlationId: number, body: Buffer): Buffer => {
      const header = Buffer.alloc(10);
      header.writeInt16BE(apiKey, 0);
      header.writeInt16BE(version, 2);
      header.writeInt32BE(correlationId, 4);
      header.writeInt16BE(-1, 8);
      const payload = Buffer.concat([header, body]);
      const size = Buffer.alloc(4);
      size.writeInt32BE(payload.length);
      return Buffer.concat([size, payload]);
    };
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      const mechanism = Buffer.from('PLAIN');
      socket.write(request(17, 1, 1, Buffer.concat([Buffer.from([0, mechanism.length]), mechanism])));
      await until(1);
      expect(events[0]?.frame?.readInt16BE(4)).toBe(0);
      const token = Buffer.from('\u0000bob\u0000not-the-password');
      const length = Buffer.alloc(4);
      length.writeInt32BE(token.length);
      const sentAt = performance.now();
      socket.write(request(36, 0, 2, Buffer.concat([length, token])));
      // while the failure waits, the broker serves another client
      const good = kafka({ mechanism: 'scram-sha-512', username: 'bob', password: passwords.bob }).admin();
      opened.push(good);
      await good.connect();
      expect(await good.listTopics()).toContain('secured');
      await until(3);
      const [answer, close] = [events[1], events[2]];
      // the clear error first (correlation id, SASL_AUTHENTICATION_FAILED = 58, Kafka's message), then the close
      expect(answer?.what).toBe('frame');
      expect(answer?.frame?.readInt32BE(0)).toBe(2);
      expect(answer?.frame?.readInt16BE(4)).toBe(58);
      expect(answer?.frame?.subarray(8, 8 + (answer.frame.readInt16BE(6) ?? 0)).toString()).toBe(
        'Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN',
      );
      expect(close?.what).toBe('close');
      // not before the delay (less a few ms of the broker's timer clock against this one)
      expect((answer?.at ?? 0) - sentAt).toBeGreaterThanOrEqual(failedAuthenticationDelayMs - 25);
    } finally {
      socket.destroy();
    }
  });

  it('answers ApiVersions, and closes the connection on any other request', async () => {
    const versions = await rawRequest(18, 0, Buffer.alloc(0));
    expect(versions.closed).toBe(false);
    expect(versions.received.readInt16BE(8)).toBe(0);
    // Metadata v0 for every topic (an empty list): closed unanswered, after the failed-authentication
    // delay as Kafka does for its IllegalSaslStateException (not before it, less the timers' clock skew)
    const sentAt = performance.now();
    const metadata = await rawRequest(3, 0, Buffer.from([0, 0, 0, 0]));
    expect(metadata).toEqual({ received: Buffer.alloc(0), closed: true });
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(failedAuthenticationDelayMs - 25);
  });
});
