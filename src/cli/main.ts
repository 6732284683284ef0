#!/usr/bin/env node
/**
 * The `sluice` command. Exit codes: 0 success, 1 an error (one line on stderr,
 * the stack only with --verbose), 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isSluiceError } from '../shared/errors.js';
import { registerAclCommands } from './acl-commands.js';
import { startBroker } from './broker-start.js';
import { collect } from './cli-args.js';
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

function program(): Command {
  const root = addGlobalOptions(new Command('sluice'))
    .description('Sluice: a Kafka-style partitioned log server')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .configureHelp({ showGlobalOptions: true })
    .version(packageVersion(), '-V, --version', "print sluice's version");

  const broker = root.command('broker').description('run a broker').exitOverride();
  broker
    .command('start')
    .description('start a broker in the foreground (SIGTERM/SIGINT shut it down cleanly)')
    .option('--config <file>', 'broker properties file', 'config/server.properties')
    .option('--override <key=value>', 'override a config key (repeatable)', collect, [])
    .exitOverride()
    .action(async (opts: { config: string; override: string[] }) => {
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
  return root;
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
    const message = isSluiceError(err) ? `${err.message} (${err.code})` : (err as Error).message;
    process.stderr.write(`sluice: ${message}\n`);
    if (verbose) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
