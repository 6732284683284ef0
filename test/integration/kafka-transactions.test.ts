/**
 * The transaction coordinator (issue 21) against kafkajs 2.2.4 as an
 * independent Kafka client on a standalone broker: FindCoordinator key type
 * 1, InitProducerId with a transactional id, AddPartitionsToTxn, EndTxn,
 * the markers written by the coordinator's marker channel (WriteTxnMarkers
 * to the partition leader), the state kept in `__transaction_state`
 * (replayed after kill -9), fencing of an older instance, proactive abort of
 * a timed-out transaction, Describe/ListTransactions, and Kafka's errors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { offsetsPartitionFor } from '../../src/groups/offset-store.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { kafkajsClients } from '../helpers/kafkajs.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: BrokerProcess;
const clients = kafkajsClients({ clientId: 'sluice-txn-it', brokers: () => broker.kafkaBrokers, retries: 5 });
const raws: RawClient[] = [];

// biome-ignore lint/suspicious/noExplicitAny: native answers read field by field
type Body = any;

beforeAll(async () => {
  broker = await BrokerProcess.start({
    overrides: [
      'default.replication.factor=1',
      'group.initial.rebalance.delay.ms=0',
      // the proactive abort test: a transaction of 1 s is found within 0.2 s of its timeout
      'transaction.abort.timed.out.transaction.cleanup.interval.ms=200',
    ],
  });
}, 60_000);

afterEach(async () => {
  await clients.disconnectAll();
  for (const c of raws.splice(0)) c.close();
}, 30_000);

afterAll(async () => {
  await broker?.destroy();
}, 30_000);

async function raw(): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  raws.push(c);
  return c;
}

async function describeTxn(id: string): Promise<Body> {
  const c = await raw();
  const found = await c.call<Body>(ApiKey.FindCoordinator, { key: id, keyType: 1 });
  expect(found.errorCode).toBe(0);
  const r = await c.call<Body>(ApiKey.DescribeTransactions, { transactionalIds: [id] });
  return r.transactionStates[0];
}

function txnProducer(transactionalId: string) {
  return clients.track(
    clients.kafka().producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000 }),
  );
}

/** Polls `describeTxn` until `done` holds (every 100 ms; bounded by the test's own timeout). */
async function untilState(id: string, done: (t: Body) => boolean): Promise<Body> {
  for (;;) {
    const t = await describeTxn(id);
    if (done(t)) return t;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The values a read_committed kafkajs consumer reads from `topic` until it has seen every one of
 * `last` (each the last committed value of its partition: anything aborted before it was skipped).
 */
async function readCommitted(topic: string, last: string[]): Promise<string[]> {
  const consumer = clients.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const values: string[] = [];
  let seen: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    seen = resolve;
  });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = message.value?.toString() ?? '';
      values.push(value);
      if (last.every((v) => values.includes(v))) seen();
    },
  });
  await reached;
  await consumer.disconnect();
  return values.sort();
}

