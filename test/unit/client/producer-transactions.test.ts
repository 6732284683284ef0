/**
 * The transactional producer's requests (src/client/producer/transactions.ts)
 * against scripted native brokers on loopback (fake-produce-cluster.ts): the
 * order of Kafka's flow (FindCoordinator keyType 1, InitProducerId with the
 * transactional id, AddPartitionsToTxn before a partition's first batch,
 * transactional batches, EndTxn once every send is acknowledged), sendOffsets
 * (AddOffsetsToTxn, then TxnOffsetCommit at the group's coordinator), the
 * retried coordinator answers, the abortable and the fatal errors.
 * The broker side is tested with real brokers in test/integration/.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Producer } from '../../../src/client/producer.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { ErrorCode, WireError } from '../../../src/shared/errors.js';
import type { AnyBody } from '../../helpers/fake-native-broker.js';
import { type FakeProduceCluster, fakeProduceCluster } from '../../helpers/fake-produce-cluster.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Scripted {
  fake: FakeProduceCluster;
  producer: Producer;
  /** Every request other than Metadata, in arrival order: `Key` or `Key:detail`. */
  log: string[];
  bodies: { apiKey: number; body: AnyBody }[];
  /** Answers one request instead of the default (undefined: the default). */
  override: { fn: (apiKey: number, body: AnyBody) => unknown };
}

const names: Record<number, string> = {
  [ApiKey.FindCoordinator]: 'FindCoordinator',
  [ApiKey.InitProducerId]: 'InitProducerId',
  [ApiKey.AddPartitionsToTxn]: 'AddPartitionsToTxn',
  [ApiKey.AddOffsetsToTxn]: 'AddOffsetsToTxn',
  [ApiKey.TxnOffsetCommit]: 'TxnOffsetCommit',
  [ApiKey.EndTxn]: 'EndTxn',
};

