/**
 * Committed offsets, kept as records of the internal `__consumer_offsets`
 * topic (like Kafka's): key [group, topic, partition], value {offset,
 * metadata, commitTimestamp}. The log is the durable truth; an in-memory
 * cache, rebuilt by replaying the log at start-up, answers OffsetFetch.
 * The latest record for a key wins on replay.
 *
 * In a cluster the offsets topic is replicated like any other (replication
 * factor offsets.topic.replication.factor, capped by the live brokers) and a
 * broker serves only the groups whose offsets partition it leads: it replays
 * a partition into the cache when it becomes its leader, forgets it when it
 * stops leading, and a commit is acknowledged once every in-sync replica has
 * it (acks=-1), so committed offsets survive the loss of the coordinator.
 *
 * The topic is compacted, as Kafka's is (cleanup.policy=compact, small
 * segments): the broker's log cleaner (storage/log-cleaner.ts) keeps the
 * latest record per key below each partition's active segment and drops a
 * deleted group's tombstones after delete.retention.ms, so the log stays near
 * the size of its live state; a replay reads the cleaned log (offset gaps and
 * all) and still ends with the latest value per key.
 *
 * Transactional offset commits (TxnOffsetCommit, issue 21) are written as
 * one transactional batch (attribute 0x10, the producer's id and epoch) and
 * held as pending offsets of (group, producer id) (txn-offsets.ts) until the
 * producer's marker lands on the partition: a commit makes them committed
 * offsets, an abort drops them. A replay does the same from the log: a
 * transactional batch's records are pending until the producer's control
 * batch is read; with no marker they stay pending. Each cached offset keeps
 * the log offset of the batch that wrote it, so a transaction's offsets
 * replace a commit only when they were written after it (Kafka's rule).
 */
import { Packr } from 'msgpackr';
import type { ReplicaManager, TxnMarkerWritten } from '../replication/replica-manager.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  groupOffsetMetadataBytesMax,
  groupOffsetsCommitTimeoutMs,
  groupOffsetsPartitions,
  groupOffsetsSegmentBytes,
  groupOffsetsTombstoneBatchRecords,
  groupPendingTxnOffsetsMax,
} from '../shared/limits.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { SerialQueues } from '../shared/serial-queues.js';
import { splitTopicPartitionKey, topicPartitionKey } from '../shared/topic-partition.js';
import { compacts } from '../storage/log-config.js';
import { replayLog } from '../storage/log-replay.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { TopicManager } from '../topics/topic-manager.js';
import { baseOffsetOf, producerIdOf } from '../wire/record-batch.js';
import { decodeBatchRecords } from '../wire/record-batch-decoder.js';
import { type BatchOptions, encodeRecordBatch } from '../wire/record-batch-encoder.js';
import { isControlBatch, isTransactionalBatch, readTxnMarker } from '../wire/txn-marker.js';
import { PendingTxnOffsets } from './txn-offsets.js';

export const offsetsTopic = '__consumer_offsets';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export interface CommittedOffset {
  offset: number;
  metadata: string;
  commitTimestamp: number;
  /** KIP-320: the leader epoch the committer gave with the offset; -1 unknown (and for records written before it was kept). */
  leaderEpoch: number;
}

/** Java's String.hashCode, as Kafka uses it to place a group on an offsets partition. */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

interface CommitRecord extends CommittedOffset {
  group: string;
  topic: string;
  partition: number;
}

/** A cached committed offset with the log offset of the batch that wrote it (which of two racing commits is newer). */
type CachedOffset = CommittedOffset & { logOffset: number };

function encodeCommits(commits: CommitRecord[], options: BatchOptions = {}): Buffer {
  return encodeRecordBatch(
    commits.map((c) => ({
      key: packr.pack([c.group, c.topic, c.partition]),
      // leaderEpoch only when known: a record without it reads as -1, as records written before it was kept do
      value: packr.pack({
        offset: c.offset,
        metadata: c.metadata,
        commitTimestamp: c.commitTimestamp,
        ...(c.leaderEpoch >= 0 ? { leaderEpoch: c.leaderEpoch } : {}),
      }),
      timestamp: c.commitTimestamp,
    })),
    options,
  );
}

