/**
 * A transactional producer's state machine (issue 21; the Java client's
 * TransactionManager states, kafkajs's transaction eos manager), pure: the
 * requests are sent by transactions.ts, which asks this object what is allowed
 * and tells it what happened.
 *
 *   Uninitialized → Initializing → Ready → InTransaction → Committing → Ready
 *                                                        → Aborting   → Ready
 *   InTransaction → AbortableError (a send or sendOffsets failed) → Aborting → Ready
 *   any → Fatal (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, ...): every later call fails
 *
 * One transaction at a time. It also keeps the partitions the open transaction
 * has added at its coordinator (AddPartitionsToTxn is sent once per partition
 * per transaction, before the first batch to it) and those waiting to be added.
 */
import { ErrorCode, SluiceError, WireError } from '../../shared/errors.js';
import { producerTransactionPartitionsMax } from '../../shared/limits.js';
import { topicPartitionKey } from '../../shared/topic-partition.js';

export type TransactionState =
  | 'Uninitialized'
  | 'Initializing'
  | 'Ready'
  | 'InTransaction'
  | 'Committing'
  | 'Aborting'
  | 'AbortableError'
  | 'Fatal';

/** Wire errors after which the producer can do nothing more (Kafka's fatal transactional errors). */
export const fatalTransactionCodes: ReadonlySet<number> = new Set([
  WireError.PRODUCER_FENCED,
  WireError.INVALID_PRODUCER_EPOCH,
  WireError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  WireError.INVALID_TXN_STATE,
  WireError.INVALID_TRANSACTION_TIMEOUT,
]);

/** Coordinator answers that a retry (after a fresh FindCoordinator for the move ones) may fix. */
export const retriableTransactionCodes: ReadonlySet<number> = new Set([
  WireError.CONCURRENT_TRANSACTIONS,
  WireError.COORDINATOR_LOAD_IN_PROGRESS,
  WireError.COORDINATOR_NOT_AVAILABLE,
  WireError.NOT_COORDINATOR,
]);

/** The wire number behind an error, when it came from a broker's answer. */
export function wireCodeOf(err: unknown): number | undefined {
  if (!(err instanceof SluiceError) || err.wireName === undefined) return undefined;
  const code = (WireError as Record<string, number>)[err.wireName];
  return typeof code === 'number' ? code : undefined;
}

export function isFatalTransactionError(err: unknown): boolean {
  const code = wireCodeOf(err);
  return code !== undefined && fatalTransactionCodes.has(code);
}

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

export class TransactionManager {
  private current: TransactionState = 'Uninitialized';
  private fatal: Error | null = null;
  private abortable: Error | null = null;
  /** Partitions the coordinator has added to the open transaction. */
  private readonly added = new Set<string>();
  /** Partitions to add before their first batch goes (not yet asked). */
  private readonly pending = new Map<string, TopicPartitionRef>();
  /** Something was added at the coordinator (partitions or a group's offsets): EndTxn is needed to finish. */
  private started = false;
  /** A batch of this transaction failed: its sequences are unknown, so the epoch is bumped after the abort. */
  private epochBumpNeeded = false;

  constructor(readonly transactionalId: string) {}

  get state(): TransactionState {
    return this.current;
  }

  /** Whether a transaction is open (sends and sendOffsets allowed, or only an abort after an error). */
  isActive(): boolean {
    return this.current === 'InTransaction' || this.current === 'AbortableError';
  }

  /** The fatal error, if the producer is finished. */
  get fatalError(): Error | null {
    return this.fatal;
  }

  /** Whether the open transaction added anything at its coordinator (then EndTxn finishes it). */
  get needsEndTxn(): boolean {
    return this.started;
  }

  /** Whether the producer must bump its epoch before the next transaction (a batch of the aborted one failed). */
  get needsEpochBump(): boolean {
    return this.epochBumpNeeded;
  }

  private refuse(what: string): never {
    if (this.fatal) {
      throw new SluiceError(
        this.fatal instanceof SluiceError ? this.fatal.code : ErrorCode.InvalidTxnState,
        `transactional producer '${this.transactionalId}' cannot ${what}: it failed fatally (${this.fatal.message})`,
        { cause: this.fatal },
      );
    }
    throw new SluiceError(
      ErrorCode.InvalidTxnState,
      `transactional producer '${this.transactionalId}' cannot ${what} in state ${this.current}`,
    );
  }

