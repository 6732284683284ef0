/**
 * The state of one transactional id (Kafka's TransactionMetadata, KIP-98 and
 * KIP-360), as pure functions over immutable values: each request computes
 * the next value (or the error Kafka answers), the coordinator writes it to
 * `__transaction_state` and only then installs it. Nothing here does I/O.
 *
 * States and the states each may follow (Kafka's):
 *   Empty             ← Empty, CompleteCommit, CompleteAbort
 *   Ongoing           ← Ongoing, Empty, CompleteCommit, CompleteAbort
 *   PrepareCommit     ← Ongoing
 *   PrepareAbort      ← Ongoing, PrepareEpochFence
 *   CompleteCommit    ← PrepareCommit
 *   CompleteAbort     ← PrepareAbort
 *   Dead              ← Empty, CompleteCommit, CompleteAbort
 *   PrepareEpochFence ← Ongoing (in memory only: the next record is the PrepareAbort at the bumped epoch)
 */

import { type TxnState, txnStates } from '../protocol/native/transaction-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { topicPartitionKey } from '../shared/topic-partition.js';

export { type TxnState, txnStates };

const previousStates: Record<TxnState, readonly TxnState[]> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  PrepareAbort: ['Ongoing', 'PrepareEpochFence'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareEpochFence: ['Ongoing'],
};

/** Kafka's RecordBatch.NO_PRODUCER_ID / NO_PRODUCER_EPOCH. */
export const noProducerId = -1;
export const noProducerEpoch = -1;
/** The last epoch a producer id may reach (Short.MAX_VALUE); at one below it the next InitProducerId takes a new id. */
export const producerEpochMax = 32767;

export interface TxnPartition {
  topic: string;
  partition: number;
}

export interface TxnMetadata {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  /** KIP-360: the id and epoch before the last bump, so a retried InitProducerId is recognised; -1 when none. */
  readonly lastProducerId: number;
  readonly lastProducerEpoch: number;
  readonly timeoutMs: number;
  readonly state: TxnState;
  /** The partitions of the open (or completing) transaction; empty once it completed. */
  readonly partitions: readonly TxnPartition[];
  /** When the open transaction began; -1 when none is open. */
  readonly startTimeMs: number;
  readonly lastUpdateMs: number;
}

export function isPrepare(state: TxnState): state is 'PrepareCommit' | 'PrepareAbort' {
  return state === 'PrepareCommit' || state === 'PrepareAbort';
}

/** Whether the transaction is being or was completed since its last record: nothing open. */
export function isComplete(state: TxnState): boolean {
  return state === 'CompleteCommit' || state === 'CompleteAbort' || state === 'Empty';
}

/** Kafka's isProducerEpochExhausted: the next bump would reach Short.MAX_VALUE. */
export function epochExhausted(epoch: number): boolean {
  return epoch >= producerEpochMax - 1;
}

/** The next value with `changes`; throws (a bug, not a client error) when `to` may not follow the current state. */
export function transition(meta: TxnMetadata, to: TxnState, changes: Partial<TxnMetadata>, nowMs: number): TxnMetadata {
  if (!previousStates[to].includes(meta.state)) {
    throw new SluiceError(
      ErrorCode.InvalidTxnState,
      `transactional id ${meta.transactionalId}: ${to} cannot follow ${meta.state}`,
    );
  }
  return { ...meta, ...changes, state: to, lastUpdateMs: nowMs };
}

function refuse(code: ErrorCode, message: string): SluiceError {
  return new SluiceError(code, message);
}

/** A transactional id never seen: its producer id is allocated by the caller, epoch not yet given (the first bump makes it 0). */
export function newTxnMetadata(
  transactionalId: string,
  producerId: number,
  timeoutMs: number,
  nowMs: number,
): TxnMetadata {
  return {
    transactionalId,
    producerId,
    producerEpoch: noProducerEpoch,
    lastProducerId: noProducerId,
    lastProducerEpoch: noProducerEpoch,
    timeoutMs,
    state: 'Empty',
    partitions: [],
    startTimeMs: -1,
    lastUpdateMs: nowMs,
  };
}

/** What InitProducerId must do next for a known transactional id. */
export type InitDecision =
  /** Write `next` (state Empty, the bumped epoch or a new producer id) and answer it. */
  | { kind: 'bump'; next: TxnMetadata }
  /** Answer CONCURRENT_TRANSACTIONS: a commit or abort is being completed. */
  | { kind: 'concurrent' }
  /** An open transaction: fence its producer and abort it first (answer CONCURRENT_TRANSACTIONS meanwhile). */
  | { kind: 'abortOpen' };

