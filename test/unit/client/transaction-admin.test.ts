/**
 * The admin's transaction calls (src/client/transaction-admin.ts) against
 * scripted native brokers on loopback: ListTransactions goes to every broker
 * and the answers are merged (sorted, filters passed on); DescribeTransactions
 * goes to each id's coordinator (FindCoordinator keyType 1), retried there
 * after NOT_COORDINATOR; an unknown id fails with TransactionalIdNotFound.
 * Also the CLI's kafka-transactions.sh tables (src/cli/transaction-commands.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { describeTable, listTable } from '../../../src/cli/transaction-commands.js';
import { Admin } from '../../../src/client/admin.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { ErrorCode, WireError } from '../../../src/shared/errors.js';
import type { AnyBody } from '../../helpers/fake-native-broker.js';
import { fakeProduceCluster } from '../../helpers/fake-produce-cluster.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const fake = await fakeProduceCluster({}, 2);
  cleanups.push(fake.close);
  const asked: { node: number; apiKey: number; body: AnyBody }[] = [];
  let notCoordinatorOnce = true;
  fake.extra = (node, apiKey, body) => {
    if (apiKey === ApiKey.ListTransactions) {
      asked.push({ node, apiKey, body });
      const states =
        node === 0
          ? [{ transactionalId: 'b', producerId: 2, transactionState: 'Ongoing' }]
          : [{ transactionalId: 'a', producerId: 1, transactionState: 'CompleteCommit' }];
      return { errorCode: 0, unknownStateFilters: [], transactionStates: states };
    }
    if (apiKey === ApiKey.FindCoordinator) {
      asked.push({ node, apiKey, body });
      return { errorCode: 0, nodeId: 1, host: '127.0.0.1', port: fake.port(1) };
    }
    if (apiKey === ApiKey.DescribeTransactions) {
      asked.push({ node, apiKey, body });
      const id = (body.transactionalIds as string[])[0] as string;
      const base = {
        transactionalId: id,
        transactionState: '',
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1,
        producerId: -1,
        producerEpoch: -1,
        topics: [],
      };
      if (id === 'missing')
        return { errorCode: 0, transactionStates: [{ ...base, errorCode: WireError.TRANSACTIONAL_ID_NOT_FOUND }] };
      if (notCoordinatorOnce) {
        notCoordinatorOnce = false;
        return { errorCode: 0, transactionStates: [{ ...base, errorCode: WireError.NOT_COORDINATOR }] };
      }
      return {
        errorCode: 0,
        transactionStates: [
          {
            errorCode: 0,
            transactionalId: id,
            transactionState: 'Ongoing',
            transactionTimeoutMs: 60000,
            transactionStartTimeMs: 1000,
            producerId: 7,
            producerEpoch: 3,
            topics: [{ name: 'out', partitions: [0, 2] }],
          },
        ],
      };
    }
    return undefined;
  };
  return { fake, asked, admin: new Admin(fake.cluster({ retryBackoffMs: 1 })) };
}

describe('transaction admin', () => {
  it('lists the transactions of every broker, merged and sorted, with the filters passed on', async () => {
    const { admin, asked } = await setup();
    const list = await admin.listTransactions({ states: ['Ongoing'], producerIds: [1, 2] });
    expect(list).toEqual([
      { transactionalId: 'a', coordinator: 1, producerId: 1, state: 'CompleteCommit' },
      { transactionalId: 'b', coordinator: 0, producerId: 2, state: 'Ongoing' },
    ]);
    const lists = asked.filter((a) => a.apiKey === ApiKey.ListTransactions);
    expect(lists.map((a) => a.node).sort()).toEqual([0, 1]);
    expect(lists[0]?.body).toEqual({ stateFilters: ['Ongoing'], producerIdFilters: [1, 2] });
    expect(listTable(list).split('\n')[0]).toMatch(/^TransactionalId\s+Coordinator\s+ProducerId\s+TransactionState/);
  });

  it('describes an id at its coordinator, retrying NOT_COORDINATOR; an unknown id fails', async () => {
    const { admin, asked } = await setup();
    const [d] = await admin.describeTransactions(['tx']);
    expect(d).toEqual({
      transactionalId: 'tx',
      coordinator: 1,
      producerId: 7,
      producerEpoch: 3,
      state: 'Ongoing',
      transactionTimeoutMs: 60000,
      transactionStartTimeMs: 1000,
      topicPartitions: [
        { topic: 'out', partition: 0 },
        { topic: 'out', partition: 2 },
      ],
    });
    const finds = asked.filter((a) => a.apiKey === ApiKey.FindCoordinator);
    expect(finds).toHaveLength(2);
    expect(finds[0]?.body).toEqual({ key: 'tx', keyType: 1 });
    expect(asked.filter((a) => a.apiKey === ApiKey.DescribeTransactions).every((a) => a.node === 1)).toBe(true);
    const table = describeTable(d as NonNullable<typeof d>);
    expect(table.split('\n')[0]).toMatch(
      /^CoordinatorId\s+TransactionalId\s+ProducerId\s+ProducerEpoch\s+TransactionState\s+TransactionTimeoutMs\s+CurrentTransactionStartTimeMs\s+TransactionDurationMs\s+TopicPartitions/,
    );
    expect(table.split('\n')[1]).toMatch(/out-0,out-2\s*$/);
    await expect(admin.describeTransactions(['missing'])).rejects.toMatchObject({
      code: ErrorCode.TransactionalIdNotFound,
    });
  });
});
