/**
 * A three-broker cluster whose native listeners are SSL with
 * ssl.client.auth=required (inter.broker.security.protocol=SSL): the brokers
 * replicate to each other over TLS, each presenting its keystore as its client
 * certificate and checking its peers against the truststore; a topic with
 * replication factor 3 fills its ISR, acks=-1 records survive the leader's
 * SIGKILL, and the new leader serves them all.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCerts } from '../helpers/certs.js';
import { TestCluster } from '../helpers/cluster.js';
import { tempDir } from '../helpers/temp-dir.js';

let cluster: TestCluster;
let cleanup: () => void = () => undefined;

beforeAll(async () => {
  const dir = tempDir('sluice-cluster-tls-');
  cleanup = dir.cleanup;
  const certs = makeTestCerts(dir.dir);
  const read = (file: string): string => fs.readFileSync(file, 'utf8');
  cluster = await TestCluster.start({
    brokers: 3,
    label: 'tls',
    overrides: [
      'native.security.protocol=SSL',
      'inter.broker.security.protocol=SSL',
      `ssl.keystore.location=${certs.broker.keystore}`,
      `ssl.truststore.location=${certs.ca}`,
      'ssl.client.auth=required',
    ],
    clientSecurity: { ssl: { ca: read(certs.ca), cert: read(certs.client.cert), key: read(certs.client.key) } },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  cleanup();
}, 60_000);

describe('a cluster on SSL', () => {
  it('replicates over TLS and fails over with every acknowledged record', async () => {
    const sluice = cluster.client({ retries: 10 });
    await sluice.admin().createTopic({ topic: 'tls-replicated', partitions: 1, replicationFactor: 3 });
    // the ISR fills only when both followers fetch from the leader over TLS
    await cluster.waitForIsr('tls-replicated', 0, 3);
    const producer = sluice.producer({ acks: -1 });
    await producer.send({
      topic: 'tls-replicated',
      messages: Array.from({ length: 50 }, (_, i) => ({ value: `before-${i}` })),
    });
    const leader = await cluster.leaderOf('tls-replicated', 0);
    await cluster.kill(leader);
    await cluster.leaderOf('tls-replicated', 0, { exclude: [leader] });
    await producer.send({
      topic: 'tls-replicated',
      messages: Array.from({ length: 50 }, (_, i) => ({ value: `after-${i}` })),
    });
    await producer.close();
    const records = await cluster.readPartition('tls-replicated', 0);
    expect(records.map((r) => String(r.value))).toEqual([
      ...Array.from({ length: 50 }, (_, i) => `before-${i}`),
      ...Array.from({ length: 50 }, (_, i) => `after-${i}`),
    ]);
  });
});