/**
 * InitProducerId for a known id (Kafka's prepareInitProducerIdTransit).
 * `expected`: KIP-360's current producer id and epoch from the client, when
 * it gave them. `newProducerId` is called only when the epoch is exhausted.
 */
export function decideInit(
  meta: TxnMetadata,
  timeoutMs: number,
  expected: { producerId: number; producerEpoch: number } | undefined,
  newProducerId: () => number,
  nowMs: number,
): InitDecision {
  if (expected && !isCurrentOrLastProducer(meta, expected)) {
    throw refuse(
      ErrorCode.ProducerFenced,
      `producer ${expected.producerId} epoch ${expected.producerEpoch} is not the current producer of ${meta.transactionalId}`,
    );
  }
  switch (meta.state) {
    case 'PrepareCommit':
    case 'PrepareAbort':
    case 'PrepareEpochFence':
    case 'Dead':
      return { kind: 'concurrent' };
    case 'Ongoing':
      return { kind: 'abortOpen' };
    default:
      break;
  }
  if (epochExhausted(meta.producerEpoch) && (!expected || expected.producerEpoch === meta.producerEpoch)) {
    // a new producer id at epoch 0; with KIP-360 the old pair is kept so a retry of this request is recognised
    const next = transition(
      meta,
      'Empty',
      {
        producerId: newProducerId(),
        producerEpoch: 0,
        lastProducerId: expected ? meta.producerId : noProducerId,
        lastProducerEpoch: expected ? meta.producerEpoch : noProducerEpoch,
        timeoutMs,
        partitions: [],
        startTimeMs: -1,
      },
      nowMs,
    );
    return { kind: 'bump', next };
  }
  let epoch = meta.producerEpoch + 1;
  let lastId = meta.lastProducerId;
  let lastEpoch = noProducerEpoch;
  if (expected && expected.producerId === meta.producerId && expected.producerEpoch === meta.producerEpoch) {
    lastId = meta.producerId;
    lastEpoch = meta.producerEpoch;
  } else if (expected) {
    // a retry of the bump (or id rotation) that already happened: answer the current pair again
    epoch = meta.producerEpoch;
    lastEpoch = meta.lastProducerEpoch;
  }
  const next = transition(
    meta,
    'Empty',
    {
      producerEpoch: epoch,
      lastProducerId: lastId,
      lastProducerEpoch: lastEpoch,
      timeoutMs,
      partitions: [],
      startTimeMs: -1,
    },
    nowMs,
  );
  return { kind: 'bump', next };
}

function isCurrentOrLastProducer(meta: TxnMetadata, p: { producerId: number; producerEpoch: number }): boolean {
  if (p.producerId === noProducerId && p.producerEpoch === noProducerEpoch) return true;
  if (p.producerId === meta.producerId) {
    return p.producerEpoch === meta.producerEpoch || p.producerEpoch === meta.lastProducerEpoch;
  }
  return p.producerId === meta.lastProducerId && p.producerEpoch === meta.lastProducerEpoch;
}

/** The checks of every request from a transactional producer: its id, then its epoch. */
export function checkProducer(meta: TxnMetadata, producerId: number, producerEpoch: number): void {
  if (producerId !== meta.producerId) {
    throw refuse(
      ErrorCode.InvalidProducerIdMapping,
      `producer id ${producerId} is not the one transactional id ${meta.transactionalId} holds`,
    );
  }
  if (producerEpoch !== meta.producerEpoch) {
    throw refuse(
      ErrorCode.ProducerFenced,
      `producer epoch ${producerEpoch} of ${meta.transactionalId} is not the current one (${meta.producerEpoch}): a newer producer fenced it`,
    );
  }
}

/**
 * AddPartitionsToTxn / AddOffsetsToTxn: the next value, or undefined when
 * every partition is already in the open transaction (nothing to write).
 */