function committedOf(cached: CachedOffset): CommittedOffset {
  return {
    offset: cached.offset,
    metadata: cached.metadata,
    commitTimestamp: cached.commitTimestamp,
    leaderEpoch: cached.leaderEpoch,
  };
}

/** One record of the offsets log: a commit, a tombstone (value null), or null when it is not in this store's layout. */
export type OffsetsLogEntry = { group: string; topic: string; partition: number; value: CommittedOffset | null };

/**
 * Reads one record of the offsets log. Only the broker writes there, but a
 * record in any other layout (an older version's, or one written before
 * internal topics were refused to producers) must not stop every group of
 * its partition from loading: it is reported as null and skipped.
 */
export function readOffsetsLogRecord(key: Buffer | null, value: Buffer | null): OffsetsLogEntry | null {
  if (!key) return null;
  try {
    const k: unknown = packr.unpack(key);
    if (!Array.isArray(k) || k.length !== 3) return null;
    const [group, topic, partition] = k as unknown[];
    if (typeof group !== 'string' || typeof topic !== 'string' || !Number.isSafeInteger(partition)) return null;
    if (!value) return { group, topic, partition: partition as number, value: null };
    const v: unknown = packr.unpack(value);
    if (typeof v !== 'object' || v === null) return null;
    const { offset, metadata, commitTimestamp, leaderEpoch } = v as Record<string, unknown>;
    if (!Number.isSafeInteger(offset) || typeof metadata !== 'string' || typeof commitTimestamp !== 'number')
      return null;
    const epoch = Number.isSafeInteger(leaderEpoch) && (leaderEpoch as number) >= 0 ? (leaderEpoch as number) : -1;
    return {
      group,
      topic,
      partition: partition as number,
      value: { offset: offset as number, metadata, commitTimestamp, leaderEpoch: epoch },
    };
  } catch {
    return null;
  }
}

export function offsetsPartitionFor(groupId: string, partitions = groupOffsetsPartitions): number {
  return (javaStringHash(groupId) & 0x7fffffff) % partitions;
}

export class OffsetStore {
  /** group -> topicPartitionKey -> committed offset */
  private readonly cache = new Map<string, Map<string, CachedOffset>>();
  /** Transactional commits whose transaction has not ended (bounded per group by groupPendingTxnOffsetsMax). */
  private readonly pending = new PendingTxnOffsets();
  /** Offsets partitions this broker leads, with their replay (resolved once loaded). */
  private readonly owned = new Map<number, Promise<void>>();
  private readonly loadedPartitions = new Set<number>();
  /** Appends, compactions and replays of one offsets partition run one at a time. */
  private readonly chains = new SerialQueues<number>();
  private ensuring: Promise<unknown> | undefined;

  constructor(
    private readonly replicas: ReplicaManager,
    private readonly topics: TopicManager,
    private readonly replicationFactor = 1,
    /** segment.bytes of the offsets topic: the cleaner works on closed segments, so small ones keep it small. */
    private readonly segmentBytes = groupOffsetsSegmentBytes,
    private readonly log: Logger = silentLogger,
  ) {}

  private serialized<T>(partition: number, task: () => Promise<T>): Promise<T> {
    return this.chains.run(partition, task);
  }

  /** Creates the offsets topic when missing (the first FindCoordinator does). */
  async ensureTopic(): Promise<void> {
    this.ensuring ??= this.topics
      .ensureInternal(offsetsTopic, groupOffsetsPartitions, this.replicationFactor, {
        // Kafka's offsets topic: compacted, never deleted by time or size
        'cleanup.policy': 'compact',
        'segment.bytes': String(this.segmentBytes),
        'retention.ms': '-1',
        'retention.bytes': '-1',
      })
      .catch((err) => {
        this.ensuring = undefined;
        throw err;
      });
    await this.ensuring;
  }

