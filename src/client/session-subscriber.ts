/**
 * A durable topic subscriber inside a transacted session (JMS: a transacted
 * durable subscriber's messages are acknowledged by the session's commit):
 *
 *   const sub = session.topic('news').subscriber({ durable: 'audit', prefetch: 100 });
 *   const m = await sub.receive(1000);    // null on timeout
 *   await session.commit();               // the group's offsets move with the rest of the transaction
 *
 * It is a member of the durable subscription's group `__durable.<topic>.<name>`
 * (the one JmsTopic.subscribe({ durable }) uses) that reads committed
 * messages only and never commits offsets by itself. The session's commit
 * writes the positions after the messages received since the last commit as
 * transactional offsets of the group (AddOffsetsToTxn + TxnOffsetCommit, with
 * this member's generation: KIP-447 fences a member that lost its partitions
 * in a rebalance), so they move only if the transaction commits. rollback()
 * seeks back to the last committed positions: the same messages come again.
 * After a crash the next subscriber of that durable name resumes at the
 * group's committed offsets: the messages received since the last commit are
 * redelivered.
 *
 * Bounded: `prefetch` (default 100, at most 10,000) messages fetched ahead
 * and not yet received.
 */
import { queueBatchMessagesMax } from '../shared/limits.js';
import type { Cluster } from './cluster.js';
import { Consumer } from './consumer.js';
import { closedError, invalidArgument } from './errors.js';
import { durableGroup, establishDurable } from './jms-topic.js';
import type { TxnOffsets } from './producer/transaction-requests.js';
import type { ConsumerRecord, SessionSubscriberOptions, TopicMessage } from './types.js';

const prefetchDefault = 100;
/** The longest single poll of receive(). */
const pollSliceMs = 500;

/** The offsets a commit carries for one subscriber, with what to mark committed once it succeeded. */
export interface SubscriberAcks {
  offsets: TxnOffsets;
  /** Per partition: the position the commit stores. */
  positions: Map<number, number>;
}

export class SessionSubscriber {
  readonly group: string;
  private readonly prefetch: number;
  private readonly consumer: Consumer;
  private ready: Promise<void> | null = null;
  private readonly buffered: ConsumerRecord[] = [];
  /** Per partition: the first offset received since the last commit (where rollback() seeks to). */
  private readonly base = new Map<number, number>();
  /** Per partition: the offset after the last message received. */
  private readonly next = new Map<number, number>();
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    readonly topic: string,
    options: SessionSubscriberOptions,
  ) {
    this.group = durableGroup(topic, options?.durable);
    const prefetch = options.prefetch ?? prefetchDefault;
    if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > queueBatchMessagesMax)
      throw invalidArgument(`prefetch must be an integer in 1..${queueBatchMessagesMax}, not ${prefetch}`);
    this.prefetch = prefetch;
    this.consumer = new Consumer(cluster, {
      groupId: this.group,
      autoCommit: false,
      autoOffsetReset: 'latest',
      isolationLevel: 'read_committed',
    });
  }

  private start(): Promise<void> {
    this.ready ??= (async () => {
      await establishDurable(this.cluster, this.topic, this.group);
      await this.consumer.subscribe({ topics: [this.topic] });
    })();
    return this.ready;
  }

  /** The next message (null on timeout); acknowledged by the session's commit(), received again after rollback(). */
  async receive(timeoutMs = 0): Promise<TopicMessage | null> {
    if (this.closed) throw closedError('the subscriber');
    await this.start();
    const deadline = Date.now() + Math.max(0, timeoutMs);
    while (this.buffered.length === 0) {
      // in slices: a poll waits on the partitions assigned when it starts, and the group may assign them meanwhile
      const wait = Math.min(pollSliceMs, Math.max(0, deadline - Date.now()));
      this.buffered.push(...(await this.consumer.poll({ maxWaitMs: wait, maxRecords: this.prefetch })));
      if (Date.now() >= deadline || this.closed) break;
    }
    const r = this.buffered.shift();
    if (!r) return null;
    if (!this.base.has(r.partition)) this.base.set(r.partition, r.offset);
    this.next.set(r.partition, r.offset + 1);
    return { ...r };
  }

  /** @internal What a commit acknowledges (undefined: nothing received since the last commit). */
  pendingAcks(): SubscriberAcks | undefined {
    if (this.next.size === 0) return undefined;
    const positions = new Map(this.next);
    const generation = this.consumer.groupGeneration();
    return {
      offsets: {
        consumerGroupId: this.group,
        ...(generation
          ? { consumerGroupMetadata: { generationId: generation.generationId, memberId: generation.memberId } }
          : {}),
        topics: [
          { topic: this.topic, partitions: [...positions].map(([partition, offset]) => ({ partition, offset })) },
        ],
      },
      positions,
    };
  }

  /** @internal The commit stored these positions: what was received up to them is acknowledged. */
  committed(acks: SubscriberAcks): void {
    for (const [partition, offset] of acks.positions) {
      if (this.next.get(partition) === offset) {
        this.next.delete(partition);
        this.base.delete(partition);
      } else {
        // received more while the commit ran: those are the next commit's
        this.base.set(partition, offset);
      }
    }
  }

  /** @internal Seeks back to the last committed positions: what was received since comes again. */
  rollback(): void {
    const back = new Map(this.base);
    // fetched ahead but not received: fetched again from where it was
    for (const r of this.buffered) if (!back.has(r.partition)) back.set(r.partition, r.offset);
    this.buffered.length = 0;
    this.base.clear();
    this.next.clear();
    if (this.closed) return;
    for (const [partition, offset] of back) this.consumer.seek({ topic: this.topic, partition, offset });
  }

  /** @internal Leaves the group (nothing is committed by it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.consumer.close();
  }
}
