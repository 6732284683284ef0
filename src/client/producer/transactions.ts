/**
 * A transactional producer's transactions (issue 21, kafkajs's shape:
 * `producer.transaction()` → `send`, `sendOffsets`, `commit`, `abort`,
 * `isActive`), driving the state machine of transaction-manager.ts with the
 * requests of transaction-requests.ts:
 *
 * - the first transaction() initialises: InitProducerId at the coordinator
 *   (fencing any older instance with the same transactional id, whose open
 *   transaction the coordinator aborts);
 * - a batch goes only once its partition is in the transaction
 *   (AddPartitionsToTxn, the partitions waiting at that moment asked in one
 *   request; the sender waits for it);
 * - sendOffsets: AddOffsetsToTxn at the transaction coordinator, then
 *   TxnOffsetCommit at the group's coordinator;
 * - commit: waits until every send of the transaction is acknowledged, then
 *   EndTxn(commit); abort: waits for the sends to settle, then EndTxn(abort).
 *   A failed send leaves the transaction abortable only; PRODUCER_FENCED or
 *   INVALID_PRODUCER_EPOCH anywhere makes the producer fail for good.
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { invalidArgument } from '../errors.js';
import type { Idempotence } from './idempotence.js';
import {
  isFatalTransactionError,
  type TopicPartitionRef,
  TransactionManager,
  type TransactionState,
} from './transaction-manager.js';
import {
  addOffsetsToTxn,
  addPartitionsToTxn,
  endTxn,
  initTransactionalProducer,
  type TransactionalIdentity,
  type TransactionCluster,
  type TxnOffsets,
  txnOffsetCommit,
} from './transaction-requests.js';

/** One transaction of a transactional producer (kafkajs's Transaction). */
export interface Transaction<SendArgs, SendResult> {
  send(record: SendArgs): Promise<SendResult>;
  sendOffsets(offsets: TxnOffsets): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  /** True until commit() or abort() completes (or the producer fails for good). */
  isActive(): boolean;
}

export class Transactions {
  readonly manager: TransactionManager;
  private initializing: Promise<void> | null = null;
  private adding: Promise<void> | null = null;
  /** Sends of the open transaction not yet settled: commit waits for them. */
  private readonly sends = new Set<Promise<unknown>>();
  /** Counts transactions: a Transaction object acts only on its own. */
  private generation = 0;

  constructor(
    private readonly cluster: TransactionCluster,
    private readonly idempotence: Idempotence,
    transactionalId: string,
    private readonly transactionTimeoutMs: number,
  ) {
    this.manager = new TransactionManager(transactionalId);
  }

  get state(): TransactionState {
    return this.manager.state;
  }

  identity(): TransactionalIdentity {
    const id = this.idempotence.current;
    if (!id) throw new SluiceError(ErrorCode.InvalidTxnState, 'the transactional producer has no producer id');
    return {
      transactionalId: this.manager.transactionalId,
      producerId: id.producerId,
      producerEpoch: id.producerEpoch,
    };
  }

  /** A failure of a transactional request: fatal ones end the producer, others leave the transaction abortable. */
  private failed(err: unknown, batchFailed = false): Error {
    const e = err instanceof Error ? err : new SluiceError(ErrorCode.BrokerError, String(err));
    this.manager.failed(e, batchFailed);
    return e;
  }

  /** InitProducerId (once, or again to bump the epoch after an abort whose batches failed). */
  private initialize(): Promise<void> {
    this.initializing ??= (async () => {
      const current = this.manager.needsEpochBump ? this.idempotence.current : undefined;
      this.manager.beginInit();
      try {
        const id = await initTransactionalProducer(
          this.cluster,
          this.manager.transactionalId,
          this.transactionTimeoutMs,
          current ? { producerId: current.producerId, producerEpoch: current.producerEpoch } : undefined,
        );
        this.idempotence.adopt(id.producerId, id.producerEpoch);
        this.manager.initialized();
      } catch (err) {
        if (isFatalTransactionError(err)) this.manager.fail(err as Error);
        else this.manager.initFailed();
        throw err;
      }
    })().finally(() => {
      this.initializing = null;
    });
    return this.initializing;
  }

  /** Begins a transaction, initialising the producer first when needed. */
  async begin<A, R>(send: (record: A) => Promise<R>): Promise<Transaction<A, R>> {
    if (this.initializing) await this.initializing;
    if (this.manager.state === 'Uninitialized' || (this.manager.state === 'Ready' && this.manager.needsEpochBump)) {
      await this.initialize();
    }
    this.manager.begin();
    const generation = ++this.generation;
    this.sends.clear();
    const mine = (what: string): void => {
      if (generation !== this.generation) {
        throw new SluiceError(ErrorCode.InvalidTxnState, `cannot ${what}: this transaction is already over`);
      }
    };
    // async: a refusal is a rejected promise, as every other failure of these calls
    return {
      send: async (record: A) => {
        mine('send');
        return this.send(() => send(record));
      },
      sendOffsets: async (offsets: TxnOffsets) => {
        mine('send offsets');
        return this.sendOffsets(offsets);
      },
      commit: async () => {
        mine('commit');
        return this.commit();
      },
      abort: async () => {
        mine('abort');
        return this.abort();
      },
      isActive: () => generation === this.generation && this.manager.isActive(),
    };
  }

