/**
 * Transactional offset commits end to end with kafkajs 2.2.4 (an independent
 * Kafka client) on a broker process: `transaction.sendOffsets({
 * consumerGroupId, topics })` goes AddOffsetsToTxn to the transaction
 * coordinator and TxnOffsetCommit to the group coordinator; the offsets
 * become the group's committed offsets when the transaction commits (the
 * coordinator's marker on the offsets partition), never when it aborts, and
 * OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT while the
 * transaction is open.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { kafkajsClients } from '../helpers/kafkajs.js';
import { pollUntil } from '../helpers/poll.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: BrokerProcess;
const clients = kafkajsClients({ clientId: 'sluice-txn-offsets', brokers: () => broker.kafkaBrokers, retries: 5 });
const raws: RawClient[] = [];

// biome-ignore lint/suspicious/noExplicitAny: native answers read field by field
type Body = any;

beforeAll(async () => {
  broker = await BrokerProcess.start({
    overrides: ['default.replication.factor=1', 'group.initial.rebalance.delay.ms=0'],
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

/** The transaction's state at its coordinator (DescribeTransactions). */
async function txnState(c: RawClient, id: string): Promise<string> {
  const r = await c.call<Body>(ApiKey.DescribeTransactions, { transactionalIds: [id] });
  return r.transactionStates[0].transactionState;
}

/** OffsetFetch of `in` partitions 0 and 1 for group `cg`: [offset, errorCode] each. */
async function offsets(c: RawClient, requireStable: boolean): Promise<[number, number][]> {
  const r = await c.call<Body>(ApiKey.OffsetFetch, {
    groupId: 'cg',
    topics: [{ name: 'in', partitions: [0, 1] }],
    requireStable,
  });
  expect(r.errorCode).toBe(0);
  return r.topics[0].partitions.map((p: Body) => [p.offset, p.errorCode]);
}

describe('kafkajs transaction.sendOffsets', () => {
  it('commits the offsets with the transaction and drops them when it aborts', async () => {
    await clients.createTopic('in', 2);
    await clients.createTopic('out', 1);
    const producer = clients.track(
      clients.kafka().producer({ transactionalId: 'tx-offsets', idempotent: true, maxInFlightRequests: 1 }),
    );
    await producer.connect();
    const c = await raw();

    const first = await producer.transaction();
    await first.send({ topic: 'out', messages: [{ value: 'one' }] });
    await first.sendOffsets({
      consumerGroupId: 'cg',
      topics: [
        {
          topic: 'in',
          partitions: [
            { partition: 0, offset: '5' },
            { partition: 1, offset: '7' },
          ],
        },
      ],
    });
    // open: the last committed offsets (none) without require_stable, UNSTABLE_OFFSET_COMMIT with it
    expect(await offsets(c, false)).toEqual([
      [-1, 0],
      [-1, 0],
    ]);
    expect(await offsets(c, true)).toEqual([
      [-1, WireError.UNSTABLE_OFFSET_COMMIT],
      [-1, WireError.UNSTABLE_OFFSET_COMMIT],
    ]);
    await first.commit();
    await pollUntil('the commit completed', 30_000, async () =>
      (await txnState(c, 'tx-offsets')) === 'CompleteCommit' ? true : undefined,
    );
    expect(await offsets(c, true)).toEqual([
      [5, 0],
      [7, 0],
    ]);
    const admin = await clients.admin();
    const seen = await admin.fetchOffsets({ groupId: 'cg', topics: ['in'] });
    expect(seen[0]?.partitions.map((p) => p.offset).sort()).toEqual(['5', '7']);

    const second = await producer.transaction();
    await second.send({ topic: 'out', messages: [{ value: 'two' }] });
    await second.sendOffsets({
      consumerGroupId: 'cg',
      topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '9' }] }],
    });
    expect(await offsets(c, true)).toEqual([
      [-1, WireError.UNSTABLE_OFFSET_COMMIT],
      [7, 0],
    ]);
    await second.abort();
    await pollUntil('the abort completed', 30_000, async () =>
      (await txnState(c, 'tx-offsets')) === 'CompleteAbort' ? true : undefined,
    );
    expect(await offsets(c, true)).toEqual([
      [5, 0],
      [7, 0],
    ]);
  });
});