async function setup(topics: Record<string, number> = { t: 2 }): Promise<Scripted> {
  const fake = await fakeProduceCluster(topics, 2);
  cleanups.push(fake.close);
  const log: string[] = [];
  const bodies: { apiKey: number; body: AnyBody }[] = [];
  const override = { fn: (_k: number, _b: AnyBody): unknown => undefined };
  let epoch = -1;
  fake.extra = (_node, apiKey, body) => {
    const name = names[apiKey];
    if (name === undefined) return undefined;
    bodies.push({ apiKey, body });
    log.push(
      apiKey === ApiKey.FindCoordinator
        ? `${name}:${body.keyType ?? 0}:${body.key}`
        : apiKey === ApiKey.EndTxn
          ? `${name}:${body.committed}`
          : name,
    );
    const o = override.fn(apiKey, body);
    if (o !== undefined) return o;
    switch (apiKey) {
      case ApiKey.FindCoordinator:
        // the transaction coordinator on node 1, the group's on node 0
        return {
          errorCode: 0,
          nodeId: body.keyType === 1 ? 1 : 0,
          host: '127.0.0.1',
          port: fake.port(body.keyType === 1 ? 1 : 0),
        };
      case ApiKey.InitProducerId:
        epoch++;
        return { errorCode: 0, producerId: 77, producerEpoch: epoch };
      case ApiKey.AddPartitionsToTxn:
        return {
          errorCode: 0,
          results: (body.topics as AnyBody[]).map((t) => ({
            name: t.name,
            partitions: (t.partitions as number[]).map((partition) => ({ partition, errorCode: 0 })),
          })),
        };
      case ApiKey.TxnOffsetCommit:
        return {
          errorCode: 0,
          topics: (body.topics as AnyBody[]).map((t) => ({
            name: t.name,
            partitions: (t.partitions as AnyBody[]).map((p) => ({ partition: p.partition, errorCode: 0 })),
          })),
        };
      default:
        return { errorCode: 0 };
    }
  };
  const producer = new Producer(fake.cluster({ retryBackoffMs: 1 }), {
    transactionalId: 'tx-1',
    transactionTimeoutMs: 30_000,
    retryBackoffMs: 1,
  });
  cleanups.push(async () => {
    fake.release();
    await producer.close().catch(() => undefined);
  });
  return { fake, producer, log, bodies, override };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('transactional producer', () => {
  it("follows Kafka's flow: init at the coordinator, partitions added before their batches, EndTxn after the acks", async () => {
    const s = await setup();
    const txn = await s.producer.transaction();
    expect(s.log).toEqual(['FindCoordinator:1:tx-1', 'InitProducerId']);
    const init = s.bodies.find((b) => b.apiKey === ApiKey.InitProducerId)?.body;
    expect(init).toMatchObject({ transactionalId: 'tx-1', transactionTimeoutMs: 30_000 });
    const sent = await Promise.all([
      txn.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] }),
      txn.send({ topic: 't', messages: [{ value: 'b', partition: 1 }] }),
    ]);
    expect(sent.flat().map((r) => r.partition)).toEqual([0, 1]);
    // both partitions in one AddPartitionsToTxn (the first round's), before any batch
    const add = s.bodies.filter((b) => b.apiKey === ApiKey.AddPartitionsToTxn);
    expect(add.length).toBeGreaterThanOrEqual(1);
    const added = add.flatMap((b) => (b.body.topics as AnyBody[]).flatMap((t) => t.partitions as number[])).sort();
    expect(added).toEqual([0, 1]);
    expect(add[0]?.body).toMatchObject({ transactionalId: 'tx-1', producerId: 77, producerEpoch: 0 });
    expect(s.fake.arrived.every((b) => b.transactional && b.producerId === 77 && b.producerEpoch === 0)).toBe(true);
    expect(txn.isActive()).toBe(true);
    await txn.commit();
    expect(txn.isActive()).toBe(false);
    expect(s.log.at(-1)).toBe('EndTxn:true');
    expect(s.bodies.at(-1)?.body).toMatchObject({ transactionalId: 'tx-1', producerId: 77, producerEpoch: 0 });

    // the next transaction adds its partitions again, and is not initialised again
    const next = await s.producer.transaction();
    await next.send({ topic: 't', messages: [{ value: 'c', partition: 0 }] });
    await next.abort();
    expect(s.log.filter((l) => l === 'InitProducerId')).toHaveLength(1);
    expect(s.log.filter((l) => !l.startsWith('FindCoordinator')).slice(-2)).toEqual([
      'AddPartitionsToTxn',
      'EndTxn:false',
    ]);
    // an old transaction object can do nothing more
    expect(await codeOf(txn.send({ topic: 't', messages: [{ value: 'x' }] }))).toBe(ErrorCode.InvalidTxnState);
  });

  it('refuses sends outside a transaction, and a second transaction while one is open', async () => {
    const s = await setup();
    expect(await codeOf(s.producer.send({ topic: 't', messages: [{ value: 'x' }] }))).toBe(ErrorCode.InvalidTxnState);
    const txn = await s.producer.transaction();
    expect(await codeOf(s.producer.transaction())).toBe(ErrorCode.InvalidTxnState);
    await txn.abort();
    // nothing was added: nothing to end at the coordinator
    expect(s.log.some((l) => l.startsWith('EndTxn'))).toBe(false);
    expect(s.fake.arrived).toHaveLength(0);
  });

  it('sendOffsets: AddOffsetsToTxn at the transaction coordinator, then TxnOffsetCommit at the group coordinator', async () => {
    const s = await setup();
    const txn = await s.producer.transaction();
    await txn.sendOffsets({
      consumerGroupId: 'g',
      topics: [{ topic: 'in', partitions: [{ partition: 3, offset: '42' }] }],
    });
    await txn.commit();
    // the transaction's coordinator was found at init and is kept; the group's is found once
    expect(s.log.slice(2)).toEqual(['AddOffsetsToTxn', 'FindCoordinator:0:g', 'TxnOffsetCommit', 'EndTxn:true']);
    const commit = s.bodies.find((b) => b.apiKey === ApiKey.TxnOffsetCommit)?.body;
    expect(commit).toMatchObject({
      transactionalId: 'tx-1',
      groupId: 'g',
      producerId: 77,
      producerEpoch: 0,
      topics: [{ name: 'in', partitions: [{ partition: 3, offset: 42 }] }],
    });
  });

  it('retries CONCURRENT_TRANSACTIONS at the same coordinator, NOT_COORDINATOR with a fresh FindCoordinator', async () => {
    const s = await setup();
    const answers = [WireError.CONCURRENT_TRANSACTIONS, WireError.NOT_COORDINATOR];
    s.override.fn = (apiKey) =>
      apiKey === ApiKey.InitProducerId && answers.length > 0 ? { errorCode: answers.shift() } : undefined;
    const txn = await s.producer.transaction();
    expect(s.log).toEqual([
      'FindCoordinator:1:tx-1',
      'InitProducerId',
      'InitProducerId',
      'FindCoordinator:1:tx-1',
      'InitProducerId',
    ]);
    await txn.abort();
  });

  it('a failed send leaves the transaction abortable only; the abort bumps the epoch (KIP-360)', async () => {
    const s = await setup();
    s.fake.fault = (b) => (b.values[0] === 'bad' ? { errorCode: WireError.INVALID_RECORD } : undefined);
    const txn = await s.producer.transaction();
    await txn.send({ topic: 't', messages: [{ value: 'ok', partition: 0 }] });
    expect(await codeOf(txn.send({ topic: 't', messages: [{ value: 'bad', partition: 1 }] }))).toBe(
      ErrorCode.InvalidRecord,
    );
    expect(await codeOf(txn.send({ topic: 't', messages: [{ value: 'more', partition: 0 }] }))).toBe(
      ErrorCode.InvalidTxnState,
    );
    expect(await codeOf(txn.commit())).toBe(ErrorCode.InvalidTxnState);
    expect(txn.isActive()).toBe(true);
    await txn.abort();
    expect(s.log.filter((l) => l.startsWith('EndTxn'))).toEqual(['EndTxn:false']);
    const inits = s.bodies.filter((b) => b.apiKey === ApiKey.InitProducerId).map((b) => b.body);
    expect(inits).toHaveLength(2);
    expect(inits[1]).toMatchObject({ transactionalId: 'tx-1', producerId: 77, producerEpoch: 0 });
    // the next transaction writes with the new epoch, sequences from 0
    s.fake.fault = () => undefined;
    const next = await s.producer.transaction();
    await next.send({ topic: 't', messages: [{ value: 'again', partition: 0 }] });
    await next.commit();
    const last = s.fake.arrived.at(-1);
    expect(last).toMatchObject({ producerEpoch: 1, baseSequence: 0, transactional: true });
  });

  it('PRODUCER_FENCED is fatal: the producer refuses every later call with ProducerFenced', async () => {
    const s = await setup();
    const txn = await s.producer.transaction();
    await txn.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] });
    s.override.fn = (apiKey) => (apiKey === ApiKey.EndTxn ? { errorCode: WireError.PRODUCER_FENCED } : undefined);
    expect(await codeOf(txn.commit())).toBe(ErrorCode.ProducerFenced);
    expect(txn.isActive()).toBe(false);
    expect(await codeOf(txn.abort())).toBe(ErrorCode.ProducerFenced);
    expect(await codeOf(s.producer.transaction())).toBe(ErrorCode.ProducerFenced);
    expect(await codeOf(s.producer.send({ topic: 't', messages: [{ value: 'x' }] }))).toBe(ErrorCode.ProducerFenced);
  });

  it('INVALID_PRODUCER_EPOCH on a batch is fatal too', async () => {
    const s = await setup();
    s.fake.fault = () => ({ errorCode: WireError.INVALID_PRODUCER_EPOCH });
    const txn = await s.producer.transaction();
    expect(await codeOf(txn.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] }))).toBe(
      ErrorCode.InvalidProducerEpoch,
    );
    expect(await codeOf(txn.abort())).toBe(ErrorCode.InvalidProducerEpoch);
    expect(await codeOf(s.producer.transaction())).toBe(ErrorCode.InvalidProducerEpoch);
  });
});