  /** This broker now leads offsets partition `partition`: replay it into the cache. */
  onBecomeLeader(partition: number): void {
    if (this.owned.has(partition)) return;
    const replay = this.serialized(partition, async () => {
      this.forget(partition);
      const replica = this.replicas.replica(offsetsTopic, partition);
      if (replica) {
        // an offsets topic created by an older version (snapshot compaction, policy delete) is compacted from now on
        const config = replica.log.currentConfig;
        if (!compacts(config)) replica.log.updateConfig({ ...config, cleanupPolicy: 'compact' });
        await this.replay(replica.log);
      }
      if (this.owned.get(partition) === replay) this.loadedPartitions.add(partition);
    });
    this.owned.set(partition, replay);
  }

  /** This broker no longer leads `partition`: its groups are coordinated elsewhere now. */
  onResign(partition: number): void {
    this.owned.delete(partition);
    this.loadedPartitions.delete(partition);
    void this.serialized(partition, async () => {
      if (!this.owned.has(partition)) this.forget(partition);
    });
  }

  private forget(partition: number): void {
    for (const group of [...this.cache.keys()]) {
      if (offsetsPartitionFor(group) === partition) this.cache.delete(group);
    }
    this.pending.forget((group) => offsetsPartitionFor(group) === partition);
  }

  /** Whether this broker coordinates the group: it leads the group's offsets partition and has replayed it. */
  coordinates(group: string): boolean {
    return this.loadedPartitions.has(offsetsPartitionFor(group));
  }

  /** Whether this broker leads the group's offsets partition and is still replaying it. */
  loading(group: string): boolean {
    const partition = offsetsPartitionFor(group);
    return this.owned.has(partition) && !this.loadedPartitions.has(partition);
  }

  /** Throws unless this broker coordinates the group: CoordinatorLoadInProgress while it replays the partition, else NotCoordinator. */
  checkCoordinator(group: string): void {
    if (this.coordinates(group)) return;
    throw new SluiceError(
      this.loading(group) ? ErrorCode.CoordinatorLoadInProgress : ErrorCode.NotCoordinator,
      `this broker does not coordinate group ${group}`,
    );
  }

  /** Resolves once the group's partition is replayed (when this broker leads it). */
  async whenLoaded(group: string): Promise<void> {
    await this.owned.get(offsetsPartitionFor(group));
  }

  /** Waits for the replay of the group's partition when it is under way; throws when not the coordinator. */
  private async ready(group: string): Promise<number> {
    const partition = offsetsPartitionFor(group);
    const loading = this.owned.get(partition);
    if (!loading) {
      throw new SluiceError(
        ErrorCode.NotCoordinator,
        `broker does not coordinate group ${group} (offsets partition ${partition})`,
      );
    }
    await loading;
    return partition;
  }

  private async replay(log: PartitionLog): Promise<void> {
    let skipped = 0;
    await replayLog(log, (batch, from) => {
      skipped += this.replayBatch(log.partition, batch, from);
    });
    if (skipped > 0) {
      this.log.warn(
        { topic: log.topic, partition: log.partition, skipped },
        'offsets log records not in the commit layout skipped',
      );
    }
  }

  /**
   * Applies one batch of the offsets log (its records from `from` on):
   * commits and tombstones at once, a transactional batch's commits as
   * pending offsets of its producer, a control batch (a marker) ends the
   * producer's pending offsets. Returns the records not in the store's layout.
   */
  private replayBatch(partition: number, batch: Buffer, from: number): number {
    const batchOffset = baseOffsetOf(batch);
    if (isControlBatch(batch)) {
      // a marker (or another control record): never read as an offset record
      const marker = readTxnMarker(batch);
      if (marker) this.endTxn(partition, producerIdOf(batch), batchOffset, marker.committed);
      return 0;
    }
    const producerId = isTransactionalBatch(batch) ? producerIdOf(batch) : -1;
    let skipped = 0;
    for (const record of decodeBatchRecords(batch)) {
      if (record.offset < from) continue;
      const entry = readOffsetsLogRecord(record.key, record.value);
      if (!entry || (producerId >= 0 && !entry.value)) {
        skipped++;
        continue;
      }
      const { group, topic, partition: p, value } = entry;
      if (!value) {
        this.cache.get(group)?.delete(topicPartitionKey(topic, p));
        this.pending.dropKey(group, topic, p);
      } else if (producerId >= 0) {
        this.pending.add(group, producerId, [{ topic, partition: p, value, logOffset: batchOffset }]);
      } else {
        this.remember(group, topic, p, value, batchOffset);
      }
    }
    return skipped;
  }

