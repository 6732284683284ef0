/** `sluice topic create|list|describe|delete`. */
import type { Command } from 'commander';
import type { TopicDescription } from '../client/types.js';
import { topicPartitionsMax } from '../shared/limits.js';
import { collect, parseConfigPairs, parseInteger } from './cli-args.js';
import { describeExisting, globalsOf, withClient } from './cli-client.js';
import { writeLine } from './cli-output.js';
import { registerDeleteRecordsCommand, registerTopicAlterCommand } from './topic-partition-commands.js';

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
          `LogStartOffset: ${p.logStartOffset}`,
          `HighWatermark: ${p.highWatermark}`,
        ].join('\t'),
      );
    }
  }
  return lines.join('\n');
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
    .action(async (name: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const topics = await withClient(globalsOf(cmd), async (sluice) => {
        return name !== undefined ? [await describeExisting(sluice, name)] : sluice.admin().describeTopic();
      });
      if (opts.json) {
        const json = name !== undefined ? describeJson(topics[0] as TopicDescription) : topics.map(describeJson);
        await writeLine(JSON.stringify(json));
      } else if (topics.length > 0) {
        await writeLine(describeText(topics));
      }
    });

  registerTopicAlterCommand(topic);
  registerDeleteRecordsCommand(topic);

  topic
    .command('delete')
    .description('delete a topic and its data')
    .argument('<name>', 'topic name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withClient(globalsOf(cmd), (sluice) => sluice.admin().deleteTopic(name));
      await writeLine(`Deleted topic ${name}.`);
    });
}
