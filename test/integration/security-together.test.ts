/**
 * TLS, SASL and ACLs together (issue 17) on one standalone broker, the way an
 * operator locks a broker down: both listeners SASL_SSL (PEM keystore made by
 * openssl), PLAIN + SCRAM-SHA-256 + SCRAM-SHA-512, the authorizer on with
 * super.users=User:admin. The first user (admin, also the broker's own
 * clients' user: sasl.inter.broker.username) is bootstrapped offline with
 * `sluice user add --config` before the broker ever starts; then admin, through
 * the CLI with --command-config, creates alice and bob, a topic and the ACLs:
 *
 *   alice  ALLOW Write, Read  Topic t      ALLOW Read  Group g
 *   bob    ALLOW Read         Topic t      ALLOW Read  Group g
 *
 * Real clients as real principals: kcat (librdkafka, SASL_SSL + SCRAM-SHA-512)
 * as alice, kafkajs (SSL + SCRAM-SHA-256 and PLAIN) and the native client as
 * bob, the CLI as admin and as bob; the admin HTTP API (on the same user store)
 * still reaches the broker through its internal SASL client.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel, Partitioners, type SASLOptions } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import { ErrorCode } from '../../src/shared/errors.js';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { type CliResult, CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { ensureKcat, Kcat } from '../helpers/kcat.js';
import { tempDir } from '../helpers/temp-dir.js';

const passwords = {
  admin: 'admin-secret',
  alice: 'alice-secret',
  bob: 'bob-secret',
} as const;
type User = keyof typeof passwords;

let certs: TestCerts;
let dir: string;
let dataDir: string;
let broker: BrokerProcess;
const cleanups: (() => void)[] = [];
const cli = new CliRunner();
const kcat = new Kcat();
const opened: { disconnect(): Promise<void> }[] = [];
const clients: Sluice[] = [];
/** --command-config files, one per user (and one with a wrong password). */
const commandConfig: Record<User | 'wrong', string> = {
  admin: '',
  alice: '',
  bob: '',
  wrong: '',
};

/** `sluice ARGS --command-config FILE-of-user` against the running broker. */
function as(user: User | 'wrong', args: string[], input?: string): Promise<CliResult> {
  return cli.run([...args, '--command-config', commandConfig[user]], {
    brokers: broker.address,
    ...(input === undefined ? {} : { input }),
  });
}

async function ok(r: Promise<CliResult>): Promise<string> {
  const done = await r;
  expect(done.code, done.stderr).toBe(0);
  return done.stdout;
}

