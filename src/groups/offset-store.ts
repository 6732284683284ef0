/**
 * Committed offsets, kept as records of the internal `__consumer_offsets`
 * topic (like Kafka's): key [group, topic, partition], value {offset,
 * metadata, commitTimestamp}. The log is the durable truth; an in-memory
 * cache, rebuilt by replaying the log at start-up, answers OffsetFetch.
 * The latest record for a key wins on replay.
 *
 * Compaction is by snapshot: when a partition of the log grows past
 * `compactBytes`, its active segment is rolled, the latest offset of every key
 * that lives there is appended again, and every segment before that snapshot
 * is deleted. The log stays about twice the size of its live state, and a
 * replay after a crash at any step still ends with the latest value per key.
 */
import { Packr } from 'msgpackr';
import type { TopicManager } from '../broker/topic-manager.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  groupOffsetMetadataBytesMax,
  groupOffsetsCompactBytes,
  groupOffsetsPartitions,
  groupOffsetsSegmentBytes,
  groupOffsetsSnapshotBatchRecords,
} from '../shared/limits.js';
import type { LogManager } from '../storage/log-manager.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { decodeRecords } from '../wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../wire/record-batch-encoder.js';

export const offsetsTopic = '__consumer_offsets';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export interface CommittedOffset {
  offset: number;
  metadata: string;
  commitTimestamp: number;
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
      value: packr.pack({ offset: c.offset, metadata: c.metadata, commitTimestamp: c.commitTimestamp }),
      timestamp: c.commitTimestamp,
    })),
  );
}

export function offsetsPartitionFor(groupId: string, partitions = groupOffsetsPartitions): number {
  return (javaStringHash(groupId) & 0x7fffffff) % partitions;
}

export class OffsetStore {
  /** group -> "topic\0partition" -> committed offset */
  private readonly cache = new Map<string, Map<string, CommittedOffset>>();
  private loading: Promise<void> | undefined;
  /** Appends and compactions of one offsets partition run one at a time. */
  private readonly chains = new Map<number, Promise<unknown>>();

  constructor(
    private readonly logs: LogManager,
    private readonly topics: TopicManager,
    private readonly compactBytes = groupOffsetsCompactBytes,
  ) {}

  private serialized<T>(partition: number, task: () => Promise<T>): Promise<T> {
    const next = (this.chains.get(partition) ?? Promise.resolve()).then(task);
    this.chains.set(
      partition,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Creates the offsets topic if needed and replays it into the cache. */
  load(): Promise<void> {
    this.loading ??= this.replayAll().catch((err) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  private async replayAll(): Promise<void> {
    // no time or size retention: snapshot compaction is what bounds this topic
    const spec = await this.topics.ensureInternal(offsetsTopic, groupOffsetsPartitions, {
      'segment.bytes': String(groupOffsetsSegmentBytes),
      'retention.ms': '-1',
      'retention.bytes': '-1',
    });
    for (let p = 0; p < spec.partitions; p++) {
      const log = this.logs.get(offsetsTopic, p);
      if (log) await this.replay(log);
    }
  }

  private async replay(log: PartitionLog): Promise<void> {
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const read = await log.read(offset, 1024 * 1024);
      if (read.records.length === 0) break;
      for (const record of decodeRecords(read.records)) {
        if (record.offset < offset || !record.key) continue;
        const [group, topic, partition] = packr.unpack(record.key) as [string, string, number];
        if (record.value) this.remember(group, topic, partition, packr.unpack(record.value) as CommittedOffset);
        else this.cache.get(group)?.delete(`${topic}\u0000${partition}`);
      }
      offset = read.nextOffset;
    }
  }

  private remember(group: string, topic: string, partition: number, value: CommittedOffset): void {
    let offsets = this.cache.get(group);
    if (!offsets) {
      offsets = new Map();
      this.cache.set(group, offsets);
    }
    offsets.set(`${topic}\u0000${partition}`, value);
  }

  /** Appends the commits to the group's offsets partition, then updates the cache. */
  async commit(
    group: string,
    entries: { topic: string; partition: number; offset: number; metadata: string }[],
  ): Promise<void> {
    await this.load();
    for (const e of entries) {
      if (e.metadata.length > groupOffsetMetadataBytesMax) {
        throw new SluiceError(ErrorCode.InvalidArgument, `offset metadata longer than ${groupOffsetMetadataBytesMax}`);
      }
    }
    if (entries.length === 0) return;
    const now = Date.now();
    const partition = offsetsPartitionFor(group);
    const log = this.logs.get(offsetsTopic, partition);
    if (!log) throw new SluiceError(ErrorCode.UnknownPartition, 'the offsets topic is not available on this broker');
    await this.serialized(partition, async () => {
      await log.append(encodeCommits(entries.map((e) => ({ group, ...e, commitTimestamp: now }))));
      for (const e of entries) {
        this.remember(group, e.topic, e.partition, { offset: e.offset, metadata: e.metadata, commitTimestamp: now });
      }
      if (log.sizeBytes > this.compactBytes) await this.compact(partition, log);
    });
  }

  /** Rewrites the live offsets of one offsets partition and drops the segments before them. */
  private async compact(partition: number, log: PartitionLog): Promise<void> {
    log.roll();
    const snapshotStart = log.logEndOffset;
    const live: CommitRecord[] = [];
    for (const [group, offsets] of this.cache) {
      if (offsetsPartitionFor(group) !== partition) continue;
      for (const [key, value] of offsets) {
        const [topic, p] = key.split('\u0000') as [string, string];
        live.push({ group, topic, partition: Number(p), ...value });
      }
    }
    for (let i = 0; i < live.length; i += groupOffsetsSnapshotBatchRecords) {
      await log.append(encodeCommits(live.slice(i, i + groupOffsetsSnapshotBatchRecords)));
    }
    await log.deleteSegmentsBefore(snapshotStart);
  }

  async fetch(group: string, topic: string, partition: number): Promise<CommittedOffset | undefined> {
    await this.load();
    return this.cache.get(group)?.get(`${topic}\u0000${partition}`);
  }

  /** Every committed offset of the group. */
  async all(group: string): Promise<{ topic: string; partition: number; committed: CommittedOffset }[]> {
    await this.load();
    return [...(this.cache.get(group) ?? new Map<string, CommittedOffset>())].map(([key, committed]) => {
      const [topic, partition] = key.split('\u0000') as [string, string];
      return { topic, partition: Number(partition), committed };
    });
  }

  async groupIds(): Promise<string[]> {
    await this.load();
    return [...this.cache.keys()].filter((g) => (this.cache.get(g)?.size ?? 0) > 0);
  }
}
