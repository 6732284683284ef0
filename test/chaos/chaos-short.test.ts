/**
 * The short form of the chaos suite in `npm test`: 3 faults from a fixed
 * seed (CHAOS_SEED overrides it) against a real ZooKeeper and 3 brokers under
 * producer, consumer-group and queue load; the checker's verdict must be a
 * pass. The summary table is printed; logs are in test/.results/chaos/.
 */
import { expect, it } from 'vitest';
import { runChaos } from './chaos-run.js';

const seed = Number(process.env.CHAOS_SEED ?? 14);

it(`chaos, short form (seed ${seed}): nothing acknowledged is lost, moved, duplicated, reordered or diverged`, async () => {
  const result = await runChaos({
    rounds: 3,
    seed,
    nativeProducers: 1,
    kafkaProducers: 1,
    perSecond: 60,
    queuePerSecond: 15,
  });
  console.log(result.table);
  expect(result.log.acknowledged).toBeGreaterThan(0);
  expect(result.queue.sent).toBeGreaterThan(0);
  expect(result.failed, result.table).toEqual([]);
}, 400_000);
