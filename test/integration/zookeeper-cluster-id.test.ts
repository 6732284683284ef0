/**
 * The cluster id znode on a real ZooKeeper server (started once for the file,
 * stopped by PID): Kafka's path and JSON, an id already there adopted, and
 * brokers racing to create it all ending with the one that won.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterIdPath, loadOrCreateClusterId } from '../../src/coordination/zookeeper/cluster-id-znode.js';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

let server: ZooKeeperServer | undefined;
let raw: ZkClient | undefined;
let chroots = 0;

beforeAll(async () => {
  server = await ZooKeeperServer.start();
  raw = await ZkClient.connect({ connect: server.connect, sessionTimeoutMs: 3000, connectTimeoutMs: 10_000 });
}, 60_000);

afterAll(async () => {
  await raw?.close();
  await server?.stop();
});

/** A client on a fresh chroot (what a cluster sees as its root). */
async function freshChroot(): Promise<{ chroot: string; connect: () => Promise<ZkClient> }> {
  if (!server || !raw) throw new Error('the ZooKeeper server did not start');
  const chroot = `/cluster-id-${process.pid}-${++chroots}`;
  await raw.ensurePath(chroot);
  const connect = `${server.connect}${chroot}`;
  return { chroot, connect: () => ZkClient.connect({ connect, sessionTimeoutMs: 3000, connectTimeoutMs: 10_000 }) };
}

it("creates /cluster/id with Kafka's JSON once, and reads the same id afterwards", async () => {
  const { chroot, connect } = await freshChroot();
  const zk = await connect();
  try {
    const id = await loadOrCreateClusterId(zk);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const node = await raw?.get(`${chroot}${clusterIdPath}`);
    expect(JSON.parse(node?.data ?? '')).toEqual({ version: '1', id });
    expect(await loadOrCreateClusterId(zk)).toBe(id);
  } finally {
    await zk.close();
  }
});

it('adopts the id a Kafka cluster wrote, and refuses a znode holding no cluster id', async () => {
  const { chroot, connect } = await freshChroot();
  await raw?.ensurePath(`${chroot}/cluster`);
  await raw?.create(`${chroot}${clusterIdPath}`, '{"version":"1","id":"4L6g3nShT-eMCtK--X86sw"}', 'persistent');
  const zk = await connect();
  try {
    expect(await loadOrCreateClusterId(zk)).toBe('4L6g3nShT-eMCtK--X86sw');
  } finally {
    await zk.close();
  }
  const other = await freshChroot();
  await raw?.ensurePath(`${other.chroot}/cluster`);
  await raw?.create(`${other.chroot}${clusterIdPath}`, '{"version":"1","id":"short"}', 'persistent');
  const zk2 = await other.connect();
  try {
    await expect(loadOrCreateClusterId(zk2)).rejects.toThrow(/not a cluster id/);
  } finally {
    await zk2.close();
  }
});

it('brokers racing to create the id all end with the same one', async () => {
  for (let round = 0; round < 5; round++) {
    const { connect } = await freshChroot();
    const clients = await Promise.all(Array.from({ length: 4 }, () => connect()));
    try {
      const ids = await Promise.all(clients.map((zk) => loadOrCreateClusterId(zk)));
      expect(new Set(ids).size).toBe(1);
    } finally {
      for (const zk of clients) await zk.close();
    }
  }
});
