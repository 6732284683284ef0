/** `sluice topic create|list|describe|alter|delete`. */
import type { Command } from 'commander';
import type { TopicConfigEntry, TopicDescription } from '../client/types.js';
import { topicPartitionsMax } from '../shared/limits.js';
import { collect, parseConfigPairs, parseInteger, usageError } from './cli-args.js';
import { describeExisting, globalsOf, withClient } from './cli-client.js';
import { formatTable, writeLine } from './cli-output.js';
import { alterTopicPartitions, registerDeleteRecordsCommand } from './topic-partition-commands.js';

/** Replication factors above this cannot be placed on any cluster Sluice runs. */
const replicationFactorMax = 1_000;

interface CreateOptions {
  partitions?: string;
  replicationFactor?: string;
  config: string[];
}

/**
 * Kafka's kafka-topics --describe layout: a summary line per topic, then one
 * tab-separated line per partition with its leader ("none" without one),
 * replicas and ISR, plus the partition's log start offset and high watermark.
 */
function describeText(topics: TopicDescription[]): string {
  const lines: string[] = [];
  for (const t of topics) {
    const replicationFactor = Math.max(0, ...t.partitions.map((p) => p.replicas.length));
    lines.push(`Topic: ${t.name}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${replicationFactor}`);
    for (const p of t.partitions) {
      lines.push(
        [
          '',
          `Topic: ${t.name}`,
          `Partition: ${p.partition}`,
          `Leader: ${p.leader >= 0 ? p.leader : 'none'}`,
          `Replicas: ${p.replicas.join(',')}`,
          `Isr: ${p.isr.join(',')}`,
          `LogStartOffset: ${p.offsetsUnknown === undefined ? p.logStartOffset : 'unknown'}`,
          `HighWatermark: ${p.offsetsUnknown === undefined ? p.highWatermark : 'unknown'}`,
        ].join('\t'),
      );
    }
  }
  return lines.join('\n');
}

/** One line per topic and reason: which partitions' offsets are unknown (-1) and why. */
function unknownOffsetNotes(topics: TopicDescription[]): string[] {
  const notes: string[] = [];
  for (const t of topics) {
    const byReason = new Map<string, number[]>();
    for (const p of t.partitions) {
      if (p.offsetsUnknown === undefined) continue;
      byReason.set(p.offsetsUnknown, [...(byReason.get(p.offsetsUnknown) ?? []), p.partition]);
    }
    for (const [why, partitions] of byReason) {
      notes.push(
        `offsets of ${t.name} partition${partitions.length === 1 ? '' : 's'} ${partitions.join(',')} unknown (-1): ${why}`,
      );
    }
  }
  return notes;
}

function describeJson(t: TopicDescription): unknown {
  return {
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
      logStartOffset: p.logStartOffset,
      highWatermark: p.highWatermark,
    })),
  };
}

/** `topic describe NAME --configs`: a KEY / VALUE / SOURCE table (Kafka's source names), or with --json one object. */
async function printConfigs(topic: string, configs: TopicConfigEntry[], json: boolean): Promise<void> {
  if (json) {
    const byName = Object.fromEntries(configs.map((c) => [c.name, { value: c.value, source: c.source }]));
    await writeLine(JSON.stringify({ name: topic, configs: byName }));
    return;
  }
  const rows = configs.map((c) => [c.name, c.value ?? (c.sensitive ? '(sensitive)' : '(none)'), c.source]);
  await writeLine(formatTable(['KEY', 'VALUE', 'SOURCE'], rows));
}

interface AlterOptions {
  config: string[];
  deleteConfig: string[];
  validateOnly?: boolean;
}

