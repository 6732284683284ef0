/**
 * A broker killed (kill -9) and started again at once, within the ZooKeeper
 * session timeout, finds its previous session's /brokers/ids/<id> still
 * registered. It must not exit: the registration names its own address, so it
 * waits for the old session to expire, registers, and rejoins the ISR — and
 * the controller sees the restart even when the old znode's deletion and the
 * new registration come close together (the restarted broker leaves the ISR
 * and leadership with a new leader epoch, then catches up). A broker with the
 * same id on another address while the first one lives is refused at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

/**
 * Longer than the clusters' usual 3 s: a restart on this shared machine takes several seconds (node, tsx,
 * logs, listeners), and the old registration must still be there when the restarted broker registers.
 * (ZooKeeper grants at most 20 ticks; the test server's tick makes that 10 s.)
 */
const sessionTimeoutMs = 10_000;
/** Kill-and-restart rounds at most, until one restart found its old registration still there. */
const roundsMax = 3;

beforeAll(async () => {
  cluster = await TestCluster.start({
    brokers: 3,
    overrides: ['min.insync.replicas=2', `zookeeper.session.timeout.ms=${sessionTimeoutMs}`],
    label: 'quick-restart',
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const waitLine = 'waiting for the previous ZooKeeper session of this broker id to expire';

async function leaderEpoch(topic: string, partition: number): Promise<number> {
  const node = await (await cluster.zk()).get(`/brokers/topics/${topic}/partitions/${partition}/state`);
  if (!node) throw new Error(`no state znode for ${topic}-${partition}`);
  return (JSON.parse(node.data) as { leader_epoch: number }).leader_epoch;
}

describe('cluster: a broker restarted within the session timeout', () => {
  it('waits for its previous session to expire, registers and rejoins the ISR', async () => {
    const topic = 'quick-restart';
    // on a loaded machine a broker can lose its first session while starting (it then rejoins): wait for all
    await cluster.poll('every broker to be registered', 60_000, async () =>
      (await cluster.registeredIds()).length === cluster.ids.length ? true : undefined,
    );
    const sluice = cluster.client({ retries: 20, requestTimeoutMs: 4000 });
    await sluice.admin().createTopic({ topic, partitions: 1, replicationFactor: 3 });
    await cluster.waitForIsr(topic, 0, 3);
    const producer = sluice.producer({ acks: -1, idempotent: true, timeoutMs: 4000 });
    const acked: string[] = [];
    for (let i = 0; i < 30; i++) {
      await producer.send({ topic, messages: [{ value: `before-${i}`, partition: 0 }] });
      acked.push(`before-${i}`);
    }
    const victim = await cluster.leaderOf(topic, 0);
    const broker = cluster.broker(victim);
    const port = broker.port;
    const kafkaPort = broker.kafkaPort;
    let waited = 0;
    for (let round = 0; round < roundsMax && waited === 0; round++) {
      const epochBefore = await leaderEpoch(topic, 0);
      // kill -9 and start again at once on the same ports: the old registration is still there
      await broker.stop('SIGKILL');
      expect(await cluster.registeredIds()).toContain(victim);
      await broker.restart();
      // it started on its own address (BrokerProcess falls back to other ports when a start fails)
      expect(broker.port, broker.recentOutput).toBe(port);
      expect(broker.kafkaPort).toBe(kafkaPort);
      expect(broker.recentOutput).not.toContain('already registered');
      expect((await cluster.registration(victim))?.port).toBe(port);
      // a restart slower than the session timeout found no old registration: nothing to wait for
      if (broker.recentOutput.includes(waitLine)) waited++;
      // the controller saw the restart: leadership moved on at a new epoch (never the old epoch on a log
      // that may have lost its tail), and the restarted broker catches up into the ISR
      await cluster.poll('a new leader epoch after the restart', 30_000, async () =>
        (await leaderEpoch(topic, 0)) > epochBefore ? true : undefined,
      );
      await cluster.waitForIsr(topic, 0, 3, 30_000);
    }
    expect(waited, `no restart within ${roundsMax} rounds was quicker than the session timeout`).toBe(1);
    for (let i = 0; i < 30; i++) {
      await producer.send({ topic, messages: [{ value: `after-${i}`, partition: 0 }] });
      acked.push(`after-${i}`);
    }
    await producer.close();
    const stored = (await cluster.readPartition(topic, 0)).map((r) => r.value?.toString());
    expect(stored).toEqual(acked);
    await cluster.poll('the restarted broker to hold every record', 20_000, async () =>
      cluster.storedRecords(victim, topic, 0).length === acked.length ? true : undefined,
    );
    expect(cluster.storedRecords(victim, topic, 0).map((r) => r.value)).toEqual(acked);
  }, 240_000);

  it('refuses at once a second broker with a live broker id on another address', async () => {
    const holder = cluster.liveIds[0] as number;
    const before = await cluster.registration(holder);
    // a fresh data dir and ephemeral ports: another process that claims the same broker.id
    const started = cluster.startExtraBroker(holder);
    const err = await started.then(
      async (b) => {
        await b.destroy();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err?.message).toContain(`broker.id ${holder} is already registered`);
    expect(err?.message).toContain('by a live broker at');
    expect(err?.message).not.toContain(waitLine);
    // the live broker keeps its registration
    expect(await cluster.registration(holder)).toEqual(before);
  }, 90_000);
});
