/**
 * A chaos load process: one member of a consumer group (native client,
 * auto-commit) on the chaos topic from the beginning, logging every delivery
 * (GroupDelivery). Should run() reject (it must not: issue 14 defect 6), the
 * error is reported and a new consumer joins in its place, as an
 * application would do. Command {"until":[hw per partition]}: exits 0 once
 * every partition was delivered up to its high watermark.
 */
import { Sluice } from '../../../src/index.js';
import type { GroupDelivery } from '../events.js';
import { JsonlWriter } from '../jsonl.js';
import { describeError, onCommand, report, sleep, workerOptions } from './worker-io.js';

interface Options {
  brokers: string;
  topic: string;
  group: string;
  out: string;
}

const o = workerOptions<Options>();
const log = new JsonlWriter(o.out);
const sluice = new Sluice({ brokers: o.brokers, clientId: 'chaos-group', requestTimeoutMs: 10_000 });
/** partition -> highest offset delivered */
const highest = new Map<number, number>();
let until: number[] | undefined;
let delivered = 0;
let finished = false;

function caughtUp(): boolean {
  return until?.every((hw, p) => hw === 0 || (highest.get(p) ?? -1) >= hw - 1) === true;
}

async function finish(): Promise<never> {
  finished = true;
  await log.close();
  report({ ev: 'done', delivered });
  process.exit(0);
}

onCommand((c) => {
  if (Array.isArray(c.until)) until = c.until as number[];
  if (caughtUp() && !finished) void finish();
});

const progress = setInterval(() => report({ ev: 'progress', delivered }), 1000);
report({ ev: 'ready' });
for (let attempt = 0; !finished; attempt++) {
  const consumer = sluice.consumer({
    groupId: o.group,
    autoOffsetReset: 'earliest',
    autoCommit: true,
    autoCommitIntervalMs: 500,
    sessionTimeoutMs: 6000,
    maxWaitMs: 200,
  });
  try {
    await consumer.subscribe({ topics: [o.topic] });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        delivered++;
        const value = message.value?.toString() ?? null;
        const d: GroupDelivery = { t: Date.now(), partition, offset: message.offset, value };
        await log.write(d);
        if (message.offset > (highest.get(partition) ?? -1)) highest.set(partition, message.offset);
        if (caughtUp() && !finished) void finish();
      },
    });
    // run() resolves only when the consumer is closed
    report({ ev: 'error', error: `consumer.run() resolved (attempt ${attempt})` });
  } catch (err) {
    report({ ev: 'error', error: `consumer.run() rejected: ${describeError(err)}` });
  }
  await consumer.close().catch(() => undefined);
  await sleep(500);
}
clearInterval(progress);
