/**
 * The consumer's subscription state (the Java client's SubscriptionState):
 * the assigned partitions, each with its fetch position, delivery and commit
 * progress, the paused topics and partitions, and seeks of partitions not
 * assigned yet. Pure bookkeeping: no network, no timers.
 *
 * Every partition carries a version, bumped by a seek, a pause or a rewind:
 * records fetched or handed out before no longer count (the fetcher and the
 * runner compare versions before they move a position).
 */
import { consumerPendingSeeksMax } from '../../shared/limits.js';
import { splitTopicPartitionKey, topicPartitionKey } from '../../shared/topic-partition.js';
import { invalidArgument } from '../errors.js';
import { earliestTimestamp, latestTimestamp } from '../offsets.js';
import type { AutoOffsetReset, OffsetSpec, TopicPartitionsSpec } from '../types.js';

export type Reset =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'none' }
  | { kind: 'timestamp'; timestamp: number };

export interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset to fetch; null until `reset` is resolved. */
  position: number | null;
  reset: Reset;
  maxBytes: number;
  /** Next offset to hand to the application (where a pause resumes); null until known. */
  consumed: number | null;
  /** Last processed offset + 1 (what a commit stores); null: nothing processed. */
  processed: number | null;
  /** The group's committed offset as last known; null: none known. */
  committed: number | null;
  /** Bumped by seek, pause and rewinds: records fetched before no longer count. */
  version: number;
}

export function newState(topic: string, partition: number, reset: Reset, maxBytes: number): PartitionState {
  return {
    topic,
    partition,
    position: null,
    reset,
    maxBytes,
    consumed: null,
    processed: null,
    committed: null,
    version: 0,
  };
}

export function resetOf(policy: AutoOffsetReset | undefined): Reset {
  switch (policy ?? 'largest') {
    case 'smallest':
    case 'earliest':
      return { kind: 'earliest' };
    case 'largest':
    case 'latest':
      return { kind: 'latest' };
    case 'none':
      return { kind: 'none' };
    default:
      throw invalidArgument(
        `autoOffsetReset must be smallest, largest, earliest, latest or none, not '${String(policy)}'`,
      );
  }
}

/** An OffsetSpec as a position (number) or a reset. */
export function parseOffset(spec: OffsetSpec): number | Reset {
  if (spec === 'earliest' || spec === 'smallest' || spec === 'beginning') return { kind: 'earliest' };
  if (spec === 'latest' || spec === 'largest' || spec === 'end') return { kind: 'latest' };
  let n: number;
  if (typeof spec === 'bigint') n = Number(spec);
  else if (typeof spec === 'string' && /^-?\d+$/.test(spec.trim())) n = Number(spec.trim());
  else if (typeof spec === 'number') n = spec;
  else throw invalidArgument(`offset must be a number, 'earliest' or 'latest', not '${String(spec)}'`);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`offset ${String(spec)} is not a safe integer`);
  // Kafka's special values: -2 earliest, -1 latest
  if (n === earliestTimestamp) return { kind: 'earliest' };
  if (n === latestTimestamp) return { kind: 'latest' };
  if (n < 0) throw invalidArgument(`offset ${n} is negative`);
  return n;
}

export function checkTopicPartition(topic: unknown, partition: unknown): void {
  if (typeof topic !== 'string' || topic.length === 0) throw invalidArgument('topic must be a non-empty string');
  if (!Number.isInteger(partition) || (partition as number) < 0)
    throw invalidArgument('partition must be a non-negative integer');
}

/** Moves a partition to an offset (fetch and deliver from there) or to a reset (resolved before the next fetch). */
export function moveTo(state: PartitionState, target: number | Reset): void {
  if (typeof target === 'number') {
    state.position = target;
    state.consumed = target;
  } else {
    state.position = null;
    state.consumed = null;
    state.reset = target;
  }
}

export class SubscriptionState {
  private readonly partitions = new Map<string, PartitionState>();
  private readonly pausedTopics = new Set<string>();
  private readonly pausedPartitions = new Set<string>();
  /** Seeks of partitions not assigned yet (group members), applied when they are. */
  private readonly pendingSeeks = new Map<string, number | Reset>();

  /**
   * @param invalidated told when a partition's fetched-but-undelivered records stop counting
   *   (seek, pause): the fetcher drops what it buffered for it.
   */
  constructor(private readonly invalidated: (state: PartitionState) => void = () => undefined) {}

  get size(): number {
    return this.partitions.size;
  }

  get(topic: string, partition: number): PartitionState | undefined {
    return this.partitions.get(topicPartitionKey(topic, partition));
  }

  has(topic: string, partition: number): boolean {
    return this.partitions.has(topicPartitionKey(topic, partition));
  }

  /** Whether `state` is still the assigned state of its partition (not replaced by a new assignment). */
  isAssigned(state: PartitionState): boolean {
    return this.partitions.get(topicPartitionKey(state.topic, state.partition)) === state;
  }

  states(): IterableIterator<PartitionState> {
    return this.partitions.values();
  }