describe('transaction coordinator', () => {
  it('commits a transaction end to end: partitions recorded, markers written, state durable across kill -9', async () => {
    await clients.createTopic('txn-out', 2);
    const producer = txnProducer('tx-commit');
    await producer.connect();
    // kafkajs sends InitProducerId at its first transaction()
    const txn = await producer.transaction();
    const initial = await describeTxn('tx-commit');
    expect(initial).toMatchObject({
      errorCode: 0,
      transactionState: 'Empty',
      producerEpoch: 0,
      transactionTimeoutMs: 30_000,
    });
    expect(initial.producerId).toBeGreaterThanOrEqual(0);

    await txn.send({
      topic: 'txn-out',
      messages: [
        { value: 'a', partition: 0 },
        { value: 'b', partition: 1 },
      ],
    });
    const open = await describeTxn('tx-commit');
    expect(open.transactionState).toBe('Ongoing');
    expect(open.transactionStartTimeMs).toBeGreaterThan(0);
    expect(open.topics).toEqual([{ name: 'txn-out', partitions: [0, 1] }]);

    // EndTxn is answered once PrepareCommit is in the log; CompleteCommit once both markers are written
    await txn.commit();
    const done = await untilState('tx-commit', (t) => t.transactionState === 'CompleteCommit');
    expect(done.topics).toEqual([]);
    expect(await readCommitted('txn-out', ['a', 'b'])).toEqual(['a', 'b']);

    const listed = await (await raw()).call<Body>(ApiKey.ListTransactions, {
      stateFilters: ['CompleteCommit', 'Bogus'],
    });
    expect(listed.unknownStateFilters).toEqual(['Bogus']);
    expect(listed.transactionStates.map((t: Body) => t.transactionalId)).toContain('tx-commit');

    // the state is in __transaction_state: a broker killed and restarted replays it
    await clients.disconnectAll();
    for (const c of raws.splice(0)) c.close();
    await broker.restart('SIGKILL');
    expect(await describeTxn('tx-commit')).toMatchObject({
      transactionState: 'CompleteCommit',
      producerId: initial.producerId,
      producerEpoch: 0,
    });
  }, 120_000);

  it('fences the first instance when a second one initialises; an aborted transaction is never read', async () => {
    await clients.createTopic('txn-fence', 1);
    const first = txnProducer('tx-fence');
    await first.connect();
    const zombie = await first.transaction();
    expect((await describeTxn('tx-fence')).producerEpoch).toBe(0);
    const second = txnProducer('tx-fence');
    await second.connect();
    const aborted = await second.transaction();
    expect((await describeTxn('tx-fence')).producerEpoch).toBe(1);
    const failure = await zombie.send({ topic: 'txn-fence', messages: [{ value: 'zombie' }] }).then(
      () => undefined,
      (err: { type?: string }) => err,
    );
    // kafkajs speaks AddPartitionsToTxn v1: PRODUCER_FENCED reaches it as INVALID_PRODUCER_EPOCH
    expect(failure?.type).toBe('INVALID_PRODUCER_EPOCH');

    await aborted.send({ topic: 'txn-fence', messages: [{ value: 'aborted' }] });
    await aborted.abort();
    await untilState('tx-fence', (t) => t.transactionState === 'CompleteAbort');
    const committed = await second.transaction();
    await committed.send({ topic: 'txn-fence', messages: [{ value: 'after' }] });
    await committed.commit();
    expect(await readCommitted('txn-fence', ['after'])).toEqual(['after']);
  }, 120_000);

  it('aborts the open transaction of a previous instance before the new one gets its epoch', async () => {
    await clients.createTopic('txn-takeover', 1);
    const old = txnProducer('tx-takeover');
    await old.connect();
    const left = await old.transaction();
    await left.send({ topic: 'txn-takeover', messages: [{ value: 'left-open' }] });
    expect((await describeTxn('tx-takeover')).transactionState).toBe('Ongoing');
    // kafkajs retries CONCURRENT_TRANSACTIONS until the abort (at epoch 1) is complete, then gets epoch 2
    const next = txnProducer('tx-takeover');
    await next.connect();
    const txn = await next.transaction();
    expect(await describeTxn('tx-takeover')).toMatchObject({ transactionState: 'Empty', producerEpoch: 2 });
    await txn.send({ topic: 'txn-takeover', messages: [{ value: 'new' }] });
    await txn.commit();
    expect(await readCommitted('txn-takeover', ['new'])).toEqual(['new']);
  }, 120_000);

  it('aborts a transaction open longer than its timeout, fencing its producer', async () => {
    await clients.createTopic('txn-timeout', 1);
    const c = await raw();
    expect((await c.call<Body>(ApiKey.FindCoordinator, { key: 'tx-slow', keyType: 1 })).errorCode).toBe(0);
    const init = await c.call<Body>(ApiKey.InitProducerId, { transactionalId: 'tx-slow', transactionTimeoutMs: 1000 });
    expect(init.errorCode).toBe(0);
    const added = await c.call<Body>(ApiKey.AddPartitionsToTxn, {
      transactionalId: 'tx-slow',
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
      topics: [{ name: 'txn-timeout', partitions: [0] }],
    });
    expect(added.results[0].partitions[0].errorCode).toBe(0);
    const ended = await untilState('tx-slow', (t) => t.transactionState === 'CompleteAbort');
    expect(ended.producerEpoch).toBe(init.producerEpoch + 1);
    const late = await c.call<Body>(ApiKey.EndTxn, {
      transactionalId: 'tx-slow',
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
      committed: true,
    });
    expect(late.errorCode).toBe(WireError.PRODUCER_FENCED);
  }, 60_000);

  it("answers Kafka's errors: a timeout above the max, an unknown id, a wrong coordinator key type", async () => {
    await clients.createTopic('txn-errors', 1);
    const c = await raw();
    expect((await c.call<Body>(ApiKey.FindCoordinator, { key: 'tx-err', keyType: 1 })).errorCode).toBe(0);
    const tooLong = await c.call<Body>(ApiKey.InitProducerId, {
      transactionalId: 'tx-err',
      transactionTimeoutMs: 900_001,
    });
    expect(tooLong.errorCode).toBe(WireError.INVALID_TRANSACTION_TIMEOUT);
    const unknown = await c.call<Body>(ApiKey.EndTxn, {
      transactionalId: 'tx-never',
      producerId: 1,
      producerEpoch: 0,
      committed: true,
    });
    expect(unknown.errorCode).toBe(WireError.INVALID_PRODUCER_ID_MAPPING);
    const described = await c.call<Body>(ApiKey.DescribeTransactions, { transactionalIds: ['tx-never'] });
    expect(described.transactionStates[0].errorCode).toBe(WireError.TRANSACTIONAL_ID_NOT_FOUND);
    const init = await c.call<Body>(ApiKey.InitProducerId, { transactionalId: 'tx-err', transactionTimeoutMs: 1000 });
    expect(init).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    // nothing open: EndTxn is INVALID_TXN_STATE; an old epoch is fenced
    const nothing = await c.call<Body>(ApiKey.EndTxn, {
      transactionalId: 'tx-err',
      producerId: init.producerId,
      producerEpoch: 0,
      committed: true,
    });
    expect(nothing.errorCode).toBe(WireError.INVALID_TXN_STATE);
    const fenced = await c.call<Body>(ApiKey.AddPartitionsToTxn, {
      transactionalId: 'tx-err',
      producerId: init.producerId,
      producerEpoch: 5,
      topics: [{ name: 'txn-errors', partitions: [0] }],
    });
    expect(fenced.results[0].partitions[0].errorCode).toBe(WireError.PRODUCER_FENCED);
    const missing = await c.call<Body>(ApiKey.AddPartitionsToTxn, {
      transactionalId: 'tx-err',
      producerId: init.producerId,
      producerEpoch: 0,
      topics: [
        { name: 'txn-errors', partitions: [0] },
        { name: 'no-such-topic', partitions: [0] },
      ],
    });
    expect(missing.results.map((t: Body) => t.partitions[0].errorCode)).toEqual([
      WireError.OPERATION_NOT_ATTEMPTED,
      WireError.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    // AddOffsetsToTxn: the group's __consumer_offsets partition joins the transaction
    const offsets = await c.call<Body>(ApiKey.AddOffsetsToTxn, {
      transactionalId: 'tx-err',
      producerId: init.producerId,
      producerEpoch: 0,
      groupId: 'billing',
    });
    expect(offsets.errorCode).toBe(0);
    const described2 = await c.call<Body>(ApiKey.DescribeTransactions, { transactionalIds: ['tx-err'] });
    expect(described2.transactionStates[0]).toMatchObject({
      transactionState: 'Ongoing',
      topics: [{ name: '__consumer_offsets', partitions: [offsetsPartitionFor('billing')] }],
    });
  }, 60_000);
});
