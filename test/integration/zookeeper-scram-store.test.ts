/**
 * SCRAM credentials in a real ZooKeeper, Kafka's layout (issue 17): the
 * offline writer `sluice user add --config` uses (withOfflineScramStore)
 * writes /config/users/<sanitized user> as {"version":1,"config":{...}} with
 * Kafka's credential text, keeps a user's other config entries (quotas), and
 * leaves a /config/changes notification naming users/<user>; a running
 * coordinator sees the credential through its watches, and a deletion too.
 * A store's loaded() resolves only after its first whole load (SASL waits for
 * it), and a new session re-reads the users without dropping them meanwhile.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withOfflineScramStore } from '../../src/broker/offline-users.js';
import { parseBrokerConfig } from '../../src/config/broker-config.js';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { writeScramChanges, ZkScramStore } from '../../src/coordination/zookeeper/zk-scram-store.js';
import { ZooKeeperCoordinator } from '../../src/coordination/zookeeper/zookeeper-coordinator.js';
import { scramCredential, verifyPassword } from '../../src/security/scram.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

let zookeeper: ZooKeeperServer;
let coordinator: ZooKeeperCoordinator;
let zk: ZkClient;
const errors: unknown[] = [];

beforeAll(async () => {
  zookeeper = await ZooKeeperServer.start();
  coordinator = new ZooKeeperCoordinator({
    brokerId: 1,
    connect: zookeeper.connect,
    endpoint: { host: '127.0.0.1', port: 1 },
    connectTimeoutMs: 10_000,
    onError: (err) => errors.push(err),
  });
  await coordinator.start();
  zk = await ZkClient.connect({ connect: zookeeper.connect, sessionTimeoutMs: 6000, connectTimeoutMs: 10_000 });
}, 60_000);

afterAll(async () => {
  await zk?.close();
  await coordinator?.close();
  await zookeeper?.stop();
}, 30_000);

async function eventually(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !probe(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(probe(), what).toBe(true);
}

it("writes Kafka's znodes offline, and a running broker's cache follows", async () => {
  // a quota Kafka keeps on the same entity must survive
  await zk.ensurePath('/config/users');
  await zk.create(
    '/config/users/ann%2A%20x',
    JSON.stringify({ version: 1, config: { producer_byte_rate: '1024' } }),
    'persistent',
  );
  const config = parseBrokerConfig(new Map([['zookeeper.connect', zookeeper.connect]]));
  const credential = await scramCredential('SCRAM-SHA-512', 'ann-pw');
  await withOfflineScramStore(config, (store) => store.alter('ann* x', { 'SCRAM-SHA-512': credential }));

  const node = await zk.get('/config/users/ann%2A%20x');
  const stored = JSON.parse(node?.data ?? '{}') as { version: number; config: Record<string, string> };
  expect(stored.version).toBe(1);
  expect(stored.config.producer_byte_rate).toBe('1024');
  expect(stored.config['SCRAM-SHA-512']).toMatch(
    /^salt=[A-Za-z0-9+/=]+,stored_key=[A-Za-z0-9+/=]+,server_key=[A-Za-z0-9+/=]+,iterations=4096$/,
  );
  const changes = await zk.children('/config/changes');
  const notes = await Promise.all(changes.map(async (c) => (await zk.get(`/config/changes/${c}`))?.data));
  expect(notes).toContain(JSON.stringify({ version: 2, entity_path: 'users/ann%2A%20x' }));

  await eventually(
    () => coordinator.scramCredentials.credential('ann* x', 'SCRAM-SHA-512') !== undefined,
    'the coordinator sees the new credential',
  );
  const cached = coordinator.scramCredentials.credential('ann* x', 'SCRAM-SHA-512');
  expect(cached && (await verifyPassword('SCRAM-SHA-512', cached, 'ann-pw'))).toBe(true);
  expect(await withOfflineScramStore(config, (store) => store.describe())).toEqual([
    { user: 'ann* x', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
  ]);

  await withOfflineScramStore(config, (store) => store.alter('ann* x', { 'SCRAM-SHA-512': null }));
  await eventually(
    () => coordinator.scramCredentials.credential('ann* x', 'SCRAM-SHA-512') === undefined,
    'the coordinator drops the deleted credential',
  );
  expect(JSON.parse((await zk.get('/config/users/ann%2A%20x'))?.data ?? '{}')).toEqual({
    version: 1,
    config: { producer_byte_rate: '1024' },
  });
  expect(errors).toEqual([]);
}, 60_000);

it('tells when its first load is done, and a new session re-reads every user without dropping any meanwhile', async () => {
  const credential = await scramCredential('SCRAM-SHA-256', 'early-pw');
  await writeScramChanges(zk, 'early', { 'SCRAM-SHA-256': credential });
  await writeScramChanges(zk, 'other', { 'SCRAM-SHA-256': credential });
  const store = new ZkScramStore((err) => errors.push(err));
  let loaded = false;
  void store.loaded().then(() => {
    loaded = true;
  });
  await new Promise((r) => setImmediate(r));
  // before any ZooKeeper session: not loaded, and the user is not known yet
  expect(loaded).toBe(false);
  expect(store.credential('early', 'SCRAM-SHA-256')).toBeUndefined();
  await store.attach(zk);
  expect(loaded).toBe(true);
  expect(store.credential('early', 'SCRAM-SHA-256')).toEqual(credential);

  // attaching again (a new session after a lost one) re-reads in place: the users stay readable throughout
  const seen: unknown[] = [];
  let done = false;
  const again = store.attach(zk).finally(() => {
    done = true;
  });
  while (!done) {
    seen.push(store.credential('early', 'SCRAM-SHA-256'), store.credential('other', 'SCRAM-SHA-256'));
    await new Promise((r) => setImmediate(r));
  }
  await again;
  expect(seen.length).toBeGreaterThan(2);
  expect(seen.filter((c) => c === undefined)).toEqual([]);
  store.detach();
  expect(errors).toEqual([]);
}, 60_000);
