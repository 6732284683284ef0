/**
 * The sender (the Java client's Sender): takes the batches that are due from
 * the accumulator, groups them by leader into Produce requests (at most one
 * batch per partition in a request, see produce-requests.ts), sends each
 * leader's requests in order on one connection, and settles every batch from
 * its partition's answer: its records get their offsets, or the batch is
 * retried, or its records fail.
 *
 * Retries: errors the broker returns for a partition that Kafka calls
 * retriable (e.g. NOT_LEADER_OR_FOLLOWER) mean the batch was not appended, so
 * it is retried after a backoff and a metadata refresh (the leader may have
 * moved). A connection that breaks before the request is written is retried
 * too. A connection that breaks after the request was written leaves the
 * outcome unknown: without idempotence a retry could duplicate, so those
 * records fail with BrokerUnreachable; a stamped (idempotent) batch is
 * retried, the broker recognising a duplicate by its sequence numbers.
 * OUT_OF_ORDER_SEQUENCE_NUMBER for a batch whose partition still has an
 * earlier batch pending (in flight or to retry) is the broker seeing the gap
 * that earlier batch left: the batch is retried behind it (as the Java client
 * does). Otherwise OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH and
 * UNKNOWN_PRODUCER_ID are not retriable: the batch fails and its identity is
 * retired. MESSAGE_TOO_LARGE for a batch that grew beyond batchSize splits it
 * into batches of batchSize and sends those (a topic's max.message.bytes may
 * be below what the batch grew to).
 *
 * Transactions (issue 21): a transactional producer's batch goes only once
 * its partition is part of the open transaction at the coordinator
 * (AddPartitionsToTxn, see transactions.ts): a round waits for that first.
 *
 * In flight: at most maxInFlightPerPartition batches of a partition (the
 * accumulator's bound) and at most inFlightBytesPerBroker bytes of batches
 * per broker (one batch always goes): beyond, due batches wait for answers.
 */
import { ApiKey } from '../../protocol/native/api-keys.js';
import { ReferencedBytes } from '../../protocol/native/frame.js';
import type { ProduceRequest, ProduceResponse } from '../../protocol/native/messages.js';
import { ErrorCode, SluiceError, WireError } from '../../shared/errors.js';
import { producerAnswerWaitMsMax, producerRequestBytesMax } from '../../shared/limits.js';
import { topicPartitionKey } from '../../shared/topic-partition.js';
import type { Compression } from '../../wire/record-batch.js';
import type { BatchOptions } from '../../wire/record-batch-encoder.js';
import type { Cluster } from '../cluster.js';
import { type Connection, wasSent } from '../connection.js';
import { isRetriableError, wireError } from '../errors.js';
import { ambiguousAnswer, answersByPartition, type PartitionAnswer, planProduceRequests } from '../produce-requests.js';
import {
  type Batch,
  type DueBatch,
  finishBatch,
  type PartitionQueue,
  type RecordAccumulator,
  runsDone,
  runsFailed,
} from './accumulator.js';
import { finishedBatchBytes, releaseBatchBuffer } from './batch-writer.js';
import type { Idempotence, ProducerIdentity } from './idempotence.js';
import type { MemoryPool } from './memory-pool.js';

/** Answers of a leader that could not replicate a batch: its view of the cluster may be stale. */
const replicationTroubles: ReadonlySet<number> = new Set([
  WireError.REQUEST_TIMED_OUT,
  WireError.NOT_ENOUGH_REPLICAS,
  WireError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  WireError.NOT_LEADER_OR_FOLLOWER,
]);

/** The longest backoff before a retry. */
const retryBackoffCapMs = 10_000;

export interface SenderOptions {
  acks: 0 | 1 | -1;
  compression: Compression;
  retries: number;
  retryBackoffMs: number;
  /** The Produce request's timeout (the connection waits 5 s longer for the answer). */
  timeoutMs: number;
  /** Bytes of batches in flight to one broker at most (one batch always goes). */
  inFlightBytesPerBroker: number;
  /** The accumulator's floor: a batch above it may be split when a broker finds it too large. */
  batchSize: number;
}

/** What the sender needs of the cluster: leaders, connections, and metadata to refresh. */
export type SenderCluster = Pick<
  Cluster,
  'leaderOf' | 'freshLeaderOf' | 'brokerConnection' | 'openConnection' | 'invalidate' | 'distrust'
