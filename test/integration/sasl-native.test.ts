/**
 * SASL on the native listener (issue 17), one standalone broker with
 * native.security.protocol=SASL_PLAINTEXT (the default mechanisms,
 * SCRAM-SHA-256 and SCRAM-SHA-512). The first users are bootstrapped offline
 * with `sluice user add --config` straight into the stopped broker's LevelDB
 * (refused with a clear error while it runs); the native client then
 * authenticates on every connection; a wrong password, an unknown user and a
 * mechanism the listener does not enable are refused with typed errors and
 * the broker keeps serving; a client without credentials is disconnected.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, Sluice, type SluiceOptions } from '../../src/index.js';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';

let broker: BrokerProcess;
const cli = new CliRunner();
const clients: Sluice[] = [];
const config = path.join(repoRoot, 'config/server.properties');

/** `sluice user ...` offline against the test broker's own config. */
function offline(args: string[], input?: string) {
  return cli.run([...args, '--config', config, '--override', `log.dirs=${broker.dataDir}`], {
    brokers: '127.0.0.1:1',
    ...(input === undefined ? {} : { input }),
  });
}

function client(options: Partial<SluiceOptions>): Sluice {
  const s = new Sluice({
    brokers: broker.address,
    clientId: 'sasl-native-it',
    retries: 1,
    retryBackoffMs: 50,
    ...options,
  });
  clients.push(s);
  return s;
}

beforeAll(async () => {
  broker = await BrokerProcess.start({
    overrides: [
      'native.security.protocol=SASL_PLAINTEXT',
      'sasl.inter.broker.username=broker',
      'sasl.inter.broker.password=broker-pw',
      'default.replication.factor=1',
    ],
  });
}, 60_000);

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  cli.killAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await broker?.destroy();
}, 30_000);

describe('bootstrap with sluice user --config', () => {
  it('is refused while the standalone broker runs, and writes its store once it is stopped', async () => {
    expectOneLineError(
      await offline(['user', 'add', 'alice', '--mechanism', 'SCRAM-SHA-256'], 'alice-pw\n'),
      /in use by another process.*stop the broker/,
    );
    await broker.stop();
    for (const [user, mechanism, password] of [
      ['broker', 'SCRAM-SHA-512', 'broker-pw'],
      ['alice', 'SCRAM-SHA-256', 'alice-pw'],
    ]) {
      const r = await offline(['user', 'add', user as string, '--mechanism', mechanism as string], `${password}\n`);
      expect(r.code, r.stderr).toBe(0);
    }
    const listed = await offline(['user', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      { user: 'alice', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }] },
      { user: 'broker', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    ]);
    await broker.restart();
  }, 90_000);
});

describe('the native client', () => {
  it('authenticates and produces, reads metadata and manages users', async () => {
    const alice = client({ sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-pw' } });
    await alice.admin().createTopic({ topic: 'secured', partitions: 1, replicationFactor: 1 });
    const producer = alice.producer();
    const [sent] = await producer.send({ topic: 'secured', messages: [{ value: 'hello' }] });
    expect(sent?.offset).toBe(0);
    await producer.close();
    await alice.admin().upsertScramUser({ user: 'bob', mechanism: 'scram-sha-512', password: 'bob-pw' });
    const bob = client({ sasl: { mechanism: 'scram-sha-512', username: 'bob', password: 'bob-pw' } });
    const described = await bob.admin().describeTopic('secured');
    expect(described).toMatchObject({ name: 'secured', partitions: [{ highWatermark: 1 }] });
    expect((await bob.admin().describeScramUsers(['bob']))[0]?.credentials).toEqual([
      { mechanism: 'SCRAM-SHA-512', iterations: 4096 },
    ]);
  });

  it('refuses a wrong password and an unknown user with one message, and a mechanism the listener does not enable', async () => {
    const message =
      'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256';
    for (const username of ['alice', 'nobody']) {
      const wrong = client({ sasl: { mechanism: 'scram-sha-256', username, password: 'guess' } });
      const err = await wrong
        .admin()
        .listTopics()
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCode.SaslAuthenticationFailed, retriable: false });
      expect((err as Error).message).toContain(message);
    }
    const plain = client({ sasl: { mechanism: 'plain', username: 'alice', password: 'alice-pw' } });
    const err = await plain
      .admin()
      .listTopics()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.UnsupportedSaslMechanism });
    expect((err as Error).message).toMatch(/PLAIN.*SCRAM-SHA-256, SCRAM-SHA-512/);
    expect(() => client({ sasl: { mechanism: 'gssapi' as 'plain', username: 'alice', password: 'x' } })).toThrow(
      /not supported/,
    );
    // the broker is unharmed
    const alice = client({ sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-pw' } });
    expect(await alice.admin().listTopics()).toContain('secured');
  });

  it('is disconnected without credentials', async () => {
    const anonymous = client({ connectTimeoutMs: 2000 });
    await expect(anonymous.admin().listTopics()).rejects.toMatchObject({ code: ErrorCode.BrokerUnreachable });
  });
});
