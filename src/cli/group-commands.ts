/**
 * `sluice group list|describe|reset-offsets`, after Kafka's
 * kafka-consumer-groups: list prints one group name per line; describe prints
 * a table (TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST
 * CLIENT-ID, '-' where there is nothing) or the CONTRACT's JSON object;
 * reset-offsets prints the new offsets and changes them only with --execute
 * (without it, or with --dry-run, it is a dry run that exits 0).
 */
import type { Command } from 'commander';
import type { GroupDescription, ResetOffsetsResult, ResetOffsetsTarget } from '../client/group-admin.js';
import { topicPartitionsMax } from '../shared/limits.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import { badValue, parseInteger, usageError } from './cli-args.js';
import { globalsOf, withClient } from './cli-client.js';
import { formatTable, writeLine } from './cli-output.js';

interface ResetOptions {
  topic: string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: string;
  toDatetime?: string;
  execute?: boolean;
  dryRun?: boolean;
}

/** The group states `group list --state` takes (Kafka's classic group states; matched case-insensitively, as Kafka's ListGroups v4 does). */
const groupStates = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

function parseStates(text: string): Set<string> {
  const states = new Set<string>();
  for (const part of text.split(',')) {
    const state = groupStates.find((s) => s.toLowerCase() === part.trim().toLowerCase());
    if (!state) throw usageError(`--state: unknown group state '${part.trim()}' (known: ${groupStates.join(', ')})`);
    states.add(state.toLowerCase());
  }
  return states;
}

/** ISO-8601 date or date-time; without a zone it is local time (as Kafka's --to-datetime). */
const isoDateTime = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function parseDatetime(text: string): number {
  const t = text.trim();
  if (!isoDateTime.test(t)) {
    throw badValue(`--to-datetime must be ISO-8601 like 2024-05-01T12:00:00.000Z, not '${text}'`);
  }
  // a date alone is midnight local time, like a date-time without a zone
  const ms = Date.parse(t.includes('T') ? t : `${t}T00:00:00`);
  if (!Number.isFinite(ms) || ms < 0) throw badValue(`--to-datetime is not a valid date-time: '${text}'`);
  return ms;
}

/** --topic T or T:0,1,2 (Kafka's spelling for some partitions). */
function parseTopicSpec(spec: string): { topic: string; partitions?: number[] } {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) {
    if (spec.trim().length === 0) throw badValue('--topic must not be empty');
    return { topic: spec };
  }
  const topic = spec.slice(0, colon);
  if (topic.length === 0) throw badValue(`--topic must name a topic, not '${spec}'`);
  const partitions = spec
    .slice(colon + 1)
    .split(',')
    .map((p) => parseInteger(p, '--topic partition', 0, topicPartitionsMax - 1));
  return { topic, partitions };
}

function targetOf(opts: ResetOptions): ResetOffsetsTarget {
  const chosen = [opts.toEarliest, opts.toLatest, opts.toOffset, opts.toDatetime].filter((x) => x !== undefined);
  if (chosen.length !== 1) {
    throw usageError('give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime ISO');
  }
  if (opts.toEarliest) return 'earliest';
  if (opts.toLatest) return 'latest';
  if (opts.toOffset !== undefined)
    return { offset: parseInteger(opts.toOffset, '--to-offset', 0, Number.MAX_SAFE_INTEGER) };
  return { datetime: parseDatetime(opts.toDatetime as string) };
}

const dash = (v: number | string | null | undefined): string =>
  v === null || v === undefined || v === '' ? '-' : String(v);

function describeTable(d: GroupDescription): string {
  const owner = new Map<string, { memberId: string; host: string; clientId: string }>();
  for (const m of d.members) {
    for (const a of m.assignment) for (const p of a.partitions) owner.set(topicPartitionKey(a.topic, p), m);
  }
  const rows = d.offsets.map((o) => {
    const m = owner.get(topicPartitionKey(o.topic, o.partition));
    return [
      o.topic,
      String(o.partition),
      dash(o.committed),
      dash(o.logEnd),
      dash(o.lag),
      dash(m?.memberId),
      dash(m?.host),
      dash(m?.clientId),
    ];
  });
  // members with nothing assigned still show, as in Kafka's tool
  for (const m of d.members) {
    if (m.assignment.every((a) => a.partitions.length === 0)) {
      rows.push(['-', '-', '-', '-', '-', m.memberId, dash(m.host), dash(m.clientId)]);
    }
  }
  return formatTable(
    ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
    rows,
  );
}

function describeJson(d: GroupDescription): unknown {
  return {
    group: d.group,
    state: d.state,
    members: d.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: m.host,
      assignment: m.assignment.map((a) => ({ topic: a.topic, partitions: a.partitions })),
    })),
    offsets: d.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      committed: o.committed,
      logEnd: o.logEnd,
      lag: o.lag,
    })),
  };
}

function resetTable(group: string, results: ResetOffsetsResult[]): string {
  return formatTable(
    ['GROUP', 'TOPIC', 'PARTITION', 'PREVIOUS-OFFSET', 'NEW-OFFSET'],
    results.map((r) => [group, r.topic, String(r.partition), dash(r.previous), String(r.offset)]),
  );
}

export function registerGroupCommands(root: Command): void {
  const group = root.command('group').description('list, describe and reset consumer groups');

  group
    .command('list')
    .description('list consumer group names, one per line')
    .option('--state <states>', `only groups in these states (comma-separated: ${groupStates.join(', ')})`)
    .action(async (opts: { state?: string }, cmd: Command) => {
      const states = opts.state === undefined ? undefined : parseStates(opts.state);
      const groups = await withClient(globalsOf(cmd), (sluice) => sluice.admin().listGroups());
      for (const g of groups) if (!states || states.has(g.state.toLowerCase())) await writeLine(g.group);
    });

  group
    .command('describe')
    .description("a group's members, assignments, committed offsets, log end offsets and lag")
    .argument('<group>', 'group id')
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const d = await withClient(globalsOf(cmd), (sluice) => sluice.admin().describeGroup(name));
      if (opts.json) {
        await writeLine(JSON.stringify(describeJson(d)));
        return;
      }
      if (d.members.length === 0) await writeLine(`Consumer group '${d.group}' has no active members.\n`);
      await writeLine(describeTable(d));
    });

  group
    .command('reset-offsets')
    .description("move a group's committed offsets on a topic (a dry run unless --execute); the group must be inactive")
    .argument('<group>', 'group id')
    .requiredOption('--topic <topic>', 'topic name, or TOPIC:P,P,... for some partitions')
    .option('--to-earliest', 'to the earliest offset')
    .option('--to-latest', 'to the log end')
    .option('--to-offset <n>', 'to offset N (clamped to the log)')
    .option('--to-datetime <iso>', 'to the first record at or after an ISO-8601 time (e.g. 2024-05-01T12:00:00.000Z)')
    .option('--execute', 'commit the new offsets')
    .option('--dry-run', 'only print the new offsets (the default)')
    .action(async (name: string, opts: ResetOptions, cmd: Command) => {
      if (opts.execute && opts.dryRun) throw usageError('--execute and --dry-run exclude each other');
      const to = targetOf(opts);
      const { topic, partitions } = parseTopicSpec(opts.topic);
      const dryRun = opts.execute !== true;
      const results = await withClient(globalsOf(cmd), (sluice) =>
        sluice.admin().resetOffsets({ group: name, topic, partitions, to, dryRun }),
      );
      await writeLine(resetTable(name, results));
      if (dryRun) await writeLine('Dry run: nothing was changed (add --execute to commit these offsets).');
    });
}