  /** The producer's transaction ended on offsets partition `partition` with a marker at `markerOffset`. */
  private endTxn(partition: number, producerId: number, markerOffset: number, committed: boolean): void {
    const done = this.pending.complete(producerId, markerOffset, (group) => offsetsPartitionFor(group) === partition);
    if (!committed) return;
    for (const d of done) this.remember(d.group, d.topic, d.partition, d.value, d.logOffset);
  }

  /**
   * A marker this broker wrote as the leader of an offsets partition
   * (ReplicaManager.onTxnMarker). Applied at once when the partition is
   * loaded; during its replay, after it (the replay may or may not have read
   * the marker: pending offsets written before it are ended only once).
   * Not led here: the replay on becoming its leader reads the marker.
   */
  onTxnMarker(marker: TxnMarkerWritten): void {
    if (marker.topic !== offsetsTopic) return;
    const { partition, producerId, offset, committed } = marker;
    if (this.loadedPartitions.has(partition)) {
      this.endTxn(partition, producerId, offset, committed);
      return;
    }
    if (!this.owned.has(partition)) return;
    void this.serialized(partition, async () => {
      if (this.loadedPartitions.has(partition)) this.endTxn(partition, producerId, offset, committed);
    });
  }

  /** Keeps `value` unless the cached offset was written later in the log. */
  private remember(group: string, topic: string, partition: number, value: CommittedOffset, logOffset: number): void {
    let offsets = this.cache.get(group);
    if (!offsets) {
      offsets = new Map();
      this.cache.set(group, offsets);
    }
    const key = topicPartitionKey(topic, partition);
    const current = offsets.get(key);
    if (current && current.logOffset > logOffset) return;
    offsets.set(key, { ...value, logOffset });
  }

  /** Appends the commits to the group's offsets partition, then updates the cache. */
  async commit(
    group: string,
    entries: { topic: string; partition: number; offset: number; metadata: string; leaderEpoch?: number }[],
  ): Promise<void> {
    const partition = await this.ready(group);
    for (const e of entries) {
      if (e.metadata.length > groupOffsetMetadataBytesMax) {
        throw new SluiceError(ErrorCode.InvalidArgument, `offset metadata longer than ${groupOffsetMetadataBytesMax}`);
      }
    }
    if (entries.length === 0) return;
    const now = Date.now();
    await this.serialized(partition, async () => {
      const commits = entries.map((e) => ({ group, ...e, leaderEpoch: e.leaderEpoch ?? -1, commitTimestamp: now }));
      const logOffset = await this.append(partition, encodeCommits(commits));
      for (const c of commits) {
        this.remember(
          group,
          c.topic,
          c.partition,
          { offset: c.offset, metadata: c.metadata, commitTimestamp: now, leaderEpoch: c.leaderEpoch },
          logOffset,
        );
      }
    });
  }