  /** Refuses a send outside an open, healthy transaction (the producer's send() asks this first). */
  checkSend(): void {
    this.manager.checkSend();
  }

  /** A send of the open transaction: tracked until settled; its failure makes the transaction abortable. */
  async send<R>(run: () => Promise<R>): Promise<R> {
    this.manager.checkSend();
    const p = run().catch((err: unknown) => {
      // a refused argument is found before any record is queued: the transaction is unharmed
      if (err instanceof SluiceError && err.code === ErrorCode.InvalidArgument) throw err;
      throw this.failed(err, true);
    });
    const tracked = p.then(
      () => undefined,
      () => undefined,
    );
    this.sends.add(tracked);
    void tracked.then(() => this.sends.delete(tracked));
    return p;
  }

  /**
   * A write of the open transaction made outside this producer's batches (a
   * transacted session's QueueSends, which the queue leader sequences
   * itself): its partitions are added first, then `write` runs with the
   * producer's identity; tracked and failing like a send (commit waits for
   * it, a failure leaves the transaction abortable).
   */
  write<R>(partitions: TopicPartitionRef[], write: (identity: TransactionalIdentity) => Promise<R>): Promise<R> {
    return this.send(async () => {
      await this.ensureAdded(partitions);
      return write(this.identity());
    });
  }

  /** The sender's gate: resolves once every partition is part of the open transaction. */
  async ensureAdded(partitions: TopicPartitionRef[]): Promise<void> {
    for (;;) {
      const state = this.manager.state;
      if (state !== 'InTransaction' && state !== 'Committing') this.manager.checkSend();
      if (this.manager.need(partitions)) return;
      if (this.adding) {
        // the request under way may hold some of these; the rest go in the next one
        await this.adding.catch(() => undefined);
        continue;
      }
      const asked = this.manager.takePending();
      this.adding = addPartitionsToTxn(this.cluster, this.identity(), asked)
        .then(
          () => this.manager.partitionsAdded(asked),
          (err: unknown) => {
            throw this.failed(err);
          },
        )
        .finally(() => {
          this.adding = null;
        });
      await this.adding;
    }
  }

  async sendOffsets(offsets: TxnOffsets): Promise<void> {
    this.manager.checkSend();
    const group = offsets?.consumerGroupId;
    if (typeof group !== 'string' || group === '') throw invalidArgument('sendOffsets() needs a consumerGroupId');
    if (!Array.isArray(offsets.topics)) throw invalidArgument('sendOffsets() needs topics: [...]');
    const g = offsets.consumerGroupMetadata;
    if (g !== undefined && (!Number.isSafeInteger(g?.generationId) || typeof g?.memberId !== 'string'))
      throw invalidArgument(
        'sendOffsets() consumerGroupMetadata needs generationId and memberId (consumer.groupGeneration())',
      );
    try {
      await addOffsetsToTxn(this.cluster, this.identity(), group);
      this.manager.offsetsAdded();
      await txnOffsetCommit(this.cluster, this.identity(), offsets);
    } catch (err) {
      throw this.failed(err);
    }
  }

  /** Waits until every send of the transaction has settled. */
  private async settled(): Promise<void> {
    while (this.sends.size > 0) await Promise.all([...this.sends]);
    if (this.adding) await this.adding.catch(() => undefined);
  }

  async commit(): Promise<void> {
    this.manager.beginCommit();
    await this.settled();
    // a send failed meanwhile: the transaction can only be aborted (this throws why)
    if (this.manager.state !== 'Committing') this.manager.checkSend();
    if (this.manager.needsEndTxn) {
      try {
        await endTxn(this.cluster, this.identity(), true);
      } catch (err) {
        if (isFatalTransactionError(err)) this.manager.fail(err as Error);
        else this.manager.commitFailed(err as Error);
        throw err;
      }
    }
    this.manager.completed();
  }

  async abort(): Promise<void> {
    this.manager.beginAbort();
    await this.settled();
    // fenced meanwhile (a send's answer): nothing can be ended any more (this throws why)
    if (this.manager.state === 'Fatal') this.manager.checkSend();
    if (this.manager.needsEndTxn) {
      try {
        await endTxn(this.cluster, this.identity(), false);
      } catch (err) {
        if (isFatalTransactionError(err)) this.manager.fail(err as Error);
        else this.manager.abortFailed(err as Error);
        throw err;
      }
    }
    this.manager.completed();
    // a batch of it failed: its sequence numbers are unknown, so a new epoch starts them again (KIP-360)
    // (not thrown here when it fails retriably: the abort itself is done, and the next transaction tries again)
    if (this.manager.needsEpochBump) {
      try {
        await this.initialize();
      } catch (err) {
        if (isFatalTransactionError(err)) throw err;
      }
    }
  }
}
