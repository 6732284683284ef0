/**
 * Transactional offset commits (KIP-98's TxnOffsetCommit, KIP-447) held by
 * the group coordinator until their transaction ends: per group, per
 * producer id, the latest pending offset of each topic-partition, with the
 * offset in the offsets log of the batch that carried it. A COMMIT marker of
 * the producer on the group's offsets partition makes them committed offsets
 * (unless a commit later in the log already replaced them: the log's order
 * decides, as in Kafka); an ABORT drops them. Pure bookkeeping: the offset
 * store appends the records and calls this.
 */
import { topicPartitionKey } from '../shared/topic-partition.js';

/** What a committed offset holds (offset-store's CommittedOffset, restated to keep this file free of it). */
export interface TxnOffsetValue {
  offset: number;
  metadata: string;
  commitTimestamp: number;
  leaderEpoch: number;
}

export interface PendingTxnOffset {
  topic: string;
  partition: number;
  value: TxnOffsetValue;
  /** The base offset, in the offsets log, of the transactional batch that carried it. */
  logOffset: number;
}

/** A pending offset taken out by a marker, with its group. */
export interface CompletedTxnOffset extends PendingTxnOffset {
  group: string;
}

export class PendingTxnOffsets {
  /** group -> producer id -> topicPartitionKey -> pending offset */
  private readonly byGroup = new Map<string, Map<number, Map<string, PendingTxnOffset>>>();

  /** Pending (producer, partition) entries of the group: the quantity bounded by groupPendingTxnOffsetsMax. */
  count(group: string): number {
    let n = 0;
    for (const offsets of this.byGroup.get(group)?.values() ?? []) n += offsets.size;
    return n;
  }

  /** How many entries `add(group, producerId, entries)` would add (a partition already pending for the producer is replaced). */
  added(group: string, producerId: number, entries: readonly { topic: string; partition: number }[]): number {
    const offsets = this.byGroup.get(group)?.get(producerId);
    const keys = new Set(entries.map((e) => topicPartitionKey(e.topic, e.partition)));
    let n = 0;
    for (const key of keys) if (!offsets?.has(key)) n++;
    return n;
  }

  /** Holds the producer's offsets (a later one for the same partition replaces an earlier one, as in the log). */
  add(group: string, producerId: number, entries: readonly PendingTxnOffset[]): void {
    let producers = this.byGroup.get(group);
    if (!producers) {
      producers = new Map();
      this.byGroup.set(group, producers);
    }
    let offsets = producers.get(producerId);
    if (!offsets) {
      offsets = new Map();
      producers.set(producerId, offsets);
    }
    for (const e of entries) offsets.set(topicPartitionKey(e.topic, e.partition), e);
  }

  /** Whether any producer holds a pending offset for the partition (OffsetFetch's require_stable). */
  has(group: string, topic: string, partition: number): boolean {
    const key = topicPartitionKey(topic, partition);
    for (const offsets of this.byGroup.get(group)?.values() ?? []) if (offsets.has(key)) return true;
    return false;
  }

  /** The topicPartitionKeys the group has pending offsets for (any producer). */
  keys(group: string): Set<string> {
    const keys = new Set<string>();
    for (const offsets of this.byGroup.get(group)?.values() ?? []) for (const key of offsets.keys()) keys.add(key);
    return keys;
  }

  /**
   * Takes out the producer's pending offsets of the groups `inPartition`
   * accepts (those of the marker's offsets partition) that were written
   * before the marker (`markerOffset`): a marker told twice, or read in a
   * replay and told again, never ends a later transaction of the producer.
   */
  complete(producerId: number, markerOffset: number, inPartition: (group: string) => boolean): CompletedTxnOffset[] {
    const done: CompletedTxnOffset[] = [];
    for (const [group, producers] of this.byGroup) {
      if (!inPartition(group)) continue;
      const offsets = producers.get(producerId);
      if (!offsets) continue;
      for (const [key, pending] of offsets) {
        if (pending.logOffset >= markerOffset) continue;
        done.push({ group, ...pending });
        offsets.delete(key);
      }
      if (offsets.size === 0) producers.delete(producerId);
      if (producers.size === 0) this.byGroup.delete(group);
    }
    return done;
  }

  /** Drops every pending offset of the partition (a tombstone for the key was written after them). */
  dropKey(group: string, topic: string, partition: number): void {
    const producers = this.byGroup.get(group);
    if (!producers) return;
    const key = topicPartitionKey(topic, partition);
    for (const [producerId, offsets] of producers) {
      offsets.delete(key);
      if (offsets.size === 0) producers.delete(producerId);
    }
    if (producers.size === 0) this.byGroup.delete(group);
  }

  /** Forgets the groups `which` accepts (their offsets partition is replayed again, or led elsewhere now). */
  forget(which: (group: string) => boolean): void {
    for (const group of [...this.byGroup.keys()]) if (which(group)) this.byGroup.delete(group);
  }

  groups(): string[] {
    return [...this.byGroup.keys()];
  }
}
