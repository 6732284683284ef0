/**
 * A chaos load process: a consume-transform-produce worker on the native
 * client's transactions. A consumer of group `group` (read_committed, no
 * auto-commit) polls the input topic; each poll's records (at most `chunk`)
 * become one transaction of the producer with id `transactionalId`: a copy
 * of each record (txnValue: the transaction, whether it is meant to abort,
 * the input partition, offset and value) to output partition
 * `input partition % outputPartitions` (so one transaction spans several),
 * the consumed offsets by sendOffsets with the generation they were polled
 * in (KIP-447: refused once the group rebalanced), commit.
 *
 * A transaction drawn (seeded PRNG, `abortRate`) to abort on purpose is
 * aborted once its records are acknowledged; the same records then go again
 * in a new transaction meant to commit. On any error the transaction is
 * aborted; when that fails or the producer is fenced or failed fatally, a new
 * producer with the same transactional id replaces it (its initialisation
 * fences the old one and waits for the old transaction to complete). Then the
 * consumer is replaced too, so the work resumes from the group's committed
 * offsets. Every outcome is logged (TxnEvent).
 *
 * Command {"until":[high watermark per input partition]}: once the group's
 * offsets committed by this worker reach them, the worker closes and exits 0.
 */
import { type Consumer, type ConsumerRecord, type GroupGeneration, type Producer, Sluice } from '../../../src/index.js';
import { prng } from '../../helpers/prng.js';
import { JsonlWriter } from '../jsonl.js';
import { type TxnEvent, txnValue } from '../txn-checker.js';
import { describeError, onCommand, report, sleep, workerOptions } from './worker-io.js';

interface Options {
  brokers: string;
  input: string;
  output: string;
  outputPartitions: number;
  group: string;
  transactionalId: string;
  seed: number;
  /** Share of transactions aborted on purpose. */
  abortRate: number;
  /** Records per transaction at most. */
  chunk: number;
  out: string;
}

const o = workerOptions<Options>();
const log = new JsonlWriter(o.out);
const random = prng(o.seed);
const sluice = new Sluice({ brokers: o.brokers, clientId: 'chaos-txn', requestTimeoutMs: 10_000, retries: 20 });
/** input partition -> the offset this worker's last commit made the group's */
const committed = new Map<number, number>();
let until: number[] | undefined;
let txn = 0;
let commits = 0;
let aborts = 0;
let failures = 0;

const emit = (e: TxnEvent): Promise<void> => log.write(e);

function caughtUp(): boolean {
  return until?.every((hw, p) => hw === 0 || (committed.get(p) ?? 0) >= hw) === true;
}

function newProducer(): Producer {
  return sluice.producer({ transactionalId: o.transactionalId, transactionTimeoutMs: 30_000, timeoutMs: 10_000 });
}

async function newConsumer(): Promise<Consumer> {
  const consumer = sluice.consumer({
    groupId: o.group,
    isolationLevel: 'read_committed',
    autoCommit: false,
    autoOffsetReset: 'earliest',
    sessionTimeoutMs: 6000,
    maxWaitMs: 200,
  });
  await consumer.subscribe({ topics: [o.input] });
  return consumer;
}

/** The offsets after `records`: per input partition, its last record's offset + 1. */
function nextOffsets(records: ConsumerRecord[]): Map<number, number> {
  const next = new Map<number, number>();
  for (const r of records) next.set(r.partition, Math.max(next.get(r.partition) ?? 0, r.offset + 1));
  return next;
}

/** One transaction over `records`: copies and offsets, then commit (or abort, when `plannedAbort`). */
async function transact(
  producer: Producer,
  records: ConsumerRecord[],
  generation: GroupGeneration,
  plannedAbort: boolean,
): Promise<void> {
  const n = ++txn;
  const next = nextOffsets(records);
  let t: Awaited<ReturnType<Producer['transaction']>>;
  try {
    t = await producer.transaction();
  } catch (err) {
    throw Object.assign(new Error(describeError(err)), { replaceProducer: true });
  }
  try {
    await t.send({
      topic: o.output,
      messages: records.map((r) => ({
        key: String(r.partition),
        value: txnValue(n, plannedAbort, r.partition, r.offset, r.value?.toString() ?? ''),
        partition: r.partition % o.outputPartitions,
      })),
    });
    await t.sendOffsets({
      consumerGroupId: o.group,
      // KIP-447: refused if the group rebalanced since the poll (the records may be handed out again)
      consumerGroupMetadata: generation,
      topics: [{ topic: o.input, partitions: [...next].map(([partition, offset]) => ({ partition, offset })) }],
    });
    if (plannedAbort) {
      await t.abort();
      aborts++;
      await emit({ ev: 'abort', t: Date.now(), txn: n, records: records.length, planned: true });
      return;
    }
    await t.commit();
  } catch (err) {
    failures++;
    const error = describeError(err);
    let aborted = false;
    try {
      await t.abort();
      aborted = true;
    } catch {
      // the producer is fenced, failed fatally, or the outcome of the commit is unknown: replaced below
    }
    await emit({ ev: 'abort', t: Date.now(), txn: n, records: records.length, planned: false, error });
    throw Object.assign(new Error(error), { replaceProducer: !aborted });
  }
  commits++;
  for (const [p, offset] of next) committed.set(p, offset);
  await emit({ ev: 'commit', t: Date.now(), txn: n, records: records.length });
}

const progress = setInterval(() => report({ ev: 'progress', commits, aborts, failures }), 1000);
let finished = false;
onCommand((c) => {
  if (Array.isArray(c.until)) until = c.until as number[];
});
report({ ev: 'ready' });

let producer = newProducer();
let producerReady = false;
let consumer: Consumer | undefined;
while (!finished) {
  try {
    if (!producerReady) {
      // initialise now, before the consumer fetches the group's offsets: the initialisation fences an
      // older producer of this id and waits until its last transaction (and its offsets) is complete
      const init = await producer.transaction();
      await init.abort();
      producerReady = true;
    }
    consumer ??= await newConsumer();
    if (caughtUp()) {
      finished = true;
      break;
    }
    const records = await consumer.poll({ maxRecords: o.chunk });
    // the generation the records were polled in, taken before anything else can run
    const generation = consumer.groupGeneration();
    if (records.length === 0) continue;
    // out of the group meanwhile: these records are not this member's to process (resume from the group's offsets)
    if (generation === null) throw new Error('polled records without a group generation');
    if (random() < o.abortRate) await transact(producer, records, generation, true);
    await transact(producer, records, generation, false);
  } catch (err) {
    report({ ev: 'error', error: describeError(err) });
    if ((err as { replaceProducer?: boolean }).replaceProducer === true || !producerReady) {
      // fenced, fatal or an abort that failed: a new producer with the same id fences this one
      await producer.close().catch(() => undefined);
      producer = newProducer();
      producerReady = false;
      await emit({ ev: 'new-producer', t: Date.now(), error: describeError(err) });
    }
    // resume from the group's committed offsets
    await consumer?.close().catch(() => undefined);
    consumer = undefined;
    await sleep(200);
  }
}
await consumer?.close().catch(() => undefined);
await producer.close().catch(() => undefined);
await sluice.close().catch(() => undefined);
await log.close();
clearInterval(progress);
report({ ev: 'done', commits, aborts, failures });
process.exit(0);
