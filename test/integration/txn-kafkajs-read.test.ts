/**
 * Kafka's own client reading transactional data (issue 21): kafkajs 2.2.4 consumers against a
 * real broker whose partition holds a committed and an aborted transaction, written through bare
 * native requests (transactional batches, then WriteTxnMarkers). read_committed (kafkajs's
 * default) sees the committed records and none of the aborted ones, read_uncommitted sees both;
 * neither sees the markers (Kafka's control batches, which kafkajs recognises and skips).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { kafkajsClients } from '../helpers/kafkajs.js';
import { pollUntil } from '../helpers/poll.js';
import { RawClient } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

let broker: BrokerProcess;
const clients = kafkajsClients({ clientId: 'txn-read', brokers: () => broker.kafkaBrokers, retries: 3 });
const topic = 'txn-kafkajs';

beforeAll(async () => {
  broker = await BrokerProcess.start();
  const c = await RawClient.connect(broker.port);
  try {
    const created = await c.call<Body>(ApiKey.CreateTopics, { topics: [{ name: topic, numPartitions: 1 }] });
    expect(created.topics[0].errorCode).toBe(0);
    const produce = async (records: Buffer): Promise<void> => {
      const r = await c.call<Body>(ApiKey.Produce, {
        acks: -1,
        timeoutMs: 5000,
        topics: [{ name: topic, partitions: [{ partition: 0, records }] }],
      });
      expect(r.topics[0].partitions[0].errorCode).toBe(0);
    };
    const batch = (vals: string[], pid?: number, baseSequence = 0) =>
      encodeRecordBatch(
        vals.map((v) => ({ value: Buffer.from(v) })),
        pid === undefined ? {} : { producerId: pid, producerEpoch: 0, baseSequence, transactional: true },
      );
    const end = async (pid: number, committed: boolean): Promise<void> => {
      const r = await c.call<Body>(ApiKey.WriteTxnMarkers, {
        markers: [
          {
            producerId: pid,
            producerEpoch: 0,
            committed,
            coordinatorEpoch: 0,
            topics: [{ name: topic, partitions: [0] }],
          },
        ],
      });
      expect(r.markers[0].topics[0].partitions[0].errorCode).toBe(0);
    };
    await produce(batch(['before']));
    await produce(batch(['kept-1', 'kept-2'], 100));
    await produce(batch(['dropped-1', 'dropped-2'], 200));
    await produce(batch(['kept-3'], 100, 2));
    await end(200, false);
    await end(100, true);
    await produce(batch(['end']));
  } finally {
    c.close();
  }
}, 60_000);

afterEach(() => clients.disconnectAll(), 30_000);
afterAll(() => broker?.destroy(), 30_000);

async function readAll(readUncommitted: boolean): Promise<string[]> {
  const values: string[] = [];
  const consumer = clients.consumer({ groupId: `g-${readUncommitted}`, readUncommitted });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value?.toString() ?? '');
    },
  });
  await pollUntil('the consumer to reach the last record', 30_000, async () =>
    values.includes('end') ? true : undefined,
  );
  return values;
}

describe('kafkajs reading transactions', () => {
  it('read_committed skips the aborted transaction and the markers', async () => {
    expect(await readAll(false)).toEqual(['before', 'kept-1', 'kept-2', 'kept-3', 'end']);
  }, 60_000);

  it('read_uncommitted sees the aborted records too, never a marker', async () => {
    expect(await readAll(true)).toEqual(['before', 'kept-1', 'kept-2', 'dropped-1', 'dropped-2', 'kept-3', 'end']);
  }, 60_000);
});
