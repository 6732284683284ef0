/**
 * The broker's transaction coordinator (Kafka's TransactionCoordinator): it
 * serves the transactional ids whose `__transaction_state` partition this
 * broker leads. Each request computes the id's next state (txn-metadata.ts),
 * writes it to the log acks=-1 (txn-state-store.ts) and only then answers.
 * One request per id at a time: another one meanwhile gets
 * CONCURRENT_TRANSACTIONS, as Kafka's pending-state check does.
 *
 * EndTxn writes PrepareCommit / PrepareAbort (the decision), answers, then
 * has the marker channel write the markers; once every partition has one,
 * CompleteCommit / CompleteAbort is written. A broker that becomes leader of
 * a partition resumes every Prepare* it replays. Transactions open longer
 * than their timeout are aborted with an epoch bump; ids idle past
 * transactional.id.expiration.ms are removed.
 */
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { txnCompletionWaitMs, txnIdsMax, txnMarkerRetryBackoffMsMax, txnPartitionsMax } from '../shared/limits.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { type MarkerChannel, MarkersCancelled } from './marker-channel.js';
import {
  addPartitions,
  complete,
  decideEnd,
  decideInit,
  epochExhausted,
  expired,
  fenceAndAbort,
  isPrepare,
  newTxnMetadata,
  type TxnMetadata,
  type TxnPartition,
  timedOut,
  txnStates,
} from './txn-metadata.js';
import type { TxnStateStore } from './txn-state-store.js';

export interface TxnCoordinatorOptions {
  store: TxnStateStore;
  markers: Pick<MarkerChannel, 'write' | 'close'>;
  allocateProducerId: () => Promise<number>;
  /** transaction.max.timeout.ms */
  maxTimeoutMs: number;
  /** transactional.id.expiration.ms */
  idExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  abortIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  removeIntervalMs: number;
  logger?: Logger;
}

export interface TransactionView {
  transactionalId: string;
  state: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  startTimeMs: number;
  partitions: readonly TxnPartition[];
}

function concurrent(id: string): SluiceError {
  return new SluiceError(ErrorCode.ConcurrentTransactions, `another request for transactional id ${id} is in progress`);
}

