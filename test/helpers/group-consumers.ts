/** Shared steps of the group-consumer tests: waiting, producing numbered records, collecting. */
import type { Consumer } from '../../src/client/consumer.js';
import type { ConsumerRecord, Sluice } from '../../src/index.js';

/** Polls `cond` every 50 ms; throws after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends records v<from>..v<from+n-1>, record i to partition i % partitions, with acks -1. */
export async function produceNumbered(
  sluice: Sluice,
  topic: string,
  partitions: number,
  n: number,
  from = 0,
): Promise<void> {
  const producer = sluice.producer({ acks: -1 });
  await producer.send({
    topic,
    messages: Array.from({ length: n }, (_, i) => ({ value: `v${from + i}`, partition: (from + i) % partitions })),
  });
  await producer.close();
}

/** Runs the consumer, pushing every record it is given into `into`. */
export function collect(consumer: Consumer, into: ConsumerRecord[]): Promise<void> {
  return consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      into.push({ topic, partition, ...message });
    },
  });
}
