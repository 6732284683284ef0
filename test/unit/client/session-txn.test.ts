/**
 * A transacted session's commit spanning queues (session.ts, session-txn.ts;
 * issue 21) against scripted native brokers on loopback: the order of the
 * requests (the coordinator found with key type 1, InitProducerId once per
 * session, the queues created, AddPartitionsToTxn, the QueueSends stamped
 * with the producer, EndTxn), and what a failed EndTxn reports: a refusal is
 * not committed, a lost answer is in doubt, and rollback() then settles the
 * session as committed when the coordinator answers that it committed.
 * The broker side is tested with a real broker in
 * test/integration/queue-session-txn.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Session } from '../../../src/client/session.js';
import type { SessionCommitError } from '../../../src/client/session-commit.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { WireError } from '../../../src/shared/errors.js';
import type { AnyBody } from '../../helpers/fake-native-broker.js';
import { fakeProduceCluster } from '../../helpers/fake-produce-cluster.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const names: Record<number, string> = {
  [ApiKey.FindCoordinator]: 'FindCoordinator',
  [ApiKey.InitProducerId]: 'InitProducerId',
  [ApiKey.AddPartitionsToTxn]: 'AddPartitionsToTxn',
  [ApiKey.QueueSend]: 'QueueSend',
  [ApiKey.QueueAdmin]: 'QueueAdmin',
  [ApiKey.EndTxn]: 'EndTxn',
};

/** Two queues a and b on scripted brokers; `endTxn` answers EndTxn (default: success). */
async function setup(endTxn: (committed: boolean) => unknown = () => ({ errorCode: 0 })) {
  const fake = await fakeProduceCluster({ '__queue.a': 1, '__queue.b': 1 }, 2);
  cleanups.push(fake.close);
  const log: string[] = [];
  const sends: AnyBody[] = [];
  let epoch = -1;
  fake.extra = (_node, apiKey, body) => {
    const name = names[apiKey];
    if (name === undefined) return undefined;
    log.push(apiKey === ApiKey.EndTxn ? `${name}:${body.committed}` : name);
    switch (apiKey) {
      case ApiKey.FindCoordinator:
        return { errorCode: 0, nodeId: 1, host: '127.0.0.1', port: fake.port(1), keyType: body.keyType };
      case ApiKey.InitProducerId:
        epoch++;
        return { errorCode: 0, producerId: 9, producerEpoch: epoch };
      case ApiKey.AddPartitionsToTxn:
        return {
          errorCode: 0,
          results: (body.topics as AnyBody[]).map((t) => ({
            name: t.name,
            partitions: (t.partitions as number[]).map((partition) => ({ partition, errorCode: 0 })),
          })),
        };
      case ApiKey.QueueAdmin:
        return {
          errorCode: 0,
          stats: [
            { queue: body.queue, depth: 0, inFlight: 0, consumers: 0, enqueued: 0, dequeued: 0, deadLettered: 0 },
          ],
        };
      case ApiKey.QueueSend:
        sends.push(body);
        return { errorCode: 0, baseOffset: 0 };
      case ApiKey.EndTxn:
        return endTxn(body.committed as boolean);
      default:
        return undefined;
    }
  };
  const session = new Session(fake.cluster({ retries: 2, retryBackoffMs: 1 }), { transacted: true }, () => undefined);
  cleanups.push(() => session.close().catch(() => undefined));
  await session.queue('a').send('to-a');
  await session.queue('b').send('to-b');
  return { session, log, sends };
}

describe('transacted session across queues', () => {
  it('commits as one transaction: coordinator, producer, queues added, stamped QueueSends, EndTxn', async () => {
    const { session, log, sends } = await setup();
    await session.commit();
    expect(log.filter((l) => l !== 'QueueAdmin' && l !== 'FindCoordinator')).toEqual([
      'InitProducerId',
      'AddPartitionsToTxn',
      'QueueSend',
      'QueueSend',
      'EndTxn:true',
    ]);
    expect(sends.map((s) => s.txn)).toEqual([
      expect.objectContaining({ producerId: 9, producerEpoch: 0 }),
      expect.objectContaining({ producerId: 9, producerEpoch: 0 }),
    ]);
    // the next commit reuses the producer (InitProducerId once per session)
    await session.queue('a').send('again');
    await session.queue('b').send('again');
    await session.commit();
    expect(log.filter((l) => l === 'InitProducerId')).toHaveLength(1);
  });

  it('EndTxn refused (fenced): nothing committed, not in doubt; rollback() aborts and the next commit initialises again', async () => {
    let refuse = true;
    const { session, log, sends } = await setup((committed) =>
      committed && refuse ? { errorCode: WireError.PRODUCER_FENCED } : { errorCode: 0 },
    );
    const failure = (await session.commit().catch((err: unknown) => err)) as SessionCommitError;
    expect(failure).toMatchObject({ name: 'SessionCommitError', committed: [], inDoubt: false });
    await session.rollback();
    expect(log.at(-1)).toBe('EndTxn:false');
    refuse = false;
    // rollback dropped the sends: new ones in a new transaction, with a new producer epoch
    await session.queue('a').send('x');
    await session.queue('b').send('y');
    await session.commit();
    expect(log.filter((l) => l === 'InitProducerId')).toHaveLength(2);
    expect(sends.at(-1)?.txn).toMatchObject({ producerEpoch: 1 });
  });

  it('EndTxn failing without a refusal (outcome unknown): in doubt; rollback() learns it committed (INVALID_TXN_STATE) and settles the session as committed', async () => {
    // an error that is no refusal of the commit (retriable ones are retried for minutes first)
    const { session, log, sends } = await setup((committed) =>
      committed ? { errorCode: WireError.UNKNOWN_SERVER_ERROR } : { errorCode: WireError.INVALID_TXN_STATE },
    );
    const failure = (await session.commit().catch((err: unknown) => err)) as SessionCommitError;
    expect(failure).toMatchObject({ name: 'SessionCommitError', committed: [], inDoubt: true });
    await session.rollback();
    expect(log.at(-1)).toBe('EndTxn:false');
    // settled: the sends left the buffer, so a commit now has nothing to write
    const before = sends.length;
    await session.commit();
    expect(sends.length).toBe(before);
  });
});