export function addPartitions(
  meta: TxnMetadata,
  producerId: number,
  producerEpoch: number,
  partitions: readonly TxnPartition[],
  partitionsMax: number,
  nowMs: number,
): TxnMetadata | undefined {
  checkProducer(meta, producerId, producerEpoch);
  if (isPrepare(meta.state) || meta.state === 'PrepareEpochFence') {
    throw refuse(ErrorCode.ConcurrentTransactions, `the previous transaction of ${meta.transactionalId} is completing`);
  }
  if (meta.state === 'Dead') {
    throw refuse(ErrorCode.InvalidProducerIdMapping, `transactional id ${meta.transactionalId} has expired`);
  }
  const open = meta.state === 'Ongoing';
  const have = new Set(open ? meta.partitions.map((p) => topicPartitionKey(p.topic, p.partition)) : []);
  const merged = open ? [...meta.partitions] : [];
  for (const p of partitions) {
    const key = topicPartitionKey(p.topic, p.partition);
    if (have.has(key)) continue;
    have.add(key);
    merged.push({ topic: p.topic, partition: p.partition });
  }
  if (open && merged.length === meta.partitions.length) return undefined;
  if (merged.length > partitionsMax) {
    throw refuse(ErrorCode.InvalidArgument, `a transaction may hold at most ${partitionsMax} partitions`);
  }
  return transition(meta, 'Ongoing', { partitions: merged, startTimeMs: open ? meta.startTimeMs : nowMs }, nowMs);
}

/** What EndTxn must do. */
export type EndDecision =
  /** Write `next` (PrepareCommit or PrepareAbort), answer, then write the markers. */
  | { kind: 'prepare'; next: TxnMetadata }
  /** A retry of an EndTxn already completed the same way: answer success, write nothing. */
  | { kind: 'done' };

/** EndTxn from the client (Kafka's endTransaction with isFromClient). */
export function decideEnd(
  meta: TxnMetadata,
  producerId: number,
  producerEpoch: number,
  commit: boolean,
  nowMs: number,
): EndDecision {
  checkProducer(meta, producerId, producerEpoch);
  const wrong = (): SluiceError =>
    refuse(
      ErrorCode.InvalidTxnState,
      `cannot ${commit ? 'commit' : 'abort'} the transaction of ${meta.transactionalId}: it is ${meta.state}`,
    );
  switch (meta.state) {
    case 'Ongoing':
      return { kind: 'prepare', next: transition(meta, commit ? 'PrepareCommit' : 'PrepareAbort', {}, nowMs) };
    case 'CompleteCommit':
      if (commit) return { kind: 'done' };
      throw wrong();
    case 'CompleteAbort':
      if (!commit) return { kind: 'done' };
      throw wrong();
    case 'PrepareCommit':
      if (commit) throw refuse(ErrorCode.ConcurrentTransactions, `the commit of ${meta.transactionalId} is completing`);
      throw wrong();
    case 'PrepareAbort':
      if (!commit) throw refuse(ErrorCode.ConcurrentTransactions, `the abort of ${meta.transactionalId} is completing`);
      throw wrong();
    default:
      throw wrong();
  }
}

/**
 * The coordinator aborts an open transaction itself (its timeout passed, or
 * a new producer instance initialised): the epoch is bumped first so the old
 * producer is fenced (Kafka's prepareFenceProducerEpoch), then PrepareAbort
 * at the bumped epoch is what gets written.
 */
export function fenceAndAbort(meta: TxnMetadata, nowMs: number): TxnMetadata {
  const fenced = transition(
    meta,
    'PrepareEpochFence',
    { producerEpoch: Math.min(meta.producerEpoch + 1, producerEpochMax) },
    nowMs,
  );
  return transition(fenced, 'PrepareAbort', {}, nowMs);
}

/** Every marker is written: CompleteCommit / CompleteAbort, with no partitions left. */
export function complete(meta: TxnMetadata, nowMs: number): TxnMetadata {
  if (meta.state === 'PrepareCommit') return transition(meta, 'CompleteCommit', { partitions: [] }, nowMs);
  if (meta.state === 'PrepareAbort') return transition(meta, 'CompleteAbort', { partitions: [] }, nowMs);
  throw refuse(
    ErrorCode.InvalidTxnState,
    `transaction of ${meta.transactionalId} is ${meta.state}: nothing to complete`,
  );
}

/** Whether an open transaction has outlived its timeout (the coordinator then aborts it). */
export function timedOut(meta: TxnMetadata, nowMs: number): boolean {
  return meta.state === 'Ongoing' && meta.startTimeMs >= 0 && meta.startTimeMs + meta.timeoutMs < nowMs;
}

/** Whether an idle transactional id may be forgotten (transactional.id.expiration.ms). */
export function expired(meta: TxnMetadata, expirationMs: number, nowMs: number): boolean {
  return (
    (meta.state === 'Empty' || meta.state === 'CompleteCommit' || meta.state === 'CompleteAbort') &&
    meta.lastUpdateMs + expirationMs < nowMs
  );
}
