/**
 * `npm run chaos -- --rounds N --seed S`: one chaos run against Sluice (see
 * chaos-run.ts), printing the summary table; exit 0 when every check
 * passed, 1 when one failed, 2 on bad usage, 3 when the run itself broke
 * (e.g. the cluster never healed), 130 on Ctrl-C (every process it started
 * is stopped by PID first).
 *
 * Options: --rounds N (default 10), --seed S (default: from the clock, printed),
 * --native-producers N (2), --kafka-producers N (1), --rate R records/s per producer (100),
 * --queue-rate R messages/s (20), --txn 0|1 (1: the transactional consume-transform-produce worker), --zookeeper-nodes 1|3 (3: an ensemble; kill-zookeeper then kills one
 * member at a time while a quorum serves; 1: the whole ZooKeeper goes away).
 */
import { parseArgs } from 'node:util';
import { runChaos } from './chaos-run.js';

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, not ${value}`);
    process.exit(2);
  }
  return n;
}

let values: Record<string, string | undefined>;
try {
  values = parseArgs({
    options: {
      rounds: { type: 'string' },
      seed: { type: 'string' },
      'native-producers': { type: 'string' },
      'kafka-producers': { type: 'string' },
      rate: { type: 'string' },
      'queue-rate': { type: 'string' },
      'zookeeper-nodes': { type: 'string' },
      txn: { type: 'string' },
    },
  }).values as Record<string, string | undefined>;
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

const controller = new AbortController();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping every process of the run`);
    controller.abort();
  });
}

function zookeeperNodes(value: string | undefined): 1 | 3 {
  if (value === undefined || value === '1') return 1;
  if (value === '3') return 3;
  console.error(`--zookeeper-nodes must be 1 or 3, not ${value}`);
  process.exit(2);
}

const seed = int('seed', values.seed, Date.now() % 1_000_000_000);
try {
  const result = await runChaos({
    rounds: int('rounds', values.rounds, 10),
    seed,
    nativeProducers: int('native-producers', values['native-producers'], 2),
    kafkaProducers: int('kafka-producers', values['kafka-producers'], 1),
    perSecond: int('rate', values.rate, 100),
    queuePerSecond: int('queue-rate', values['queue-rate'], 20),
    zookeeperNodes: zookeeperNodes(values['zookeeper-nodes']),
    transactional: int('txn', values.txn, 1) > 0,
    signal: controller.signal,
  });
  console.log(`\n${result.table}\n\nlogs: ${result.resultsDir}`);
  process.exit(result.failed.length === 0 ? 0 : 1);
} catch (err) {
  if (interrupted) process.exit(130);
  console.error(`chaos run broke (seed ${seed}): ${(err as Error).stack ?? String(err)}`);
  process.exit(3);
}