  /**
   * TxnOffsetCommit's write: the offsets as one transactional batch of the
   * producer (baseSequence -1, as Kafka's coordinator writes them), appended
   * acks=-1, then held pending until the producer's marker. Throws BrokerError
   * when the group would hold more than groupPendingTxnOffsetsMax pending offsets.
   */
  async commitTransactional(
    group: string,
    producer: { producerId: number; producerEpoch: number },
    entries: { topic: string; partition: number; offset: number; metadata: string; leaderEpoch?: number }[],
  ): Promise<void> {
    const partition = await this.ready(group);
    if (entries.length === 0) return;
    const now = Date.now();
    await this.serialized(partition, async () => {
      const held = this.pending.count(group) + this.pending.added(group, producer.producerId, entries);
      if (held > groupPendingTxnOffsetsMax) {
        throw new SluiceError(
          ErrorCode.BrokerError,
          `group ${group} would hold ${held} pending transactional offsets, more than ${groupPendingTxnOffsetsMax}`,
        );
      }
      const commits = entries.map((e) => ({ group, ...e, leaderEpoch: e.leaderEpoch ?? -1, commitTimestamp: now }));
      const batch = encodeCommits(commits, {
        transactional: true,
        producerId: producer.producerId,
        producerEpoch: producer.producerEpoch,
        baseSequence: -1,
      });
      const logOffset = await this.append(partition, batch);
      this.pending.add(
        group,
        producer.producerId,
        commits.map((c) => ({
          topic: c.topic,
          partition: c.partition,
          value: { offset: c.offset, metadata: c.metadata, commitTimestamp: now, leaderEpoch: c.leaderEpoch },
          logOffset,
        })),
      );
    });
  }

  /** Whether a transaction not yet ended holds an offset for the partition (OffsetFetch's require_stable). */
  hasPendingTxnOffset(group: string, topic: string, partition: number): boolean {
    return this.pending.has(group, topic, partition);
  }

  /** Appends as leader and waits until every in-sync replica has it; resolves to the batch's offset. */
  private async append(partition: number, batch: Buffer): Promise<number> {
    const appended = await this.replicas.appendAsLeader(
      offsetsTopic,
      partition,
      batch,
      -1,
      groupOffsetsCommitTimeoutMs,
    );
    return appended.baseOffset;
  }

  /**
   * Deletes every committed offset of the group (Kafka's DeleteGroups): one
   * tombstone (a null value) per key, appended like a commit (every in-sync
   * replica has it before this resolves), so a replay after a restart or on a
   * new coordinator forgets them too. Pending transactional offsets go too
   * (Kafka removes them with the group's offsets): their partitions get a
   * tombstone as well, which a replay reads as dropping them, so a marker
   * that comes later completes nothing, live or replayed. Resolves to the
   * number of partitions whose offsets (committed or pending) were deleted.
   */
  async deleteGroup(group: string): Promise<number> {
    const partition = await this.ready(group);
    return this.serialized(partition, async () => {
      const offsets = this.cache.get(group);
      const keys = [...new Set([...(offsets?.keys() ?? []), ...this.pending.keys(group)])];
      const now = Date.now();
      for (let i = 0; i < keys.length; i += groupOffsetsTombstoneBatchRecords) {
        const tombstones = keys.slice(i, i + groupOffsetsTombstoneBatchRecords).map((key) => {
          const { topic, partition: p } = splitTopicPartitionKey(key);
          return { key: packr.pack([group, topic, p]), value: null, timestamp: now };
        });
        await this.append(partition, encodeRecordBatch(tombstones));
        for (const key of keys.slice(i, i + groupOffsetsTombstoneBatchRecords)) {
          offsets?.delete(key);
          const { topic, partition: p } = splitTopicPartitionKey(key);
          this.pending.dropKey(group, topic, p);
        }
      }
      this.cache.delete(group);
      return keys.length;
    });
  }

  async fetch(group: string, topic: string, partition: number): Promise<CommittedOffset | undefined> {
    await this.ready(group);
    const cached = this.cache.get(group)?.get(topicPartitionKey(topic, partition));
    return cached && committedOf(cached);
  }

  /** Every committed offset of the group. */
  async all(group: string): Promise<{ topic: string; partition: number; committed: CommittedOffset }[]> {
    await this.ready(group);
    return [...(this.cache.get(group) ?? new Map<string, CachedOffset>())].map(([key, cached]) => {
      return { ...splitTopicPartitionKey(key), committed: committedOf(cached) };
    });
  }

  /** Groups with committed or pending transactional offsets among those this broker coordinates. */
  async groupIds(): Promise<string[]> {
    await Promise.all(this.owned.values());
    const committed = [...this.cache.keys()].filter((g) => (this.cache.get(g)?.size ?? 0) > 0);
    return [...new Set([...committed, ...this.pending.groups()])];
  }
}
