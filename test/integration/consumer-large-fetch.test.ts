/**
 * A fetch that brings more records than a JavaScript spread can take at once
 * (16 MiB of 8-byte records: ~400k records in one response) is delivered
 * whole and in order — the consumer once overflowed the call stack there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await BrokerProcess.start();
}, 60_000);

afterAll(async () => {
  await broker?.destroy();
}, 30_000);

describe('consumer: very large fetches', () => {
  it('delivers a 16 MiB fetch of tiny records whole and in order', async () => {
    const total = 300_000;
    const sluice = new Sluice({ brokers: broker.address, clientId: 'large-fetch' });
    try {
      await sluice.admin().createTopic({ topic: 'tiny', partitions: 1 });
      const producer = sluice.producer({ acks: 1, batchSize: 1024 * 1024, lingerMs: 5 });
      const value = Buffer.alloc(8, 1);
      const chunk = Array.from({ length: 10_000 }, () => ({ value, partition: 0 }));
      const sends: Promise<unknown>[] = [];
      for (let sent = 0; sent < total; sent += chunk.length)
        sends.push(producer.send({ topic: 'tiny', messages: chunk }));
      await Promise.all(sends);
      await producer.close();

      const consumer = sluice.consumer({ maxBytesPerPartition: 16 * 1024 * 1024, maxBytes: 16 * 1024 * 1024 });
      consumer.assign([{ topic: 'tiny', partition: 0, offset: 0 }]);
      let next = 0;
      const deadline = Date.now() + 30_000;
      while (next < total && Date.now() < deadline) {
        const records = await consumer.poll({ maxWaitMs: 500, maxRecords: 1_000_000 });
        for (const r of records) {
          expect(r.offset).toBe(next);
          next++;
        }
      }
      await consumer.close();
      // every record, in order: one fetch of up to 16 MiB holds far more records than a spread
      // into push() can take (poll() hands them out 10k at a time from the consumer's buffer)
      expect(next).toBe(total);
    } finally {
      await sluice.close();
    }
  }, 60_000);
});