  /** Adds partitions not assigned yet (a subscription without a group grows). */
  add(states: PartitionState[]): void {
    for (const s of states) {
      const key = topicPartitionKey(s.topic, s.partition);
      if (!this.partitions.has(key)) this.partitions.set(key, s);
    }
  }

  /** Replaces the assignment. */
  replace(next: PartitionState[]): void {
    this.partitions.clear();
    for (const s of next) this.partitions.set(topicPartitionKey(s.topic, s.partition), s);
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.partitions.values()]
      .map(({ topic, partition }) => ({ topic, partition }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /**
   * The partition's state with its older fetches and deliveries made stale
   * (version bumped, buffered records dropped); created by `create` when not assigned.
   */
  invalidate(topic: string, partition: number, create?: () => PartitionState): PartitionState {
    const key = topicPartitionKey(topic, partition);
    let state = this.partitions.get(key);
    if (!state) {
      if (!create) throw invalidArgument(`${topic}-${partition} is not assigned`);
      state = create();
      this.partitions.set(key, state);
    }
    this.invalidated(state);
    state.version++;
    return state;
  }

  /** Remembers a seek of a partition not assigned (yet); bounded. */
  seekLater(topic: string, partition: number, target: number | Reset): void {
    const key = topicPartitionKey(topic, partition);
    if (this.pendingSeeks.size >= consumerPendingSeeksMax && !this.pendingSeeks.has(key))
      throw invalidArgument(`more than ${consumerPendingSeeksMax} seeks of unassigned partitions`);
    this.pendingSeeks.set(key, target);
  }

  /** The pending seek of a partition just assigned (removed). */
  takePendingSeek(topic: string, partition: number): number | Reset | undefined {
    const key = topicPartitionKey(topic, partition);
    const seek = this.pendingSeeks.get(key);
    if (seek !== undefined) this.pendingSeeks.delete(key);
    return seek;
  }

  isPaused(topic: string, partition: number): boolean {
    return this.pausedTopics.has(topic) || this.pausedPartitions.has(topicPartitionKey(topic, partition));
  }

  /**
   * Stops fetching and delivering these partitions (every partition of a
   * topic when `partitions` is omitted, including ones assigned later).
   * Records fetched but not yet delivered are fetched again after resume().
   */
  pause(topics: TopicPartitionsSpec[]): void {
    for (const spec of checkSpecs(topics, 'pause')) {
      if (spec.partitions === undefined) this.pausedTopics.add(spec.topic);
      else {
        for (const p of spec.partitions) {
          if (this.pausedPartitions.size >= consumerPendingSeeksMax)
            throw invalidArgument(`more than ${consumerPendingSeeksMax} paused partitions`);
          this.pausedPartitions.add(topicPartitionKey(spec.topic, p));
        }
      }
      for (const state of this.partitions.values()) {
        if (state.topic !== spec.topic || !this.isPaused(state.topic, state.partition)) continue;
        const resumeAt = state.consumed ?? state.position;
        this.invalidate(state.topic, state.partition);
        state.position = resumeAt;
      }
    }
  }

  resume(topics: TopicPartitionsSpec[]): void {
    for (const spec of checkSpecs(topics, 'resume')) {
      if (spec.partitions === undefined) {
        this.pausedTopics.delete(spec.topic);
        for (const key of [...this.pausedPartitions])
          if (splitTopicPartitionKey(key).topic === spec.topic) this.pausedPartitions.delete(key);
        continue;
      }
      if (this.pausedTopics.has(spec.topic)) {
        // the topic was paused as a whole: keep its other assigned partitions paused one by one
        this.pausedTopics.delete(spec.topic);
        for (const s of this.partitions.values())
          if (s.topic === spec.topic) this.pausedPartitions.add(topicPartitionKey(s.topic, s.partition));
      }
      for (const p of spec.partitions) this.pausedPartitions.delete(topicPartitionKey(spec.topic, p));
    }
  }

  paused(): { topic: string; partition: number }[] {
    return this.assignment().filter((tp) => this.isPaused(tp.topic, tp.partition));
  }

  /** The assigned partitions that are not paused. */
  active(): PartitionState[] {
    const out: PartitionState[] = [];
    for (const s of this.partitions.values()) if (!this.isPaused(s.topic, s.partition)) out.push(s);
    return out;
  }
}

function checkSpecs(topics: TopicPartitionsSpec[], what: string): TopicPartitionsSpec[] {
  if (!Array.isArray(topics)) throw invalidArgument(`${what}() needs [{ topic, partitions? }]`);
  for (const spec of topics) {
    if (typeof spec?.topic !== 'string' || spec.topic.length === 0)
      throw invalidArgument(`${what}(): topic must be a non-empty string`);
    if (spec.partitions !== undefined) {
      if (!Array.isArray(spec.partitions)) throw invalidArgument(`${what}(): partitions must be a list`);
      for (const p of spec.partitions) checkTopicPartition(spec.topic, p);
    }
  }
  return topics;
}
