/**
 * The transaction log: the internal topic `__transaction_state` (Kafka's),
 * one record per state change of a transactional id, key = the id, value =
 * its TxnMetadata (msgpack, versioned; Kafka's binary layout is not needed:
 * only brokers read it). A tombstone (null value) forgets an expired id.
 *
 * As the offsets store does for groups (groups/offset-store.ts): the topic is
 * created on first need (compacted, replication factor
 * transaction.state.log.replication.factor capped by the live brokers), a
 * broker serves the ids whose partition it leads, replays the partition into
 * memory when it becomes leader (COORDINATOR_LOAD_IN_PROGRESS meanwhile) and
 * forgets it when it stops leading. Every record is written acks=-1 before
 * its new state is installed, so an answer given from memory is durable.
 *
 * What the two stores share is shared as parts (the replay, storage/log-replay.ts; the
 * per-partition task order, shared/serial-queues.ts), not as a base class: they key, cache
 * and resign differently (an id's state vs a group's offsets with pending transactional
 * ones), so a common base would hold little but hooks.
 */
import { Packr } from 'msgpackr';
import { offsetsPartitionFor } from '../groups/offset-store.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { transactionStateTopicName } from '../shared/internal-topics.js';
import { groupOffsetsSegmentBytes, txnStateWriteTimeoutMs } from '../shared/limits.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { SerialQueues } from '../shared/serial-queues.js';
import { replayLog } from '../storage/log-replay.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { TopicManager } from '../topics/topic-manager.js';
import { decodeBatchRecords } from '../wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../wire/record-batch-encoder.js';
import { type TxnMetadata, type TxnPartition, type TxnState, txnStates } from './txn-metadata.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
/** The layout version of a record's value; a replay skips values of a version it does not know. */
const valueVersion = 0;

/** The partition of `__transaction_state` that holds a transactional id (the groups' hashing, Java's String.hashCode). */
export function txnPartitionFor(transactionalId: string, partitions: number): number {
  return offsetsPartitionFor(transactionalId, partitions);
}

export function encodeTxnKey(transactionalId: string): Buffer {
  return packr.pack([transactionalId]);
}

export function encodeTxnValue(meta: TxnMetadata): Buffer {
  return packr.pack({
    v: valueVersion,
    producerId: meta.producerId,
    producerEpoch: meta.producerEpoch,
    lastProducerId: meta.lastProducerId,
    lastProducerEpoch: meta.lastProducerEpoch,
    timeoutMs: meta.timeoutMs,
    state: meta.state,
    partitions: meta.partitions.map((p) => [p.topic, p.partition]),
    startTimeMs: meta.startTimeMs,
    lastUpdateMs: meta.lastUpdateMs,
  });
}

const isInt = (x: unknown): x is number => Number.isSafeInteger(x);

/** One record of the log: an id's state, a tombstone (meta null), or null when the record is not in this layout. */
export function readTxnLogRecord(
  key: Buffer | null,
  value: Buffer | null,
): { transactionalId: string; meta: TxnMetadata | null } | null {
  if (!key) return null;
  try {
    const k: unknown = packr.unpack(key);
    if (!Array.isArray(k) || k.length !== 1 || typeof k[0] !== 'string') return null;
    const transactionalId = k[0];
    if (!value) return { transactionalId, meta: null };
    const v = packr.unpack(value) as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || v.v !== valueVersion) return null;
    const state = v.state as TxnState;
    if (!txnStates.includes(state) || !Array.isArray(v.partitions)) return null;
    const numbers = [
      v.producerId,
      v.producerEpoch,
      v.lastProducerId,
      v.lastProducerEpoch,
      v.timeoutMs,
      v.startTimeMs,
      v.lastUpdateMs,
    ];
    if (!numbers.every(isInt)) return null;
    const partitions: TxnPartition[] = [];
    for (const p of v.partitions as unknown[]) {
      if (!Array.isArray(p) || typeof p[0] !== 'string' || !isInt(p[1])) return null;
      partitions.push({ topic: p[0], partition: p[1] });
    }
    return {
      transactionalId,
      meta: {
        transactionalId,
        producerId: v.producerId as number,
        producerEpoch: v.producerEpoch as number,
        lastProducerId: v.lastProducerId as number,
        lastProducerEpoch: v.lastProducerEpoch as number,
        timeoutMs: v.timeoutMs as number,
        state,
        partitions,
        startTimeMs: v.startTimeMs as number,
        lastUpdateMs: v.lastUpdateMs as number,
      },
    };
  } catch {
    return null;
  }
}

