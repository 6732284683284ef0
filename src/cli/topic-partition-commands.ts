/**
 * The partition side of `sluice topic alter NAME --partitions N` (Kafka's kafka-topics --alter
 * --partitions; registered with the config options in topic-commands.ts) and `sluice topic delete-records NAME --partition P --offset O`
 * (Kafka's kafka-delete-records, with flags instead of its JSON file).
 */
import type { Command } from 'commander';
import { topicPartitionsMax } from '../shared/limits.js';
import { parseInteger } from './cli-args.js';
import { globalsOf, withClient } from './cli-client.js';
import { writeLine } from './cli-output.js';

/** `topic alter NAME --partitions N [--validate-only]`: grows the topic (Kafka's kafka-topics --alter --partitions). */
export async function alterTopicPartitions(
  cmd: Command,
  name: string,
  partitions: string,
  validateOnly = false,
): Promise<void> {
  const count = parseInteger(partitions, '--partitions', 1, topicPartitionsMax);
  await withClient(globalsOf(cmd), (sluice) => sluice.admin().createPartitions({ topic: name, count, validateOnly }));
  await writeLine(
    validateOnly ? `Topic ${name} can have ${count} partitions.` : `Topic ${name} now has ${count} partitions.`,
  );
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
