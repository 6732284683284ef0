/**
 * The requests of a transactional producer (issue 21, Kafka's flow), each to
 * the broker that answers it:
 *
 * - FindCoordinator keyType 1 finds the transactional id's coordinator, which
 *   answers InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn;
 * - FindCoordinator keyType 0 finds the consumer group's coordinator, which
 *   answers TxnOffsetCommit.
 *
 * A coordinator that moved (NOT_COORDINATOR), is loading its log
 * (COORDINATOR_LOAD_IN_PROGRESS) or is still completing the previous
 * transaction (CONCURRENT_TRANSACTIONS) is asked again after a backoff; the
 * coordinator found is kept until a request to it fails, then found afresh. Any other error is thrown to the caller
 * (transactions.ts decides whether it is fatal or leaves the transaction
 * abortable).
 */

import { ApiKey } from '../../protocol/native/api-keys.js';
import type { RequestOf, ResponseOf } from '../../protocol/native/apis.js';
import { WireError } from '../../shared/errors.js';
import { producerIdempotentRetriesDefault } from '../../shared/limits.js';
import type { Cluster } from '../cluster.js';
import type { Connection } from '../connection.js';
import { markRetriable, wireError } from '../errors.js';
import { retriableTransactionCodes, type TopicPartitionRef, wireCodeOf } from './transaction-manager.js';

export type TransactionCluster = Pick<Cluster, 'retry' | 'retries' | 'anyConnection' | 'connectionTo'>;

/** The producer a transactional request speaks for. */
export interface TransactionalIdentity {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
}

/** Key types of FindCoordinator. */
const groupKey = 0;
const transactionKey = 1;

/** The coordinator of `key` (a group or a transactional id), found at any broker. */
export async function findCoordinator(
  cluster: TransactionCluster,
  key: string,
  keyType: 0 | 1,
): Promise<{ nodeId: number; host: string; port: number }> {
  const any = await cluster.anyConnection();
  const res = await any.request(ApiKey.FindCoordinator, keyType === 0 ? { key } : { key, keyType });
  const what = keyType === transactionKey ? `transactional id '${key}'` : `group '${key}'`;
  throwAnswer(res.errorCode, `find the coordinator of ${what}`, res.errorMessage);
  return { nodeId: res.nodeId, host: res.host, port: res.port };
}

/**
 * Coordinators found, per cluster and key: a transaction's requests all go to its coordinator, and
 * a FindCoordinator before each of them doubled the round trips of a small transaction. An entry is
 * dropped when a request to it fails (it moved, or its broker went away) and found again.
 */
const coordinators = new WeakMap<TransactionCluster, Map<string, { host: string; port: number }>>();

/** The connection to the coordinator of `key` (the one found before, unless a request to it failed since). */
export async function coordinatorOf(cluster: TransactionCluster, key: string, keyType: 0 | 1): Promise<Connection> {
  let known = coordinators.get(cluster);
  if (!known) {
    known = new Map();
    coordinators.set(cluster, known);
  }
  const cacheKey = `${keyType}:${key}`;
  let found = known.get(cacheKey);
  if (!found) {
    const { host, port } = await findCoordinator(cluster, key, keyType);
    found = { host, port };
    // bounded: a producer has one transactional id, its offsets go to a few groups
    if (known.size >= coordinatorsKnownMax) known.clear();
    known.set(cacheKey, found);
  }
  return cluster.connectionTo(found);
}

/** Forgets the coordinator of `key` found before (a request to it failed). */
function forgetCoordinator(cluster: TransactionCluster, key: string, keyType: 0 | 1): void {
  coordinators.get(cluster)?.delete(`${keyType}:${key}`);
}

const coordinatorsKnownMax = 64;

/** Throws a non-zero answer, marked retriable when a new attempt (and coordinator lookup) may succeed. */
export function throwAnswer(code: number | undefined, what: string, message?: string): void {
  if (code === undefined || code === 0) return;
  const err = wireError(code, what, message);
  throw retriableTransactionCodes.has(code) ? markRetriable(err) : err;
}

/** One request to the coordinator of `key`, retried (with a fresh FindCoordinator) while the answer says to. */
function atCoordinator<K extends ApiKey>(
  cluster: TransactionCluster,
  key: string,
  keyType: 0 | 1,
  apiKey: K,
  body: RequestOf<K>,
  what: string,
  check: (res: ResponseOf<K>) => void = () => undefined,
): Promise<ResponseOf<K>> {
  // as many retries as an idempotent producer's batch (about two minutes with the capped backoff, Kafka's
  // max.block.ms bounds the same wait): a coordinator completing an aborted zombie's transaction answers
  // CONCURRENT_TRANSACTIONS until every marker is written, longer than the client's default retries last
  const retries = Math.max(cluster.retries, producerIdempotentRetriesDefault);
  return cluster.retry(
    async () => {
      try {
        const conn = await coordinatorOf(cluster, key, keyType);
        const res: ResponseOf<K> = await conn.request(apiKey, body);
        throwAnswer(res.errorCode, what, res.errorMessage);
        check(res);
        return res;
      } catch (err) {
        // still completing the previous transaction: the coordinator is the right one
        if (wireCodeOf(err) !== WireError.CONCURRENT_TRANSACTIONS) {
          forgetCoordinator(cluster, key, keyType);
        }
        throw err;
      }
    },
    { retries },
  );
}

/**
 * InitProducerId at the transactional id's coordinator: a producer id and a
 * new epoch (fencing any older instance; the coordinator aborts its open
 * transaction first, answering CONCURRENT_TRANSACTIONS meanwhile). `current`:
 * the producer's id and epoch to bump (KIP-360), after an aborted transaction
 * whose batches failed.
 */