  private expect(allowed: readonly TransactionState[], what: string): void {
    if (!allowed.includes(this.current)) this.refuse(what);
  }

  beginInit(): void {
    this.expect(['Uninitialized', 'Ready'], 'initialize');
    this.current = 'Initializing';
  }

  initialized(): void {
    this.expect(['Initializing'], 'finish initializing');
    this.current = 'Ready';
    this.epochBumpNeeded = false;
  }

  /** InitProducerId failed with a retriable or unknown error: back to where it was tried from. */
  initFailed(): void {
    if (this.current === 'Initializing') this.current = this.epochBumpNeeded ? 'Ready' : 'Uninitialized';
  }

  begin(): void {
    this.expect(['Ready'], 'begin a transaction');
    this.current = 'InTransaction';
    this.added.clear();
    this.pending.clear();
    this.started = false;
  }

  /** A send is allowed: the transaction is open and has not failed. */
  checkSend(): void {
    if (this.current === 'AbortableError') {
      throw new SluiceError(
        ErrorCode.InvalidTxnState,
        `transaction of '${this.transactionalId}' can only be aborted: ${this.abortable?.message ?? 'an earlier send failed'}`,
        { cause: this.abortable ?? undefined },
      );
    }
    this.expect(['InTransaction'], 'send');
  }

  /**
   * Partitions a batch is about to go to: those not yet in the transaction
   * are queued for AddPartitionsToTxn. Returns whether all are already added.
   */
  need(partitions: readonly TopicPartitionRef[]): boolean {
    let all = true;
    for (const p of partitions) {
      const key = topicPartitionKey(p.topic, p.partition);
      if (this.added.has(key)) continue;
      all = false;
      if (!this.pending.has(key)) {
        if (this.added.size + this.pending.size >= producerTransactionPartitionsMax) {
          throw new SluiceError(
            ErrorCode.InvalidArgument,
            `a transaction writes to at most ${producerTransactionPartitionsMax} partitions`,
          );
        }
        this.pending.set(key, p);
      }
    }
    return all;
  }

  /** Whether a batch to this partition may go (the coordinator has added it). */
  isAdded(topic: string, partition: number): boolean {
    return this.added.has(topicPartitionKey(topic, partition));
  }

  /** The partitions to ask for in the next AddPartitionsToTxn (taken off the pending list). */
  takePending(): TopicPartitionRef[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }

  /** The coordinator added these partitions. */
  partitionsAdded(partitions: readonly TopicPartitionRef[]): void {
    for (const p of partitions) this.added.add(topicPartitionKey(p.topic, p.partition));
    if (partitions.length > 0) this.started = true;
  }

  /** AddOffsetsToTxn succeeded: the group's offsets partition is part of the transaction. */
  offsetsAdded(): void {
    this.started = true;
  }

  /** A send or sendOffsets of the open transaction failed: only abort() is left (or Fatal). */
  failed(err: Error, batchFailed = false): void {
    if (batchFailed) this.epochBumpNeeded = true;
    if (isFatalTransactionError(err)) {
      this.fail(err);
      return;
    }
    if (this.current === 'InTransaction' || this.current === 'Committing') {
      this.current = 'AbortableError';
      this.abortable ??= err;
    }
  }

  /** The producer can do nothing more. */
  fail(err: Error): void {
    this.current = 'Fatal';
    this.fatal ??= err;
  }

  beginCommit(): void {
    if (this.current === 'AbortableError') this.checkSend();
    this.expect(['InTransaction'], 'commit');
    this.current = 'Committing';
  }

  beginAbort(): void {
    this.expect(['InTransaction', 'AbortableError', 'Committing'], 'abort');
    this.current = 'Aborting';
  }

  /** EndTxn (or nothing to end) succeeded: the next transaction may begin. */
  completed(): void {
    this.expect(['Committing', 'Aborting'], 'complete a transaction');
    this.current = 'Ready';
    this.added.clear();
    this.pending.clear();
    this.started = false;
    this.abortable = null;
  }

  /** EndTxn(commit) failed retriably for good: the transaction may still be aborted. */
  commitFailed(err: Error): void {
    if (this.current === 'Committing') {
      this.current = 'AbortableError';
      this.abortable = err;
    }
  }

  /** EndTxn(abort) failed without a fatal error: the abort may be tried again. */
  abortFailed(err: Error): void {
    if (this.current === 'Aborting') {
      this.current = 'AbortableError';
      this.abortable = err;
    }
  }
}
