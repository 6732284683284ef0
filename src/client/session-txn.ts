/**
 * The Kafka transaction of a transacted session whose commit spans several
 * queues or publishes to topics (issue 21), driven through ONE transactional
 * identity: a transactional producer of the session (its transactional id is
 * the client id + random), whose transactions (producer/transactions.ts) do
 * InitProducerId once per session (again after a failure: the new epoch
 * fences and aborts what the old one left open, and the producer's sequence
 * numbers start again per partition), AddPartitionsToTxn before the first
 * write to a partition, and EndTxn. The topic publishes are this producer's
 * own transactional batches; the queues' QueueSends go beside them with the
 * same producer id and epoch (the queue leader sequences those batches).
 */
import { randomUUID } from 'node:crypto';
import { type QueueSendRequest, queueTopic } from '../protocol/native/queue-messages.js';
import type { Cluster } from './cluster.js';
import { endTxn } from './producer/transaction-requests.js';
import type { Transactions } from './producer/transactions.js';
import { Producer, type ProducerTransaction } from './producer.js';
import { queueSend } from './queue.js';
import { queueStats } from './queue-admin.js';
import type { ProducerMessage } from './types.js';

/** Kafka's transaction.timeout.ms default: the coordinator aborts a transaction open longer. */
export const sessionTransactionTimeoutMsDefault = 60_000;

/** One open transaction of the session. */
export interface SessionProducer {
  readonly tx: ProducerTransaction;
  readonly transactions: Transactions;
}

export class SessionTxn {
  readonly transactionalId: string;
  private producer: Producer | undefined;
  /** Queues known to exist (a queue is created on first use; AddPartitionsToTxn needs its log to exist). */
  private readonly existing = new Set<string>();

  constructor(
    private readonly cluster: Cluster,
    private readonly transactionTimeoutMs: number,
  ) {
    this.transactionalId = `${cluster.clientId}-session-${randomUUID()}`;
  }

  /** Begins the next transaction (the producer initialises itself on the first, and after a failure). */
  async begin(): Promise<SessionProducer> {
    this.producer ??= new Producer(this.cluster, {
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.transactionTimeoutMs,
    });
    const transactions = this.producer.sessionTransactions as Transactions;
    const tx = await this.producer.transaction();
    return { tx, transactions };
  }

  /** Adds the queues' logs to the open transaction (in one request), creating new queues first. */
  async addQueues(p: SessionProducer, queues: string[]): Promise<void> {
    const fresh = queues.filter((q) => !this.existing.has(q));
    // QueueStats creates a queue that does not exist (answered by its leader once it serves it)
    await Promise.all(fresh.map((q) => queueStats(this.cluster, q)));
    for (const q of fresh) this.existing.add(q);
    await p.transactions.ensureAdded(queues.map((q) => ({ topic: queueTopic(q), partition: 0 })));
  }

  /** One queue's transactional QueueSend (its log added to the transaction by addQueues()). */
  async queueWrite(p: SessionProducer, body: Omit<QueueSendRequest, 'txn'>): Promise<void> {
    await p.transactions.write([{ topic: queueTopic(body.queue), partition: 0 }], (txn) =>
      queueSend(this.cluster, { ...body, txn }),
    );
  }

  /** A topic's publishes: transactional batches of the session's producer. */
  async publish(p: SessionProducer, topic: string, messages: ProducerMessage[]): Promise<void> {
    await p.tx.send({ topic, messages });
  }

  /**
   * EndTxn: the coordinator's answer is the outcome. An abort by a producer
   * that failed for good (fenced) still asks the coordinator, so the caller
   * learns the outcome of a commit whose answer was lost.
   */
  async end(p: SessionProducer, committed: boolean): Promise<void> {
    if (committed) return p.tx.commit();
    if (p.transactions.state === 'Fatal') return endTxn(this.cluster, p.transactions.identity(), false);
    return p.tx.abort();
  }

  /** Whether the producer can begin another transaction (else reset() replaces it). */
  get ready(): boolean {
    return this.producer?.sessionTransactions?.state === 'Ready';
  }

  /** After a failure the next commit takes a new producer (InitProducerId: a new epoch, sequences from 0). */
  async reset(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    await old?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.reset();
  }
}