export function registerTopicCommands(root: Command): void {
  const topic = root.command('topic').description('create, list, describe and delete topics');

  topic
    .command('create')
    .description('create a topic')
    .argument('<name>', 'topic name')
    .option('-p, --partitions <n>', 'number of partitions (default: the broker num.partitions)')
    .option('-r, --replication-factor <n>', 'replicas per partition (default: the broker default.replication.factor)')
    .option('--config <key=value>', 'topic config override (repeatable)', collect, [])
    .action(async (name: string, opts: CreateOptions, cmd: Command) => {
      const partitions =
        opts.partitions === undefined
          ? undefined
          : parseInteger(opts.partitions, '--partitions', 1, topicPartitionsMax);
      const replicationFactor =
        opts.replicationFactor === undefined
          ? undefined
          : parseInteger(opts.replicationFactor, '--replication-factor', 1, replicationFactorMax);
      const config = parseConfigPairs(opts.config);
      await withClient(globalsOf(cmd), async (sluice) => {
        await sluice.admin().createTopic({ topic: name, partitions, replicationFactor, config });
      });
      await writeLine(`Created topic ${name}.`);
    });

  topic
    .command('list')
    .description('list topic names, one per line')
    .action(async (_opts: unknown, cmd: Command) => {
      const names = await withClient(globalsOf(cmd), (sluice) => sluice.admin().listTopics());
      for (const name of [...names].sort()) await writeLine(name);
    });

  topic
    .command('describe')
    .description('partitions, leaders, replicas, ISR and offsets of one topic or of all')
    .argument('[name]', 'topic name (default: every topic)')
    .option('--json', 'print JSON (one object for NAME, else an array)')
    .option('--configs', "the topic's configs instead: key, value and source (its own, the broker's, the default)")
    .action(async (name: string | undefined, opts: { json?: boolean; configs?: boolean }, cmd: Command) => {
      if (opts.configs) {
        if (name === undefined) throw usageError('--configs needs a topic NAME');
        const configs = await withClient(globalsOf(cmd), (sluice) => sluice.admin().describeTopicConfigs(name));
        await printConfigs(name, configs, opts.json === true);
        return;
      }
      const topics = await withClient(globalsOf(cmd), async (sluice) => {
        return name !== undefined ? [await describeExisting(sluice, name)] : sluice.admin().describeTopic();
      });
      // partitions whose leader did not answer: described from the metadata, with a note on stderr
      for (const note of unknownOffsetNotes(topics)) process.stderr.write(`sluice: note: ${note}\n`);
      if (opts.json) {
        const json = name !== undefined ? describeJson(topics[0] as TopicDescription) : topics.map(describeJson);
        await writeLine(JSON.stringify(json));
      } else if (topics.length > 0) {
        await writeLine(describeText(topics));
      }
    });

  registerDeleteRecordsCommand(topic);

  topic
    .command('alter')
    .description(
      "change a topic at runtime: set config overrides or delete them (back to the broker's value), add partitions",
    )
    .argument('<name>', 'topic name')
    .option('--config <key=value>', 'set a topic config override (repeatable)', collect, [])
    .option('--delete-config <key>', 'remove a topic config override (repeatable)', collect, [])
    .option('--partitions <n>', "the topic's new partition count (more than now: a topic never shrinks)")
    .option('--validate-only', 'check the change without making it')
    .action(async (name: string, opts: AlterOptions & { partitions?: string }, cmd: Command) => {
      const changes: Record<string, string | null> = parseConfigPairs(opts.config);
      for (const key of opts.deleteConfig) {
        if (key in changes) throw usageError(`${key} is both set (--config) and deleted (--delete-config)`);
        changes[key] = null;
      }
      const configsChanged = Object.keys(changes).length > 0;
      if (!configsChanged && opts.partitions === undefined)
        throw usageError('nothing to alter: give --config k=v, --delete-config k or --partitions N');
      if (opts.partitions !== undefined) {
        await alterTopicPartitions(cmd, name, opts.partitions, opts.validateOnly === true);
      }
      if (!configsChanged) return;
      await withClient(globalsOf(cmd), (sluice) =>
        sluice.admin().alterTopicConfigs(name, changes, { validateOnly: opts.validateOnly === true }),
      );
      await writeLine(
        opts.validateOnly
          ? `Validated config change for topic ${name}.`
          : `Completed updating config for topic ${name}.`,
      );
    });

  topic
    .command('delete')
    .description('delete a topic and its data')
    .argument('<name>', 'topic name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withClient(globalsOf(cmd), (sluice) => sluice.admin().deleteTopic(name));
      await writeLine(`Deleted topic ${name}.`);
    });
}