>;

/** A transactional producer's gate: resolves once every partition named is part of the open transaction. */
export interface TransactionPartitions {
  ensureAdded(partitions: { topic: string; partition: number }[]): Promise<void>;
}

/** A Produce request ready to write: its batches, its body, and the batches it references uncopied. */
interface PreparedRequest {
  live: DueBatch[];
  body: ProduceRequest;
  refs: ReferencedBytes;
}

export class Sender {
  private drainScheduled = false;
  private draining = false;
  private drainAgain = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  /** Batches are sent without lingering while this is above 0 (flush() calls under way). */
  private flushing = 0;
  /** Sending without lingering for good (close() began). */
  private closing = false;
  /** No more retries (close() finished flushing). */
  private stopped = false;
  /** Produce requests written and not yet answered (to any broker). */
  private requestsOut = 0;
  /** An answer came since the last drain: partly filled batches go now. */
  private answeredSinceDrain = false;
  /** Bytes of batches in flight by broker id. */
  private readonly brokerBytes = new Map<number, number>();
  /**
   * Per leader, the last round of requests still being prepared (producer id, connection): the next
   * round is written only after it, so a partition's later batch can never reach the broker first
   * when an earlier round waits longer (a connection still opening, a metadata refresh).
   */
  private readonly sending = new Map<number, Promise<void>>();

  constructor(
    private readonly cluster: SenderCluster,
    private readonly accumulator: RecordAccumulator,
    private readonly memory: MemoryPool,
    private readonly idempotence: Idempotence | undefined,
    private readonly options: SenderOptions,
    private readonly transactionPartitions?: TransactionPartitions,
  ) {}