export interface TxnStateStoreOptions {
  replicas: ReplicaManager;
  topics: TopicManager;
  partitions: number;
  replicationFactor: number;
  minIsr: number;
  /** How many brokers are live (the replication factor is capped by it). */
  liveBrokers: () => number;
  logger?: Logger;
  /** Called once a partition is replayed, with the coordinator epoch and what it holds (the coordinator resumes Prepare*). */
  onLoaded?: (partition: number, coordinatorEpoch: number, loaded: TxnMetadata[]) => void;
}

export class TxnStateStore {
  /** partition → transactional id → state, for the partitions this broker leads and has replayed. */
  private readonly cache = new Map<number, Map<string, TxnMetadata>>();
  /** Partitions this broker leads: their replay, and the leader epoch (the coordinator epoch) it began at. */
  private readonly owned = new Map<number, { replay: Promise<void>; epoch: number }>();
  private readonly chains = new SerialQueues<number>();
  private ensuring: Promise<unknown> | undefined;
  private readonly log: Logger;

  constructor(private readonly options: TxnStateStoreOptions) {
    this.log = options.logger ?? silentLogger;
  }

  get partitionCount(): number {
    return this.options.partitions;
  }

  partitionFor(transactionalId: string): number {
    return txnPartitionFor(transactionalId, this.options.partitions);
  }

  private serialized<T>(partition: number, task: () => Promise<T>): Promise<T> {
    return this.chains.run(partition, task);
  }

  /** Creates `__transaction_state` when missing (the first FindCoordinator for a transactional id does). */
  async ensureTopic(): Promise<void> {
    const { topics, partitions, replicationFactor, minIsr, liveBrokers } = this.options;
    // min.insync.replicas above the replication factor the live brokers allow would refuse every write
    const liveRf = Math.max(1, Math.min(replicationFactor, liveBrokers()));
    this.ensuring ??= topics
      .ensureInternal(transactionStateTopicName, partitions, replicationFactor, {
        'cleanup.policy': 'compact',
        'segment.bytes': String(groupOffsetsSegmentBytes),
        'retention.ms': '-1',
        'retention.bytes': '-1',
        'min.insync.replicas': String(Math.min(minIsr, liveRf)),
      })
      .catch((err) => {
        this.ensuring = undefined;
        throw err;
      });
    await this.ensuring;
  }

  /** This broker now leads `partition`: replay it. */
  onBecomeLeader(partition: number): void {
    if (this.owned.has(partition)) return;
    const replica = this.options.replicas.replica(transactionStateTopicName, partition);
    const epoch = replica?.leaderEpoch ?? 0;
    const entry = { epoch, replay: Promise.resolve() };
    entry.replay = this.serialized(partition, async () => {
      this.cache.delete(partition);
      const loaded = new Map<string, TxnMetadata>();
      if (replica) await this.replay(replica.log, loaded);
      if (this.owned.get(partition) !== entry) return;
      this.cache.set(partition, loaded);
      this.log.info({ partition, ids: loaded.size, coordinatorEpoch: epoch }, 'transaction log partition loaded');
      this.options.onLoaded?.(partition, epoch, [...loaded.values()]);
    });
    this.owned.set(partition, entry);
  }

  /** This broker no longer leads `partition`: its ids are coordinated elsewhere now. */
  onResign(partition: number): void {
    this.owned.delete(partition);
    this.cache.delete(partition);
  }

