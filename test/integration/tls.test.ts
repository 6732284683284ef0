/**
 * (The broker logs at most 5 refused handshakes per 10 s: the tests that look
 * for those lines run first.)
 *
 * TLS on both listeners of one broker (native.security.protocol=SSL,
 * kafka.security.protocol=SSL, an encrypted PEM keystore, ssl.client.auth=requested),
 * with certificates made by openssl (test/helpers/certs.ts): the native client,
 * the CLI (--command-config and SLUICE_COMMAND_CONFIG), kcat (librdkafka) and
 * kafkajs produce and consume over TLS; a trusted client certificate makes the
 * connection's principal its subject (seen in the broker's debug log); an
 * expired or untrusted client certificate, an untrusted broker certificate, a
 * host name the certificate does not name and a plaintext client each fail
 * with a clear error, and the broker keeps serving.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import type { ClientTlsOptions, SluiceOptions } from '../../src/client/types.js';
import { ErrorCode, SluiceError } from '../../src/shared/errors.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { clientCertPrincipal, makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { ensureKcat, Kcat } from '../helpers/kcat.js';
import { tempDir } from '../helpers/temp-dir.js';

let certs: TestCerts;
let broker: BrokerProcess;
let log = '';
const cleanups: (() => void)[] = [];
const clients: Sluice[] = [];
const kcat = new Kcat();
const cli = new CliRunner();

beforeAll(async () => {
  ensureKcat();
  const dir = tempDir('sluice-tls-');
  cleanups.push(dir.cleanup);
  certs = makeTestCerts(dir.dir);
  broker = await BrokerProcess.start({
    overrides: [
      'native.security.protocol=SSL',
      'inter.broker.security.protocol=SSL',
      'kafka.security.protocol=SSL',
      `ssl.keystore.location=${certs.brokerEncrypted.keystore}`,
      `ssl.key.password=${certs.brokerKeyPassword}`,
      `ssl.truststore.location=${certs.ca}`,
      'ssl.client.auth=requested',
      // the 'TLS connection' line (with the principal) is logged at debug
      'log.level=debug',
      'default.replication.factor=1',
      'group.initial.rebalance.delay.ms=0',
    ],
    onOutput: (_stream, chunk) => {
      log += chunk.toString('utf8');
    },
  });
}, 360_000);

afterEach(async () => {
  cli.killAll();
  await kcat.stopAll();
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await kcat.stopAll();
  await broker?.destroy();
  for (const c of cleanups.splice(0)) c();
}, 30_000);

const read = (file: string): string => fs.readFileSync(file, 'utf8');

function client(ssl: SluiceOptions['ssl'], options: SluiceOptions = {}): Sluice {
  const c = new Sluice({ brokers: broker.address, ssl, retries: 0, ...options });
  clients.push(c);
  return c;
}

const trusting = (): ClientTlsOptions => ({ ca: read(certs.ca) });
const withCert = (pair: { cert: string; key: string }): ClientTlsOptions => ({
  ca: read(certs.ca),
  cert: read(pair.cert),
  key: read(pair.key),
});

/** The error `promise` rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    return err as SluiceError;
  }
  throw new Error('expected a failure');
}

/** The broker's log lines (JSON) with message `msg`. */
function logLines(msg: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitForLog(msg: string, match: (entry: Record<string, unknown>) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!logLines(msg).some(match)) {
    if (Date.now() > deadline) throw new Error(`no "${msg}" log line matched:\n${log.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The broker still serves a TLS client after whatever the test did to it. */
async function stillServes(): Promise<void> {
  const topics = await client(trusting()).admin().listTopics();
  expect(Array.isArray(topics)).toBe(true);
}

describe('TLS listeners', () => {
  it('the native client produces and consumes over TLS (by IP and by host name)', async () => {
    const sluice = client(trusting());
    await sluice.admin().createTopic({ topic: 'tls-native', partitions: 2, replicationFactor: 1 });
    const producer = sluice.producer({ acks: -1 });
    await producer.send({
      topic: 'tls-native',
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `v${i}`, partition: i % 2 })),
    });
    await producer.close();
    // localhost: the name is checked against the certificate's DNS entry (and sent as SNI)
    const byName = client(trusting(), { brokers: `localhost:${broker.port}` });
    const consumer = byName.consumer({ maxWaitMs: 100 });
    consumer.assign([0, 1].map((partition) => ({ topic: 'tls-native', partition, offset: 0 })));
    const values: string[] = [];
    const deadline = Date.now() + 20_000;
    while (values.length < 20 && Date.now() < deadline) {
      for (const r of await consumer.poll()) values.push(String(r.value));
    }
    await consumer.close();
    expect(values.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`).sort());
  });

  it("a trusted client certificate's subject is the principal; without one it is User:ANONYMOUS", async () => {
    await client(withCert(certs.client), { clientId: 'with-cert' }).admin().listTopics();
    await waitForLog('TLS connection', (e) => e.principal === 'User:CN=client,OU=Test,O=Sluice,C=NO');
    expect(clientCertPrincipal).toBe('User:CN=client,OU=Test,O=Sluice,C=NO');
    const before = logLines('TLS connection').length;
    await client(trusting()).admin().listTopics();
    await waitForLog('TLS connection', () => logLines('TLS connection').length > before);
    expect(logLines('TLS connection').slice(before)[0]?.principal).toBe('User:ANONYMOUS');
  });

  it('a plaintext client on the TLS port gets a clear error; the broker logs it and keeps serving', async () => {
    const plain = await failure(client(undefined).admin().listTopics());
    expect(plain.code).toBe(ErrorCode.BrokerUnreachable);
    expect(plain.message).toMatch(/is it an SSL listener\? set the ssl option/);
    await waitForLog('TLS handshake failed', (e) => String(e.reason).includes('did not speak TLS'));
    await stillServes();
  });

  it('an expired or untrusted client certificate is refused: a clear client error, a log line, the broker unharmed', async () => {
    const expired = await failure(client(withCert(certs.expired)).admin().listTopics());
    expect(expired.code).toBe(ErrorCode.TlsFailed);
    expect(expired.message).toMatch(/refuse the client certificate/);
    await waitForLog('TLS handshake failed', (e) => e.reason === 'client certificate refused: CERT_HAS_EXPIRED');
    const untrusted = await failure(client(withCert(certs.untrusted)).admin().listTopics());
    expect(untrusted.code).toBe(ErrorCode.TlsFailed);
    await waitForLog('TLS handshake failed', (e) =>
      String(e.reason).startsWith('client certificate refused: DEPTH_ZERO_SELF_SIGNED_CERT'),
    );
    await stillServes();
  });

  it('a broker certificate the client does not trust, or that does not name the host, is refused at once', async () => {
    // the system CAs do not know the test CA
    const untrusted = await failure(client(true).admin().listTopics());
    expect(untrusted.code).toBe(ErrorCode.TlsFailed);
    expect(untrusted.retriable).toBe(false);
    expect(untrusted.message).toBe(
      `TLS to the broker at ${broker.address} failed: its certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN): is ssl.ca right?`,
    );
    const wrongName = await failure(
      client({ ...trusting(), servername: 'other.example' })
        .admin()
        .listTopics(),
    );
    expect(wrongName.code).toBe(ErrorCode.TlsFailed);
    expect(wrongName.message).toMatch(/its certificate does not name the host/);
    await stillServes();
  });

  it('kcat (librdkafka) produces and consumes with security.protocol=SSL; without the CA it is refused', async () => {
    const ssl = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs.ca}`];
    const brokers = ['-b', broker.kafkaBrokers];
    const produced = await kcat.run([...brokers, ...ssl, '-P', '-t', 'tls-kcat'], { input: 'a\nb\nc\n' });
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat.run([
      ...brokers,
      ...ssl,
      '-X',
      `ssl.certificate.location=${certs.client.cert}`,
      '-X',
      `ssl.key.location=${certs.client.key}`,
      '-C',
      '-t',
      'tls-kcat',
      '-e',
      '-q',
    ]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual(['a', 'b', 'c']);
    const refused = await kcat.run([...brokers, '-X', 'security.protocol=SSL', '-L', '-m', '3']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/certificate verify failed/);
  });

  it('kafkajs produces and consumes with ssl', async () => {
    const config: KafkaConfig = {
      clientId: 'sluice-tls-it',
      brokers: [`localhost:${broker.kafkaPort}`],
      ssl: { ca: [read(certs.ca)] },
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    };
    const kafka = new Kafka(config);
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'tls-kafkajs', messages: [{ value: 'one' }, { value: 'two' }] });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: 'tls-kafkajs', maxWaitTimeInMs: 200 });
    const seen: string[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: 'tls-kafkajs', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
      const deadline = Date.now() + 30_000;
      while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual(['one', 'two']);
  });

  it('the CLI takes Kafka client properties from --command-config or SLUICE_COMMAND_CONFIG', async () => {
    const dir = tempDir('sluice-tls-cli-');
    cleanups.push(dir.cleanup);
    const config = path.join(dir.dir, 'client.properties');
    fs.writeFileSync(
      config,
      [
        'security.protocol=SSL',
        `ssl.ca.location=${certs.ca}`,
        `ssl.certificate.location=${certs.client.cert}`,
        `ssl.key.location=${certs.client.key}`,
        '',
      ].join('\n'),
    );
    const produced = await cli.run(['produce', 'tls-cli', '--command-config', config], {
      brokers: broker.address,
      input: 'x\ny\n',
    });
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await cli.run(['consume', 'tls-cli', '--from-beginning', '--max-messages', '2'], {
      brokers: broker.address,
      env: { SLUICE_COMMAND_CONFIG: config },
    });
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual(['x', 'y']);
    // without it: the plaintext client is told what to do
    const plain = await cli.run(['topic', 'list'], { brokers: broker.address });
    expectOneLineError(plain, /is it an SSL listener\? set the ssl option/);
    // a key the client does not know is refused by name, before any connection
    const typo = path.join(dir.dir, 'typo.properties');
    fs.writeFileSync(typo, `security.protocol=SSL\nssl.truststore.location=${certs.ca}\n`);
    const refused = await cli.run(['topic', 'list', '--command-config', typo], { brokers: broker.address });
    expectOneLineError(refused, /unknown key ssl\.truststore\.location/);
  });
});
