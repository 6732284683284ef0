/**
 * `sluice topic alter NAME --partitions N` (Kafka's kafka-topics --alter
 * --partitions) and `sluice topic delete-records NAME --partition P --offset O`
 * (Kafka's kafka-delete-records, with flags instead of its JSON file).
 */
import type { Command } from 'commander';
import { topicPartitionsMax } from '../shared/limits.js';
import { parseInteger, usageError } from './cli-args.js';
import { globalsOf, withClient } from './cli-client.js';
import { writeLine } from './cli-output.js';

/** `topic alter NAME --partitions N`: grows the topic (a kept-apart piece, so `alter --config` merges beside it). */
export async function alterTopicPartitions(cmd: Command, name: string, partitions: string): Promise<void> {
  const count = parseInteger(partitions, '--partitions', 1, topicPartitionsMax);
  await withClient(globalsOf(cmd), (sluice) => sluice.admin().createPartitions({ topic: name, count }));
  await writeLine(`Topic ${name} now has ${count} partitions.`);
}

/** Registers `topic alter` with its --partitions option. */
export function registerTopicAlterCommand(topic: Command): Command {
  return topic
    .command('alter')
    .description('change a topic: --partitions N adds partitions (never fewer than now)')
    .argument('<name>', 'topic name')
    .option('--partitions <n>', "the topic's new partition count")
    .action(async (name: string, opts: { partitions?: string }, cmd: Command) => {
      if (opts.partitions === undefined) throw usageError('error: say what to change (--partitions N)');
      await alterTopicPartitions(cmd, name, opts.partitions);
    });
}

/** Registers `topic delete-records NAME --partition P --offset O`. */
export function registerDeleteRecordsCommand(topic: Command): Command {
  return topic
    .command('delete-records')
    .description("delete a partition's records below an offset (its log start moves there)")
    .argument('<name>', 'topic name')
    .requiredOption('--partition <p>', 'partition')
    .requiredOption('--offset <o>', 'the new log start offset; -1 = the high watermark (every record)')
    .action(async (name: string, opts: { partition: string; offset: string }, cmd: Command) => {
      const partition = parseInteger(opts.partition, '--partition', 0, topicPartitionsMax - 1);
      const offset = parseInteger(opts.offset, '--offset', -1, Number.MAX_SAFE_INTEGER);
      const [done] = await withClient(globalsOf(cmd), (sluice) =>
        sluice.admin().deleteRecords({ topic: name, partitions: [{ partition, offset }] }),
      );
      await writeLine('Records delete operation completed:');
      await writeLine(`partition: ${name}-${partition}\tlow_watermark: ${done?.lowWatermark ?? -1}`);
    });
}
