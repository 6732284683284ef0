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
 */
import { Packr } from 'msgpackr';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  groupOffsetMetadataBytesMax,
  groupOffsetsCommitTimeoutMs,
  groupOffsetsPartitions,
  groupOffsetsSegmentBytes,
  groupOffsetsTombstoneBatchRecords,
} from '../shared/limits.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { splitTopicPartitionKey, topicPartitionKey } from '../shared/topic-partition.js';
import { compacts } from '../storage/log-config.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { TopicManager } from '../topics/topic-manager.js';
import { decodeRecords } from '../wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../wire/record-batch-encoder.js';

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

function encodeCommits(commits: CommitRecord[]): Buffer {
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
  );
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
  private readonly cache = new Map<string, Map<string, CommittedOffset>>();
  /** Offsets partitions this broker leads, with their replay (resolved once loaded). */
  private readonly owned = new Map<number, Promise<void>>();
  private readonly loadedPartitions = new Set<number>();
  /** Appends, compactions and replays of one offsets partition run one at a time. */
  private readonly chains = new Map<number, Promise<unknown>>();
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
    const next = (this.chains.get(partition) ?? Promise.resolve()).then(task);
    this.chains.set(
      partition,
      next.catch(() => undefined),
    );
    return next;
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
    let offset = log.logStartOffset;
    let skipped = 0;
    while (offset < log.logEndOffset) {
      const read = await log.read(offset, 1024 * 1024);
      if (read.records.length === 0) break;
      for (const record of decodeRecords(read.records)) {
        if (record.offset < offset) continue;
        const entry = readOffsetsLogRecord(record.key, record.value);
        if (!entry) {
          skipped++;
          continue;
        }
        if (entry.value) this.remember(entry.group, entry.topic, entry.partition, entry.value);
        else this.cache.get(entry.group)?.delete(topicPartitionKey(entry.topic, entry.partition));
      }
      offset = read.nextOffset;
    }
    if (skipped > 0) {
      this.log.warn(
        { topic: log.topic, partition: log.partition, skipped },
        'offsets log records not in the commit layout skipped',
      );
    }
  }

  private remember(group: string, topic: string, partition: number, value: CommittedOffset): void {
    let offsets = this.cache.get(group);
    if (!offsets) {
      offsets = new Map();
      this.cache.set(group, offsets);
    }
    offsets.set(topicPartitionKey(topic, partition), value);
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
      await this.append(partition, encodeCommits(commits));
      for (const c of commits) {
        this.remember(group, c.topic, c.partition, {
          offset: c.offset,
          metadata: c.metadata,
          commitTimestamp: now,
          leaderEpoch: c.leaderEpoch,
        });
      }
    });
  }

  /** Appends as leader and waits until every in-sync replica has it. */
  private async append(partition: number, batch: Buffer): Promise<void> {
    await this.replicas.appendAsLeader(offsetsTopic, partition, batch, -1, groupOffsetsCommitTimeoutMs);
  }

  /**
   * Deletes every committed offset of the group (Kafka's DeleteGroups): one
   * tombstone (a null value) per key, appended like a commit (every in-sync
   * replica has it before this resolves), so a replay after a restart or on a
   * new coordinator forgets them too. Resolves to the number of offsets deleted.
   */
  async deleteGroup(group: string): Promise<number> {
    const partition = await this.ready(group);
    return this.serialized(partition, async () => {
      const offsets = this.cache.get(group);
      const keys = [...(offsets?.keys() ?? [])];
      const now = Date.now();
      for (let i = 0; i < keys.length; i += groupOffsetsTombstoneBatchRecords) {
        const tombstones = keys.slice(i, i + groupOffsetsTombstoneBatchRecords).map((key) => {
          const { topic, partition: p } = splitTopicPartitionKey(key);
          return { key: packr.pack([group, topic, p]), value: null, timestamp: now };
        });
        await this.append(partition, encodeRecordBatch(tombstones));
        for (const key of keys.slice(i, i + groupOffsetsTombstoneBatchRecords)) offsets?.delete(key);
      }
      this.cache.delete(group);
      return keys.length;
    });
  }

  async fetch(group: string, topic: string, partition: number): Promise<CommittedOffset | undefined> {
    await this.ready(group);
    return this.cache.get(group)?.get(topicPartitionKey(topic, partition));
  }

  /** Every committed offset of the group. */
  async all(group: string): Promise<{ topic: string; partition: number; committed: CommittedOffset }[]> {
    await this.ready(group);
    return [...(this.cache.get(group) ?? new Map<string, CommittedOffset>())].map(([key, committed]) => {
      return { ...splitTopicPartitionKey(key), committed };
    });
  }

  /** Groups with committed offsets among those this broker coordinates. */
  async groupIds(): Promise<string[]> {
    await Promise.all(this.owned.values());
    return [...this.cache.keys()].filter((g) => (this.cache.get(g)?.size ?? 0) > 0);
  }
}
