/**
 * The ZooKeeper coordinator against the Coordinator compliance suite, on a
 * real ZooKeeper server (Debian's package, started once for the file and
 * stopped by PID): each test gets a cluster of three in-process coordinators
 * (broker ids 1, 2, 3; broker 1 under test) in a chroot of its own, so no
 * test sees another's znodes. reopen closes broker 1's session and starts a
 * new coordinator for it on the same chroot.
 */
import { afterAll, beforeAll } from 'vitest';
import type { BrokerEndpoint } from '../../src/coordination/coordinator.js';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { ZooKeeperCoordinator } from '../../src/coordination/zookeeper/zookeeper-coordinator.js';
import { type CoordinatorCluster, coordinatorCompliance } from '../compliance/coordinator-compliance.js';
import { eventually } from '../compliance/coordinator-harness.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

const sessionTimeoutMs = 3000;
const brokerIds = [1, 2, 3];

let server: ZooKeeperServer | undefined;
let raw: ZkClient | undefined;
let chroots = 0;

beforeAll(async () => {
  server = await ZooKeeperServer.start();
  raw = await ZkClient.connect({ connect: server.connect, sessionTimeoutMs, connectTimeoutMs: 10_000 });
}, 60_000);

afterAll(async () => {
  await raw?.close();
  await server?.stop();
});

const endpointOf = (id: number): BrokerEndpoint => ({
  nodeId: id,
  host: '127.0.0.1',
  port: 19190 + id,
  kafkaPort: 19290 + id,
});

async function zookeeperCluster(): Promise<CoordinatorCluster> {
  if (!server || !raw) throw new Error('the ZooKeeper server did not start');
  const chroot = `/compliance-${process.pid}-${++chroots}`;
  await raw.ensurePath(chroot);
  const connect = `${server.connect}${chroot}`;
  const backgroundErrors: unknown[] = [];
  const start = async (id: number): Promise<ZooKeeperCoordinator> => {
    const { host, port, kafkaPort } = endpointOf(id);
    const coordinator = new ZooKeeperCoordinator({
      brokerId: id,
      connect,
      endpoint: { host, port, ...(kafkaPort !== undefined ? { kafkaPort } : {}) },
      sessionTimeoutMs,
      connectTimeoutMs: 10_000,
      onError: (err) => backgroundErrors.push(err),
    });
    await coordinator.start();
    return coordinator;
  };
  const running = new Map<number, ZooKeeperCoordinator>();
  for (const id of brokerIds) running.set(id, await start(id));
  for (const c of running.values())
    await eventually(() => c.brokers().length === brokerIds.length, 'every broker registered');
  const underTest = brokerIds[0] as number;
  const current = (): ZooKeeperCoordinator => {
    const c = running.get(underTest);
    if (!c) throw new Error(`broker ${underTest} is not running`);
    return c;
  };
  return {
    get coordinator() {
      return current();
    },
    endpoint: endpointOf(underTest),
    members: () => [...running.values()],
    stopMember: async (brokerId) => {
      if (brokerId === underTest) throw new Error('stopMember stops the other brokers only');
      await running.get(brokerId)?.close();
      running.delete(brokerId);
    },
    reopen: async () => {
      await current().close();
      running.delete(underTest);
      const next = await start(underTest);
      running.set(underTest, next);
      return next;
    },
    dispose: async () => {
      for (const c of running.values()) await c.close();
      running.clear();
      if (backgroundErrors.length > 0) throw new Error(`background errors: ${backgroundErrors.map(String).join('; ')}`);
    },
  };
}

coordinatorCompliance('ZooKeeper (three brokers)', { create: zookeeperCluster });
