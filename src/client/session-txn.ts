/**
 * The Kafka transaction of a transacted session whose commit spans several
 * queues (issue 21): one transactional id per session (client id + random),
 * its producer id and epoch from InitProducerId at the transaction
 * coordinator once per session (again after a failure: the new epoch fences
 * and aborts what the old one left open), AddPartitionsToTxn for the queue
 * logs a commit writes, then EndTxn. The requests are the transactional
 * producer's (producer/transaction-requests.ts).
 */
import { randomUUID } from 'node:crypto';
import { queueTopic } from '../protocol/native/queue-messages.js';
import type { Cluster } from './cluster.js';
import {
  addPartitionsToTxn,
  endTxn,
  initTransactionalProducer,
  type TransactionalIdentity,
} from './producer/transaction-requests.js';
import { queueStats } from './queue-admin.js';

/** Kafka's transaction.timeout.ms default: the coordinator aborts a transaction open longer. */
export const sessionTransactionTimeoutMsDefault = 60_000;

export type SessionProducer = TransactionalIdentity;

export class SessionTxn {
  readonly transactionalId: string;
  private producer: SessionProducer | undefined;
  /** Queues known to exist (a queue is created on first use; AddPartitionsToTxn needs its log to exist). */
  private readonly existing = new Set<string>();

  constructor(
    private readonly cluster: Cluster,
    private readonly transactionTimeoutMs: number,
  ) {
    this.transactionalId = `${cluster.clientId}-session-${randomUUID()}`;
  }

  /** The producer of the next transaction (InitProducerId once per session, and again after a failure). */
  async begin(): Promise<SessionProducer> {
    if (!this.producer) {
      const { producerId, producerEpoch } = await initTransactionalProducer(
        this.cluster,
        this.transactionalId,
        this.transactionTimeoutMs,
      );
      this.producer = { transactionalId: this.transactionalId, producerId, producerEpoch };
    }
    return this.producer;
  }

  /** Adds the queues' logs to the open transaction (before anything is written to them), creating new queues first. */
  async addQueues(producer: SessionProducer, queues: string[]): Promise<void> {
    const fresh = queues.filter((q) => !this.existing.has(q));
    // QueueStats creates a queue that does not exist (answered by its leader once it serves it)
    await Promise.all(fresh.map((q) => queueStats(this.cluster, q)));
    for (const q of fresh) this.existing.add(q);
    await addPartitionsToTxn(
      this.cluster,
      producer,
      queues.map((q) => ({ topic: queueTopic(q), partition: 0 })),
    );
  }

  /** EndTxn: the coordinator's answer is the outcome (a repeated EndTxn with the same outcome is answered again). */
  end(producer: SessionProducer, committed: boolean): Promise<void> {
    return endTxn(this.cluster, producer, committed);
  }

  /** After a failure the producer is initialised again by the next commit. */
  reset(): void {
    this.producer = undefined;
  }
}
