/**
 * `sluice consume TOPIC`: prints records as they arrive, from the end of the
 * log unless told otherwise. Ends after --max-messages records, after
 * --timeout-ms without a record, or on SIGINT/SIGTERM (all exit 0).
 */
import type { Command } from 'commander';
import type { ConsumerRecord, OffsetSpec } from '../client/types.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { topicPartitionsMax } from '../shared/limits.js';
import { badValue, parseInteger, usageError } from './cli-args.js';
import { describeExisting, globalsOf, withClient } from './cli-client.js';
import { flushStdout, isStdoutClosed, recordJson, writeLine } from './cli-output.js';

/** Longest one poll waits, so the idle timeout and signals are noticed promptly. */
const pollWaitMsMax = 500;
/** Records one poll returns at most. */
const pollRecordsMax = 1_000;
const maxMessagesMax = Number.MAX_SAFE_INTEGER;
const timeoutMsMax = 24 * 3600 * 1000;

interface ConsumeOptions {
  group?: string;
  fromBeginning?: boolean;
  partition?: string;
  offset?: string;
  maxMessages?: string;
  timeoutMs?: string;
  printKey?: boolean;
  json?: boolean;
}

function parseOffset(text: string): OffsetSpec {
  const t = text.trim().toLowerCase();
  if (t === 'earliest' || t === 'latest') return t;
  return parseInteger(text, '--offset', 0, Number.MAX_SAFE_INTEGER);
}

function format(record: ConsumerRecord, opts: ConsumeOptions): string {
  if (opts.json) return JSON.stringify(recordJson(record.topic, record.partition, record));
  const value = record.value?.toString('utf8') ?? '';
  if (!opts.printKey) return value;
  return `${record.key?.toString('utf8') ?? ''}\t${value}`;
}

export function registerConsumeCommand(root: Command): void {
  root
    .command('consume')
    .description('print the records of TOPIC (from the end unless --from-beginning or --offset)')
    .argument('<topic>', 'topic name')
    .option('--group <group>', 'consume as a member of consumer group G')
    .option('--from-beginning', 'start at the earliest offset')
    .option('--partition <p>', 'read only partition P')
    .option('--offset <o>', 'with --partition: start at offset O, earliest or latest')
    .option('--max-messages <n>', 'stop after N records')
    .option('--timeout-ms <t>', 'stop when no record arrives for T ms')
    .option('--print-key', 'print the key, a tab, then the value')
    .option('--json', 'print one JSON record object per line')
    .action(async (topic: string, opts: ConsumeOptions, cmd: Command) => {
      if (opts.offset !== undefined && opts.partition === undefined) throw usageError('--offset needs --partition');
      const partition =
        opts.partition === undefined
          ? undefined
          : parseInteger(opts.partition, '--partition', 0, topicPartitionsMax - 1);
      const offset = opts.offset === undefined ? undefined : parseOffset(opts.offset);
      const maxMessages =
        opts.maxMessages === undefined
          ? undefined
          : parseInteger(opts.maxMessages, '--max-messages', 1, maxMessagesMax);
      const timeoutMs =
        opts.timeoutMs === undefined ? undefined : parseInteger(opts.timeoutMs, '--timeout-ms', 1, timeoutMsMax);
      if (opts.group !== undefined) {
        if (opts.group.trim().length === 0) throw badValue('--group must not be empty');
        // The client library reads assigned partitions only; groups come with a later version.
        throw new SluiceError(ErrorCode.Unsupported, 'consumer groups (--group) are not supported by this version yet');
      }

      await withClient(globalsOf(cmd), async (sluice) => {
        const description = await describeExisting(sluice, topic);
        const count = description.partitions.length;
        if (partition !== undefined && partition >= count) {
          throw badValue(`topic '${topic}' has no partition ${partition} (it has ${count})`);
        }
        const start: OffsetSpec = offset ?? (opts.fromBeginning ? 'earliest' : 'latest');
        const partitions = partition !== undefined ? [partition] : description.partitions.map((p) => p.partition);
        const consumer = sluice.consumer({
          autoOffsetReset: opts.fromBeginning ? 'earliest' : 'latest',
          maxWaitMs: Math.min(pollWaitMsMax, timeoutMs ?? pollWaitMsMax),
        });
        let stopping = false;
        const stop = (): void => {
          stopping = true;
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          consumer.assign(partitions.map((p) => ({ topic, partition: p, offset: start })));
          let printed = 0;
          let lastRecordAt = Date.now();
          while (!stopping && !isStdoutClosed()) {
            if (maxMessages !== undefined && printed >= maxMessages) break;
            const remaining =
              maxMessages === undefined ? pollRecordsMax : Math.min(pollRecordsMax, maxMessages - printed);
            const waitMs =
              timeoutMs === undefined
                ? pollWaitMsMax
                : Math.max(1, Math.min(pollWaitMsMax, lastRecordAt + timeoutMs - Date.now()));
            const records = await consumer.poll({ maxWaitMs: waitMs, maxRecords: remaining });
            if (records.length > 0) lastRecordAt = Date.now();
            for (const record of records) {
              if (maxMessages !== undefined && printed >= maxMessages) break;
              await writeLine(format(record, opts));
              printed++;
            }
            if (timeoutMs !== undefined && records.length === 0 && Date.now() - lastRecordAt >= timeoutMs) break;
          }
          await flushStdout();
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          await consumer.close();
        }
      });
    });
}
