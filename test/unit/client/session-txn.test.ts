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

/**
 * Two queues a and b (and the 3-partition topic `news`) on scripted brokers, a send buffered to each
 * queue unless `queues` is false; `endTxn` answers EndTxn (default: success).
 */
async function setup(endTxn: (committed: boolean) => unknown = () => ({ errorCode: 0 }), queues = true) {
  const fake = await fakeProduceCluster({ '__queue.a': 1, '__queue.b': 1, news: 3 }, 2);
  cleanups.push(fake.close);
  const log: string[] = [];
  const sends: AnyBody[] = [];
  const added: string[][] = [];
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
        added.push((body.topics as AnyBody[]).flatMap((t) => (t.partitions as number[]).map((p) => `${t.name}-${p}`)));
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
  if (queues) {
    await session.queue('a').send('to-a');
    await session.queue('b').send('to-b');
  }
  return { session, log, sends, added, fake };
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

describe('transacted session publishing to topics', () => {
  const publishThree = async (session: Session, prefix: string): Promise<void> => {
    const news = session.topic('news');
    // keys spread over the partitions (murmur2); values say which is which
    for (const k of ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']) await news.publish(`${prefix}-${k}`, { key: k });
  };

  it("publishes are the session producer's transactional batches in the queues' transaction, their partitions added first", async () => {
    const { session, log, sends, added, fake } = await setup();
    await publishThree(session, 'p');
    expect(fake.arrived).toEqual([]); // buffered until commit
    await session.commit();
    const batches = fake.arrived.filter((b) => b.topic === 'news');
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(b).toMatchObject({ transactional: true, producerId: 9, producerEpoch: 0 });
    expect(sends.map((s) => s.txn)).toEqual([
      expect.objectContaining({ producerId: 9, producerEpoch: 0 }),
      expect.objectContaining({ producerId: 9, producerEpoch: 0 }),
    ]);
    // every partition written was added to the transaction; the queues' logs too; one InitProducerId
    const addedAll = added.flat();
    for (const b of batches) expect(addedAll).toContain(`news-${b.partition}`);
    expect(addedAll).toEqual(expect.arrayContaining(['__queue.a-0', '__queue.b-0']));
    expect(log.filter((l) => l === 'InitProducerId')).toHaveLength(1);
    expect(log.at(-1)).toBe('EndTxn:true');
    expect(log.filter((l) => l.startsWith('EndTxn'))).toHaveLength(1);
    const written = [...fake.logs].filter(([k]) => k.startsWith('news-')).flatMap(([, v]) => v);
    expect(written.sort()).toEqual(['p-k1', 'p-k2', 'p-k3', 'p-k4', 'p-k5', 'p-k6']);
    // committed: nothing left to write
    const before = fake.arrived.length;
    await session.commit();
    expect(fake.arrived.length).toBe(before);
  });

  it('a commit with publishes and no queue still takes the transaction path', async () => {
    const { session, log, fake } = await setup(undefined, false);
    await session.topic('news').publish('only', { key: 'k1' });
    await session.commit();
    expect(log.filter((l) => l !== 'FindCoordinator')).toEqual(['InitProducerId', 'AddPartitionsToTxn', 'EndTxn:true']);
    expect(fake.arrived).toEqual([expect.objectContaining({ topic: 'news', transactional: true, values: ['only'] })]);
  });

  it('rollback() drops the buffered publishes: nothing is produced', async () => {
    const { session, fake, log } = await setup(undefined, false);
    await publishThree(session, 'dropped');
    await session.rollback();
    await session.commit();
    expect(fake.arrived).toEqual([]);
    expect(log).toEqual([]);
  });

  it('after a failed commit and rollback the next transaction has a new epoch and its sequences start at 0', async () => {
    let refuse = false;
    const { session, log, fake } = await setup(
      (committed) => (committed && refuse ? { errorCode: WireError.PRODUCER_FENCED } : { errorCode: 0 }),
      false,
    );
    await publishThree(session, 'first');
    await session.commit();
    // the same keys again: the same partitions, whose sequences go on in the same epoch
    refuse = true;
    let before = fake.arrived.length;
    await publishThree(session, 'second');
    const failure = (await session.commit().catch((err: unknown) => err)) as SessionCommitError;
    expect(failure).toMatchObject({ name: 'SessionCommitError', topics: ['news'], inDoubt: false });
    const second = fake.arrived.slice(before);
    for (const b of second) expect(b).toMatchObject({ producerEpoch: 0 });
    expect(second.every((b) => b.baseSequence > 0)).toBe(true);
    await session.rollback();
    refuse = false;
    before = fake.arrived.length;
    await publishThree(session, 'third');
    await session.commit();
    const third = fake.arrived.slice(before);
    expect(third.length).toBeGreaterThan(0);
    for (const b of third) expect(b).toMatchObject({ producerEpoch: 1, baseSequence: 0, transactional: true });
    expect(log.filter((l) => l === 'InitProducerId')).toHaveLength(2);
  });

  it('publishes are bounded like queue sends: 10,000 per topic, 32 MiB per session', async () => {
    const { session } = await setup(undefined, false);
    const news = session.topic('news');
    for (let i = 0; i < 10_000; i++) await news.publish('x');
    await expect(news.publish('x')).rejects.toThrow(/at most 10000 messages per topic/);
    await session.rollback();
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < 3; i++) await news.publish(big);
    await expect(news.publish(big)).rejects.toThrow(/at most 33554432 bytes/);
    expect(() => session.topic('')).toThrow(/topic name/);
  });
});
