/**
 * TLS, SASL and ACLs together on a 3-broker cluster (issue 17): both
 * listeners SASL_SSL, the authorizer on, super.users=User:admin, admin (also
 * the brokers' own user, sasl.inter.broker.username) bootstrapped offline into
 * ZooKeeper with `sluice user add --config`; as admin the CLI adds alice and
 * her ACLs. Replica fetchers authenticate and are authorized (ClusterAction,
 * as a super user), so a topic of replication factor 3 fills its ISR; kcat
 * (librdkafka, SASL_SSL + SCRAM-SHA-512) as alice produces with acks=all, the
 * leader is SIGKILLed, and alice produces and reads every record from the new
 * leader.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../helpers/broker-process.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { type CliResult, CliRunner } from '../helpers/cli-runner.js';
import { TestCluster } from '../helpers/cluster.js';
import { ensureKcat, Kcat } from '../helpers/kcat.js';
import { tempDir } from '../helpers/temp-dir.js';

const passwords = { admin: 'admin-secret', alice: 'alice-secret' } as const;
let cluster: TestCluster;
let certs: TestCerts;
let adminConfig = '';
const cleanups: (() => void)[] = [];
const cli = new CliRunner();
const kcat = new Kcat();

async function ok(r: Promise<CliResult>): Promise<string> {
  const done = await r;
  expect(done.code, done.stderr).toBe(0);
  return done.stdout;
}

const admin = (args: string[], input?: string): Promise<string> =>
  ok(
    cli.run([...args, '--command-config', adminConfig], {
      brokers: cluster.bootstrap,
      ...(input === undefined ? {} : { input }),
    }),
  );

beforeAll(async () => {
  ensureKcat();
  const dir = tempDir('sluice-seccluster-');
  cleanups.push(dir.cleanup);
  certs = makeTestCerts(path.join(dir.dir, 'certs'));
  cluster = await TestCluster.start({
    brokers: 3,
    label: 'security-cluster',
    overrides: [
      'native.security.protocol=SASL_SSL',
      'kafka.security.protocol=SASL_SSL',
      `ssl.keystore.location=${certs.broker.keystore}`,
      `ssl.truststore.location=${certs.ca}`,
      'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
      'sasl.inter.broker.username=admin',
      `sasl.inter.broker.password=${passwords.admin}`,
      'authorizer.enabled=true',
      'super.users=User:admin',
    ],
    clientSecurity: {
      ssl: { ca: fs.readFileSync(certs.ca, 'utf8') },
      sasl: { mechanism: 'scram-sha-512', username: 'admin', password: passwords.admin },
    },
  });
  // the first user, offline, straight into ZooKeeper (/config/users/admin); the brokers' watches see it
  await ok(
    cli.run(
      [
        'user',
        'add',
        'admin',
        '--mechanism',
        'SCRAM-SHA-512',
        '--config',
        path.join(repoRoot, 'config/server.properties'),
        '--override',
        `zookeeper.connect=${cluster.zookeeper.connect}`,
      ],
      { brokers: '127.0.0.1:1', input: `${passwords.admin}\n` },
    ),
  );
  adminConfig = path.join(dir.dir, 'admin.properties');
  fs.writeFileSync(
    adminConfig,
    [
      'security.protocol=SASL_SSL',
      `ssl.ca.location=${certs.ca}`,
      'sasl.mechanism=SCRAM-SHA-512',
      'sasl.username=admin',
      `sasl.password=${passwords.admin}`,
      '',
    ].join('\n'),
  );
}, 120_000);

afterEach(async () => {
  cli.killAll();
  await kcat.stopAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await kcat.stopAll();
  await cluster?.stop();
  for (const c of cleanups.splice(0)) c();
}, 60_000);

const alice = (): string[] => [
  '-b',
  cluster.kafkaBootstrap,
  '-X',
  'security.protocol=SASL_SSL',
  '-X',
  `ssl.ca.location=${certs.ca}`,
  '-X',
  'sasl.mechanisms=SCRAM-SHA-512',
  '-X',
  'sasl.username=alice',
  '-X',
  `sasl.password=${passwords.alice}`,
];

it('replicates and fails over on SASL_SSL with the authorizer on; alice (kcat) keeps every acknowledged record', async () => {
  await admin(['user', 'add', 'alice', '--mechanism', 'SCRAM-SHA-512'], `${passwords.alice}\n`);
  await admin(['topic', 'create', 'secure', '--partitions', '1', '--replication-factor', '3']);
  await admin([
    'acl',
    'add',
    '--allow-principal',
    'User:alice',
    '--operation',
    'Write',
    '--operation',
    'Read',
    '--topic',
    'secure',
  ]);
  // the ISR fills only when both followers authenticate to the leader and may ClusterAction
  await cluster.waitForIsr('secure', 0, 3);

  const before = await kcat.run([...alice(), '-X', 'acks=all', '-P', '-t', 'secure'], {
    input: 'before-1\nbefore-2\n',
  });
  expect(before.code, before.stderr).toBe(0);
  const leader = await cluster.leaderOf('secure', 0);
  await cluster.kill(leader);
  await cluster.leaderOf('secure', 0, { exclude: [leader] });
  const after = await kcat.run([...alice(), '-X', 'acks=all', '-P', '-t', 'secure'], {
    input: 'after-1\n',
    timeoutMs: 30_000,
  });
  expect(after.code, after.stderr).toBe(0);
  const read = await kcat.run([...alice(), '-C', '-t', 'secure', '-o', 'beginning', '-e'], { timeoutMs: 30_000 });
  expect(read.code, read.stderr).toBe(0);
  expect(read.stdout.trim().split('\n')).toEqual(['before-1', 'before-2', 'after-1']);
}, 120_000);
