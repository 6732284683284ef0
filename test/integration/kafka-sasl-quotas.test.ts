/**
 * Client quotas for SASL users (issue 17): on a SASL_PLAINTEXT Kafka
 * listener a quota on `user=alice` applies to the connections alice
 * authenticated and not to bob's, and Kafka's precedence holds across levels
 * (user + client-id over user over client-id). The clients authenticate with
 * Kafka's SaslHandshake v1 / SaslAuthenticate v0 (PLAIN) laid by hand from
 * the protocol guide and produce with kafkajs's Produce v7 encoder, whose
 * decoder reads throttle_time_ms back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../helpers/broker-process.js';
import { CliRunner } from '../helpers/cli-runner.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsRequest, kafkajsResponse } from '../helpers/kafkajs-protocol.js';

const topic = 'sasl-quota-t';
const passwords: Record<string, string> = { alice: 'alice-secret', bob: 'bob-secret' };
let broker: BrokerProcess;
const cli = new CliRunner();
const opened: KafkaRawClient[] = [];

async function sluice(...args: string[]): Promise<void> {
  const input = args[0] === 'user' ? `${passwords[args[2] ?? ''] ?? ''}\n` : undefined;
  const r = await cli.run(args, { brokers: broker.address, ...(input === undefined ? {} : { input }) });
  expect(r.code, `sluice ${args.join(' ')}\n${r.stderr}`).toBe(0);
}

beforeAll(async () => {
  broker = await BrokerProcess.start({
    overrides: [
      // the native listener stays PLAINTEXT: the CLI manages users and quotas through it
      'kafka.security.protocol=SASL_PLAINTEXT',
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256',
      'default.replication.factor=1',
      'quota.window.num=2',
      'quota.window.size.seconds=1',
    ],
  });
  await sluice('user', 'add', 'alice', '--mechanism', 'SCRAM-SHA-256');
  await sluice('user', 'add', 'bob', '--mechanism', 'SCRAM-SHA-256');
  await sluice('topic', 'create', topic, '--partitions', '1', '--replication-factor', '1');
  // three levels for alice: user (1 KB/s), user + client-id 'special' (generous), client-id 'app' (generous)
  await sluice('quota', 'set', '--user', 'alice', '--producer-byte-rate', '1024');
  await sluice('quota', 'set', '--user', 'alice', '--client-id', 'special', '--producer-byte-rate', '100000000');
  await sluice('quota', 'set', '--client-id', 'app', '--producer-byte-rate', '100000000');
}, 60_000);

afterEach(() => {
  cli.killAll();
});

afterAll(async () => {
  for (const c of opened) c.close();
  await broker?.destroy();
}, 30_000);

const str = (text: string): Buffer => {
  const b = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  return Buffer.concat([len, b]);
};

/** A Kafka connection as `user` (SASL PLAIN) with client id `clientId`. */
async function connectAs(user: string, clientId: string): Promise<KafkaRawClient> {
  const client = await KafkaRawClient.connect(broker.kafkaPort, clientId);
  opened.push(client);
  // SaslHandshake v1: mechanism → error_code, [mechanisms]
  const handshake = await client.call({ apiKey: 17, apiVersion: 1, body: str('PLAIN') });
  expect(handshake.readInt16BE(0)).toBe(0);
  // SaslAuthenticate v0: auth_bytes (PLAIN: authzid NUL user NUL password) → error_code, error_message, auth_bytes
  const token = Buffer.from(`\u0000${user}\u0000${passwords[user]}`);
  const size = Buffer.alloc(4);
  size.writeInt32BE(token.length);
  const authenticated = await client.call({ apiKey: 36, apiVersion: 0, body: Buffer.concat([size, token]) });
  expect(authenticated.readInt16BE(0)).toBe(0);
  return client;
}

/** Produces one 50 KB record (Produce v7, acks 1) and answers the response's throttle_time_ms. */
async function produceThrottle(client: KafkaRawClient): Promise<number> {
  const produce = await kafkajsRequest('produce', 7, {
    acks: 1,
    timeout: 5000,
    topicData: [{ topic, partitions: [{ partition: 0, messages: [{ key: null, value: Buffer.alloc(50 * 1024) }] }] }],
  });
  const { decoded } = await kafkajsResponse<{
    clientSideThrottleTime: number;
    topics: { partitions: { errorCode: number }[] }[];
  }>('produce', 7, await client.call(produce, 30_000));
  expect(decoded.topics[0]?.partitions[0]?.errorCode).toBe(0);
  return decoded.clientSideThrottleTime;
}

describe('client quotas for SASL users', () => {
  it("a user=alice quota throttles alice's connection and not bob's, with Kafka's precedence", async () => {
    // user=alice (1 KB/s) applies to alice whatever her client id, over the client-id 'app' quota:
    // 50 KB is far over it, so the throttle is the whole window (2 × 1 s)
    expect(await produceThrottle(await connectAs('alice', 'app'))).toBe(2000);
    // user=alice + client-id=special beats user=alice
    expect(await produceThrottle(await connectAs('alice', 'special'))).toBe(0);
    // bob: no user quota; with client id 'app' the client-id quota applies (generous), with another none
    expect(await produceThrottle(await connectAs('bob', 'app'))).toBe(0);
    expect(await produceThrottle(await connectAs('bob', 'other'))).toBe(0);
    // the metrics name the user the usage was counted against
    const viewer = `Basic ${Buffer.from('viewer:viewer').toString('base64')}`;
    const metrics = await (
      await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`, { headers: { authorization: viewer } })
    ).text();
    expect(metrics).toMatch(/sluice_quota_throttled_total\{quota="producer_byte_rate",user="alice",client_id=""\} 1\b/);
    expect(metrics).not.toMatch(/sluice_quota_throttled_total\{[^}]*user="bob"/);
  }, 60_000);
});
