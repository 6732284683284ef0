/**
 * `sluice user add|delete|list`: SCRAM users (issue 17). Against a running
 * broker (--brokers) through Kafka's AlterUserScramCredentials and
 * DescribeUserScramCredentials, or, with --config FILE [--override k=v],
 * straight into the broker's own store (ZooKeeper from zookeeper.connect, or
 * the stopped standalone broker's LevelDB) to bootstrap the first user, as
 * Kafka's kafka-configs --zookeeper does. The password is read from stdin
 * (its first line), never from the command line.
 */
import type { Command } from 'commander';
import { withOfflineScramStore } from '../broker/offline-users.js';
import { scramMechanismOption } from '../client/user-admin.js';
import { type ScramMechanism, scramCredential } from '../security/scram.js';
import { scramIterationsDefault, scramIterationsMax, scramIterationsMin } from '../shared/limits.js';
import { badValue, parseInteger } from './cli-args.js';
import { globalsOf, withClient } from './cli-client.js';
import { writeLine } from './cli-output.js';
import { addOfflineOptions, type OfflineOptions, offlineConfig } from './offline-options.js';

interface UserDescription {
  user: string;
  credentials: { mechanism: string; iterations: number }[];
}

/** The first line of stdin, without its line end. */
async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    chunks.push(b);
    size += b.length;
    if (b.includes(0x0a) || size > 64 * 1024) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.split('\n')[0]?.replace(/\r$/, '') ?? '';
  if (line === '') throw badValue('the password (the first line of stdin) is empty');
  return line;
}

function describeText(users: UserDescription[]): string {
  // kafka-configs --describe --entity-type users
  return users
    .map(
      (u) =>
        `SCRAM credential configs for user-principal '${u.user}' are ${u.credentials
          .map((c) => `${c.mechanism}=iterations=${c.iterations}`)
          .join(', ')}`,
    )
    .join('\n');
}

export function registerUserCommands(root: Command): void {
  const user = root.command('user').description('SCRAM users (SASL authentication)').exitOverride();

  addOfflineOptions(
    user
      .command('add')
      .argument('<name>', 'the user name')
      .description("create or replace a user's SCRAM credential; the password is the first line of stdin")
      .requiredOption('--mechanism <m>', 'SCRAM-SHA-256 or SCRAM-SHA-512')
      .option('--iterations <n>', `PBKDF2 iterations (${scramIterationsMin}..${scramIterationsMax})`),
  )
    .exitOverride()
    .action(async (name: string, opts: OfflineOptions & { mechanism: string; iterations?: string }, cmd: Command) => {
      const mechanism: ScramMechanism = scramMechanismOption(opts.mechanism);
      const iterations =
        opts.iterations === undefined
          ? scramIterationsDefault
          : parseInteger(opts.iterations, '--iterations', scramIterationsMin, scramIterationsMax);
      const config = offlineConfig(opts);
      const password = await readPassword();
      if (config) {
        const credential = await scramCredential(mechanism, password, { iterations });
        await withOfflineScramStore(config, (store) => store.alter(name, { [mechanism]: credential }));
      } else {
        await withClient(globalsOf(cmd), (sluice) =>
          sluice.admin().upsertScramUser({ user: name, mechanism, password, iterations }),
        );
      }
      await writeLine(`Completed updating ${mechanism} credential for user '${name}'.`);
    });

  addOfflineOptions(
    user
      .command('delete')
      .argument('<name>', 'the user name')
      .description("delete a user's SCRAM credential")
      .requiredOption('--mechanism <m>', 'SCRAM-SHA-256 or SCRAM-SHA-512'),
  )
    .exitOverride()
    .action(async (name: string, opts: OfflineOptions & { mechanism: string }, cmd: Command) => {
      const mechanism = scramMechanismOption(opts.mechanism);
      const config = offlineConfig(opts);
      if (config) await withOfflineScramStore(config, (store) => store.alter(name, { [mechanism]: null }));
      else await withClient(globalsOf(cmd), (sluice) => sluice.admin().deleteScramUser({ user: name, mechanism }));
      await writeLine(`Completed deleting ${mechanism} credential for user '${name}'.`);
    });

  addOfflineOptions(
    user
      .command('list')
      .argument('[names...]', 'only these users (default: every user with credentials)')
      .description('users with SCRAM credentials, their mechanisms and iterations')
      .option('--json', 'one JSON array'),
  )
    .exitOverride()
    .action(async (names: string[], opts: OfflineOptions & { json?: boolean }, cmd: Command) => {
      const config = offlineConfig(opts);
      let users: UserDescription[];
      if (config) {
        const all = await withOfflineScramStore(config, (store) => store.describe());
        users = names.length === 0 ? all : all.filter((u) => names.includes(u.user));
      } else {
        users = await withClient(globalsOf(cmd), (sluice) =>
          sluice.admin().describeScramUsers(names.length === 0 ? undefined : names),
        );
      }
      if (opts.json) await writeLine(JSON.stringify(users));
      else if (users.length > 0) await writeLine(describeText(users));
    });
}
