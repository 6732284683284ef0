/**
 * Exactly-once consume-transform-produce through faults (issue 21), in a real
 * three-broker cluster (real ZooKeeper, brokers killed by PID): the input and
 * output topics, `__consumer_offsets` and `__transaction_state` all with
 * replication factor 3 and min.insync.replicas 2.
 *
 * A processor process (fixtures/txn-processor.ts: kafkajs, read_committed,
 * eachBatch, one transaction per chunk with the records sent to the output
 * and the consumed offsets sent with sendOffsets) copies every input record
 * to the output. It is supervised: started again whenever it exits. With one
 * of its transactions held open (its output records acknowledged, not yet
 * committed), in turn:
 *
 * 1. the processor is killed -9; the next incarnation fences it (same
 *    transactional id) and resumes from the group's committed offsets;
 * 2. the broker coordinating its transactional id is killed -9, the
 *    transaction is released (it goes on with the new coordinator), and the
 *    broker is restarted;
 * 3. the leader of the output partition the held transaction wrote is killed
 *    -9, the transaction released, the broker restarted.
 *
 * When the group has committed every input offset, the output read with
 * read_committed holds every input exactly once; read_uncommitted shows the
 * aborted copies (the killed processor's held transaction at least), so the
 * faults did leave aborted data for read_committed to skip; and a
 * read_committed consumer that tailed the output during the whole run never
 * saw a value at two offsets (no aborted or duplicate record ever seen).
 *
 * Every kafkajs group consumer here (the tail and the final readers) runs in
 * a child process killed by PID, never disconnected in this process: a
 * kafkajs 2.2.4 consumer stopped while the broker list changes can spin in a
 * promise loop that starves every timer (this test once hung CI that way;
 * fixtures/kafkajs-reader.ts says which kafkajs code). A watchdog thread
 * kills the cluster and this process if its event loop stalls anyway.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import type { FindCoordinatorResponse } from '../../src/protocol/native/group-messages.js';
import { TestCluster } from '../helpers/cluster.js';
import { EventLoopWatchdog } from '../helpers/event-loop-watchdog.js';
import { KafkajsReaderProcess, readTopicInChild } from '../helpers/kafkajs-reader-process.js';
import type { ReadRecord } from '../helpers/kafkajs-transactions.js';
import { pollUntil } from '../helpers/poll.js';
import { RawClient } from '../helpers/raw-client.js';
import { ProcessorSupervisor } from '../helpers/txn-processor-supervisor.js';

const input = 'ctp-in';
const output = 'ctp-out';
const groupId = 'ctp-processor';
const transactionalId = 'ctp-processor-1';
const partitions = 3;
const perPartition = 80;
const total = partitions * perPartition;
const stepTimeoutMs = 90_000;
const finishTimeoutMs = 240_000;
/** How long this process's event loop may stall before the watchdog kills everything (no timer at all for that long). */
const stallMs = 120_000;

let cluster: TestCluster;
let processor: ProcessorSupervisor | undefined;
let tail: KafkajsReaderProcess | undefined;
let watchdog: EventLoopWatchdog | undefined;
const disconnects: (() => Promise<void>)[] = [];

beforeAll(async () => {
  watchdog = new EventLoopWatchdog('kafka-transactions-cluster', stallMs, () => [
    ...(cluster?.pids ?? []),
    processor?.pid,
    tail?.pid,
  ]);
  cluster = await TestCluster.start({
    brokers: 3,
    label: 'kafka-transactions-cluster',
    overrides: [
      'min.insync.replicas=2',
      'default.replication.factor=3',
      'offsets.topic.replication.factor=3',
      'transaction.state.log.replication.factor=3',
      'transaction.state.log.min.isr=2',
    ],
  });
}, 120_000);

afterAll(async () => {
  await processor?.stop();
  await tail?.stop();
  await Promise.allSettled(disconnects.splice(0).map((d) => d()));
  // every broker (killed, restarted or not) and ZooKeeper, by PID
  await cluster?.stop();
  await watchdog?.stop();
}, 60_000);

