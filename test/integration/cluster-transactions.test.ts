/**
 * Transaction coordinator failover (issue 21) in a 3-broker ZooKeeper
 * cluster, with kafkajs 2.2.4: the coordinator of a transactional id is
 * killed (kill -9) after it wrote PrepareCommit but before the commit marker
 * could be written, and the new coordinator (the next leader of the id's
 * `__transaction_state` partition) replays the decision and completes it.
 *
 * "Before the marker could be written" is made certain, not timed: the data
 * partition has one replica, on a broker stopped before the commit, so no
 * marker can land until that broker is back, after the coordinator's death.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { TestCluster } from '../helpers/cluster.js';
import { kafkajsClients } from '../helpers/kafkajs.js';
import { RawClient } from '../helpers/raw-client.js';

let cluster: TestCluster;
const clients = kafkajsClients({ clientId: 'sluice-txn-cluster', brokers: () => cluster.kafkaBootstrap, retries: 10 });

// biome-ignore lint/suspicious/noExplicitAny: native answers read field by field
type Body = any;

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, label: 'transactions' });
}, 90_000);

afterEach(async () => {
  await clients.disconnectAll();
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** Asks broker `id` a native request. */
async function ask(id: number, apiKey: ApiKey, body: object): Promise<Body> {
  const raw = await RawClient.connect(cluster.broker(id).port);
  try {
    return await raw.call<Body>(apiKey, body, 10_000);
  } finally {
    raw.close();
  }
}

/** The live broker FindCoordinator (key type 1) names for `id`, polled until there is one not in `exclude`. */
async function txnCoordinator(id: string, exclude: number[] = []): Promise<number> {
  for (;;) {
    const asked = cluster.liveIds.find((b) => !exclude.includes(b));
    if (asked !== undefined) {
      const found = await ask(asked, ApiKey.FindCoordinator, { key: id, keyType: 1 }).catch(() => undefined);
      if (found?.errorCode === 0 && cluster.liveIds.includes(found.nodeId) && !exclude.includes(found.nodeId)) {
        return found.nodeId;
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** DescribeTransactions at the current coordinator, polled until `done` holds. */
async function untilState(id: string, done: (state: string) => boolean): Promise<Body> {
  for (;;) {
    const coordinator = await txnCoordinator(id);
    const r = await ask(coordinator, ApiKey.DescribeTransactions, { transactionalIds: [id] }).catch(() => undefined);
    const t = r?.transactionStates?.[0];
    if (t?.errorCode === 0 && done(t.transactionState)) return { ...t, coordinator };
    await new Promise((r2) => setTimeout(r2, 200));
  }
}

/** The replica count of every partition of __transaction_state (retried while leaderships settle). */
async function replicasOfTransactionLog(): Promise<number[]> {
  for (;;) {
    const d = await cluster.describe('__transaction_state').catch(() => undefined);
    if (d) return d.partitions.map((p) => p.replicas.length);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('transaction coordinator failover', () => {
  it('a new coordinator completes a commit whose coordinator was killed after PrepareCommit', async () => {
    // __transaction_state is created by the first FindCoordinator with 3 replicas, capped by the brokers
    // registered then (a broker whose session expired under load may be re-registering): wait for all three
    while ((await cluster.registeredIds()).length < 3) await new Promise((r) => setTimeout(r, 200));
    // waited for here, so the producer's own lookups do not spend their retries on its creation
    await txnCoordinator('tx-ha');
    const replicas = await replicasOfTransactionLog();
    expect(replicas.every((n) => n === 3)).toBe(true);
    const kafka = clients.kafka({
      brokers: cluster.kafkaBootstrap.split(','),
      requestTimeout: 30_000,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const producer = clients.track(
      kafka.producer({ transactionalId: 'tx-ha', idempotent: true, maxInFlightRequests: 1 }),
    );
    await producer.connect();
    const txn = await producer.transaction();
    const coordinator = await txnCoordinator('tx-ha');

    // a data partition with its only replica on a broker that is not the coordinator
    const sluice = cluster.client({ retries: 20 });
    await sluice.admin().createTopic({ topic: 'txn-ha', partitions: 3, replicationFactor: 1 });
    const leaders = await Promise.all([0, 1, 2].map((p) => cluster.leaderOf('txn-ha', p)));
    const partition = leaders.findIndex((l) => l !== coordinator);
    expect(partition).toBeGreaterThanOrEqual(0);
    const dataBroker = leaders[partition] as number;

    await txn.send({ topic: 'txn-ha', messages: [{ value: 'exactly-once', partition }] });
    await cluster.kill(dataBroker);
    // EndTxn is answered once PrepareCommit is written; the marker cannot be written while dataBroker is down
    await txn.commit();
    expect((await untilState('tx-ha', () => true)).transactionState).toBe('PrepareCommit');

    await cluster.kill(coordinator);
    const next = await txnCoordinator('tx-ha', [coordinator, dataBroker]);
    // the new coordinator replayed the decision: still PrepareCommit (its marker is still refused)
    const replayed = await untilState('tx-ha', () => true);
    expect(replayed).toMatchObject({ coordinator: next, transactionState: 'PrepareCommit' });

    await cluster.restart(dataBroker);
    const done = await untilState('tx-ha', (s) => s === 'CompleteCommit');
    expect(done.coordinator).toBe(next);

    // the committed record is read with read_committed (kafkajs's default isolation), every broker back
    // (kafkajs's consumer does not get past a partition whose only replica is down)
    await cluster.ensureAllRunning();
    const consumer = clients.track(kafka.consumer({ groupId: 'txn-ha-reader', maxWaitTimeInMs: 500 }));
    await consumer.connect();
    await consumer.subscribe({ topics: ['txn-ha'], fromBeginning: true });
    const read = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') });
    });
    expect(read).toBe('exactly-once');
  }, 240_000);
});
