/**
 * A 3-broker cluster whose native listeners require SASL (issue 17): the
 * brokers' own clients (replica fetchers) authenticate as the inter-broker
 * user, bootstrapped offline into ZooKeeper's /config/users after the brokers
 * started (their watches pick it up), so a topic of replication factor 3 gets
 * its whole ISR and acks=-1 produce succeeds; a user added through one broker
 * authenticates on every other.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withOfflineScramStore } from '../../src/broker/offline-users.js';
import { parseBrokerConfig } from '../../src/config/broker-config.js';
import type { TopicDescription } from '../../src/index.js';
import { scramCredential } from '../../src/security/scram.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
const sasl = { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-pw' } as const;

beforeAll(async () => {
  cluster = await TestCluster.start({
    label: 'sasl-cluster',
    overrides: [
      'native.security.protocol=SASL_PLAINTEXT',
      'sasl.inter.broker.username=broker',
      'sasl.inter.broker.password=broker-pw',
    ],
  });
  const config = parseBrokerConfig(new Map([['zookeeper.connect', cluster.zookeeper.connect]]));
  await withOfflineScramStore(config, async (store) => {
    await store.alter('broker', { 'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', 'broker-pw') });
    await store.alter('admin', { 'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', 'admin-pw') });
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}

it('replicates between brokers that authenticate to each other', async () => {
  const admin = cluster.client({ sasl, retries: 2, retryBackoffMs: 100 });
  // the brokers' caches see the users through their watches
  await eventually('the admin user on a broker', () => admin.admin().listTopics());
  await admin.admin().createTopic({ topic: 'sasl-replicated', partitions: 1, replicationFactor: 3 });
  const full = await eventually('a full ISR', async () => {
    const d = (await admin.admin().describeTopic('sasl-replicated')) as TopicDescription;
    return d.partitions[0]?.isr.length === 3 ? d : undefined;
  });
  expect(full.partitions[0]?.replicas).toHaveLength(3);
  const producer = admin.producer({ acks: -1 });
  const [sent] = await producer.send({ topic: 'sasl-replicated', messages: [{ value: 'everywhere' }] });
  expect(sent?.offset).toBe(0);
  await producer.close();

  await admin.admin().upsertScramUser({ user: 'carol', mechanism: 'scram-sha-256', password: 'carol-pw' });
  for (const id of cluster.ids) {
    const carol = cluster.client({
      brokers: cluster.broker(id).address,
      sasl: { mechanism: 'scram-sha-256', username: 'carol', password: 'carol-pw' },
      retries: 2,
    });
    await eventually(`carol on broker ${id}`, () => carol.admin().listTopics());
  }
}, 120_000);
