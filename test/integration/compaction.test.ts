/**
 * Log compaction end to end, on a real broker process whose cleaner loop
 * runs in the background: a topic created with cleanup.policy=compact is
 * cleaned (each key's latest record kept below the active segment, offsets
 * unchanged, gaps where records went), and every reader gets exactly what the
 * segment files hold, gaps and all: the native consumer, kafkajs (Kafka
 * listener, a group from the beginning) and kcat (librdkafka). A record
 * without a key is refused with INVALID_RECORD.
 */

import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { decodeBatchRecords } from '../../src/wire/record-batch-decoder.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { ensureKcat, Kcat } from '../helpers/kcat.js';
import { storedBatches } from '../helpers/storage.js';

let broker: BrokerProcess;
const kcat = new Kcat();

beforeAll(async () => {
  ensureKcat();
  broker = await BrokerProcess.start({
    overrides: ['default.replication.factor=1', 'group.initial.rebalance.delay.ms=0', 'log.cleaner.backoff.ms=200'],
  });
}, 360_000);

afterEach(async () => {
  await kcat.stopAll();
}, 30_000);

afterAll(async () => {
  await kcat.stopAll();
  await broker?.destroy();
}, 30_000);

interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
}

/** The records in a partition's segment files, as the broker holds them. */
function onDisk(topic: string, partition = 0): Rec[] {
  return storedBatches(path.join(broker.dataDir, `${topic}-${partition}`)).flatMap(({ buf, pos }) =>
    decodeBatchRecords(buf, pos).map((r) => ({
      offset: r.offset,
      key: r.key?.toString() ?? null,
      value: r.value?.toString() ?? null,
    })),
  );
}

async function poll<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const keys = 20;
const writes = 600;

/** Creates a compacted topic, writes `writes` records over `keys` keys, and waits for the cleaner. */
async function compactedTopic(sluice: Sluice, topic: string): Promise<Map<string, string>> {
  await sluice.admin().createTopic({
    topic,
    partitions: 1,
    replicationFactor: 1,
    config: { 'cleanup.policy': 'compact', 'segment.bytes': '2048', 'min.cleanable.dirty.ratio': '0.1' },
  });
  const producer = sluice.producer({ acks: -1, lingerMs: 0 });
  const latest = new Map<string, string>();
  for (let i = 0; i < writes; i += 10) {
    const messages = Array.from({ length: 10 }, (_, j) => {
      const key = `key-${(i + j) % keys}`;
      const value = `value-${i + j}-${'x'.repeat(40)}`;
      latest.set(key, value);
      return { key, value };
    });
    await producer.send({ topic, messages });
  }
  await producer.close();
  await poll('the cleaner to compact the topic', 60_000, () => (onDisk(topic).length < writes / 3 ? true : undefined));
  // and to be done: the files stay the same over several of its rounds (log.cleaner.backoff.ms=200)
  let previous = JSON.stringify(onDisk(topic));
  await poll('the cleaner to finish', 60_000, async () => {
    await new Promise((r) => setTimeout(r, 1000));
    const now = JSON.stringify(onDisk(topic));
    const settled = now === previous;
    previous = now;
    return settled ? true : undefined;
  });
  return latest;
}

function expectCompacted(records: Rec[], latest: Map<string, string>): void {
  // offsets ascend with gaps; each key's last record is its latest value
  for (let i = 1; i < records.length; i++) expect(records[i]?.offset).toBeGreaterThan(records[i - 1]?.offset as number);
  expect(records.length).toBeLessThan(writes);
  expect(records.at(-1)?.offset).toBe(writes - 1);
  const last = new Map<string, string>();
  for (const r of records) last.set(r.key as string, r.value as string);
  expect(last).toEqual(latest);
}

describe('a compacted topic on a broker', () => {
  it('is cleaned in the background and read through the native consumer, kafkajs and kcat, gaps and all', async () => {
    const sluice = new Sluice({ brokers: [broker.address], clientId: 'compaction-it' });
    try {
      const topic = 'compacted-kv';
      const latest = await compactedTopic(sluice, topic);
      const stored = onDisk(topic);
      expectCompacted(stored, latest);

      // native consumer from the earliest offset
      const consumer = sluice.consumer({ maxWaitMs: 200 });
      consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const native: Rec[] = [];
      const deadline = Date.now() + 30_000;
      while ((native.at(-1)?.offset ?? -1) < writes - 1 && Date.now() < deadline) {
        for (const r of await consumer.poll({ maxRecords: 5000 }))
          native.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
      }
      await consumer.close();
      expect(native).toEqual(stored);

      // kafkajs: a group from the beginning over the Kafka listener
      const kafka = new Kafka({
        clientId: 'compaction-kafkajs',
        brokers: [broker.kafkaBrokers],
        logLevel: logLevel.NOTHING,
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      const kc = kafka.consumer({ groupId: 'compaction-kafkajs', sessionTimeout: 10_000, heartbeatInterval: 500 });
      const viaKafkajs: Rec[] = [];
      try {
        await kc.connect();
        await kc.subscribe({ topics: [topic], fromBeginning: true });
        await kc.run({
          eachMessage: async ({ message }) => {
            viaKafkajs.push({
              offset: Number(message.offset),
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
            });
          },
        });
        await poll('kafkajs to read to the end', 30_000, () =>
          (viaKafkajs.at(-1)?.offset ?? -1) >= writes - 1 ? true : undefined,
        );
      } finally {
        await kc.disconnect();
      }
      expect(viaKafkajs).toEqual(stored);

      // kcat (librdkafka) from the beginning to the end
      const r = await kcat.run(['-b', broker.kafkaBrokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-J']);
      expect(r.code, r.stderr).toBe(0);
      const viaKcat = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { offset: number; key: string | null; payload: string | null })
        .map((j) => ({ offset: j.offset, key: j.key, value: j.payload }));
      expect(viaKcat).toEqual(stored);
    } finally {
      await sluice.close();
    }
  }, 180_000);

  it('refuses a record without a key with INVALID_RECORD (kafkajs)', async () => {
    const sluice = new Sluice({ brokers: [broker.address], clientId: 'compaction-it-2' });
    const topic = 'compacted-keyless';
    await sluice
      .admin()
      .createTopic({ topic, partitions: 1, replicationFactor: 1, config: { 'cleanup.policy': 'compact' } });
    await sluice.close();
    const kafka = new Kafka({
      clientId: 'compaction-kafkajs-keyless',
      brokers: [broker.kafkaBrokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await expect(producer.send({ topic, messages: [{ value: 'no key' }] })).rejects.toMatchObject({
        type: 'INVALID_RECORD',
      });
      await producer.send({ topic, messages: [{ key: 'k', value: 'with a key' }] });
    } finally {
      await producer.disconnect();
    }
    expect(onDisk(topic).map((r) => r.value)).toEqual(['with a key']);
  }, 60_000);
});