export class TransactionCoordinator {
  /** Ids with a state write in flight: another request for one is answered CONCURRENT_TRANSACTIONS. */
  private readonly pending = new Set<string>();
  /** Ids whose commit or abort is being completed (markers, then Complete*): settles when done or given up. */
  private readonly completing = new Map<string, Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly options: TxnCoordinatorOptions) {
    this.log = options.logger ?? silentLogger;
  }

  get store(): TxnStateStore {
    return this.options.store;
  }

  /** Starts the periodic abort of timed-out transactions and removal of expired ids. */
  start(): void {
    const every = (ms: number, task: () => Promise<unknown>): void => {
      const timer = setInterval(() => {
        task().catch((err) => this.log.warn({ err }, 'transaction coordinator housekeeping failed'));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.abortIntervalMs, () => this.abortTimedOut(Date.now()));
    every(this.options.removeIntervalMs, () => this.removeExpired(Date.now()));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.options.markers.close();
  }

  /** Follows the leadership of __transaction_state partitions (wired to the replica manager). */
  onLeadership(partition: number, leader: boolean): void {
    if (leader) this.options.store.onBecomeLeader(partition);
    else this.options.store.onResign(partition);
  }

  /** Called by the store once a partition is replayed: every commit or abort it was completing is resumed. */
  resume(loaded: readonly TxnMetadata[]): void {
    for (const meta of loaded) if (isPrepare(meta.state)) this.completeLater(meta);
  }

  /** Runs `task` as the only request for `id` in flight. */
  private async exclusive<T>(id: string, task: () => Promise<T>): Promise<T> {
    if (this.pending.has(id)) throw concurrent(id);
    this.pending.add(id);
    try {
      return await task();
    } finally {
      this.pending.delete(id);
    }
  }

  /** InitProducerId with a transactional id: a producer id and the bumped epoch (the previous instance is fenced). */
  async initProducerId(
    id: string,
    timeoutMs: number,
    expected?: { producerId: number; producerEpoch: number },
  ): Promise<{ producerId: number; producerEpoch: number }> {
    if (timeoutMs <= 0 || timeoutMs > this.options.maxTimeoutMs) {
      throw new SluiceError(
        ErrorCode.InvalidTransactionTimeout,
        `transaction timeout ${timeoutMs} ms is not within 1..${this.options.maxTimeoutMs} (transaction.max.timeout.ms)`,
      );
    }
    await this.options.store.ready(id);
    await this.completed(id);
    const given = expected && (expected.producerId >= 0 || expected.producerEpoch >= 0) ? expected : undefined;
    return this.exclusive(id, async () => {
      const now = Date.now();
      let meta = this.options.store.get(id);
      if (!meta) {
        if (given) {
          throw new SluiceError(ErrorCode.InvalidProducerIdMapping, `transactional id ${id} holds no producer id`);
        }
        if (this.options.store.all().length >= txnIdsMax) {
          throw new SluiceError(ErrorCode.BrokerError, `this coordinator holds ${txnIdsMax} transactional ids already`);
        }
        meta = newTxnMetadata(id, await this.options.allocateProducerId(), timeoutMs, now);
      }
      const fresh = epochExhausted(meta.producerEpoch) ? await this.options.allocateProducerId() : -1;
      const decision = decideInit(meta, timeoutMs, given, () => fresh, now);
      if (decision.kind === 'concurrent') throw concurrent(id);
      if (decision.kind === 'abortOpen') {
        // the open transaction of the previous instance is aborted at a bumped epoch; the client retries
        // and gets the epoch after that once the abort is complete (Kafka's order)
        const aborting = fenceAndAbort(meta, now);
        await this.options.store.write(aborting);
        this.completeLater(aborting);
        throw new SluiceError(ErrorCode.ConcurrentTransactions, `aborting the open transaction of ${id} first`);
      }
      assert(decision.next.producerId >= 0, 'a transactional producer id is allocated');
      await this.options.store.write(decision.next);
      return { producerId: decision.next.producerId, producerEpoch: decision.next.producerEpoch };
    });
  }

  /** AddPartitionsToTxn / AddOffsetsToTxn: the partitions join the open transaction (written before the answer). */
  async addPartitions(
    id: string,
    producerId: number,
    producerEpoch: number,
    partitions: TxnPartition[],
  ): Promise<void> {
    await this.options.store.ready(id);
    await this.completed(id);
    await this.exclusive(id, async () => {
      const meta = this.known(id);
      const next = addPartitions(meta, producerId, producerEpoch, partitions, txnPartitionsMax, Date.now());
      if (next) await this.options.store.write(next);
    });
  }

  /** EndTxn: PrepareCommit / PrepareAbort is written before the answer; the markers follow. */
  async endTxn(id: string, producerId: number, producerEpoch: number, commit: boolean): Promise<void> {
    await this.options.store.ready(id);
    await this.completed(id);
    await this.exclusive(id, async () => {
      const decision = decideEnd(this.known(id), producerId, producerEpoch, commit, Date.now());
      if (decision.kind === 'done') return;
      await this.options.store.write(decision.next);
      this.completeLater(decision.next);
    });
  }

  private known(id: string): TxnMetadata {
    const meta = this.options.store.get(id);
    if (meta) return meta;
    // a request that waited here (for a completion) while this broker stopped leading the id's partition:
    // the id lives at the next coordinator, which the client finds again (not INVALID_PRODUCER_ID_MAPPING,
    // which fails the transaction; the chaos suite saw it after each "left to the next coordinator")
    if (!this.options.store.stillOwns(id)) {
      throw new SluiceError(ErrorCode.NotCoordinator, `this broker no longer coordinates transactional id ${id}`);
    }
    throw new SluiceError(ErrorCode.InvalidProducerIdMapping, `transactional id ${id} is not known`);
  }

  /** Writes the markers of a Prepare* transaction, then Complete*; stops when this broker stops coordinating it. */
  private completeLater(meta: TxnMetadata): void {
    const id = meta.transactionalId;
    const done = this.complete(meta).catch((err) => {
      if (err instanceof MarkersCancelled) {
        this.log.info({ transactionalId: id }, 'transaction completion left to the next coordinator');
      } else this.log.warn({ err, transactionalId: id }, 'transaction completion failed');
    });
    this.completing.set(id, done);
    void done.finally(() => {
      if (this.completing.get(id) === done) this.completing.delete(id);
    });
  }

  /**
   * Waits (at most txnCompletionWaitMs) for the completion of `id`'s previous transaction. A producer
   * starts its next transaction right after EndTxn is answered, while the markers are still being
   * written: answering CONCURRENT_TRANSACTIONS at once cost each small transaction a client backoff
   * (15 transactions a second). What is still completing after the wait is answered as before.
   */
  private async completed(id: string): Promise<void> {
    const done = this.completing.get(id);
    if (!done) return;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, txnCompletionWaitMs);
      timer.unref();
    });
    await Promise.race([done, waited]);
    clearTimeout(timer);
  }

  private async complete(meta: TxnMetadata): Promise<void> {
    const store = this.options.store;
    const id = meta.transactionalId;
    const { partition, coordinatorEpoch } = await store.ready(id, true);
    // still this transaction, at this coordinator epoch: another state or a new leader means it is not ours to finish
    const valid = (): boolean =>
      !this.closed && store.stillLeads(partition, coordinatorEpoch) && store.get(id) === meta;
    await this.options.markers.write(
      {
        producerId: meta.producerId,
        producerEpoch: meta.producerEpoch,
        committed: meta.state === 'PrepareCommit',
        coordinatorEpoch,
        partitions: meta.partitions,
      },
      valid,
    );
    // the Complete* record is retried until written (or the partition moves): the markers are already out
    for (let backoffMs = 100; ; backoffMs = Math.min(backoffMs * 2, txnMarkerRetryBackoffMsMax)) {
      if (!valid()) throw new MarkersCancelled('no longer the coordinator of this transaction');
      if (!this.pending.has(id)) {
        this.pending.add(id);
        try {
          await store.write(complete(meta, Date.now()));
          this.log.debug({ transactionalId: id, state: meta.state }, 'transaction completed');
          return;
        } catch (err) {
          this.log.warn({ err, transactionalId: id }, 'writing the completion of a transaction failed; retrying');
        } finally {
          this.pending.delete(id);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, backoffMs).unref());
    }
  }

  /** Aborts every open transaction past its timeout, with an epoch bump (its producer is fenced). */
  async abortTimedOut(nowMs: number): Promise<number> {
    let aborted = 0;
    for (const meta of this.options.store.all()) {
      if (!timedOut(meta, nowMs) || this.pending.has(meta.transactionalId)) continue;
      await this.exclusive(meta.transactionalId, async () => {
        const current = this.options.store.get(meta.transactionalId);
        if (current !== meta) return;
        const aborting = fenceAndAbort(meta, nowMs);
        await this.options.store.write(aborting);
        this.log.info(
          { transactionalId: meta.transactionalId, timeoutMs: meta.timeoutMs, producerId: meta.producerId },
          'transaction timed out: aborting it',
        );
        this.completeLater(aborting);
        aborted++;
      });
    }
    return aborted;
  }

  /** Removes ids idle past transactional.id.expiration.ms (a tombstone in the log). */
  async removeExpired(nowMs: number): Promise<number> {
    let removed = 0;
    for (const meta of this.options.store.all()) {
      if (!expired(meta, this.options.idExpirationMs, nowMs) || this.pending.has(meta.transactionalId)) continue;
      await this.exclusive(meta.transactionalId, async () => {
        if (this.options.store.get(meta.transactionalId) !== meta) return;
        await this.options.store.remove(meta.transactionalId, nowMs);
        removed++;
      });
    }
    return removed;
  }

  /** DescribeTransactions for one id: its state, or the error (NOT_COORDINATOR, loading, TRANSACTIONAL_ID_NOT_FOUND). */
  async describe(id: string): Promise<TransactionView> {
    await this.options.store.ready(id);
    const meta = this.options.store.get(id);
    if (!meta) throw new SluiceError(ErrorCode.TransactionalIdNotFound, `transactional id ${id} is not known`);
    return view(meta);
  }

  /** ListTransactions: the ids this broker coordinates, filtered by state and producer id (empty: all). */
  list(
    states: readonly string[],
    producerIds: readonly number[],
  ): { unknownStates: string[]; found: TransactionView[] } {
    const known = new Set<string>(txnStates);
    const unknownStates = states.filter((s) => !known.has(s));
    const found = this.options.store
      .all()
      .filter((m) => states.length === 0 || states.includes(m.state))
      .filter((m) => producerIds.length === 0 || producerIds.includes(m.producerId))
      .map(view);
    return { unknownStates, found };
  }
}

function view(meta: TxnMetadata): TransactionView {
  return {
    transactionalId: meta.transactionalId,
    state: meta.state,
    producerId: meta.producerId,
    producerEpoch: meta.producerEpoch,
    timeoutMs: meta.timeoutMs,
    startTimeMs: meta.state === 'Ongoing' || isPrepare(meta.state) ? meta.startTimeMs : -1,
    partitions: meta.partitions,
  };
}