  /** Sends what is due soon (on the next turn of the event loop, so one tick's records share batches). */
  wake(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  /** Sends everything held now and waits until each of those batches has succeeded or failed. */
  async flush(): Promise<void> {
    const batches = this.accumulator.unfinished();
    if (batches.length === 0) return;
    this.flushing++;
    try {
      this.wake();
      await Promise.all(batches);
    } finally {
      this.flushing--;
    }
  }

  /** From now on nothing lingers. */
  beginClose(): void {
    this.closing = true;
  }

  /** From now on nothing is retried, and no timer is left. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private wakeAt(at: number): void {
    if (this.stopped) return;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.wake();
      },
      Math.max(0, at - Date.now()),
    );
  }

  /** Sends every batch that is due, grouped by leader. */
  private async drain(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        await this.drainOnce();
      } while (this.drainAgain);
    } finally {
      this.draining = false;
    }
  }

  private async drainOnce(): Promise<void> {
    const urgent = this.flushing > 0 || this.memory.waiting || this.closing;
    // while a request is out, partly filled batches wait for an answer (which drains again), up to
    // producerAnswerWaitMsMax, gathering records meanwhile: many partitions' few records go out as
    // fewer, fuller batches, without a timer per partition
    const hold = this.requestsOut > 0 && !this.answeredSinceDrain ? producerAnswerWaitMsMax : 0;
    this.answeredSinceDrain = false;
    const { due, nextAt } = this.accumulator.takeDue(urgent, hold);
    if (Number.isFinite(nextAt)) this.wakeAt(nextAt);
    if (due.length === 0) return;
    const byLeader = new Map<number, DueBatch[]>();
    // a partition whose leader could not be found: its later batches of this round wait too, or they
    // would overtake the one going back to be retried
    const held = new Set<PartitionQueue>();
    for (const item of due) {
      if (held.has(item.q)) {
        this.accumulator.putBack(item.q, item.batch);
        continue;
      }
      let leader: number;
      try {
        // without a promise while the metadata is fresh (once per batch)
        leader =
          this.cluster.freshLeaderOf(item.q.topic, item.q.partition) ??
          (await this.cluster.leaderOf(item.q.topic, item.q.partition));
      } catch (err) {
        held.add(item.q);
        this.failedUnsent(item.q, item.batch, err);
        continue;
      }
      const list = byLeader.get(leader) ?? [];
      list.push(item);
      byLeader.set(leader, list);
    }
    for (const [leader, items] of byLeader) {
      const sendable = this.withinBrokerBudget(leader, items);
      if (sendable.length > 0) this.sendInOrder(leader, planProduceRequests(sendable, producerRequestBytesMax));
    }
  }

  /**
   * The batches that fit in the broker's in-flight bytes (counted against it
   * from now); the others go back to their partitions, and with them every
   * later batch of the same partition, so none overtakes another.
   */
  private withinBrokerBudget(leader: number, items: DueBatch[]): DueBatch[] {
    let used = this.brokerBytes.get(leader) ?? 0;
    const max = this.options.inFlightBytesPerBroker;
    const held = new Set<PartitionQueue>();
    const sendable: DueBatch[] = [];
    for (const item of items) {
      const bytes = item.batch.bytes;
      if (held.has(item.q) || (used > 0 && used + bytes > max)) {
        held.add(item.q);
        this.accumulator.putBack(item.q, item.batch);
        continue;
      }
      used += bytes;
      item.batch.broker = leader;
      sendable.push(item);
    }
    this.brokerBytes.set(leader, used);
    return sendable;
  }

  /** The batch is no longer in flight: its broker's bytes are free again. */
  private landed(batch: Batch): void {
    if (batch.broker < 0) return;
    const left = (this.brokerBytes.get(batch.broker) ?? 0) - batch.bytes;
    if (left > 0) this.brokerBytes.set(batch.broker, left);
    else this.brokerBytes.delete(batch.broker);
    batch.broker = -1;
  }

  /**
   * The batch's bytes, encoded once: a retry resends exactly these. An
   * idempotent batch takes its partition's next sequence numbers here.
   */
  private encode(q: PartitionQueue, batch: Batch, identity: ProducerIdentity | undefined): Buffer {
    if (!batch.encoded) {
      const options: BatchOptions = { compression: this.options.compression };
      if (identity && this.idempotence) this.idempotence.stamp(identity, q, options);
      batch.encoded = finishedBatchBytes(batch, options, this.accumulator.buffers);
      if (identity && this.idempotence) {
        this.idempotence.advance(identity, q, batch.count);
        batch.identity = identity;
      }
    }
    return batch.encoded;
  }

  /** sendRequests after every earlier round to the same leader has written its requests. */
  private sendInOrder(leader: number, requests: DueBatch[][]): void {
    const before = this.sending.get(leader);
    const round = before ? before.then(() => this.sendRequests(leader, requests)) : this.sendRequests(leader, requests);
    this.sending.set(leader, round);
    void round.finally(() => {
      if (this.sending.get(leader) === round) this.sending.delete(leader);
    });
  }

  /**
   * Sends one leader's requests, in order, over one connection (which writes
   * them in call order and the broker handles them in order), so a partition's
   * batches in successive requests keep their order.
   */
  private async sendRequests(leader: number, requests: DueBatch[][]): Promise<void> {
    let identity: ProducerIdentity | undefined;
    if (this.idempotence && requests.some((items) => items.some((item) => !item.batch.encoded))) {
      try {
        identity = await this.idempotence.acquire();
      } catch (err) {
        for (const items of requests) for (const item of items) this.failedUnsent(item.q, item.batch, err);
        return;
      }
    }
    if (this.transactionPartitions) {
      // batches not yet encoded are the transaction's new writes (a retry's partition is already in it)
      const fresh = requests.flat().filter((item) => !item.batch.encoded);
      if (fresh.length > 0) {
        try {
          await this.transactionPartitions.ensureAdded(
            fresh.map((item) => ({ topic: item.q.topic, partition: item.q.partition })),
          );
        } catch (err) {
          for (const items of requests) for (const item of items) this.failedUnsent(item.q, item.batch, err);
          return;
        }
      }
    }
    const bodies: PreparedRequest[] = [];
    for (const items of requests) {
      const prepared = this.prepareRequest(items, identity);
      if (prepared) bodies.push(prepared);
    }
    if (bodies.length === 0) return;
    let conn: Connection;
    try {
      conn = this.cluster.openConnection(leader) ?? (await this.cluster.brokerConnection(leader));
    } catch (err) {
      for (const { live } of bodies) for (const item of live) this.failedUnsent(item.q, item.batch, err);
      return;
    }
    const acks = this.options.acks;
    for (const { live, body, refs } of bodies) {
      this.requestsOut++;
      conn
        .request(ApiKey.Produce, body, {
          expectResponse: acks !== 0,
          timeoutMs: this.options.timeoutMs + 5_000,
          refs,
        })
        .then(
          (res) => {
            this.requestsOut--;
            this.answeredSinceDrain = true;
            this.answered(live, res, conn.address);
            this.wake();
          },
          (err: unknown) => {
            this.requestsOut--;
            this.answeredSinceDrain = true;
            for (const item of live) this.failed(item.q, item.batch, err);
            this.wake();
          },
        );
    }
  }

  /** A request's body, its batches encoded (a batch that cannot be encoded fails alone); null when none is left. */
  private prepareRequest(items: DueBatch[], identity: ProducerIdentity | undefined): PreparedRequest | null {
    const topics = new Map<string, { partition: number; records: Buffer }[]>();
    const live: DueBatch[] = [];
    // large batches are written from their own buffers, not copied into the request frame
    const refs = new ReferencedBytes();
    for (const item of items) {
      let records: Buffer;
      try {
        records = this.encode(item.q, item.batch, identity);
      } catch (err) {
        this.failed(item.q, item.batch, err, false);
        continue;
      }
      live.push(item);
      const list = topics.get(item.q.topic) ?? [];
      list.push({ partition: item.q.partition, records: refs.ref(records) });
      topics.set(item.q.topic, list);
    }
    if (live.length === 0) return null;
    const body: ProduceRequest = {
      acks: this.options.acks,
      timeoutMs: this.options.timeoutMs,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    };
    return { live, body, refs };
  }

  /** Completes or fails each batch of a request from its partition's own answer (one batch per partition per request). */
  private answered(live: DueBatch[], res: ProduceResponse | undefined, leaderAddress: string): void {
    // A leader that cannot replicate (it timed out, or has too few in-sync replicas) may have been
    // replaced without knowing it (cut off from ZooKeeper): its metadata would send us back to it,
    // so the next metadata comes from another broker.
    for (const t of res?.topics ?? []) {
      if (t.partitions.some((p) => replicationTroubles.has(p.errorCode))) this.cluster.distrust(leaderAddress);
    }
    if (res?.errorCode) {
      for (const item of live) this.failed(item.q, item.batch, wireError(res.errorCode, 'produce', res.errorMessage));
      return;
    }
    if (this.options.acks === 0 || !res) {
      for (const item of live) this.completed(item.q, item.batch, -1);
      return;
    }
    const answers = answersByPartition(res.topics);
    for (const item of live) {
      const p = answers.get(topicPartitionKey(item.q.topic, item.q.partition));
      if (
        p !== undefined &&
        p !== ambiguousAnswer &&
        p.errorCode === 0 &&
        Number.isSafeInteger(p.baseOffset) &&
        p.baseOffset >= 0
      ) {
        this.completed(item.q, item.batch, p.baseOffset);
      } else {
        this.answeredBadly(item, p);
      }
    }
  }

  /** A batch whose answer is an error, missing, ambiguous or an impossible offset. */
  private answeredBadly(item: DueBatch, p: PartitionAnswer | typeof ambiguousAnswer | undefined): void {
    const ctx = `produce to ${item.q.topic}-${item.q.partition}`;
    if (!p) {
      this.failed(item.q, item.batch, wireError(WireError.UNKNOWN_SERVER_ERROR, ctx, 'no result for the partition'));
    } else if (p === ambiguousAnswer) {
      // the outcome is unknown (the batch may have been appended): never retried, never given an offset
      this.failed(
        item.q,
        item.batch,
        wireError(WireError.UNKNOWN_SERVER_ERROR, ctx, 'the broker answered the partition twice'),
        false,
      );
    } else if (p.errorCode === WireError.MESSAGE_TOO_LARGE && this.splitTooLarge(item.q, item.batch)) {
      // sent again as smaller batches
    } else if (p.errorCode !== 0) {
      const err = wireError(p.errorCode, ctx, p.errorMessage ?? undefined);
      if (p.errorCode === WireError.OUT_OF_ORDER_SEQUENCE_NUMBER && this.behindPending(item.q, item.batch)) {
        this.retry(item.q, item.batch, err);
      } else {
        this.failed(item.q, item.batch, err);
      }
    } else {
      this.failed(
        item.q,
        item.batch,
        wireError(WireError.UNKNOWN_SERVER_ERROR, ctx, `the broker returned base offset ${String(p.baseOffset)}`),
        false,
      );
    }
  }

  /**
   * A stamped batch refused as out of order while an earlier batch of its
   * partition and identity is still pending: the gap is that batch's, and the
   * broker will see this one in order once it has been resent.
   */
  private behindPending(q: PartitionQueue, batch: Batch): boolean {
    if (batch.identity === null) return false;
    const earlier = (b: Batch): boolean => b !== batch && b.identity === batch.identity && b.seq < batch.seq;
    for (const b of q.inFlight) if (earlier(b)) return true;
    return q.ready.some(earlier);
  }

  /** MESSAGE_TOO_LARGE for a batch grown beyond batchSize: split into batches of batchSize, sent again. */
  private splitTooLarge(q: PartitionQueue, batch: Batch): boolean {
    if (batch.bytes <= this.options.batchSize || batch.attempts >= this.options.retries || this.stopped) return false;
    this.landed(batch);
    // its sequence numbers were taken and never used: later batches need a new producer id
    if (batch.identity !== null) this.idempotence?.retire(batch.identity);
    if (!this.accumulator.split(q, batch)) return false;
    this.wake();
    return true;
  }

  private completed(q: PartitionQueue, batch: Batch, baseOffset: number): void {
    this.landed(batch);
    this.accumulator.settled(q, batch);
    runsDone(batch.runs, baseOffset);
    // answered: its request was written, so its buffer can take a later batch's records
    releaseBatchBuffer(batch, this.accumulator.buffers);
    this.memory.release(batch.reserved);
    finishBatch(batch);
    this.wake();
  }

  /** A batch failed: retried when that is safe and the budget allows, otherwise its records fail. */
  private failed(q: PartitionQueue, batch: Batch, err: unknown, retry = true): void {
    // a written request on a broken connection may have been appended: retrying could duplicate,
    // unless the batch carries sequence numbers (idempotence), which let the broker recognise it
    const safe = isRetriableError(err) && (!wasSent(err) || batch.identity !== null);
    if (retry && safe) this.retry(q, batch, err);
    else this.failedForGood(q, batch, err);
  }

  /**
   * A batch failed before its Produce request was written (its leader's metadata, its producer
   * id or its connection could not be had): a retriable error is retried even when the failed
   * request (a Metadata or InitProducerId written to a connection that then broke) had been
   * sent, since nothing of the batch's own was. Such errors used to fail a non-idempotent or
   * not yet stamped batch for good ("Metadata request failed: ... ECONNRESET" while a broker
   * restarted).
   */
  private failedUnsent(q: PartitionQueue, batch: Batch, err: unknown): void {
    if (isRetriableError(err)) this.retry(q, batch, err);
    else this.failedForGood(q, batch, err);
  }

  /** Sends the batch again after a backoff and a metadata refresh, while its retries last. */
  private retry(q: PartitionQueue, batch: Batch, err: unknown): void {
    if (batch.attempts >= this.options.retries || this.stopped) {
      this.failedForGood(q, batch, err);
      return;
    }
    this.landed(batch);
    batch.attempts++;
    const backoff = Math.min(retryBackoffCapMs, this.options.retryBackoffMs * 2 ** Math.min(batch.attempts - 1, 16));
    const retryAt = Date.now() + backoff;
    this.accumulator.requeue(q, batch, retryAt);
    // the leader may have moved: the retry asks for fresh metadata
    this.cluster.invalidate(q.topic);
    this.wakeAt(retryAt);
  }

  private failedForGood(q: PartitionQueue, batch: Batch, err: unknown): void {
    this.landed(batch);
    this.accumulator.settled(q, batch);
    const error =
      err instanceof Error
        ? err
        : new SluiceError(ErrorCode.BrokerError, `produce to ${q.topic}-${q.partition} failed: ${String(err)}`);
    // the batch's sequence numbers may or may not have reached the log: later batches take a new producer id
    if (batch.identity !== null) this.idempotence?.retire(batch.identity);
    // its buffer is not reused: a request that timed out may still be waiting to be written
    runsFailed(batch.runs, error);
    this.memory.release(batch.reserved);
    finishBatch(batch);
    this.wake();
  }
}
