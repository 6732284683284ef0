/**
 * `sluice partition reassign`, after Kafka's kafka-reassign-partitions:
 *
 *   --topic T --partition P --replicas 2,3,1 [--throttle BYTES/s] [--no-wait]
 *       moves one partition; waits until done, printing progress
 *   --execute --reassignment-json-file FILE [--throttle BYTES/s] [--no-wait]
 *       moves every partition of a plan in Kafka's reassignment JSON format
 *       {"version":1,"partitions":[{"topic","partition","replicas"}]}
 *   --generate --topic T --broker-list 1,2,3,4
 *       prints the current assignment and a proposed plan spreading the
 *       topic's partitions over those brokers (Kafka's round-robin assignment,
 *       the topic's replication factor kept), both in that JSON format
 *   --list [--json]      the partitions under reassignment
 *   --cancel --topic T --partition P, or --cancel --reassignment-json-file FILE
 *
 * The broker ids of --generate are `--broker-list` (Kafka's spelling there):
 * `--brokers` is the CLI's global bootstrap list.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { PartitionReassignmentSpec, PartitionReassignmentStatus } from '../client/reassignment-admin.js';
import type { Sluice } from '../client/sluice.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { topicPartitionsMax } from '../shared/limits.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import { badValue, parseInteger, usageError } from './cli-args.js';
import { globalsOf, withClient } from './cli-client.js';
import { formatTable, writeLine } from './cli-output.js';

interface ReassignOptions {
  topic?: string;
  partition?: string;
  replicas?: string;
  throttle?: string;
  wait: boolean;
  list?: boolean;
  json?: boolean;
  cancel?: boolean;
  generate?: boolean;
  brokerList?: string;
  execute?: boolean;
  reassignmentJsonFile?: string;
  timeoutMs: string;
}

/** Kafka's reassignment JSON (kafka-reassign-partitions' --reassignment-json-file and --generate output). */
interface ReassignmentPlan {
  version: 1;
  partitions: { topic: string; partition: number; replicas: number[] }[];
}

/** The largest plan file read (a plan names each partition once: 10 000 partitions fit in well under this). */
const planFileBytesMax = 16 * 1024 * 1024;
const progressPollMs = 500;
const brokerIdMax = 0x7fffffff;

function parseBrokerIds(text: string, what: string): number[] {
  const ids = text.split(',').map((s) => parseInteger(s, what, 0, brokerIdMax));
  if (new Set(ids).size !== ids.length) throw badValue(`${what} names a broker twice: ${text}`);
  return ids;
}

/**
 * Kafka's rack-unaware assignment over `brokers` (AdminUtils.assignReplicasToBrokers,
 * as the controller uses it): partition p's first replica is broker (p + start) mod n,
 * the followers at a shift that grows every n partitions. Deterministic here (start 0,
 * shift 0) so the same request proposes the same plan.
 */
export function proposeAssignment(brokers: number[], partitions: number, replicationFactor: number): number[][] {
  const ids = [...brokers].sort((a, b) => a - b);
  const n = ids.length;
  if (replicationFactor > n) {
    throw new SluiceError(
      ErrorCode.InvalidReplicationFactor,
      `the topic's replication factor ${replicationFactor} is larger than the ${n} broker(s) given`,
    );
  }
  const out: number[][] = [];
  let shift = 0;
  for (let p = 0; p < partitions; p++) {
    if (p > 0 && p % n === 0) shift++;
    const first = p % n;
    const replicas = [ids[first] as number];
    for (let j = 0; j < replicationFactor - 1; j++)
      replicas.push(ids[(first + 1 + ((shift + j) % (n - 1))) % n] as number);
    out.push(replicas);
  }
  return out;
}

