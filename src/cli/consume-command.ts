/**
 * `sluice consume TOPIC`: prints records as they arrive, from the end of the
 * log unless told otherwise. Ends after --max-messages records, after
 * --timeout-ms without a record, or on SIGINT/SIGTERM (all exit 0).
 *
 * With --group G it is a member of consumer group G: it reads the partitions
 * the group gives it, from the group's committed offsets (where there are
 * none: the earliest with --from-beginning, else the end), commits what it
 * printed as it goes (auto commit) and once more before it exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { Consumer } from '../client/consumer.js';
import type { ConsumerRecord, CorruptSkip, OffsetSpec } from '../client/types.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
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
  skipCorrupt?: boolean;
  isolationLevel?: string;
}

/** --isolation-level: Kafka's console consumer's values (its --isolation-level, default read_uncommitted). */
function parseIsolationLevel(text: string | undefined): 'read_committed' | 'read_uncommitted' {
  if (text === undefined) return 'read_uncommitted';
  const t = text.trim().toLowerCase();
  if (t === 'read_committed' || t === 'read_uncommitted') return t;
  throw badValue(`--isolation-level must be read_committed or read_uncommitted, not '${text}'`);
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

/** With --timeout-ms and --group: longest the first join may take (the consumer's default rebalance timeout). */
const groupJoinWaitMsMax = 60_000;
/** Longest the final commit of a group consumer keeps trying (the member may be rejoining). */
const finalCommitMsMax = 10_000;
const finalCommitRetryMs = 200;

/**
 * The final commit of what was printed, then close. An explicit commit needs
 * the member to be in the current generation: during a rebalance it is
 * retried for a while; the consumer's close() commits what it processed too.
 */
async function commitPrinted(consumer: Consumer, group: string, topic: string, upTo: Map<number, number>) {
  const offsets = [...upTo].map(([partition, offset]) => ({ topic, partition, offset }));
  const deadline = Date.now() + finalCommitMsMax;
  let last: unknown;
  try {
    for (;;) {
      try {
        await consumer.commit(offsets);
        return;
      } catch (err) {
        last = err;
        if (Date.now() + finalCommitRetryMs > deadline) break;
        await sleep(finalCommitRetryMs);
      }
    }
  } finally {
    await consumer.close();
  }
  const reason = last instanceof Error ? last.message : String(last);
  throw new SluiceError(
    isSluiceError(last) ? last.code : ErrorCode.BrokerError,
    `the records printed were not all committed for group '${group}': ${reason}`,
    { cause: last },
  );
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
    .option(
      '--isolation-level <level>',
      'read_committed: only committed transactions, up to the last stable offset; read_uncommitted (default): everything',
    )
    .option(
      '--skip-corrupt',
      'go on past records the broker finds corrupt on its disk (each skip is reported on stderr); without it, stop there',
    )
    .action(async (topic: string, opts: ConsumeOptions, cmd: Command) => {
      if (opts.offset !== undefined && opts.partition === undefined) throw usageError('--offset needs --partition');
      const partition =
        opts.partition === undefined
          ? undefined
          : parseInteger(opts.partition, '--partition', 0, topicPartitionsMax - 1);
      const offset = opts.offset === undefined ? undefined : parseOffset(opts.offset);
      const isolationLevel = parseIsolationLevel(opts.isolationLevel);
      const maxMessages =
        opts.maxMessages === undefined
          ? undefined
          : parseInteger(opts.maxMessages, '--max-messages', 1, maxMessagesMax);
      const timeoutMs =
        opts.timeoutMs === undefined ? undefined : parseInteger(opts.timeoutMs, '--timeout-ms', 1, timeoutMsMax);
      if (opts.group !== undefined) {
        if (opts.group.trim().length === 0) throw badValue('--group must not be empty');
        // the group assigns the partitions and keeps the positions (as Kafka's console consumer)
        if (partition !== undefined) throw usageError('--group and --partition exclude each other');
      }

      await withClient(globalsOf(cmd), async (sluice) => {
        const description = await describeExisting(sluice, topic);
        const count = description.partitions.length;
        if (partition !== undefined && partition >= count) {
          throw badValue(`topic '${topic}' has no partition ${partition} (it has ${count})`);
        }
        if (typeof offset === 'number' && partition !== undefined) {
          // Kafka's consumer would jump to auto.offset.reset without a word: say so instead
          const end = description.partitions.find((p) => p.partition === partition)?.highWatermark ?? -1;
          if (end >= 0 && offset > end) {
            throw badValue(
              `offset ${offset} is past the end of ${topic}-${partition} (log end ${end}) — give an offset up to ${end}, or --offset latest to wait for new records`,
            );
          }
        }
        const start: OffsetSpec = offset ?? (opts.fromBeginning ? 'earliest' : 'latest');
        const partitions = partition !== undefined ? [partition] : description.partitions.map((p) => p.partition);
        const group = opts.group;
        const consumer = sluice.consumer({
          autoOffsetReset: opts.fromBeginning ? 'earliest' : 'latest',
          maxWaitMs: Math.min(pollWaitMsMax, timeoutMs ?? pollWaitMsMax),
          isolationLevel,
          ...(group !== undefined ? { groupId: group, autoCommit: true } : {}),
          ...(opts.skipCorrupt
            ? {
                skipCorrupt: (s: CorruptSkip) =>
                  process.stderr.write(
                    `sluice: skipped corrupt records of ${s.topic}-${s.partition}: offsets ${s.from} to ${s.to - 1}\n`,
                  ),
              }
            : {}),
        });
        /** Per partition of a group: the offset after the last record printed. */
        const printedUpTo = new Map<number, number>();
        let closed = false;
        let stopping = false;
        const stop = (): void => {
          stopping = true;
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          if (group !== undefined) await consumer.subscribe({ topics: [topic], fromBeginning: opts.fromBeginning });
          else consumer.assign(partitions.map((p) => ({ topic, partition: p, offset: start })));
          let printed = 0;
          let lastRecordAt = Date.now();
          // in a group, the idle clock starts once the member has joined (the first join waits out
          // the coordinator's group.initial.rebalance.delay.ms)
          let joined = group === undefined;
          const joinDeadline = Date.now() + groupJoinWaitMsMax;
          while (!stopping && !isStdoutClosed()) {
            if (maxMessages !== undefined && printed >= maxMessages) break;
            const remaining =
              maxMessages === undefined ? pollRecordsMax : Math.min(pollRecordsMax, maxMessages - printed);
            const waitMs =
              timeoutMs === undefined
                ? pollWaitMsMax
                : Math.max(1, Math.min(pollWaitMsMax, lastRecordAt + timeoutMs - Date.now()));
            const records = await consumer.poll({ maxWaitMs: waitMs, maxRecords: remaining });
            if (!joined) {
              if (consumer.groupGeneration() !== null) joined = true;
              else if (timeoutMs !== undefined && Date.now() >= joinDeadline) {
                throw new SluiceError(
                  ErrorCode.Timeout,
                  `could not join consumer group '${group}' within ${groupJoinWaitMsMax} ms`,
                );
              }
              lastRecordAt = Date.now();
            }
            if (records.length > 0) lastRecordAt = Date.now();
            for (const record of records) {
              if (maxMessages !== undefined && printed >= maxMessages) break;
              if (isStdoutClosed()) break;
              await writeLine(format(record, opts));
              printed++;
              if (group !== undefined) printedUpTo.set(record.partition, record.offset + 1);
            }
            if (timeoutMs !== undefined && records.length === 0 && Date.now() - lastRecordAt >= timeoutMs) break;
          }
          await flushStdout();
          if (group !== undefined && printedUpTo.size > 0) {
            await commitPrinted(consumer, group, topic, printedUpTo);
            closed = true;
          }
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          if (!closed) await consumer.close();
        }
      });
    });
}