  private async replay(log: PartitionLog, into: Map<string, TxnMetadata>): Promise<void> {
    let skipped = 0;
    await replayLog(log, (batch, from) => {
      for (const record of decodeBatchRecords(batch)) {
        if (record.offset < from) continue;
        const entry = readTxnLogRecord(record.key, record.value);
        if (!entry) skipped++;
        else if (entry.meta) into.set(entry.transactionalId, entry.meta);
        else into.delete(entry.transactionalId);
      }
    });
    if (skipped > 0)
      this.log.warn({ partition: log.partition, skipped }, 'transaction log records not understood skipped');
  }

  /** Waits for a replay under way; throws NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS (`wait` false) when not loaded. */
  async ready(transactionalId: string, wait = false): Promise<{ partition: number; coordinatorEpoch: number }> {
    const partition = this.partitionFor(transactionalId);
    const owned = this.owned.get(partition);
    if (!owned) {
      throw new SluiceError(
        ErrorCode.NotCoordinator,
        `this broker is not the transaction coordinator of ${transactionalId} (partition ${partition} of ${transactionStateTopicName})`,
      );
    }
    if (!this.cache.has(partition)) {
      if (!wait) {
        throw new SluiceError(
          ErrorCode.CoordinatorLoadInProgress,
          `partition ${partition} of ${transactionStateTopicName} is being loaded`,
        );
      }
      await owned.replay;
      return this.ready(transactionalId, false);
    }
    return { partition, coordinatorEpoch: owned.epoch };
  }

  /** Whether this broker still leads `partition` at `coordinatorEpoch` (a marker send stops when not). */
  stillLeads(partition: number, coordinatorEpoch: number): boolean {
    return this.owned.get(partition)?.epoch === coordinatorEpoch && this.cache.has(partition);
  }

  /** Whether this broker leads the partition of `transactionalId` and has replayed it. */
  stillOwns(transactionalId: string): boolean {
    const partition = this.partitionFor(transactionalId);
    return this.owned.has(partition) && this.cache.has(partition);
  }

  get(transactionalId: string): TxnMetadata | undefined {
    return this.cache.get(this.partitionFor(transactionalId))?.get(transactionalId);
  }

  /** Writes `meta` (acks=-1), then installs it. Throws (the memory keeps the old value) when the write fails. */
  async write(meta: TxnMetadata): Promise<void> {
    const partition = this.partitionFor(meta.transactionalId);
    const batch = encodeRecordBatch([
      { key: encodeTxnKey(meta.transactionalId), value: encodeTxnValue(meta), timestamp: meta.lastUpdateMs },
    ]);
    await this.append(partition, batch);
    this.cache.get(partition)?.set(meta.transactionalId, meta);
  }

  /** Writes a tombstone for an expired id, then forgets it. */
  async remove(transactionalId: string, nowMs: number): Promise<void> {
    const partition = this.partitionFor(transactionalId);
    await this.append(
      partition,
      encodeRecordBatch([{ key: encodeTxnKey(transactionalId), value: null, timestamp: nowMs }]),
    );
    this.cache.get(partition)?.delete(transactionalId);
  }

  /** Appends acks=-1; a failure is answered as Kafka's coordinator does (the client finds the coordinator again or retries). */
  private async append(partition: number, batch: Buffer): Promise<void> {
    try {
      await this.options.replicas.appendAsLeader(
        transactionStateTopicName,
        partition,
        batch,
        -1,
        txnStateWriteTimeoutMs,
      );
    } catch (err) {
      if (!(err instanceof SluiceError)) throw err;
      const why = `writing partition ${partition} of ${transactionStateTopicName} failed: ${err.message}`;
      if (err.code === ErrorCode.NotLeader || err.code === ErrorCode.UnknownPartition) {
        throw new SluiceError(ErrorCode.NotCoordinator, why);
      }
      if (
        err.code === ErrorCode.NotEnoughReplicas ||
        err.code === ErrorCode.NotEnoughReplicasAfterAppend ||
        err.code === ErrorCode.Timeout
      ) {
        throw new SluiceError(ErrorCode.CoordinatorNotAvailable, why);
      }
      throw err;
    }
  }

  /** Every id of the partitions this broker leads and has loaded. */
  all(): TxnMetadata[] {
    const out: TxnMetadata[] = [];
    for (const ids of this.cache.values()) out.push(...ids.values());
    return out;
  }
}
