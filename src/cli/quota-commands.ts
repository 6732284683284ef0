/**
 * `sluice quota set|list|remove`: client quotas (issue 17) through Kafka's
 * AlterClientQuotas and DescribeClientQuotas, like kafka-configs --alter
 * --entity-type users/clients --add-config producer_byte_rate=N; or, with
 * --config FILE [--override k=v], straight into the broker's own store
 * (ZooKeeper from zookeeper.connect, or the stopped standalone broker's
 * LevelDB), as kafka-configs --zookeeper does. The entity is --user U or
 * --user-default, and/or --client-id C or --client-default.
 */
import type { Command } from 'commander';
import { type QuotaChanges, withOfflineQuotaStore } from '../broker/offline-quotas.js';
import type { ClientQuotaDescription, ClientQuotaEntity } from '../client/quota-admin.js';
import { badValue, parseInteger, parsePositiveDecimal } from './cli-args.js';
import { globalsOf, withClient } from './cli-client.js';
import { writeLine } from './cli-output.js';
import { addOfflineOptions, type OfflineOptions, offlineConfig } from './offline-options.js';

/** Sets and removes an entity's quotas: in the --config broker's store, or through a running broker. */
async function alterQuotas(
  opts: OfflineOptions,
  cmd: Command,
  entity: ClientQuotaEntity,
  changes: QuotaChanges,
): Promise<void> {
  const config = offlineConfig(opts);
  if (config) await withOfflineQuotaStore(config, (store) => store.alter(entity, changes));
  else await withClient(globalsOf(cmd), (sluice) => sluice.admin().alterClientQuota(entity, changes));
}

interface EntityOptions {
  user?: string;
  userDefault?: boolean;
  clientId?: string;
  clientDefault?: boolean;
}

interface RateOptions {
  producerByteRate?: string;
  consumerByteRate?: string;
  requestPercentage?: string;
}

function entityOf(opts: EntityOptions): ClientQuotaEntity {
  if (opts.user !== undefined && opts.userDefault) throw badValue('--user and --user-default exclude each other');
  if (opts.clientId !== undefined && opts.clientDefault) {
    throw badValue('--client-id and --client-default exclude each other');
  }
  const entity: ClientQuotaEntity = {};
  if (opts.user !== undefined) entity.user = opts.user;
  if (opts.userDefault) entity.user = null;
  if (opts.clientId !== undefined) entity.clientId = opts.clientId;
  if (opts.clientDefault) entity.clientId = null;
  if (entity.user === undefined && entity.clientId === undefined) {
    throw badValue('name the entity: --user U | --user-default and/or --client-id C | --client-default');
  }
  return entity;
}

function entityText(entity: ClientQuotaEntity): string {
  const parts: string[] = [];
  if (entity.user !== undefined) parts.push(`user-principal '${entity.user ?? '<default>'}'`);
  if (entity.clientId !== undefined) parts.push(`client-id '${entity.clientId ?? '<default>'}'`);
  return parts.join(', ');
}

function addEntityOptions(cmd: Command): Command {
  return cmd
    .option('--user <name>', 'the user (the principal name, e.g. alice for User:alice)')
    .option('--user-default', "the default user entity (Kafka's <default>)")
    .option('--client-id <id>', 'the client id')
    .option('--client-default', "the default client id entity (Kafka's <default>)");
}

export function registerQuotaCommands(root: Command): void {
  const quota = root
    .command('quota')
    .description('client quotas (produce/fetch byte rates, request time)')
    .exitOverride();

  addOfflineOptions(
    addEntityOptions(
      quota
        .command('set')
        .description("set an entity's quotas (bytes per second, request time percentage)")
        .option('--producer-byte-rate <n>', 'produce bytes per second')
        .option('--consumer-byte-rate <n>', 'fetch bytes per second')
        .option('--request-percentage <n>', 'request handling time, percent of one thread over the quota window'),
    ),
  )
    .exitOverride()
    .action(async (opts: EntityOptions & RateOptions & OfflineOptions, cmd: Command) => {
      const entity = entityOf(opts);
      const changes: QuotaChanges = {};
      const max = Number.MAX_SAFE_INTEGER;
      if (opts.producerByteRate !== undefined) {
        changes.producer_byte_rate = parseInteger(opts.producerByteRate, '--producer-byte-rate', 1, max);
      }
      if (opts.consumerByteRate !== undefined) {
        changes.consumer_byte_rate = parseInteger(opts.consumerByteRate, '--consumer-byte-rate', 1, max);
      }
      if (opts.requestPercentage !== undefined) {
        // a percentage of one request handler's time (Kafka's: 200 is two threads; 0.5 is allowed)
        changes.request_percentage = parsePositiveDecimal(opts.requestPercentage, '--request-percentage', max);
      }
      if (Object.keys(changes).length === 0) {
        throw badValue('give --producer-byte-rate, --consumer-byte-rate or --request-percentage');
      }
      await alterQuotas(opts, cmd, entity, changes);
      await writeLine(`Completed updating quotas for ${entityText(entity)}.`);
    });

  addOfflineOptions(
    addEntityOptions(
      quota
        .command('remove')
        .description("remove an entity's quotas (all of them, or the ones named)")
        .option('--producer-byte-rate', 'only producer_byte_rate')
        .option('--consumer-byte-rate', 'only consumer_byte_rate')
        .option('--request-percentage', 'only request_percentage'),
    ),
  )
    .exitOverride()
    .action(
      async (
        opts: EntityOptions &
          OfflineOptions & { producerByteRate?: boolean; consumerByteRate?: boolean; requestPercentage?: boolean },
        cmd: Command,
      ) => {
        const entity = entityOf(opts);
        const named = [
          opts.producerByteRate ? 'producer_byte_rate' : '',
          opts.consumerByteRate ? 'consumer_byte_rate' : '',
          opts.requestPercentage ? 'request_percentage' : '',
        ].filter((k) => k !== '');
        const keys = named.length > 0 ? named : ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage'];
        await alterQuotas(opts, cmd, entity, Object.fromEntries(keys.map((k) => [k, null])));
        await writeLine(`Completed removing quotas for ${entityText(entity)}.`);
      },
    );

  addOfflineOptions(quota.command('list').description('every stored client quota').option('--json', 'one JSON array'))
    .exitOverride()
    .action(async (opts: OfflineOptions & { json?: boolean }, cmd: Command) => {
      const config = offlineConfig(opts);
      const quotas: ClientQuotaDescription[] = config
        ? await withOfflineQuotaStore(config, (store) => store.describe())
        : await withClient(globalsOf(cmd), (sluice) => sluice.admin().describeClientQuotas());
      if (opts.json) {
        await writeLine(JSON.stringify(quotas));
        return;
      }
      // kafka-configs --describe --entity-type users/clients
      const lines = quotas.map(
        (q) =>
          `Quota configs for ${entityText(q.entity)} are ${Object.entries(q.quotas)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`,
      );
      if (lines.length > 0) await writeLine(lines.join('\n'));
    });
}
