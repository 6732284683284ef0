/**
 * A real broker process restarted cleanly (SIGTERM) and killed (SIGKILL):
 * every record it acknowledged is read back afterwards, in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { decodeRecords } from '../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

const brokers: BrokerProcess[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.destroy();
});

async function connect(broker: BrokerProcess): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  clients.push(c);
  return c;
}

async function readAll(c: RawClient, topic: string, partition: number): Promise<string[]> {
  const values: string[] = [];
  let offset = 0;
  for (let guard = 0; guard < 1000; guard++) {
    const body = {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [{ name: topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 16 }] }],
    };
    const r = await c.call<Body>(ApiKey.Fetch, body);
    const p = r.topics[0].partitions[0];
    expect(p.errorCode).toBe(0);
    const records = decodeRecords(p.records).filter((rec) => rec.offset >= offset);
    if (records.length === 0) break;
    for (const rec of records) values.push(rec.value?.toString() ?? '');
    offset = (records.at(-1)?.offset ?? offset) + 1;
  }
  return values;
}

describe('broker restarts', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`keeps every acknowledged record across ${signal}`, async () => {
      const broker = await BrokerProcess.start();
      brokers.push(broker);
      let c = await connect(broker);
      const created = await c.call<Body>(ApiKey.CreateTopics, { topics: [{ name: 'keep', numPartitions: 2 }] });
      expect(created.topics[0].errorCode).toBe(0);
      const acked: string[][] = [[], []];
      for (let i = 0; i < 200; i++) {
        const partition = i % 2;
        const value = `v${i}`;
        const records = encodeRecordBatch([{ key: Buffer.from(`k${i}`), value: Buffer.from(value) }]);
        const r = await c.call<Body>(ApiKey.Produce, {
          acks: -1,
          timeoutMs: 1000,
          topics: [{ name: 'keep', partitions: [{ partition, records }] }],
        });
        expect(r.topics[0].partitions[0].errorCode).toBe(0);
        acked[partition]?.push(value);
      }
      c.close();
      await broker.restart(signal);
      c = await connect(broker);
      expect(await readAll(c, 'keep', 0)).toEqual(acked[0]);
      expect(await readAll(c, 'keep', 1)).toEqual(acked[1]);
      const md = await c.call<Body>(ApiKey.Metadata, { topics: ['keep'], allowAutoTopicCreation: false });
      expect(md.topics[0].partitions).toHaveLength(2);
    });
  }
});
