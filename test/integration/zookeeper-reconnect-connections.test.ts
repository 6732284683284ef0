/**
 * A broker's ZooKeeper client that times out and reconnects (the server did
 * not answer within two thirds of the session timeout, as on a loaded
 * machine) must not disturb the broker's own connections. The native addon
 * (unpatched) kept a poll handle on its closed socket until the reconnect and
 * then closed it, which took whatever socket had been given the same
 * descriptor number in between off the event loop: a client connection
 * accepted in that window was never read again, its requests never answered
 * (the Metadata, CreateTopics and Produce requests that timed out in cluster
 * tests right after start-up). scripts/patch-zookeeper-addon.mjs (npm
 * postinstall) makes the addon poll its own duplicate of the descriptor. One broker with a real ZooKeeper server paused (SIGSTOP):
 * connections are opened all through the pause and the reconnect, and every
 * one of them must answer ApiVersions afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    brokers: 1,
    label: 'zookeeper-reconnect-connections',
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Lines of the broker's output containing `text`. */
const count = (text: string): number => cluster.output(1).split(text).length - 1;

describe('broker connections while its ZooKeeper client reconnects', () => {
  it('every connection accepted during the timeout and the reconnect is served', async () => {
    const zkPid = cluster.zookeeper.pid as number;
    const port = cluster.broker(1).port;
    // whether a connection lands in the window depends on timing: a few rounds make it near certain
    for (let round = 0; round < 2; round++) {
      const clients: RawClient[] = [];
      const timeoutsBefore = count('timed out');
      const backBefore = count('ZooKeeper connection back') + count('rejoined the cluster');
      process.kill(zkPid, 'SIGSTOP');
      try {
        // new connections all along: one of them gets the descriptor number the ZooKeeper socket had
        const until = Date.now() + 20_000;
        let noticedAt = 0;
        while (Date.now() < until) {
          clients.push(await RawClient.connect(port));
          if (!noticedAt && count('timed out') > timeoutsBefore) noticedAt = Date.now();
          // the reconnect attempt (a new socket) follows the timeout within a ping interval
          if (noticedAt && Date.now() - noticedAt > 1500) break;
          await sleep(5);
        }
        expect(noticedAt, 'the broker noticed that ZooKeeper does not answer').toBeGreaterThan(0);
      } finally {
        process.kill(zkPid, 'SIGCONT');
      }
      await cluster.poll('the broker back on ZooKeeper', 30_000, async () =>
        count('ZooKeeper connection back') + count('rejoined the cluster') > backBefore ? true : undefined,
      );
      try {
        const answers = await Promise.all(
          clients.map((c, i) =>
            c.call(ApiKey.ApiVersions, {}, 10_000).then(
              () => 'ok',
              (err: Error) => `round ${round}, connection ${i}: ${err.message}`,
            ),
          ),
        );
        expect(answers.filter((a) => a !== 'ok')).toEqual([]);
      } finally {
        for (const c of clients) c.close();
      }
    }
  }, 120_000);
});
