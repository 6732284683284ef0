/**
 * The client a CLI command talks through: the global --brokers list and a
 * short retry budget, so that an unreachable broker is reported within a few
 * seconds instead of the library's patient defaults.
 */
import { type Command, Option } from 'commander';
import { parseBrokers } from '../client/brokers.js';
import { Sluice } from '../client/sluice.js';
import type { TopicDescription } from '../client/types.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { readCommandConfig } from './command-config.js';

export const defaultBrokers = '127.0.0.1:9092';

/** Budget of one CLI operation against an unreachable broker: 4 connection attempts of at most 2 s, ~0.7 s of backoff. */
const cliRetries = 3;
const cliRetryBackoffMs = 100;
const cliConnectTimeoutMs = 2_000;
const cliRequestTimeoutMs = 15_000;

export interface GlobalOptions {
  brokers: string;
  verbose?: boolean;
  /** --command-config (or SLUICE_COMMAND_CONFIG): Kafka client properties for TLS and SASL. */
  commandConfig?: string;
}

/** Adds the global options to `cmd` (root only; subcommands read them with optsWithGlobals). */
export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--brokers <list>', 'host:port,host:port or failover:(tcp://h:p,...)?options')
        .env('SLUICE_BROKERS')
        .default(defaultBrokers),
    )
    .addOption(
      new Option(
        '--command-config <file>',
        'client properties: security.protocol, ssl.ca.location, ssl.certificate.location, ssl.key.location, ssl.key.password, ssl.endpoint.identification.algorithm, sasl.mechanism, sasl.username, sasl.password',
      ).env('SLUICE_COMMAND_CONFIG'),
    )
    .option('--verbose', 'print stack traces with errors');
}

export function globalsOf(cmd: Command): GlobalOptions {
  const opts = cmd.optsWithGlobals<Partial<GlobalOptions>>();
  const brokers = opts.brokers ?? process.env.SLUICE_BROKERS ?? defaultBrokers;
  const commandConfig = opts.commandConfig ?? process.env.SLUICE_COMMAND_CONFIG;
  return {
    brokers: brokers.trim() === '' ? defaultBrokers : brokers,
    verbose: opts.verbose === true,
    ...(commandConfig === undefined || commandConfig.trim() === '' ? {} : { commandConfig }),
  };
}

/** A client for `globals`; --brokers and --command-config are checked first so bad ones fail before any connection. */
export function openClient(globals: GlobalOptions): Sluice {
  parseBrokers(globals.brokers);
  const security = globals.commandConfig === undefined ? {} : readCommandConfig(globals.commandConfig);
  return new Sluice({
    ...security,
    brokers: globals.brokers,
    clientId: 'sluice-cli',
    connectTimeoutMs: cliConnectTimeoutMs,
    requestTimeoutMs: cliRequestTimeoutMs,
    retries: cliRetries,
    retryBackoffMs: cliRetryBackoffMs,
  });
}

/** Runs `fn` with a client and closes the client afterwards, whatever happens. */
export async function withClient<T>(globals: GlobalOptions, fn: (sluice: Sluice) => Promise<T>): Promise<T> {
  const sluice = openClient(globals);
  try {
    return await fn(sluice);
  } finally {
    await sluice.close();
  }
}

/** The error for a topic that does not exist, in words and with what to do. */
export function unknownTopic(topic: string, cause?: unknown): SluiceError {
  return new SluiceError(
    ErrorCode.UnknownTopic,
    `unknown topic ${topic} (it does not exist) — create it with: sluice topic create ${topic}`,
    cause === undefined ? undefined : { cause },
  );
}

/** One topic's description; a missing topic is reported as such, in one short line. */
export async function describeExisting(sluice: Sluice, topic: string): Promise<TopicDescription> {
  try {
    return await sluice.admin().describeTopic(topic);
  } catch (err) {
    if (isSluiceError(err, ErrorCode.UnknownPartition)) throw unknownTopic(topic, err);
    throw err;
  }
}

/**
 * `err` from writing to or reading `topic`, in words when it says the topic is unknown: an
 * UNKNOWN_TOPIC_OR_PARTITION answer becomes "unknown topic T" when the topic indeed does not
 * exist (a missing partition of an existing topic stays as it was).
 */
export async function explainUnknownTopic(sluice: Sluice, topic: string, err: unknown): Promise<unknown> {
  if (!isSluiceError(err, ErrorCode.UnknownPartition)) return err;
  try {
    await sluice.admin().describeTopic(topic);
  } catch (again) {
    if (isSluiceError(again, ErrorCode.UnknownPartition)) return unknownTopic(topic, err);
  }
  return err;
}
