/**
 * The admin's view of transactions (issue 21, Kafka 3's Admin
 * listTransactions / describeTransactions and kafka-transactions.sh):
 *
 * - listTransactions asks every broker (each coordinator knows only the
 *   transactional ids of the __transaction_state partitions it leads) and
 *   merges the answers;
 * - describeTransactions asks each id's own coordinator (FindCoordinator
 *   keyType 1), as only it holds the id's state.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import { type ListTransactionsRequest, txnStates } from '../protocol/native/transaction-messages.js';
import { requestListItemsMax } from '../shared/limits.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, invalidArgument } from './errors.js';
import { findCoordinator, throwAnswer } from './producer/transaction-requests.js';

/** One transactional id as ListTransactions reports it. */
/** Kafka's transaction state names (ListTransactions' state filters). */
export const transactionStates: readonly string[] = txnStates;

export interface TransactionListing {
  transactionalId: string;
  /** The broker id of its coordinator (the broker that listed it). */
  coordinator: number;
  producerId: number;
  /** Kafka's state names: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence. */
  state: string;
}

/** One transactional id as DescribeTransactions reports it (kafka-transactions.sh describe's columns). */
export interface TransactionDescription extends TransactionListing {
  producerEpoch: number;
  transactionTimeoutMs: number;
  /** When the open transaction began (ms since the epoch); -1 when none is open. */
  transactionStartTimeMs: number;
  /** The partitions the open transaction has added. */
  topicPartitions: { topic: string; partition: number }[];
}

export interface ListTransactionsOptions {
  /** Only transactions in these states; absent or empty: every state. */
  states?: string[];
  /** Only these producer ids; absent or empty: every producer. */
  producerIds?: number[];
}

const byId = (a: { transactionalId: string }, b: { transactionalId: string }): number =>
  a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0;

/** Every broker's transactional ids (with the filters), merged and sorted by id. */
export async function listTransactions(
  cluster: Cluster,
  options: ListTransactionsOptions = {},
): Promise<TransactionListing[]> {
  const body: ListTransactionsRequest = {};
  if (options.states !== undefined) {
    if (!Array.isArray(options.states) || options.states.some((s) => typeof s !== 'string'))
      throw invalidArgument('states must be a list of state names');
    body.stateFilters = options.states;
  }
  if (options.producerIds !== undefined) {
    if (!Array.isArray(options.producerIds) || options.producerIds.some((p) => !Number.isSafeInteger(p)))
      throw invalidArgument('producerIds must be a list of integers');
    body.producerIdFilters = options.producerIds;
  }
  const metadata = await cluster.retry(() => cluster.refreshMetadata([]));
  const nodeIds = (metadata.brokers ?? []).map((b) => b.nodeId);
  const answers = await Promise.all(
    nodeIds.map((nodeId) =>
      cluster.retry(async () => {
        const conn = await cluster.brokerConnection(nodeId);
        const res = await conn.request(ApiKey.ListTransactions, body);
        checkTopLevel(res, `list transactions at broker ${nodeId}`);
        return (res.transactionStates ?? []).map(
          (t): TransactionListing => ({
            transactionalId: t.transactionalId,
            coordinator: nodeId,
            producerId: t.producerId,
            state: t.transactionState,
          }),
        );
      }),
    ),
  );
  // an id moving between coordinators during the calls could be listed twice: the first answer is kept
  const merged = new Map<string, TransactionListing>();
  for (const t of answers.flat()) if (!merged.has(t.transactionalId)) merged.set(t.transactionalId, t);
  return [...merged.values()].sort(byId);
}

/** Each id's state at its coordinator, in the order asked; an unknown id fails with TransactionalIdNotFound. */
export async function describeTransactions(cluster: Cluster, ids: string[]): Promise<TransactionDescription[]> {
  if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string' || id === '')) {
    throw invalidArgument('describeTransactions() needs a list of transactional ids');
  }
  if (ids.length > requestListItemsMax) throw invalidArgument(`at most ${requestListItemsMax} ids at once`);
  return Promise.all(
    ids.map((id) =>
      cluster.retry(async () => {
        const coordinator = await findCoordinator(cluster, id, 1);
        const conn = await cluster.connectionTo({ host: coordinator.host, port: coordinator.port });
        const res = await conn.request(ApiKey.DescribeTransactions, { transactionalIds: [id] });
        checkTopLevel(res, `describe transaction '${id}'`);
        const t = (res.transactionStates ?? []).find((x) => x.transactionalId === id);
        if (!t) throwAnswer(-1, `describe transaction '${id}'`, 'no answer for the id');
        const d = t as NonNullable<typeof t>;
        // NOT_COORDINATOR and the like are retried with a fresh lookup; TRANSACTIONAL_ID_NOT_FOUND is thrown
        throwAnswer(d.errorCode, `describe transaction '${id}'`, d.errorMessage);
        return {
          transactionalId: id,
          coordinator: coordinator.nodeId,
          producerId: d.producerId,
          producerEpoch: d.producerEpoch,
          state: d.transactionState,
          transactionTimeoutMs: d.transactionTimeoutMs,
          transactionStartTimeMs: d.transactionStartTimeMs,
          topicPartitions: (d.topics ?? []).flatMap((x) =>
            x.partitions.map((partition) => ({ topic: x.name, partition })),
          ),
        };
      }),
    ),
  );
}
