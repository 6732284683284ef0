/**
 * A producer starts its next transaction right after EndTxn is answered, while the coordinator is
 * still writing the previous one's markers. The coordinator holds that request until the
 * completion is done (bounded) instead of answering CONCURRENT_TRANSACTIONS at once, which cost
 * every small transaction a client backoff (15 transactions a second before; see
 * benchmarks/README.md). Bare native requests against a standalone broker, no retries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { pollUntil } from '../helpers/poll.js';
import { RawClient } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

const topic = 'txn-wait';
const transactionalId = 'txn-wait-id';
let broker: BrokerProcess;
let c: RawClient;

beforeAll(async () => {
  broker = await BrokerProcess.start({});
  c = await RawClient.connect(broker.port);
  const created = await c.call<Body>(ApiKey.CreateTopics, {
    topics: [{ name: topic, numPartitions: 1 }],
  });
  expect(created.topics[0].errorCode).toBe(0);
}, 60_000);

afterAll(async () => {
  c?.close();
  await broker?.destroy();
});

describe('transaction coordinator', () => {
  it('answers the next transaction’s AddPartitionsToTxn once the previous commit is complete, not CONCURRENT_TRANSACTIONS', async () => {
    // __transaction_state is made by the first FindCoordinator: the coordinator may be unavailable for a moment
    await pollUntil('the transaction coordinator', 30_000, async () => {
      const r = await c.call<Body>(ApiKey.FindCoordinator, { key: transactionalId, keyType: 1 });
      return r.errorCode === 0 ? r : undefined;
    });
    const init = await pollUntil('a transactional producer id', 30_000, async () => {
      const r = await c.call<Body>(ApiKey.InitProducerId, { transactionalId, transactionTimeoutMs: 60_000 });
      return r.errorCode === 0 ? r : undefined;
    });
    const producer = { transactionalId, producerId: init.producerId, producerEpoch: init.producerEpoch };
    let sequence = 0;
    for (let round = 0; round < 5; round++) {
      const added = await c.call<Body>(ApiKey.AddPartitionsToTxn, {
        ...producer,
        topics: [{ name: topic, partitions: [0] }],
      });
      expect(added.errorCode ?? 0, `round ${round}`).toBe(0);
      expect(added.results[0].partitions[0].errorCode, `round ${round}`).toBe(0);
      const records = encodeRecordBatch([{ key: null, value: Buffer.from(`r${round}`) }], {
        producerId: init.producerId,
        producerEpoch: init.producerEpoch,
        baseSequence: sequence++,
        transactional: true,
      });
      const produced = await c.call<Body>(ApiKey.Produce, {
        acks: -1,
        timeoutMs: 5000,
        transactionalId,
        topics: [{ name: topic, partitions: [{ partition: 0, records }] }],
      });
      expect(produced.topics[0].partitions[0].errorCode).toBe(0);
      const ended = await c.call<Body>(ApiKey.EndTxn, { ...producer, committed: true });
      expect(ended.errorCode).toBe(0);
    }
  }, 60_000);
});
