/**
 * `sluice transactions list|describe` (issue 21), after Kafka 3's
 * kafka-transactions.sh: list prints TransactionalId, Coordinator, ProducerId
 * and TransactionState, one row per id of every coordinator; describe prints
 * one id's state at its coordinator with ProducerEpoch, TransactionTimeoutMs,
 * CurrentTransactionStartTimeMs (None when no transaction is open) and the
 * TopicPartitions of the open transaction. --json prints the admin API's
 * objects instead (an array for list, one object for describe).
 */
import type { Command } from 'commander';
import {
  type TransactionDescription,
  type TransactionListing,
  transactionStates,
} from '../client/transaction-admin.js';
import { badValue } from './cli-args.js';
import { globalsOf, withClient } from './cli-client.js';
import { formatTable, writeLine } from './cli-output.js';

function parseStates(text: string): string[] {
  return text.split(',').map((part) => {
    const state = transactionStates.find((s) => s.toLowerCase() === part.trim().toLowerCase());
    if (!state)
      throw badValue(`--state: unknown transaction state '${part.trim()}' (known: ${transactionStates.join(', ')})`);
    return state;
  });
}

function parseProducerIds(text: string): number[] {
  return text.split(',').map((part) => {
    const id = Number(part.trim());
    if (!Number.isSafeInteger(id) || id < 0)
      throw badValue(`--producer-id must be non-negative integers, not '${part}'`);
    return id;
  });
}

export function listTable(list: TransactionListing[]): string {
  return formatTable(
    ['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'],
    list.map((t) => [t.transactionalId, String(t.coordinator), String(t.producerId), t.state]),
  );
}

export function describeTable(d: TransactionDescription): string {
  return formatTable(
    [
      'CoordinatorId',
      'TransactionalId',
      'ProducerId',
      'ProducerEpoch',
      'TransactionState',
      'TransactionTimeoutMs',
      'CurrentTransactionStartTimeMs',
      'TransactionDurationMs',
      'TopicPartitions',
    ],
    [
      [
        String(d.coordinator),
        d.transactionalId,
        String(d.producerId),
        String(d.producerEpoch),
        d.state,
        String(d.transactionTimeoutMs),
        d.transactionStartTimeMs < 0 ? 'None' : String(d.transactionStartTimeMs),
        d.transactionStartTimeMs < 0 ? 'None' : String(Math.max(0, Date.now() - d.transactionStartTimeMs)),
        d.topicPartitions.map((p) => `${p.topic}-${p.partition}`).join(','),
      ],
    ],
  );
}

export function registerTransactionCommands(root: Command): void {
  const transactions = root
    .command('transactions')
    .description("list and describe transactional producers' transactions (as kafka-transactions.sh)");

  transactions
    .command('list')
    .description('every transactional id the coordinators know: id, coordinator broker, producer id, state')
    .option('--state <states>', `only transactions in these states (comma-separated: ${transactionStates.join(', ')})`)
    .option('--producer-id <ids>', 'only these producer ids (comma-separated)')
    .option('--json', 'print one JSON array of {transactionalId, coordinator, producerId, state}')
    .action(async (opts: { state?: string; producerId?: string; json?: boolean }, cmd: Command) => {
      const states = opts.state === undefined ? undefined : parseStates(opts.state);
      const producerIds = opts.producerId === undefined ? undefined : parseProducerIds(opts.producerId);
      const list = await withClient(globalsOf(cmd), (sluice) =>
        sluice.admin().listTransactions({ states, producerIds }),
      );
      await writeLine(opts.json ? JSON.stringify(list) : listTable(list));
    });

  transactions
    .command('describe')
    .description("one transactional id's state at its coordinator, with the partitions of its open transaction")
    .argument('<transactional-id>', 'transactional id')
    .option(
      '--json',
      'print one JSON object: {transactionalId, coordinator, producerId, producerEpoch, state, transactionTimeoutMs, transactionStartTimeMs, topicPartitions: [{topic, partition}]}',
    )
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      if (id.trim().length === 0) throw badValue('the transactional id must not be empty');
      const [d] = await withClient(globalsOf(cmd), (sluice) => sluice.admin().describeTransactions([id]));
      const description = d as TransactionDescription;
      await writeLine(opts.json ? JSON.stringify(description) : describeTable(description));
    });
}
