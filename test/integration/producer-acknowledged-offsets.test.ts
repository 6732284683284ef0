/**
 * The producer's first promise: every acknowledged offset holds the record it
 * was acknowledged for. Overlapping send() calls on one partition (acks 1, or
 * acks -1 without idempotence) once got offsets of other records, because the
 * producer put several batches of one partition into one Produce request and
 * matched the answers by partition number. Checked against a real standalone
 * broker, reading every partition back with bare fetches (not the client's
 * consumer) and comparing each acknowledged (partition, offset) with the value
 * sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { RawClient, readPartitionValues } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

/** send() calls in flight at once, records per call, rounds of them (16,000 records per case). */
const concurrentSends = 16;
const recordsPerSend = 100;
const rounds = 10;
/** Bytes of each value: a send's records then fill several batches of the default 16 KiB. */
const valueBytes = 100;

let broker: BrokerProcess;
let raw: RawClient;
let sluice: Sluice;

beforeAll(async () => {
  broker = await BrokerProcess.start();
  raw = await RawClient.connect(broker.port);
  sluice = new Sluice({ brokers: broker.address, clientId: 'acknowledged-offsets' });
  for (const [name, numPartitions] of [
    ['acks-one', 1],
    ['acks-all', 1],
    ['four', 4],
  ] as const) {
    const r = await raw.call<Body>(ApiKey.CreateTopics, { topics: [{ name, numPartitions }] });
    expect(r.topics[0].errorCode).toBe(0);
  }
});

afterAll(async () => {
  await sluice?.close().catch(() => undefined);
  raw?.close();
  await broker?.destroy();
});

/**
 * Rounds of `concurrentSends` overlapping send() calls; returns how many
 * acknowledged offsets hold another value (or none), and the records read.
 */
async function sendAndCheck(
  topic: string,
  partitions: number,
  options: { acks: 1 | -1 },
): Promise<{ acknowledged: number; wrong: number; stored: number }> {
  const producer = sluice.producer({ acks: options.acks, idempotent: false });
  const acks: { partition: number; offset: number; value: string }[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const sends = Array.from({ length: concurrentSends }, async (_, call) => {
        // keys spread one call's records over every partition of a multi-partition topic
        const messages = Array.from({ length: recordsPerSend }, (_, i) => ({
          key: `k${(call * recordsPerSend + i) % 97}`,
          value: `${topic}/${round}/${call}/${i}/`.padEnd(valueBytes, 'x'),
        }));
        const answers = await producer.send({ topic, messages });
        answers.forEach((a, i) => {
          acks.push({ partition: a.partition, offset: a.offset, value: messages[i]?.value as string });
        });
      });
      await Promise.all(sends);
    }
  } finally {
    await producer.close();
  }
  const stored = new Map<number, Map<number, string>>();
  let storedCount = 0;
  for (let p = 0; p < partitions; p++) {
    const { values } = await readPartitionValues(raw, topic, p);
    stored.set(p, values);
    storedCount += values.size;
  }
  let wrong = 0;
  for (const a of acks) if (stored.get(a.partition)?.get(a.offset) !== a.value) wrong++;
  return { acknowledged: acks.length, wrong, stored: storedCount };
}

describe('every acknowledged offset holds the record it was acknowledged for', () => {
  const total = concurrentSends * recordsPerSend * rounds;

  it('acks 1, one partition, 16 overlapping sends', async () => {
    const r = await sendAndCheck('acks-one', 1, { acks: 1 });
    expect(r).toEqual({ acknowledged: total, wrong: 0, stored: total });
  });

  it('acks -1 without idempotence, one partition, 16 overlapping sends', async () => {
    const r = await sendAndCheck('acks-all', 1, { acks: -1 });
    expect(r).toEqual({ acknowledged: total, wrong: 0, stored: total });
  });

  it('acks 1, four partitions (one request carries batches of several partitions)', async () => {
    const r = await sendAndCheck('four', 4, { acks: 1 });
    expect(r).toEqual({ acknowledged: total, wrong: 0, stored: total });
  });
});