function kafka(): Kafka {
  return new Kafka({
    clientId: 'sluice-ctp-it',
    brokers: cluster.kafkaBootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 10_000,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

/**
 * Creates a topic of replication factor 3 once the controller sees every broker (a broker just
 * started may not be registered yet: INVALID_REPLICATION_FACTOR then), and waits for whole ISRs.
 */
async function createTopic(topic: string): Promise<void> {
  const admin = cluster.client().admin();
  await cluster.poll(`topic ${topic} created with 3 replicas`, stepTimeoutMs, async () => {
    if ((await cluster.registeredIds()).length < 3) return undefined;
    // an earlier attempt whose answer was lost may have created it
    if (
      await cluster.describe(topic).then(
        () => true,
        () => false,
      )
    )
      return true;
    await admin.createTopic({ topic, partitions, replicationFactor: 3 });
    return true;
  });
  for (let p = 0; p < partitions; p++) await cluster.waitForIsr(topic, p, 3);
}

/** The broker FindCoordinator (key type 1) names for a transactional id, polled until it names a live one. */
function transactionCoordinatorOf(id: string): Promise<number> {
  return pollUntil(`the live transaction coordinator of ${id}`, stepTimeoutMs, async () => {
    const asked = cluster.liveIds[0];
    if (asked === undefined) return undefined;
    const raw = await RawClient.connect(cluster.broker(asked).port);
    try {
      const res = await raw.call<FindCoordinatorResponse>(ApiKey.FindCoordinator, { key: id, keyType: 1 }, 5000);
      return res.errorCode === 0 && cluster.liveIds.includes(res.nodeId) ? res.nodeId : undefined;
    } finally {
      raw.close();
    }
  });
}

/** The group's committed offsets of the input, summed over its partitions (kafkajs OffsetFetch). */
async function committedInputOffsets(): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [input] });
    return (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A read_committed consumer (a child process) tailing the output for the whole run. */
function tailOutput(): KafkajsReaderProcess {
  return KafkajsReaderProcess.start({
    brokers: cluster.kafkaBootstrap.split(','),
    topic: output,
    groupId: 'ctp-tail',
    readUncommitted: false,
  });
}

/** Values read at more than one (partition, offset): copies, which read_committed must never show. */
function copies(records: ReadRecord[]): string[] {
  const at = new Map<string, Set<string>>();
  for (const r of records) {
    const places = at.get(r.value) ?? new Set<string>();
    places.add(`${r.partition}@${r.offset}`);
    at.set(r.value, places);
  }
  return [...at].filter(([, places]) => places.size > 1).map(([value, places]) => `${value} at ${[...places]}`);
}

describe('consume-transform-produce with kafkajs transactions through faults', () => {
  it('kill -9 of the processor, the transaction coordinator and the output leader mid-transaction: every input exactly once', async () => {
    await createTopic(input);
    await createTopic(output);
    const inputs = Array.from({ length: partitions }, (_, p) =>
      Array.from({ length: perPartition }, (_, i) => `in-${p}-${i}`),
    );
    const plain = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await plain.connect();
    disconnects.push(() => plain.disconnect());
    for (const [p, values] of inputs.entries()) {
      await plain.send({ topic: input, acks: -1, messages: values.map((value) => ({ value, partition: p })) });
    }

    const tailing = tailOutput();
    tail = tailing;

    const proc = new ProcessorSupervisor(
      { input, output, groupId, transactionalId, chunk: 5 },
      () => cluster.kafkaBootstrap.split(','),
      20,
    );
    processor = proc;
    proc.start();
    await proc.waitFor('first commit', 0, 'committed', stepTimeoutMs);

    // 1. the processor, mid-transaction
    const killed = proc.incarnation;
    await proc.hold(stepTimeoutMs);
    await proc.kill();
    const afterKill = proc.events.length;
    await pollUntil('the next incarnation', stepTimeoutMs, async () => (proc.incarnation > killed ? true : undefined));
    await proc.waitFor('first commit after its kill -9', afterKill, 'committed', stepTimeoutMs);

    // 2. the transaction coordinator, mid-transaction
    await proc.hold(stepTimeoutMs);
    const coordinator = await transactionCoordinatorOf(transactionalId);
    await cluster.kill(coordinator);
    proc.release();
    const afterCoordinator = proc.events.length;
    await cluster.restart(coordinator);
    await proc.waitFor('a commit after the coordinator was killed', afterCoordinator, 'committed', stepTimeoutMs);

    // 3. the leader of the output partition the held transaction wrote
    const held = await proc.hold(stepTimeoutMs);
    const leader = await cluster.leaderOf(output, held.partition ?? 0);
    await cluster.kill(leader);
    proc.release();
    const afterLeader = proc.events.length;
    await cluster.restart(leader);
    await proc.waitFor('a commit after the output leader was killed', afterLeader, 'committed', stepTimeoutMs);

    await pollUntil(`the group to commit all ${total} input offsets`, finishTimeoutMs, async () =>
      (await committedInputOffsets()) === total ? true : undefined,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nprocessor events: ${JSON.stringify(proc.events.slice(-20))}\n${proc.stderr}`);
    });
    await proc.stop();

    // a plain record after everything in each output partition: the readers below stop there
    const ends = Array.from({ length: partitions }, (_, p) => `end-${p}`);
    for (const [p, value] of ends.entries()) {
      await plain.send({ topic: output, acks: -1, messages: [{ value, partition: p }] });
    }
    const until = (records: ReadRecord[]): boolean => ends.every((e) => records.some((r) => r.value === e));
    const committed = await readTopicInChild(cluster.kafkaBootstrap.split(','), output, {
      groupId: 'ctp-check-rc',
      readUncommitted: false,
      until,
      timeoutMs: stepTimeoutMs,
    });
    const expected = inputs.flat().map((v) => `out:${v}`);
    const outputs = committed.filter((r) => r.value.startsWith('out:'));
    expect(copies(outputs), 'read_committed copies').toEqual([]);
    expect(outputs.map((r) => r.value).sort()).toEqual([...expected].sort());
    // each output stayed in its input's partition, in input order
    for (const [p, values] of inputs.entries()) {
      const mine = outputs.filter((r) => r.partition === p).sort((a, b) => a.offset - b.offset);
      expect(mine.map((r) => r.value)).toEqual(values.map((v) => `out:${v}`));
    }

    const uncommitted = await readTopicInChild(cluster.kafkaBootstrap.split(','), output, {
      groupId: 'ctp-check-ru',
      readUncommitted: true,
      until,
      timeoutMs: stepTimeoutMs,
    });
    // the faults left aborted copies in the log (the killed processor's held transaction at least)
    expect(copies(uncommitted.filter((r) => r.value.startsWith('out:'))).length).toBeGreaterThan(0);

    // the consumer that tailed the output through every fault never saw a copy or a value not committed
    const tailed = [...tailing.read()];
    await tailing.stop();
    expect(copies(tailed), 'copies seen while tailing').toEqual([]);
    const final = new Set(committed.map((r) => `${r.partition}@${r.offset}=${r.value}`));
    expect(tailed.filter((r) => !final.has(`${r.partition}@${r.offset}=${r.value}`))).toEqual([]);
  }, 600_000);
});