/** Reads and checks a plan file: a clear error naming what is wrong, nothing sent. */
export function readPlan(file: string): ReassignmentPlan {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > planFileBytesMax) throw badValue(`${file} is larger than ${planFileBytesMax} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof SluiceError) throw err;
    throw badValue(`cannot read --reassignment-json-file ${file}: ${(err as Error).message}`);
  }
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch {
    throw badValue(`${file} is not JSON`);
  }
  const partitions = (plan as { partitions?: unknown })?.partitions;
  if (!Array.isArray(partitions) || partitions.length === 0) {
    throw badValue(`${file} must hold {"version":1,"partitions":[{"topic","partition","replicas"}, ...]}`);
  }
  const seen = new Set<string>();
  const out: ReassignmentPlan = { version: 1, partitions: [] };
  for (const [i, p] of partitions.entries()) {
    const { topic, partition, replicas } = (p ?? {}) as Record<string, unknown>;
    if (
      typeof topic !== 'string' ||
      topic.length === 0 ||
      !Number.isInteger(partition) ||
      (partition as number) < 0 ||
      !Array.isArray(replicas) ||
      !replicas.every((r) => Number.isInteger(r))
    ) {
      throw badValue(`${file}: partitions[${i}] needs a "topic", a "partition" ≥ 0 and "replicas" (broker ids)`);
    }
    const key = topicPartitionKey(topic, partition as number);
    if (seen.has(key)) throw badValue(`${file} names ${topic}-${partition} twice`);
    seen.add(key);
    out.partitions.push({ topic, partition: partition as number, replicas: replicas as number[] });
  }
  return out;
}

async function currentPlan(sluice: Sluice, topics: string[]): Promise<ReassignmentPlan> {
  const plan: ReassignmentPlan = { version: 1, partitions: [] };
  for (const topic of [...new Set(topics)].sort()) {
    const d = await sluice.admin().describeTopic(topic);
    for (const p of d.partitions) plan.partitions.push({ topic, partition: p.partition, replicas: p.replicas });
  }
  return plan;
}

/** How a partition is shown. */
const nameOf = (s: { topic: string; partition: number }): string => `${s.topic}-${s.partition}`;
/** How a partition is keyed in maps and sets. */
const keyOf = (s: { topic: string; partition: number }): string => topicPartitionKey(s.topic, s.partition);

function progressLine(r: PartitionReassignmentStatus, isr: number[] | undefined): string {
  const adding = r.addingReplicas.join(',') || '-';
  const removing = r.removingReplicas.join(',') || '-';
  return `${nameOf(r)}: replicas ${r.replicas.join(',')}, adding ${adding}, removing ${removing}, isr ${isr?.join(',') ?? '?'}`;
}

/** Leader and ISR among the replicas: the replicas that left are fenced. */
function withinReplicas(state: { replicas: number[]; isr: number[]; leader: number } | undefined): boolean {
  if (state === undefined) return false;
  return state.replicas.includes(state.leader) && state.isr.every((r) => state.replicas.includes(r));
}

/** Polls until none of `specs` is under reassignment any more, printing each partition's progress when it changes. */
async function waitUntilDone(sluice: Sluice, specs: PartitionReassignmentSpec[], timeoutMs: number): Promise<void> {
  const wanted = new Map(specs.map((s) => [keyOf(s), nameOf(s)]));
  const topics = [...new Set(specs.map((s) => s.topic))].map((topic) => ({
    topic,
    partitions: specs.filter((s) => s.topic === topic).map((s) => s.partition),
  }));
  const last = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ongoing = (await sluice.admin().listPartitionReassignments(topics)).filter((r) => wanted.has(keyOf(r)));
    const states = new Map<string, { replicas: number[]; isr: number[]; leader: number }>();
    for (const { topic } of topics) {
      const d = await sluice.admin().describeTopic(topic);
      for (const p of d.partitions) states.set(topicPartitionKey(topic, p.partition), p);
    }
    for (const r of ongoing) {
      const line = progressLine(r, states.get(keyOf(r))?.isr);
      if (last.get(keyOf(r)) !== line) await writeLine(line);
      last.set(keyOf(r), line);
    }
    const ongoingKeys = new Set(ongoing.map(keyOf));
    for (const [key, name] of [...wanted]) {
      if (ongoingKeys.has(key)) continue;
      // done once the controller has also moved leadership and the ISR off the replicas that left
      if (!withinReplicas(states.get(key))) continue;
      wanted.delete(key);
      await writeLine(`Reassignment of partition ${name} is complete.`);
    }
    if (wanted.size === 0) return;
    if (Date.now() > deadline) {
      throw new SluiceError(
        ErrorCode.Timeout,
        `reassignment still in progress after ${timeoutMs} ms for ${[...wanted.values()].join(',')} (it carries on; see --list)`,
      );
    }
    await new Promise((r) => setTimeout(r, progressPollMs));
  }
}

async function reassign(sluice: Sluice, specs: PartitionReassignmentSpec[], opts: ReassignOptions): Promise<void> {
  const throttle =
    opts.throttle === undefined ? undefined : parseInteger(opts.throttle, '--throttle', 1, Number.MAX_SAFE_INTEGER);
  const timeoutMs = parseInteger(opts.timeoutMs, '--timeout-ms', 1, Number.MAX_SAFE_INTEGER);
  const current = await currentPlan(
    sluice,
    specs.map((s) => s.topic),
  );
  await writeLine('Current partition replica assignment');
  await writeLine(JSON.stringify(current));
  await writeLine('Save this to use as the --reassignment-json-file option during rollback');
  await sluice.admin().reassignPartitions({
    partitions: specs,
    ...(throttle !== undefined ? { throttleBytesPerSec: throttle } : {}),
  });
  await writeLine(`Successfully started partition reassignments for ${specs.map(nameOf).join(',')}`);
  if (throttle !== undefined)
    await writeLine(`The added replicas are throttled to ${throttle} B/s until they complete.`);
  if (opts.wait) await waitUntilDone(sluice, specs, timeoutMs);
}

function onePartition(opts: ReassignOptions, what: string): { topic: string; partition: number } {
  if (opts.topic === undefined || opts.partition === undefined)
    throw usageError(`${what} needs --topic and --partition`);
  return { topic: opts.topic, partition: parseInteger(opts.partition, '--partition', 0, topicPartitionsMax - 1) };
}

async function run(opts: ReassignOptions, cmd: Command): Promise<void> {
  const modes = [opts.list, opts.cancel, opts.generate, opts.execute, opts.replicas !== undefined].filter(Boolean);
  if (modes.length !== 1) {
    throw usageError('give exactly one of --replicas LIST, --execute, --generate, --list, --cancel');
  }
  const globals = globalsOf(cmd);
  if (opts.generate) {
    if (opts.topic === undefined || opts.brokerList === undefined) {
      throw usageError('--generate needs --topic and --broker-list');
    }
    const brokers = parseBrokerIds(opts.brokerList, '--broker-list');
    const topic = opts.topic;
    await withClient(globals, async (sluice) => {
      const current = await currentPlan(sluice, [topic]);
      const rf = current.partitions[0]?.replicas.length ?? 1;
      const proposed: ReassignmentPlan = {
        version: 1,
        partitions: proposeAssignment(brokers, current.partitions.length, rf).map((replicas, partition) => ({
          topic,
          partition,
          replicas,
        })),
      };
      await writeLine('Current partition replica assignment');
      await writeLine(JSON.stringify(current));
      await writeLine('');
      await writeLine('Proposed partition reassignment configuration');
      await writeLine(JSON.stringify(proposed));
    });
    return;
  }
  if (opts.list) {
    await withClient(globals, async (sluice) => {
      const ongoing = await sluice.admin().listPartitionReassignments();
      if (opts.json) {
        await writeLine(JSON.stringify(ongoing));
        return;
      }
      if (ongoing.length === 0) {
        await writeLine('No partition reassignments in progress.');
        return;
      }
      await writeLine(
        formatTable(
          ['TOPIC', 'PARTITION', 'REPLICAS', 'ADDING', 'REMOVING'],
          ongoing.map((r) => [
            r.topic,
            String(r.partition),
            r.replicas.join(','),
            r.addingReplicas.join(',') || '-',
            r.removingReplicas.join(',') || '-',
          ]),
        ),
      );
    });
    return;
  }
  if (opts.cancel) {
    const targets =
      opts.reassignmentJsonFile !== undefined
        ? readPlan(opts.reassignmentJsonFile).partitions.map(({ topic, partition }) => ({ topic, partition }))
        : [onePartition(opts, '--cancel')];
    await withClient(globals, async (sluice) => {
      await sluice.admin().reassignPartitions({ partitions: targets.map((t) => ({ ...t, replicas: null })) });
      await writeLine(`Successfully cancelled partition reassignments for ${targets.map(nameOf).join(',')}`);
    });
    return;
  }
  if (opts.execute) {
    if (opts.reassignmentJsonFile === undefined) throw usageError('--execute needs --reassignment-json-file FILE');
    const plan = readPlan(opts.reassignmentJsonFile);
    await withClient(globals, (sluice) => reassign(sluice, plan.partitions, opts));
    return;
  }
  const { topic, partition } = onePartition(opts, '--replicas');
  const replicas = parseBrokerIds(opts.replicas as string, '--replicas');
  await withClient(globals, (sluice) => reassign(sluice, [{ topic, partition, replicas }], opts));
}

export function registerPartitionCommands(root: Command): void {
  const partition = root.command('partition').description('move partitions between brokers');
  partition
    .command('reassign')
    .description('reassign partitions to other brokers (like kafka-reassign-partitions)')
    .option('--topic <name>', 'the topic')
    .option('--partition <n>', 'the partition')
    .option('--replicas <ids>', 'the new replicas, e.g. 2,3,1 (the first is the preferred leader)')
    .option('--throttle <bytes/s>', 'replication bytes/s each broker may fetch for the added replicas')
    .option('--no-wait', 'return once the reassignment has started')
    .option('--timeout-ms <ms>', 'how long to wait for the reassignment to complete', '600000')
    .option('--execute', 'start the reassignments of --reassignment-json-file')
    .option('--reassignment-json-file <file>', 'a plan: {"version":1,"partitions":[{"topic","partition","replicas"}]}')
    .option('--generate', 'print a plan spreading --topic over --broker-list')
    .option('--broker-list <ids>', 'the broker ids --generate spreads the topic over, e.g. 1,2,3,4')
    .option('--list', 'list the partitions under reassignment')
    .option('--json', 'with --list: print one JSON array')
    .option('--cancel', 'cancel the reassignment of --topic/--partition (or of a plan file)')
    .action(run);
}
