/**
 * ssl.client.auth=required on the native listener of one broker (its Kafka
 * listener stays PLAINTEXT): a client without a certificate is refused with a
 * clear error and the broker says why in its log; a client with a trusted
 * certificate produces and consumes; the broker's own clients (its readiness
 * probe and the admin API's client) present the broker's certificate and get
 * in, and the admin API itself serves HTTPS (http.ssl.keystore.location); a TLS client on the PLAINTEXT port is told it is no TLS listener, and
 * that listener keeps serving plaintext clients.
 */
import fs from 'node:fs';
import https from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import type { ClientTlsOptions } from '../../src/client/types.js';
import { ErrorCode, SluiceError } from '../../src/shared/errors.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { ensureKcat, Kcat } from '../helpers/kcat.js';
import { tempDir } from '../helpers/temp-dir.js';

let certs: TestCerts;
let broker: BrokerProcess;
let log = '';
const cleanups: (() => void)[] = [];
const clients: Sluice[] = [];
const kcat = new Kcat();

beforeAll(async () => {
  ensureKcat();
  const dir = tempDir('sluice-tls-auth-');
  cleanups.push(dir.cleanup);
  certs = makeTestCerts(dir.dir);
  broker = await BrokerProcess.start({
    overrides: [
      'native.security.protocol=SSL',
      'inter.broker.security.protocol=SSL',
      'kafka.security.protocol=PLAINTEXT',
      `ssl.keystore.location=${certs.broker.keystore}`,
      `ssl.truststore.location=${certs.ca}`,
      'ssl.client.auth=required',
      // the admin API over HTTPS, with the broker's keystore
      `http.ssl.keystore.location=${certs.broker.keystore}`,
      'default.replication.factor=1',
    ],
    onOutput: (_stream, chunk) => {
      log += chunk.toString('utf8');
    },
  });
}, 360_000);

afterEach(async () => {
  await kcat.stopAll();
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
}, 30_000);

afterAll(async () => {
  await kcat.stopAll();
  await broker?.destroy();
  for (const c of cleanups.splice(0)) c();
}, 30_000);

const read = (file: string): string => fs.readFileSync(file, 'utf8');

function client(ssl: ClientTlsOptions, brokers = broker.address): Sluice {
  const c = new Sluice({ brokers, ssl, retries: 0 });
  clients.push(c);
  return c;
}

async function failure(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    return err as SluiceError;
  }
  throw new Error('expected a failure');
}

/** GET `url` of the admin API over HTTPS, trusting the test CA. */
function httpsGet(url: string, authorization?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port: broker.httpPort,
        path: url,
        ca: read(certs.ca),
        headers: authorization ? { authorization } : {},
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

async function waitForLog(text: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!log.includes(text)) {
    if (Date.now() > deadline) throw new Error(`no log line with "${text}":\n${log.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ssl.client.auth=required', () => {
  it('a client without a certificate is refused with a clear error; one with a trusted certificate is served', async () => {
    const refused = await failure(
      client({ ca: read(certs.ca) })
        .admin()
        .listTopics(),
    );
    expect(refused.code).toBe(ErrorCode.TlsFailed);
    expect(refused.message).toMatch(/requires a client certificate/);
    await waitForLog('the client sent no certificate (ssl.client.auth=required)');

    const sluice = client({ ca: read(certs.ca), cert: read(certs.client.cert), key: read(certs.client.key) });
    const producer = sluice.producer({ acks: -1 });
    const [sent] = await producer.send({ topic: 'auth-required', messages: [{ value: 'hello' }] });
    await producer.close();
    const consumer = sluice.consumer({ maxWaitMs: 100 });
    consumer.assign([{ topic: 'auth-required', partition: sent?.partition ?? 0, offset: 0 }]);
    const values: string[] = [];
    const deadline = Date.now() + 20_000;
    while (values.length < 1 && Date.now() < deadline) {
      for (const r of await consumer.poll()) values.push(String(r.value));
    }
    await consumer.close();
    expect(values).toEqual(['hello']);
  });

  it("the broker's own clients present its certificate: /readyz and the admin API work, over HTTPS", async () => {
    const ready = await httpsGet('/readyz');
    expect(ready.status, ready.body).toBe(200);
    const topics = await httpsGet('/api/topics', `Basic ${Buffer.from('admin:admin').toString('base64')}`);
    expect(topics.status, topics.body).toBe(200);
    expect(topics.body).toContain('auth-required');
    // plain HTTP on the HTTPS port gets no answer
    await expect(fetch(`http://127.0.0.1:${broker.httpPort}/readyz`)).rejects.toThrow();
  });

  it('a TLS client on the PLAINTEXT Kafka port is told so; the port keeps serving plaintext clients', async () => {
    const wrongPort = await failure(
      client({ ca: read(certs.ca) }, broker.kafkaBrokers)
        .admin()
        .listTopics(),
    );
    expect(wrongPort.code).toBe(ErrorCode.TlsFailed);
    expect(wrongPort.message).toMatch(/is it a PLAINTEXT listener\?/);
    // and the broker says what happened instead of "a frame of 369 MB"
    await waitForLog('a TLS handshake on a PLAINTEXT listener');
    const listed = await kcat.run(['-b', broker.kafkaBrokers, '-L', '-m', '5']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/1 brokers:/);
  });
});