export async function initTransactionalProducer(
  cluster: TransactionCluster,
  transactionalId: string,
  transactionTimeoutMs: number,
  current?: { producerId: number; producerEpoch: number },
): Promise<{ producerId: number; producerEpoch: number }> {
  const body: RequestOf<typeof ApiKey.InitProducerId> = { transactionalId, transactionTimeoutMs };
  if (current) {
    body.producerId = current.producerId;
    body.producerEpoch = current.producerEpoch;
  }
  const res = await atCoordinator(
    cluster,
    transactionalId,
    transactionKey,
    ApiKey.InitProducerId,
    body,
    `init producer id of transactional id '${transactionalId}'`,
  );
  if (!Number.isSafeInteger(res.producerId) || res.producerId < 0) {
    throw wireError(WireError.UNKNOWN_SERVER_ERROR, 'init producer id', `producer id ${String(res.producerId)}`);
  }
  return { producerId: res.producerId, producerEpoch: res.producerEpoch };
}

/** Per-partition answers: the first error (retriable ones marked so, the request is then sent again whole). */
function checkPartitions(
  topics: readonly {
    name: string;
    partitions: readonly { partition: number; errorCode: number; errorMessage?: string }[];
  }[],
  what: string,
): void {
  // the partition that was refused, not one of the others answered OPERATION_NOT_ATTEMPTED because of it
  const notAttempted = WireError.OPERATION_NOT_ATTEMPTED as number;
  const all = topics.flatMap((t) => t.partitions.map((p) => ({ name: t.name, ...p })));
  const failed =
    all.find((p) => p.errorCode !== 0 && p.errorCode !== notAttempted) ?? all.find((p) => p.errorCode !== 0);
  if (failed) throwAnswer(failed.errorCode, `${what} (${failed.name}-${failed.partition})`, failed.errorMessage);
}

function byTopic(partitions: readonly TopicPartitionRef[]): { name: string; partitions: number[] }[] {
  const topics = new Map<string, number[]>();
  for (const p of partitions) {
    const list = topics.get(p.topic) ?? [];
    list.push(p.partition);
    topics.set(p.topic, list);
  }
  return [...topics].map(([name, list]) => ({ name, partitions: list }));
}

/** AddPartitionsToTxn: the partitions join the open transaction before their first batch is written. */
export async function addPartitionsToTxn(
  cluster: TransactionCluster,
  identity: TransactionalIdentity,
  partitions: readonly TopicPartitionRef[],
): Promise<void> {
  const what = `add partitions to the transaction of '${identity.transactionalId}'`;
  await atCoordinator(
    cluster,
    identity.transactionalId,
    transactionKey,
    ApiKey.AddPartitionsToTxn,
    { ...identity, topics: byTopic(partitions) },
    what,
    (res) => checkPartitions(res.results ?? [], what),
  );
}

/** AddOffsetsToTxn: the group's offsets partition joins the transaction (before TxnOffsetCommit). */
export async function addOffsetsToTxn(
  cluster: TransactionCluster,
  identity: TransactionalIdentity,
  groupId: string,
): Promise<void> {
  await atCoordinator(
    cluster,
    identity.transactionalId,
    transactionKey,
    ApiKey.AddOffsetsToTxn,
    { ...identity, groupId },
    `add the offsets of group '${groupId}' to the transaction of '${identity.transactionalId}'`,
  );
}

export interface TxnOffsets {
  consumerGroupId: string;
  topics: { topic: string; partitions: { partition: number; offset: number | string; metadata?: string | null }[] }[];
  /**
   * KIP-447: the consuming member's generation (consumer.groupGeneration(), taken when the records
   * were polled). The group coordinator then refuses the offsets (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID)
   * when the group has rebalanced since, so the transaction aborts instead of committing output for
   * records the group now hands out again. Without it the offsets are taken from any member.
   */
  consumerGroupMetadata?: { generationId: number; memberId: string; groupInstanceId?: string | null };
}

/** TxnOffsetCommit's KIP-447 fields, when the caller named its generation. */
function generationOf(offsets: TxnOffsets): {
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
} {
  const g = offsets.consumerGroupMetadata;
  if (g === undefined) return {};
  return { generationId: g.generationId, memberId: g.memberId, groupInstanceId: g.groupInstanceId ?? null };
}

/** TxnOffsetCommit at the group's coordinator: the offsets become the group's when the transaction commits. */
export async function txnOffsetCommit(
  cluster: TransactionCluster,
  identity: TransactionalIdentity,
  offsets: TxnOffsets,
): Promise<void> {
  const groupId = offsets.consumerGroupId;
  const what = `commit offsets of group '${groupId}' in the transaction of '${identity.transactionalId}'`;
  await atCoordinator(
    cluster,
    groupId,
    groupKey,
    ApiKey.TxnOffsetCommit,
    {
      ...identity,
      groupId,
      ...generationOf(offsets),
      topics: offsets.topics.map((t) => ({
        name: t.topic,
        partitions: t.partitions.map((p) => ({
          partition: p.partition,
          offset: Number(p.offset),
          metadata: p.metadata ?? null,
        })),
      })),
    },
    what,
    (res) => checkPartitions(res.topics ?? [], what),
  );
}

/** EndTxn: commit (committed true) or abort the open transaction. */
export async function endTxn(
  cluster: TransactionCluster,
  identity: TransactionalIdentity,
  committed: boolean,
): Promise<void> {
  await atCoordinator(
    cluster,
    identity.transactionalId,
    transactionKey,
    ApiKey.EndTxn,
    { ...identity, committed },
    `${committed ? 'commit' : 'abort'} the transaction of '${identity.transactionalId}'`,
  );
}
