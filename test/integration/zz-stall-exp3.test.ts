import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 1, label: 'stall-exp3' });
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const zkTimeouts = (): number => cluster.output(1).split('timed out').length - 1;

describe('stall', () => {
  it('connections accepted while the ZooKeeper client reconnects are all served', async () => {
    const zkPid = cluster.zookeeper.pid as number;
    const port = cluster.broker(1).port;
    const clients: RawClient[] = [];
    const before = zkTimeouts();
    process.kill(zkPid, 'SIGSTOP');
    try {
      const until = Date.now() + 10_000;
      let noticedAt = 0;
      while (Date.now() < until) {
        clients.push(await RawClient.connect(port));
        if (!noticedAt && zkTimeouts() > before) noticedAt = Date.now();
        if (noticedAt && Date.now() - noticedAt > 1500) break;
        await sleep(10);
      }
    } finally {
      process.kill(zkPid, 'SIGCONT');
    }
    await sleep(3000);
    const answers = await Promise.all(
      clients.map((c, i) =>
        c.call(ApiKey.ApiVersions, {}, 5000).then(
          () => 'ok',
          (err: Error) => `conn ${i}: ${err.message}`,
        ),
      ),
    );
    for (const c of clients) c.close();
    const failed = answers.filter((a) => a !== 'ok');
    console.log(`${clients.length} connections, ${failed.length} unanswered: ${failed.slice(0, 5).join('; ')}`);
    expect(failed).toEqual([]);
  }, 120_000);
});