beforeAll(async () => {
  ensureKcat();
  const tmp = tempDir('sluice-sectogether-');
  cleanups.push(tmp.cleanup);
  dir = tmp.dir;
  certs = makeTestCerts(path.join(dir, 'certs'));
  dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  // the security lines an operator adds to config/server.properties
  const security = [
    'native.security.protocol=SASL_SSL',
    'kafka.security.protocol=SASL_SSL',
    `ssl.keystore.location=${certs.broker.keystore}`,
    `ssl.truststore.location=${certs.ca}`,
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'sasl.inter.broker.username=admin',
    `sasl.inter.broker.password=${passwords.admin}`,
    'authorizer.enabled=true',
    'super.users=User:admin',
  ];
  const brokerProperties = path.join(dir, 'server.properties');
  fs.writeFileSync(
    brokerProperties,
    `${fs.readFileSync(path.join(repoRoot, 'config/server.properties'), 'utf8')}\n${[`log.dirs=${dataDir}`, ...security, ''].join('\n')}`,
  );
  for (const user of ['admin', 'alice', 'bob', 'wrong'] as const) {
    commandConfig[user] = path.join(dir, `${user}.properties`);
    fs.writeFileSync(
      commandConfig[user],
      [
        'security.protocol=SASL_SSL',
        `ssl.ca.location=${certs.ca}`,
        `sasl.mechanism=${user === 'alice' ? 'SCRAM-SHA-512' : 'SCRAM-SHA-256'}`,
        `sasl.username=${user === 'wrong' ? 'bob' : user}`,
        `sasl.password=${user === 'wrong' ? 'guess' : passwords[user]}`,
        '',
      ].join('\n'),
    );
  }
  // admin's mechanism for the CLI is SCRAM-SHA-512 (as bootstrapped)
  fs.writeFileSync(
    commandConfig.admin,
    fs.readFileSync(commandConfig.admin, 'utf8').replace('SCRAM-SHA-256', 'SCRAM-SHA-512'),
  );

  // 1. the first super user, offline, before the broker has ever started
  await ok(
    cli.run(['user', 'add', 'admin', '--mechanism', 'SCRAM-SHA-512', '--config', brokerProperties], {
      brokers: '127.0.0.1:1',
      input: `${passwords.admin}\n`,
    }),
  );
  broker = await BrokerProcess.start({
    overrides: [
      `log.dirs=${dataDir}`,
      ...security,
      'default.replication.factor=1',
      'offsets.topic.replication.factor=1',
      'group.initial.rebalance.delay.ms=0',
    ],
  });

  // 2. as admin, through the running broker
  await ok(as('admin', ['user', 'add', 'alice', '--mechanism', 'SCRAM-SHA-512'], `${passwords.alice}\n`));
  await ok(as('admin', ['user', 'add', 'bob', '--mechanism', 'SCRAM-SHA-256'], `${passwords.bob}\n`));
  await ok(as('admin', ['topic', 'create', 't', '--partitions', '1', '--replication-factor', '1']));
  await ok(
    as('admin', [
      'acl',
      'add',
      '--allow-principal',
      'User:alice',
      '--operation',
      'Write',
      '--operation',
      'Read',
      '--topic',
      't',
    ]),
  );
  for (const user of ['alice', 'bob']) {
    await ok(as('admin', ['acl', 'add', '--allow-principal', `User:${user}`, '--operation', 'Read', '--group', 'g']));
  }
  await ok(as('admin', ['acl', 'add', '--allow-principal', 'User:bob', '--operation', 'Read', '--topic', 't']));
}, 120_000);

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((c) => c.disconnect()));
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  cli.killAll();
  await kcat.stopAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await kcat.stopAll();
  await broker?.destroy();
  for (const c of cleanups.splice(0)) c();
}, 30_000);

function kafka(sasl: SASLOptions): Kafka {
  return new Kafka({
    clientId: 'sluice-sec-together',
    brokers: [broker.kafkaBrokers],
    ssl: { ca: [fs.readFileSync(certs.ca, 'utf8')] },
    sasl,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 10_000,
    retry: { retries: 0 },
  });
}

const bobScram = {
  mechanism: 'scram-sha-256',
  username: 'bob',
  password: passwords.bob,
} as const;

function native(user: 'bob' | 'alice'): Sluice {
  const s = new Sluice({
    brokers: broker.address,
    clientId: 'sec-together-native',
    ssl: { ca: fs.readFileSync(certs.ca, 'utf8') },
    sasl: {
      mechanism: user === 'bob' ? 'scram-sha-256' : 'scram-sha-512',
      username: user,
      password: passwords[user],
    },
    retries: 0,
  });
  clients.push(s);
  return s;
}

const kcatAlice = (password: string = passwords.alice): string[] => [
  '-b',
  broker.kafkaBrokers,
  '-X',
  'security.protocol=SASL_SSL',
  '-X',
  `ssl.ca.location=${certs.ca}`,
  '-X',
  'sasl.mechanisms=SCRAM-SHA-512',
  '-X',
  'sasl.username=alice',
  '-X',
  `sasl.password=${password}`,
];

