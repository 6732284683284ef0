/**
 * Client quotas in a real ZooKeeper, Kafka's layout (issue 17): a quota
 * altered through one coordinator is written to /config/users/<u>,
 * /config/clients/<c> or /config/users/<u>/clients/<c> as
 * {"version":1,"config":{"producer_byte_rate":"1024"}} with a /config/changes
 * notification; a second coordinator (another broker) sees it through the
 * notification; a user's SCRAM credential in the same znode survives a quota
 * change and a quota survives a credential change; `sluice quota --config`
 * (a cluster broker's properties, offline like kafka-configs --zookeeper)
 * writes the same znodes, and the running brokers follow.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { ZooKeeperCoordinator } from '../../src/coordination/zookeeper/zookeeper-coordinator.js';
import { scramCredential } from '../../src/security/scram.js';
import { repoRoot } from '../helpers/broker-process.js';
import { CliRunner } from '../helpers/cli-runner.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

let zookeeper: ZooKeeperServer;
let one: ZooKeeperCoordinator;
let two: ZooKeeperCoordinator;
let zk: ZkClient;
const errors: unknown[] = [];
const cli = new CliRunner();

afterEach(() => {
  cli.killAll();
});

const coordinatorAt = (brokerId: number) =>
  new ZooKeeperCoordinator({
    brokerId,
    connect: zookeeper.connect,
    endpoint: { host: '127.0.0.1', port: brokerId },
    connectTimeoutMs: 10_000,
    onError: (err) => errors.push(err),
  });

beforeAll(async () => {
  zookeeper = await ZooKeeperServer.start();
  one = coordinatorAt(1);
  await one.start();
  two = coordinatorAt(2);
  await two.start();
  zk = await ZkClient.connect({ connect: zookeeper.connect, sessionTimeoutMs: 6000, connectTimeoutMs: 10_000 });
}, 60_000);

afterAll(async () => {
  await zk?.close();
  await two?.close();
  await one?.close();
  await zookeeper?.stop();
}, 30_000);

async function eventually(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !probe(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(probe(), what).toBe(true);
}

async function config(path: string): Promise<Record<string, string>> {
  const node = await zk.get(path);
  return (JSON.parse(node?.data ?? '{}') as { config: Record<string, string> }).config;
}

it("writes Kafka's znodes, and another broker follows through /config/changes", async () => {
  await one.clientQuotas.alter({ user: 'ann', clientId: 'app 1' }, { producer_byte_rate: 1024 });
  await one.clientQuotas.alter({ clientId: null }, { consumer_byte_rate: 2048 });
  await one.clientQuotas.alter({ user: null }, { producer_byte_rate: 512 });
  expect(await config('/config/users/ann/clients/app%201')).toEqual({ producer_byte_rate: '1024' });
  expect(await config('/config/clients/<default>')).toEqual({ consumer_byte_rate: '2048' });
  expect(await config('/config/users/<default>')).toEqual({ producer_byte_rate: '512' });
  const notes = await Promise.all(
    (await zk.children('/config/changes')).map(async (c) => (await zk.get(`/config/changes/${c}`))?.data),
  );
  expect(notes).toContain(JSON.stringify({ version: 2, entity_path: 'users/ann/clients/app%201' }));
  expect(notes).toContain(JSON.stringify({ version: 2, entity_path: 'clients/<default>' }));

  await eventually(() => two.clientQuotas.describe().length === 3, 'the other broker sees the three entities');
  expect(two.clientQuotas.describe()).toContainEqual({
    entity: { user: 'ann', clientId: 'app 1' },
    quotas: { producer_byte_rate: 1024 },
  });
  expect(two.clientQuotas.describe()).toContainEqual({
    entity: { clientId: null },
    quotas: { consumer_byte_rate: 2048 },
  });

  // removing the last quota leaves the entity out
  await one.clientQuotas.alter({ user: null }, { producer_byte_rate: null });
  await eventually(() => two.clientQuotas.describe().length === 2, 'the removal reaches the other broker');
  expect(errors).toEqual([]);
});

it("shares /config/users/<u> with the SCRAM credentials: neither store drops the other's keys", async () => {
  const credential = await scramCredential('SCRAM-SHA-256', 'bob-pw');
  await one.scramCredentials.alter('bob', { 'SCRAM-SHA-256': credential });
  await one.clientQuotas.alter({ user: 'bob' }, { producer_byte_rate: 4096 });
  let stored = await config('/config/users/bob');
  expect(stored.producer_byte_rate).toBe('4096');
  expect(stored['SCRAM-SHA-256']).toMatch(/^salt=/);
  // a credential change keeps the quota; a quota removal keeps the credential
  await one.scramCredentials.alter('bob', { 'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', 'bob-pw') });
  await one.clientQuotas.alter({ user: 'bob' }, { consumer_byte_rate: 100 });
  await one.clientQuotas.alter({ user: 'bob' }, { producer_byte_rate: null });
  stored = await config('/config/users/bob');
  expect(stored).toMatchObject({ consumer_byte_rate: '100' });
  expect(stored.producer_byte_rate).toBeUndefined();
  expect(stored['SCRAM-SHA-256']).toMatch(/^salt=/);
  expect(stored['SCRAM-SHA-512']).toMatch(/^salt=/);
  expect(one.scramCredentials.credential('bob', 'SCRAM-SHA-256')).toBeDefined();
  expect(one.clientQuotas.describe()).toContainEqual({ entity: { user: 'bob' }, quotas: { consumer_byte_rate: 100 } });
  // the quota-only <default> user is no SCRAM user
  expect(one.scramCredentials.describe().map((u) => u.user)).toEqual(['bob']);
  expect(errors).toEqual([]);
});

it('sluice quota --config sets, lists and removes quotas in ZooKeeper; the running brokers follow', async () => {
  const offline = (...args: string[]) =>
    cli.run(
      [
        ...args,
        '--config',
        path.join(repoRoot, 'config/server-1.properties'),
        '--override',
        `zookeeper.connect=${zookeeper.connect}`,
      ],
      { brokers: '127.0.0.1:1', timeoutMs: 30_000 },
    );
  const set = await offline('quota', 'set', '--user', 'carol', '--client-id', 'etl', '--consumer-byte-rate', '777');
  expect(set.code, set.stderr).toBe(0);
  expect(await config('/config/users/carol/clients/etl')).toEqual({ consumer_byte_rate: '777' });
  const carol = { entity: { user: 'carol', clientId: 'etl' }, quotas: { consumer_byte_rate: 777 } };
  await eventually(
    () => two.clientQuotas.describe().some((r) => JSON.stringify(r) === JSON.stringify(carol)),
    'the other brokers see the offline change',
  );
  // the listing reads what the brokers wrote too
  const listed = await offline('quota', 'list', '--json');
  expect(listed.code, listed.stderr).toBe(0);
  const all = JSON.parse(listed.stdout) as unknown[];
  expect(all).toContainEqual(carol);
  expect(all).toContainEqual({ entity: { user: 'ann', clientId: 'app 1' }, quotas: { producer_byte_rate: 1024 } });
  expect(all).toHaveLength(one.clientQuotas.describe().length);
  const removed = await offline('quota', 'remove', '--user', 'carol', '--client-id', 'etl');
  expect(removed.code, removed.stderr).toBe(0);
  await eventually(
    () => !one.clientQuotas.describe().some((r) => r.entity.user === 'carol'),
    'the brokers see the removal',
  );
  expect(errors).toEqual([]);
}, 60_000);
