#!/usr/bin/env node
/**
 * The `sluice` command. Exit codes: 0 success, 1 an error (one line on stderr,
 * the stack only with --verbose), 2 bad usage. Every error is one line in one
 * shape (docs/errors.md): `sluice: <what went wrong> — <what to do> (<code>)`,
 * the code (SLUICE_ERR_*) for runtime errors only; usage errors read
 * `sluice: usage error: <what> — see --help for the usage`.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ErrorCode, isSluiceError } from '../shared/errors.js';
import { registerAclCommands } from './acl-commands.js';
import { startBroker } from './broker-start.js';
import { collect, writeUsageError } from './cli-args.js';
import { addGlobalOptions } from './cli-client.js';
import { registerConsumeCommand } from './consume-command.js';
import { registerGroupCommands } from './group-commands.js';
import { registerLogCommands } from './log-commands.js';
import { registerPartitionCommands } from './partition-commands.js';
import { registerPerfCommands } from './perf-commands.js';
import { registerProduceCommand } from './produce-command.js';
import { registerQueueCommands } from './queue-commands.js';
import { registerQuotaCommands } from './quota-commands.js';
import { registerTopicCommands } from './topic-commands.js';
import { registerTransactionCommands } from './transaction-commands.js';
import { registerUserCommands } from './user-commands.js';

/** The version in package.json (two folders up from src/cli/, dist/cli/ and the tests' bundle alike). */
function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The whole command tree, built without running anything (scripts/gen-docs.ts documents it). */
export function program(): Command {
  const root = addGlobalOptions(new Command('sluice'))
    .description('Sluice: a Kafka-style partitioned log server')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s) => writeUsageError(s) })
    .configureHelp({ showGlobalOptions: true })
    .version(packageVersion(), '-V, --version', "print sluice's version");

  const broker = root.command('broker').description('run a broker').exitOverride();
  broker
    .command('start')
    .description('start a broker in the foreground (SIGTERM/SIGINT shut it down cleanly)')
    .option(
      '--config <file>',
      "broker properties file (default: config/server.properties here, else the package's own)",
    )
    .option('--override <key=value>', 'override a config key (repeatable)', collect, [])
    .exitOverride()
    .action(async (opts: { config?: string; override: string[] }) => {
      await startBroker({ configFile: opts.config, overrides: opts.override });
    });
  registerTopicCommands(root);
  registerProduceCommand(root);
  registerConsumeCommand(root);
  registerGroupCommands(root);
  registerQueueCommands(root);
  registerPerfCommands(root);
  registerPartitionCommands(root);
  registerAclCommands(root);
  registerUserCommands(root);
  registerQuotaCommands(root);
  registerLogCommands(root);
  registerTransactionCommands(root);
  return root;
}

/** What to do about an error of `code` whose message does not say it already (no " — " in it). */
const hints: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.BrokerUnreachable]:
    "check that the broker runs and that --brokers (or SLUICE_BROKERS) names its native listener, the broker's `port`",
};

/** A runtime error as its one line: `sluice: <what> — <what to do> (<code>)`. */
function errorLine(err: unknown): string {
  if (!isSluiceError(err)) return `sluice: ${err instanceof Error ? err.message : String(err)}`;
  const hint = err.message.includes(' — ') ? undefined : hints[err.code];
  return `sluice: ${err.message}${hint === undefined ? '' : ` — ${hint}`} (${err.code})`;
}

async function main(argv: string[]): Promise<void> {
  const verbose = argv.includes('--verbose');
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are not errors; everything else commander raises is bad usage
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`${errorLine(err)}\n`);
    if (verbose) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  }
}

/** True when this module is the process's entry point (node, a bin symlink, tsx or a bundle), not imported. */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return true;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return true;
  }
}

if (isEntryPoint()) await main(process.argv);