describe('users', () => {
  it('sluice user list as admin shows the three users, their mechanisms, and no secret', async () => {
    const out = await ok(as('admin', ['user', 'list', '--json']));
    expect(JSON.parse(out)).toEqual([
      {
        user: 'admin',
        credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }],
      },
      {
        user: 'alice',
        credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }],
      },
      {
        user: 'bob',
        credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }],
      },
    ]);
    const text = await ok(as('admin', ['user', 'list']));
    for (const secret of [...Object.values(passwords), 'salt', 'stored', 'server_key', 'serverKey']) {
      expect(text + out).not.toContain(secret);
    }
  });

  it('a wrong password is refused with a clear SASL error (CLI, kcat), and the broker keeps serving', async () => {
    expectOneLineError(await as('wrong', ['topic', 'list']), /invalid credentials with SASL mechanism SCRAM-SHA-256/);
    const r = await kcat.run([...kcatAlice('guess'), '-L', '-m', '2'], {
      timeoutMs: 20_000,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Authentication failed/);
    expect(await ok(as('admin', ['topic', 'list']))).toContain('t');
  });
});

describe('alice (Write + Read on t)', () => {
  it('kcat over SASL_SSL + SCRAM-SHA-512 produces (idempotent) to t and consumes it back', async () => {
    // idempotent (InitProducerId: allowed by Write on a topic, Kafka 3.x), acks=all
    const produced = await kcat.run([...kcatAlice(), '-X', 'enable.idempotence=true', '-P', '-t', 't'], {
      input: 'from-alice-1\nfrom-alice-2\n',
    });
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat.run([...kcatAlice(), '-C', '-t', 't', '-o', 'beginning', '-e']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual(['from-alice-1', 'from-alice-2']);
  });
});

describe('bob (Read on t only)', () => {
  it('kafkajs (SSL + SCRAM-SHA-256) consumes t in group g, and its produce fails with TOPIC_AUTHORIZATION_FAILED', async () => {
    const consumer = kafka(bobScram).consumer({
      groupId: 'g',
      retry: { retries: 1 },
    });
    opened.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const got = await new Promise<string>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ message, partition }) => {
          await consumer.commitOffsets([
            {
              topic: 't',
              partition,
              offset: String(Number(message.offset) + 1),
            },
          ]);
          resolve(message.value?.toString() ?? '');
        },
      });
    });
    expect(got).toBe('from-alice-1');

    const producer = kafka(bobScram).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    opened.push(producer);
    await producer.connect();
    await expect(producer.send({ topic: 't', messages: [{ value: 'bob' }] })).rejects.toMatchObject({
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
  });

  it('kafkajs with PLAIN (checked against the SCRAM credential) reads; a group without ACL is refused (kcat FindCoordinator, CLI commit: GROUP_AUTHORIZATION_FAILED)', async () => {
    const admin = kafka({
      mechanism: 'plain',
      username: 'bob',
      password: passwords.bob,
    }).admin();
    opened.push(admin);
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('t');
    expect(offsets[0]?.high).toBe('2');
    // FindCoordinator for a group bob may not Describe: kafkajs only says it found no coordinator,
    // librdkafka shows Kafka's error
    const joining = await kcat.run([
      '-b',
      broker.kafkaBrokers,
      '-X',
      'security.protocol=SASL_SSL',
      '-X',
      `ssl.ca.location=${certs.ca}`,
      '-X',
      'sasl.mechanisms=SCRAM-SHA-256',
      '-X',
      'sasl.username=bob',
      '-X',
      `sasl.password=${passwords.bob}`,
      '-G',
      'other',
      't',
    ]);
    expect(joining.code).not.toBe(0);
    expect(joining.stderr).toMatch(
      /FindCoordinator response error: User:bob is not authorized to Describe group other/,
    );
    // the CLI says the same
    expectOneLineError(
      await as('bob', ['group', 'reset-offsets', 'other', '--topic', 't', '--to-earliest', '--execute']),
      /GROUP_AUTHORIZATION_FAILED/,
    );
  });

  it('the native client (SASL_SSL + SCRAM-SHA-256) reads t, the CLI commits and consumes in group g, and its produce fails with a typed error', async () => {
    const bob = native('bob');
    expect(await bob.admin().describeTopic('t')).toMatchObject({
      name: 't',
      partitions: [{ highWatermark: 2 }],
    });
    const err = await bob
      .producer({ acks: -1 })
      .send({ topic: 't', messages: [{ value: 'bob' }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: ErrorCode.TopicAuthorizationFailed,
      retriable: false,
    });
    expect((err as Error).message).toMatch(/not authorized to Write topic t/);
    // the native group protocol as bob: commit (reset) in g, then consume from the committed offset
    await ok(as('bob', ['group', 'reset-offsets', 'g', '--topic', 't', '--to-offset', '1', '--execute']));
    expect(await ok(as('bob', ['consume', 't', '--group', 'g', '--max-messages', '1']))).toBe('from-alice-2\n');
  });

  it('cannot manage ACLs or users: CLUSTER_AUTHORIZATION_FAILED, one clear line, exit 1; nothing changes', async () => {
    expectOneLineError(
      await as('bob', ['acl', 'add', '--allow-principal', 'User:bob', '--operation', 'Write', '--topic', 't']),
      /CLUSTER_AUTHORIZATION_FAILED/,
    );
    expectOneLineError(
      await as('bob', ['user', 'add', 'mallory', '--mechanism', 'SCRAM-SHA-256'], 'x\n'),
      /CLUSTER_AUTHORIZATION_FAILED/,
    );
    expectOneLineError(await as('bob', ['user', 'list']), /CLUSTER_AUTHORIZATION_FAILED/);
    // the log directories (DescribeLogDirs) need Describe on the cluster too: every broker refuses bob
    const dirs = await native('bob').admin().describeLogDirs();
    expect(dirs.dirs).toEqual([]);
    expect(dirs.unreachable.length).toBeGreaterThan(0);
    for (const u of dirs.unreachable) expect(u.error).toMatch(/CLUSTER_AUTHORIZATION_FAILED/);
    const acls = JSON.parse(await ok(as('admin', ['acl', 'list', '--principal', 'User:bob', '--json']))) as {
      operation: string;
    }[];
    expect(acls.map((a) => a.operation).sort()).toEqual(['Read', 'Read']);
    expect(
      (
        JSON.parse(await ok(as('admin', ['user', 'list', '--json']))) as {
          user: string;
        }[]
      ).map((u) => u.user),
    ).toEqual(['admin', 'alice', 'bob']);
  });

  it('a PREFIXED DENY wins over his literal ALLOW (and removing it gives the read back)', async () => {
    const deny = [
      '--deny-principal',
      'User:bob',
      '--operation',
      'Read',
      '--topic',
      't',
      '--resource-pattern-type',
      'prefixed',
    ];
    await ok(as('admin', ['acl', 'add', ...deny]));
    const consumed = await as('bob', ['consume', 't', '--from-beginning', '--max-messages', '1']);
    expectOneLineError(consumed, /TOPIC_AUTHORIZATION_FAILED/);
    await ok(as('admin', ['acl', 'remove', ...deny]));
    expect(await ok(as('bob', ['consume', 't', '--from-beginning', '--max-messages', '1']))).toBe('from-alice-1\n');
  });
});

describe("the broker's own clients and the admin HTTP API", () => {
  it('/readyz is ready, and an authenticated GET reaches the broker through its SASL_SSL client', async () => {
    const base = `http://127.0.0.1:${broker.httpPort}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const res = await fetch(`${base}/api/topics`, {
      headers: {
        // the console's users are the broker's own: admin with its SCRAM password
        authorization: `Basic ${Buffer.from(`admin:${passwords.admin}`).toString('base64')}`,
      },
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('"t"');
  });
});
