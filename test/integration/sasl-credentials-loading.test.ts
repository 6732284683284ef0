/**
 * A SASL listener opens before the broker has read its credentials (issue 17):
 * in a cluster the ZooKeeper coordinator starts after the listeners, and a
 * broker restarted quickly waits for its previous session's registration to
 * expire before it reads /config/users. A client authenticating in that
 * window must not be refused as if its password were wrong: SaslAuthenticate
 * waits for the credential store's first load.
 *
 * The window is held open on purpose: the test registers /brokers/ids/0 at the
 * broker's own address from a ZooKeeper session of its own (what a killed
 * broker's session leaves behind), so the broker waits; kafkajs 2.2.4
 * authenticates meanwhile; then the test closes that session, the broker
 * registers and loads the credentials, and the client gets in.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { brokerPath, brokerRegistration } from '../../src/coordination/zookeeper/zk-paths.js';
import { writeScramChanges } from '../../src/coordination/zookeeper/zk-scram-store.js';
import { scramCredential } from '../../src/security/scram.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { freePort, ZooKeeperServer } from '../helpers/zookeeper.js';

let zookeeper: ZooKeeperServer | undefined;
let holder: ZkClient | undefined;
let starting: Promise<BrokerProcess> | undefined;
const opened: { disconnect(): Promise<void> }[] = [];

afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.disconnect()));
  // releasing the registration lets a broker still waiting finish its start, then it is stopped
  await holder?.close();
  const broker = await starting?.catch(() => undefined);
  await broker?.destroy();
  await zookeeper?.stop();
}, 60_000);

it('a client authenticating before the credentials are loaded waits for them and gets in', async () => {
  zookeeper = await ZooKeeperServer.start();
  holder = await ZkClient.connect({ connect: zookeeper.connect, sessionTimeoutMs: 6000, connectTimeoutMs: 10_000 });
  await writeScramChanges(holder, 'alice', { 'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', 'alice-pw') });
  const port = await freePort();
  await holder.ensurePath('/brokers/ids');
  await holder.create(brokerPath(0), JSON.stringify(brokerRegistration('127.0.0.1', port)), 'ephemeral');

  let kafkaPort = 0;
  let waiting = false;
  let output = '';
  starting = BrokerProcess.start({
    overrides: [
      `port=${port}`,
      `zookeeper.connect=${zookeeper.connect}`,
      'kafka.security.protocol=SASL_PLAINTEXT',
      'sasl.enabled.mechanisms=SCRAM-SHA-256',
    ],
    startTimeoutMs: 60_000,
    onOutput: (_stream, chunk) => {
      output += chunk.toString('utf8');
      for (const line of output.split('\n').slice(0, -1)) {
        if (line.includes('waiting for the previous ZooKeeper session')) waiting = true;
        const listening = /"port":(\d+).*"msg":"kafka listening"|"msg":"kafka listening".*"port":(\d+)/.exec(line);
        if (listening) kafkaPort = Number(listening[1] ?? listening[2]);
      }
      output = output.slice(output.lastIndexOf('\n') + 1);
    },
  });
  starting.catch(() => undefined);
  for (let i = 0; i < 600 && !(waiting && kafkaPort > 0); i++) await new Promise((r) => setTimeout(r, 50));
  expect({ waiting, listening: kafkaPort > 0 }).toEqual({ waiting: true, listening: true });

  const admin = new Kafka({
    clientId: 'sluice-sasl-loading-it',
    brokers: [`127.0.0.1:${kafkaPort}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 0 },
    sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-pw' },
  }).admin();
  opened.push(admin);
  let settled = false;
  const connected = admin.connect().finally(() => {
    settled = true;
  });
  connected.catch(() => undefined);
  // time for the handshake and SaslAuthenticate to reach the broker (before the fix they were refused at once)
  await new Promise((r) => setTimeout(r, 1000));
  expect(settled).toBe(false);

  // the old registration goes: the broker registers, reads /config/users, and the waiting client is answered
  await holder.close();
  holder = undefined;
  await connected;
  expect(await admin.listTopics()).toEqual([]);
  await starting;
}, 90_000);
