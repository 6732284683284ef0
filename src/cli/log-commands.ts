/**
 * `sluice log verify`: checks a broker's segment files offline (issue 18),
 * like Kafka's kafka-dump-log --verify: every batch's framing, CRC-32C and
 * offsets, reporting each corrupt range and the offset reading goes on at.
 * Changes nothing. Exit 0 when every partition is whole, 1 when a corrupt
 * range was found (the report is on stdout either way).
 */
import type { Command } from 'commander';
import { type PartitionVerification, partitionDirs, verifyPartitionDir } from '../storage/log-verify.js';
import { badValue, collect, parseInteger } from './cli-args.js';
import { writeLine } from './cli-output.js';
import { offlineConfig } from './offline-options.js';

interface VerifyOptions {
  config?: string;
  override: string[];
  logDir: string[];
  topic?: string;
  partition?: string;
  json?: boolean;
}

function report(v: PartitionVerification): string[] {
  const head = `${v.topic}-${v.partition}: ${v.segments} segment${v.segments === 1 ? '' : 's'}, ${v.batches} batches, ${v.bytes} bytes`;
  if (v.corrupt.length === 0) return [`${head}: ok`];
  const lines = [`${head}: ${v.corrupt.length} corrupt range${v.corrupt.length === 1 ? '' : 's'}`];
  for (const c of v.corrupt) {
    const after = c.afterOffset < 0 ? 'before any readable record' : `after offset ${c.afterOffset}`;
    const next =
      c.nextReadableOffset === undefined
        ? 'nothing readable after it'
        : `reading goes on at offset ${c.nextReadableOffset}`;
    lines.push(`  segment ${c.segment}, bytes ${c.fromPosition}-${c.toPosition}: ${after}; ${next}`);
  }
  return lines;
}

export function registerLogCommands(root: Command): void {
  const log = root.command('log').description("check a broker's log files");
  log
    .command('verify')
    .description(
      'check every batch of the segment files (framing, CRC, offsets); report corrupt ranges; change nothing',
    )
    .option('--config <file>', "the broker's configuration: its log.dirs")
    .option('--override <key=value>', 'override a key of the --config file (repeatable)', collect, [])
    .option('--log-dir <dir>', 'a log directory to check (repeatable; instead of --config)', collect, [])
    .option('--topic <topic>', 'only this topic')
    .option('--partition <p>', 'with --topic: only this partition')
    .option('--json', 'one JSON array of the partitions checked')
    .action(async (opts: VerifyOptions) => {
      if (opts.partition !== undefined && opts.topic === undefined) throw badValue('--partition needs --topic');
      const partition =
        opts.partition === undefined ? undefined : parseInteger(opts.partition, '--partition', 0, 2 ** 31 - 1);
      const config = offlineConfig(opts);
      const dirs = config ? config.list('log.dirs') : opts.logDir;
      if (config && opts.logDir.length > 0) throw badValue('--config and --log-dir exclude each other');
      if (dirs.length === 0) throw badValue('name the log directories: --config FILE or --log-dir DIR');
      const chosen = partitionDirs(dirs).filter(
        (p) =>
          (opts.topic === undefined || p.topic === opts.topic) &&
          (partition === undefined || p.partition === partition),
      );
      if (chosen.length === 0)
        throw badValue(`no partition directory${opts.topic ? ` of topic ${opts.topic}` : ''} in ${dirs.join(', ')}`);
      const results = chosen.map((p) => verifyPartitionDir(p.dir, p.topic, p.partition));
      if (opts.json) await writeLine(JSON.stringify(results));
      else for (const r of results) for (const line of report(r)) await writeLine(line);
      if (results.some((r) => r.corrupt.length > 0)) process.exitCode = 1;
    });
}
