/**
 * The ZooKeeper server our scripts start (Debian's package) and the native
 * `zookeeper` npm client the cluster builds on: sessions, persistent and
 * ephemeral znodes, watches, and an ephemeral znode vanishing with its
 * session — the mechanism broker registration and controller election use.
 * The helper's kill -9 and restart (the chaos suite's ZooKeeper fault) bring
 * the same server back on its port with its znodes.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ZooKeeper from 'zookeeper';
import { zookeeperEmptyReadsMax } from '../../src/shared/limits.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

let server: ZooKeeperServer;
const clients: ZooKeeper[] = [];

beforeAll(async () => {
  server = await ZooKeeperServer.start();
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

/**
 * A session on the test server. The native addon gives a handle up (closes it
 * as expired) after a burst of empty socket reads, which happens when several
 * handles of one process reconnect to a restarted server at once — seen only
 * then, never with one handle. The broker's ZkClient answers that by opening a
 * new session, and so does this helper, within one overall deadline.
 */
async function connect(): Promise<ZooKeeper> {
  const deadline = Date.now() + 20_000;
  for (let attempt = 1; ; attempt++) {
    const client = new ZooKeeper({
      connect: server.connect,
      timeout: 4000,
      debug_level: ZooKeeper.constants.ZOO_LOG_LEVEL_ERROR,
      host_order_deterministic: false,
      response_counter_limit: zookeeperEmptyReadsMax,
    });
    clients.push(client);
    const outcome = await new Promise<'connected' | 'closed' | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
      client.once('connect', () => {
        clearTimeout(timer);
        resolve('connected');
      });
      client.once('close', () => {
        clearTimeout(timer);
        resolve('closed');
      });
      client.init({});
    });
    if (outcome === 'connected') return client;
    if (outcome === 'timeout' || Date.now() >= deadline) {
      throw new Error(`no ZooKeeper session in 20 s (${attempt} handles); server said:\n${server.recentOutput}`);
    }
  }
}

describe('ZooKeeper', () => {
  it('keeps znodes, fires watches, and removes an ephemeral znode with its session', async () => {
    const a = await connect();
    const b = await connect();
    await a.create('/brokers', '', ZooKeeper.constants.ZOO_PERSISTENT);
    await a.create('/brokers/ids', '', ZooKeeper.constants.ZOO_PERSISTENT);
    const registration = JSON.stringify({ host: '127.0.0.1', port: 9093 });
    await a.create('/brokers/ids/1', registration, ZooKeeper.constants.ZOO_EPHEMERAL);
    const [, data] = await b.get('/brokers/ids/1', false);
    expect(JSON.parse(data.toString())).toEqual({ host: '127.0.0.1', port: 9093 });
    // a second registration of the same id is refused: the node exists
    await expect(b.create('/brokers/ids/1', registration, ZooKeeper.constants.ZOO_EPHEMERAL)).rejects.toThrow();

    let fired: (event: string) => void = () => undefined;
    const gone = new Promise<string>((resolve) => {
      fired = resolve;
    });
    // requests of two sessions are not ordered: the watch must be in place before a's session ends
    await b.w_exists('/brokers/ids/1', (type: number, _state: number, path: string) => fired(`${type}:${path}`));
    a.close();
    clients.splice(clients.indexOf(a), 1);
    expect(await gone).toBe(`${ZooKeeper.constants.ZOO_DELETED_EVENT}:/brokers/ids/1`);
    expect(await b.pathExists('/brokers/ids/1', false)).toBe(false);
    expect(await b.get_children('/brokers/ids', false)).toEqual([]);
  });

  it('comes back after kill -9 on the same port with its persistent znodes', async () => {
    const a = await connect();
    await a.create('/chaos', 'kept', ZooKeeper.constants.ZOO_PERSISTENT);
    const pid = server.pid;
    await server.kill();
    expect(server.running).toBe(false);
    await server.restart();
    expect(server.running).toBe(true);
    expect(server.pid).not.toBe(pid);
    const b = await connect();
    const [, data] = await b.get('/chaos', false);
    expect(data.toString()).toBe('kept');
  });
});
