/**
 * The consumer. Without a group it reads the partitions it is given
 * (assign(), or subscribe() meaning every partition of the topics) from
 * positions it keeps itself — an offset, earliest/latest, or a timestamp —
 * in order per partition, so a reader can replay from any offset.
 *
 * With a groupId, subscribe() starts a GroupMembership: the group's leader
 * shares the partitions out, and each assignment arrives through
 * applyAssignment() with the group's committed offsets (or autoOffsetReset
 * where none is). Delivery is at-least-once: a partition's offset is
 * committed only up to records whose handler resolved (last processed + 1);
 * before giving partitions up in a rebalance the consumer lets running
 * handlers finish and, with autoCommit, commits them.
 *
 * Bounds: one fetch round in flight (one request per leader), each bounded
 * by maxBytes / maxBytesPerPartition; poll() returns at most maxRecords and
 * keeps the rest of that one round buffered; run() delivers one poll's
 * records (partitionsConsumedConcurrently partitions at a time) before it
 * fetches again.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { TopicPartitions } from '../protocol/native/consumer-protocol.js';
import type { FetchPartitionResponse, FetchRequest } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  batchBytesMax,
  batchHeaderBytes,
  consumerAutoCommitIntervalMsDefault,
  consumerAutoCommitIntervalMsMax,
  consumerPartitionsConcurrentlyMax,
  consumerPendingSeeksMax,
  consumerPollRecordsMax,
  consumerPrefetchRecordsMax,
  fetchMaxBytesDefault,
  fetchMaxWaitMsDefault,
  fetchPartitionMaxBytesDefault,
  groupRebalanceTimeoutMsDefault,
  groupRebalanceTimeoutMsMax,
  groupSessionTimeoutMsDefault,
  groupSessionTimeoutMsMax,
  groupSessionTimeoutMsMin,
  groupSubscribedTopicsMax,
  requestStringLengthMax,
} from '../shared/limits.js';
import { splitTopicPartitionKey, topicPartitionKey } from '../shared/topic-partition.js';
import { batchSizeOf, lastOffsetOf, logOverheadBytes } from '../wire/record-batch.js';
import { forEachRecord } from '../wire/record-batch-decoder.js';
import { type Assignor, builtinAssignor, defaultAssignors } from './assignors/index.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, closedError, invalidArgument, isRetriableError, wireError } from './errors.js';
import { fencingCodes, GroupMembership } from './group-membership.js';
import { earliestTimestamp, latestTimestamp, listOffsets } from './offsets.js';
import { boundedInt } from './options.js';
import type {
  AssignorSpec,
  AutoOffsetReset,
  ConsumerOptions,
  ConsumerRecord,
  CorruptSkip,
  EachBatchPayload,
  GroupGeneration,
  Message,
  OffsetSpec,
  PollOptions,
  RunOptions,
  SubscribeOptions,
  TopicPartitionOffset,
  TopicPartitionsSpec,
  TopicPattern,
} from './types.js';

type Reset = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'none' } | { kind: 'timestamp'; timestamp: number };

interface PartitionState {
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

/** Records of one partition taken from one poll for delivery. */
interface DeliveryGroup {
  state: PartitionState;
  version: number;
  records: ConsumerRecord[];
}

/** Which consumer's handler the current async context runs in (close() from inside must not wait for itself). */
const deliveryContext = new AsyncLocalStorage<Consumer>();

function newState(topic: string, partition: number, reset: Reset, maxBytes: number): PartitionState {
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

function assignorOf(spec: AssignorSpec): Assignor {
  if (typeof spec === 'string') {
    const a = builtinAssignor(spec);
    if (!a) throw invalidArgument(`unknown assignor '${spec}' (range, roundrobin or sticky)`);
    return a;
  }
  if (!spec || typeof spec.name !== 'string' || typeof spec.assign !== 'function')
    throw invalidArgument('an assignor needs a name and assign(members, partitionsPerTopic)');
  return spec;
}

/** Consecutive failed polls run() rides through (each after a backoff) before it gives up. */
const runFailuresMax = 100;

function resetOf(policy: AutoOffsetReset | undefined): Reset {
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
function parseOffset(spec: OffsetSpec): number | Reset {
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

function checkTopicPartition(topic: unknown, partition: unknown): void {
  if (typeof topic !== 'string' || topic.length === 0) throw invalidArgument('topic must be a non-empty string');
  if (!Number.isInteger(partition) || (partition as number) < 0)
    throw invalidArgument('partition must be a non-negative integer');
}

const emptyBuffer = Buffer.alloc(0);

/** The offset after the last whole batch in `bytes` (`from` when there is none), read from batch headers only. */
function endOfWholeBatches(bytes: Buffer | undefined, from: number): number {
  let next = from;
  if (!bytes) return next;
  for (let pos = 0; bytes.length - pos >= batchHeaderBytes; ) {
    const size = batchSizeOf(bytes, pos);
    if (size < batchHeaderBytes || pos + size > bytes.length) break;
    next = Math.max(next, lastOffsetOf(bytes, pos) + 1);
    pos += size;
  }
  return next;
}

export class Consumer {
  readonly groupId: string | undefined;
  private readonly defaultReset: Reset;
  /** Set by a caller that chose to skip records the broker finds corrupt (told each time). */
  private readonly skipCorrupt: ((skipped: CorruptSkip) => void) | undefined;
  private readonly maxWaitMs: number;
  private readonly minBytes: number;
  private readonly maxBytes: number;
  private readonly maxBytesPerPartition: number;
  private readonly partitions = new Map<string, PartitionState>();
  private buffered: ConsumerRecord[] = [];
  private polling: Promise<void> | null = null;
  private running = false;
  private closed = false;
  private closeSignal: () => void = () => undefined;
  private readonly closedPromise: Promise<void>;
  private runDone: Promise<void> | null = null;
  private readonly concurrency: number;

  // ---- groups ----
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly groupInstanceId: string | null;
  private readonly rebalanceTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly assignors: readonly Assignor[];
  private membership: GroupMembership | null = null;
  private readonly subscribedTopics = new Set<string>();
  private readonly subscribedPatterns: RegExp[] = [];
  private groupReset: Reset;
  private autoCommitTimer: NodeJS.Timeout | null = null;
  private commitChain: Promise<void> = Promise.resolve();
  /** Set while a rebalance takes the partitions away: nothing more is delivered. */
  private revoking = false;
  private groupError: Error | null = null;
  /** Seeks of partitions not assigned yet, applied when they are. */
  private readonly pendingSeeks = new Map<string, number | Reset>();
  private readonly pausedTopics = new Set<string>();
  private readonly pausedPartitions = new Set<string>();
  /** poll() users: the next offset after what the last poll() returned, per partition (processed at the next poll/commit/close). */
  private lastPolled = new Map<PartitionState, number>();
  private activeDeliveries = 0;
  private idleWaiters: (() => void)[] = [];
  /**
   * Processed offsets the revocation could not commit (e.g. the coordinator
   * refuses commits while rebalancing): when the next generation gives the
   * partition back to this member, it resumes (and commits) from there.
   */
  private carryOver = new Map<string, number>();

  constructor(
    private readonly cluster: Cluster,
    options: ConsumerOptions = {},
    private readonly onClose: (c: Consumer) => void = () => undefined,
  ) {
    if (options.groupId !== undefined && (typeof options.groupId !== 'string' || options.groupId.length === 0))
      throw invalidArgument('groupId must be a non-empty string');
    this.groupId = options.groupId;
    this.defaultReset = resetOf(options.autoOffsetReset);
    this.skipCorrupt = options.skipCorrupt;
    this.groupReset = this.defaultReset;
    // null has always meant the default here (`??`), so it still does
    this.maxWaitMs = boundedInt('maxWaitMs', options.maxWaitMs ?? undefined, 0, 600_000, fetchMaxWaitMsDefault);
    this.minBytes = options.minBytes ?? 1;
    this.maxBytes = Math.min(options.maxBytes ?? fetchMaxBytesDefault, batchBytesMax * 2);
    this.maxBytesPerPartition = Math.min(options.maxBytesPerPartition ?? fetchPartitionMaxBytesDefault, this.maxBytes);
    this.concurrency = boundedInt(
      'partitionsConsumedConcurrently',
      options.partitionsConsumedConcurrently,
      1,
      consumerPartitionsConcurrentlyMax,
      1,
    );
    if (options.autoCommit !== undefined && typeof options.autoCommit !== 'boolean')
      throw invalidArgument('autoCommit must be true or false');
    this.autoCommit = options.autoCommit ?? true;
    this.autoCommitIntervalMs = boundedInt(
      'autoCommitIntervalMs',
      options.autoCommitIntervalMs,
      1,
      consumerAutoCommitIntervalMsMax,
      consumerAutoCommitIntervalMsDefault,
    );
    if (
      options.groupInstanceId !== undefined &&
      (typeof options.groupInstanceId !== 'string' ||
        options.groupInstanceId === '' ||
        Buffer.byteLength(options.groupInstanceId) > requestStringLengthMax)
    )
      throw invalidArgument(`groupInstanceId must be a non-empty string of at most ${requestStringLengthMax} bytes`);
    this.groupInstanceId = options.groupInstanceId ?? null;
    this.sessionTimeoutMs = boundedInt(
      'sessionTimeoutMs',
      options.sessionTimeoutMs,
      groupSessionTimeoutMsMin,
      groupSessionTimeoutMsMax,
      groupSessionTimeoutMsDefault,
    );
    this.rebalanceTimeoutMs = boundedInt(
      'rebalanceTimeoutMs',
      options.rebalanceTimeoutMs,
      1,
      groupRebalanceTimeoutMsMax,
      groupRebalanceTimeoutMsDefault,
    );
    this.heartbeatIntervalMs = boundedInt(
      'heartbeatIntervalMs',
      options.heartbeatIntervalMs,
      1,
      this.sessionTimeoutMs - 1,
      Math.max(1, Math.floor(this.sessionTimeoutMs / 3)),
    );
    if (options.assignors !== undefined && (!Array.isArray(options.assignors) || options.assignors.length === 0))
      throw invalidArgument('assignors must be a non-empty list');
    this.assignors = options.assignors ? options.assignors.map(assignorOf) : defaultAssignors;
    this.closedPromise = new Promise<void>((resolve) => {
      this.closeSignal = resolve;
    });
  }

  private requireNoGroup(what: string): void {
    if (this.groupId !== undefined) {
      throw new SluiceError(
        ErrorCode.Unsupported,
        `${what} with groupId '${this.groupId}': the group assigns the partitions; use subscribe(), or omit groupId`,
      );
    }
  }

  /**
   * Without a group: every partition of `topics`, each starting per
   * autoOffsetReset (or earliest with fromBeginning). With a group: joins it
   * (or rejoins with the wider subscription); topics may be regular expressions.
   */
  async subscribe(options: SubscribeOptions): Promise<void> {
    if (this.closed) throw closedError('the consumer');
    const topics: TopicPattern[] | undefined =
      options?.topics ?? (options?.topic !== undefined ? [options.topic] : undefined);
    if (!Array.isArray(topics) || topics.length === 0) throw invalidArgument('subscribe() needs topics: [...]');
    for (const t of topics) {
      if (!(t instanceof RegExp) && (typeof t !== 'string' || t.length === 0))
        throw invalidArgument('a subscribed topic is a non-empty string or a RegExp');
    }
    if (this.groupId !== undefined) {
      this.subscribeGroup(topics, options.fromBeginning === true);
      return;
    }
    if (topics.some((t) => t instanceof RegExp))
      throw invalidArgument('regular-expression subscriptions need a groupId (or list the topics)');
    const reset = options.fromBeginning ? { kind: 'earliest' as const } : this.defaultReset;
    const assignment: PartitionState[] = [];
    for (const topic of topics as string[]) {
      const info = await this.cluster.retry(() => this.cluster.topic(topic));
      for (const p of info.partitions) assignment.push(newState(topic, p.partition, reset, this.maxBytesPerPartition));
    }
    for (const s of assignment) {
      const key = topicPartitionKey(s.topic, s.partition);
      if (!this.partitions.has(key)) this.partitions.set(key, s);
    }
  }

  private subscribeGroup(topics: TopicPattern[], fromBeginning: boolean): void {
    if (this.subscribedTopics.size + this.subscribedPatterns.length + topics.length > groupSubscribedTopicsMax)
      throw invalidArgument(`a subscription may name at most ${groupSubscribedTopicsMax} topics`);
    for (const t of topics) {
      if (t instanceof RegExp) this.subscribedPatterns.push(new RegExp(t.source, t.flags.replace(/[gy]/g, '')));
      else this.subscribedTopics.add(t);
    }
    if (fromBeginning) this.groupReset = { kind: 'earliest' };
    if (this.membership) {
      this.membership.requestRejoin();
      return;
    }
    const groupId = this.groupId as string;
    this.membership = new GroupMembership(
      this.cluster,
      {
        groupId,
        groupInstanceId: this.groupInstanceId,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        assignors: this.assignors,
      },
      {
        topics: () => this.subscriptionTopics(),
        dynamicTopics: () => this.subscribedPatterns.length > 0,
        revoke: (partitions) => this.onRevoke(partitions),
        assign: (partitions, generationId) => this.onAssign(partitions, generationId),
        fatal: (err) => {
          this.groupError = err;
        },
      },
    );
    this.membership.start();
    if (this.autoCommit) {
      this.autoCommitTimer = setInterval(() => {
        if (this.membership?.stable && !this.revoking) this.commitProcessed().catch(() => undefined);
      }, this.autoCommitIntervalMs);
      this.autoCommitTimer.unref?.();
    }
  }

  /** The subscribed topic names, regular expressions resolved against the cluster's topics; sorted. */
  private async subscriptionTopics(): Promise<string[]> {
    const names = new Set(this.subscribedTopics);
    if (this.subscribedPatterns.length > 0) {
      const res = await this.cluster.refreshMetadata(null);
      for (const t of res.topics ?? []) {
        if (t.errorCode !== 0 || t.name.startsWith('__')) continue;
        if (this.subscribedPatterns.some((re) => re.test(t.name))) names.add(t.name);
        if (names.size >= groupSubscribedTopicsMax) break;
      }
    }
    return [...names].sort();
  }

  /** A rebalance takes every partition away: let running handlers finish, commit what they processed, stop. */
  private async onRevoke(_partitions: TopicPartitions[]): Promise<void> {
    this.revoking = true;
    try {
      await this.waitIdle(this.rebalanceTimeoutMs);
      if (this.autoCommit) {
        this.promotePolled();
        try {
          await this.commitProcessed();
        } catch {
          // not committed: the next owner gets those records again (at-least-once)
        }
      }
      this.carryOver = new Map();
      for (const st of this.partitions.values()) {
        if (st.processed !== null && st.processed !== st.committed)
          this.carryOver.set(topicPartitionKey(st.topic, st.partition), st.processed);
      }
      this.applyAssignment([]);
    } finally {
      this.revoking = false;
    }
  }

  /** A new generation's partitions: each starts at the group's committed offset, else per autoOffsetReset. */
  private async onAssign(partitions: TopicPartitions[], _generationId: number): Promise<void> {
    if (this.closed || !this.membership) return;
    const committed = await this.membership.committedOffsets(partitions);
    const next: PartitionState[] = [];
    for (const tp of partitions) {
      for (const partition of tp.partitions) {
        const key = topicPartitionKey(tp.topic, partition);
        const state = newState(tp.topic, partition, this.groupReset, this.maxBytesPerPartition);
        const offset = committed.get(key) ?? -1;
        if (offset >= 0) {
          state.position = offset;
          state.consumed = offset;
          state.committed = offset;
        }
        // processed by this member in the generation just ended, but not committed then: this one commits it
        const carried = this.carryOver.get(key);
        if (carried !== undefined && carried > offset) {
          state.position = carried;
          state.consumed = carried;
          state.processed = carried;
        }
        const seek = this.pendingSeeks.get(key);
        if (seek !== undefined) {
          this.pendingSeeks.delete(key);
          if (typeof seek === 'number') {
            state.position = seek;
            state.consumed = seek;
          } else {
            state.position = null;
            state.consumed = null;
            state.reset = seek;
          }
        }
        next.push(state);
      }
    }
    this.carryOver.clear();
    if (this.closed) return;
    this.applyAssignment(next);
  }

  /** Waits until no handler runs (at most `ms`). */
  private waitIdle(ms: number): Promise<void> {
    if (this.activeDeliveries === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.idleWaiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  /** Reads exactly these partitions, each from its offset (default: autoOffsetReset). Replaces the assignment. */
  assign(partitions: TopicPartitionOffset[]): void {
    if (this.closed) throw closedError('the consumer');
    this.requireNoGroup('assign()');
    if (!Array.isArray(partitions)) throw invalidArgument('assign() needs [{ topic, partition, offset? }]');
    const next = partitions.map((tp) => {
      checkTopicPartition(tp?.topic, tp?.partition);
      const state = newState(tp.topic, tp.partition, this.defaultReset, this.maxBytesPerPartition);
      if (tp.offset !== undefined && tp.offset !== null) {
        const o = parseOffset(tp.offset);
        if (typeof o === 'number') {
          state.position = o;
          state.consumed = o;
        } else state.reset = o;
      }
      return state;
    });
    this.applyAssignment(next);
  }

  /** Replaces the assignment (assign(), or a group's new generation), keeping nothing buffered for dropped partitions. */
  protected applyAssignment(next: PartitionState[]): void {
    this.partitions.clear();
    for (const s of next) this.partitions.set(topicPartitionKey(s.topic, s.partition), s);
    this.buffered = this.buffered.filter((r) => this.partitions.has(topicPartitionKey(r.topic, r.partition)));
    for (const s of this.lastPolled.keys()) if (!next.includes(s)) this.lastPolled.delete(s);
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.partitions.values()]
      .map(({ topic, partition }) => ({ topic, partition }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /** The group generation this consumer is part of; null without a group or before it joined. */
  groupGeneration(): GroupGeneration | null {
    const m = this.membership;
    if (!m || m.generationId < 0) return null;
    return {
      groupId: m.groupId,
      generationId: m.generationId,
      memberId: m.memberId,
      leaderId: m.leaderId,
      isLeader: m.isLeader,
      protocol: m.protocol,
    };
  }

  /** The next offset to be fetched for a partition (null until resolved); buffered records come first. */
  position(topic: string, partition: number): number | null {
    const first = this.buffered.find((r) => r.topic === topic && r.partition === partition);
    if (first) return first.offset;
    return this.partitions.get(topicPartitionKey(topic, partition))?.position ?? null;
  }

  /**
   * Moves a partition to an offset, or to 'earliest' / 'latest'. Without a
   * group, assigns the partition when it is not; with one, a partition not
   * assigned (yet) is moved when it is.
   */
  seek(target: { topic: string; partition: number; offset: OffsetSpec }): void {
    if (this.closed) throw closedError('the consumer');
    checkTopicPartition(target?.topic, target?.partition);
    const o = parseOffset(target.offset);
    const key = topicPartitionKey(target.topic, target.partition);
    if (this.groupId !== undefined && !this.partitions.has(key)) {
      if (this.pendingSeeks.size >= consumerPendingSeeksMax && !this.pendingSeeks.has(key))
        throw invalidArgument(`more than ${consumerPendingSeeksMax} seeks of unassigned partitions`);
      this.pendingSeeks.set(key, o);
      return;
    }
    const state = this.stateFor(target.topic, target.partition);
    if (typeof o === 'number') {
      state.position = o;
      state.consumed = o;
    } else {
      state.position = null;
      state.consumed = null;
      state.reset = o;
    }
  }

  /** Moves a partition to the first record with a timestamp at or after `timestamp` (ms or Date); the end when none. */
  async seekToTimestamp(target: { topic: string; partition: number; timestamp: number | Date }): Promise<void> {
    if (this.closed) throw closedError('the consumer');
    checkTopicPartition(target?.topic, target?.partition);
    const ts = target.timestamp instanceof Date ? target.timestamp.getTime() : target.timestamp;
    if (!Number.isSafeInteger(ts) || ts < 0)
      throw invalidArgument(`timestamp must be milliseconds since the epoch, not ${String(ts)}`);
    if (this.groupId !== undefined && !this.partitions.has(topicPartitionKey(target.topic, target.partition))) {
      throw invalidArgument(`${target.topic}-${target.partition} is not assigned to this member of '${this.groupId}'`);
    }
    const state = this.stateFor(target.topic, target.partition);
    state.position = null;
    state.consumed = null;
    state.reset = { kind: 'timestamp', timestamp: ts };
    await this.resolvePositions();
  }

  /** The partition's state (created when no group), with its buffered records dropped and older deliveries stale. */
  private stateFor(topic: string, partition: number): PartitionState {
    const key = topicPartitionKey(topic, partition);
    let state = this.partitions.get(key);
    if (!state) {
      this.requireNoGroup('seek() of an unassigned partition');
      state = newState(topic, partition, this.defaultReset, this.maxBytesPerPartition);
      this.partitions.set(key, state);
    }
    this.buffered = this.buffered.filter((r) => r.topic !== topic || r.partition !== partition);
    this.lastPolled.delete(state);
    state.version++;
    return state;
  }

  private isPaused(topic: string, partition: number): boolean {
    return this.pausedTopics.has(topic) || this.pausedPartitions.has(topicPartitionKey(topic, partition));
  }

  /**
   * Stops fetching and delivering these partitions (every partition of a
   * topic when `partitions` is omitted, including ones assigned later) until
   * resume(). Records fetched but not yet delivered are fetched again after resume().
   */
  pause(topics: TopicPartitionsSpec[]): void {
    if (this.closed) throw closedError('the consumer');
    for (const spec of this.checkSpecs(topics, 'pause')) {
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
        this.stateFor(state.topic, state.partition);
        state.position = resumeAt;
      }
    }
  }

  /** Undoes pause() for these partitions (every partition of a topic when `partitions` is omitted). */
  resume(topics: TopicPartitionsSpec[]): void {
    if (this.closed) throw closedError('the consumer');
    for (const spec of this.checkSpecs(topics, 'resume')) {
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

  /** The assigned partitions that are paused. */
  paused(): { topic: string; partition: number }[] {
    return this.assignment().filter((tp) => this.isPaused(tp.topic, tp.partition));
  }

  private checkSpecs(topics: TopicPartitionsSpec[], what: string): TopicPartitionsSpec[] {
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

  /** Turns every pending reset into an offset (ListOffsets at the leaders). */
  private async resolvePositions(): Promise<void> {
    const pending = [...this.partitions.values()].filter((s) => s.position === null);
    if (pending.length === 0) return;
    const none = pending.find((s) => s.reset.kind === 'none');
    if (none) {
      const where = this.groupId !== undefined ? `no committed offset in group '${this.groupId}'` : 'no offset given';
      throw new SluiceError(
        ErrorCode.OffsetOutOfRange,
        `${none.topic}-${none.partition}: ${where} (or it is out of range) and autoOffsetReset is 'none'`,
      );
    }
    const queries = pending.map((s) => ({
      topic: s.topic,
      partition: s.partition,
      timestamp:
        s.reset.kind === 'earliest'
          ? earliestTimestamp
          : s.reset.kind === 'timestamp'
            ? s.reset.timestamp
            : latestTimestamp,
    }));
    const answers = await listOffsets(this.cluster, queries);
    answers.forEach((a, i) => {
      const s = pending[i] as PartitionState;
      // only when nobody moved the partition meanwhile
      if (s.position === null && this.partitions.get(topicPartitionKey(s.topic, s.partition)) === s) {
        s.position = a.offset;
        s.consumed = a.offset;
      }
    });
  }

  /**
   * Returns the next records (in order per partition), waiting up to maxWaitMs
   * for some when none is buffered; [] when none arrived. In a group, the
   * records a poll() returned count as processed at the next poll(), commit() or close().
   */
  async poll(options: PollOptions = {}): Promise<ConsumerRecord[]> {
    if (this.closed) throw closedError('the consumer');
    this.promotePolled();
    const records = await this.pollRecords(options);
    for (const r of records) {
      const state = this.partitions.get(topicPartitionKey(r.topic, r.partition));
      if (!state) continue;
      state.consumed = r.offset + 1;
      if (this.membership) this.lastPolled.set(state, r.offset + 1);
    }
    return records;
  }

  /** What the last poll() returned becomes processed. */
  private promotePolled(): void {
    for (const [state, next] of this.lastPolled) {
      if (this.partitions.get(topicPartitionKey(state.topic, state.partition)) === state) state.processed = next;
    }
    this.lastPolled.clear();
  }

  private async pollRecords(options: PollOptions): Promise<ConsumerRecord[]> {
    if (this.groupError) throw this.groupError;
    const maxRecords = Math.max(1, Math.min(options.maxRecords ?? consumerPollRecordsMax, consumerPollRecordsMax));
    if (this.buffered.length === 0) {
      const prefetched = this.polling !== null && this.pollingInBackground;
      if (!this.polling) this.startFetchRound(options.maxWaitMs ?? this.maxWaitMs, false);
      await Promise.race([this.polling, this.closedPromise]);
      if (this.closed) return [];
      // a round fetched ahead (before a seek or a new assignment) may bring nothing for where the
      // caller reads now: ask once more, for the current positions
      if (prefetched && this.buffered.length === 0) {
        if (!this.polling) this.startFetchRound(options.maxWaitMs ?? this.maxWaitMs, false);
        await Promise.race([this.polling, this.closedPromise]);
        if (this.closed) return [];
      }
    }
    const records = this.buffered.splice(0, maxRecords);
    // fetch the next round while the caller works on these (Kafka's consumer pipelines fetches the
    // same way); bounded: one round in flight, none while enough is buffered
    if (!this.polling && this.buffered.length < consumerPrefetchRecordsMax && !this.closed) {
      this.startFetchRound(this.maxWaitMs, true);
    }
    return records;
  }

  private pollingInBackground = false;

  private startFetchRound(maxWaitMs: number, background: boolean): void {
    this.pollingInBackground = background;
    const round = this.fetchRound(maxWaitMs).finally(() => {
      if (this.polling === round) this.polling = null;
    });
    // a failure surfaces at the poll() that waits for this round; until then it is not unhandled
    round.catch(() => undefined);
    this.polling = round;
  }

  /** One fetch from every leader of the assigned, unpaused partitions; what arrives is buffered. */
  private async fetchRound(maxWaitMs: number): Promise<void> {
    const active = [...this.partitions.values()].filter((s) => !this.isPaused(s.topic, s.partition));
    // a rejoin under way: the partitions are about to be revoked, and fetches would be fenced anyway
    const rejoining = this.membership !== null && !this.membership.stable;
    if (active.length === 0 || this.revoking || rejoining) {
      await Promise.race([this.cluster.pause(maxWaitMs), this.closedPromise]);
      return;
    }
    await this.resolvePositions();
    const byLeader = new Map<number, PartitionState[]>();
    for (const s of active) {
      if (s.position === null) continue;
      const leader = await this.cluster.leaderOf(s.topic, s.partition);
      const list = byLeader.get(leader) ?? [];
      list.push(s);
      byLeader.set(leader, list);
    }
    if (byLeader.size === 0) {
      await Promise.race([this.cluster.pause(maxWaitMs), this.closedPromise]);
      return;
    }
    const groups = [...byLeader];
    // fetching ahead keeps one round in flight at most: with several leaders the rounds would overlap
    this.fetchAhead = groups.length === 1 && this.membership === null;
    const results = await Promise.allSettled(
      groups.map(([leader, states]) => this.fetchFrom(leader, states, maxWaitMs)),
    );
    let got = 0;
    let firstError: unknown = null;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        got += r.value.length;
        for (const rec of r.value) this.buffered.push(rec);
        return;
      }
      firstError ??= r.reason;
      // that leader is unreachable or refused the whole fetch: its partitions may have moved (a failover),
      // so their leaders are looked up again next round, even while other leaders keep delivering
      for (const s of groups[i]?.[1] ?? []) this.cluster.invalidate(s.topic);
    });
    if (got === 0 && firstError !== null) throw firstError;
  }

  private async fetchFrom(leader: number, states: PartitionState[], maxWaitMs: number): Promise<ConsumerRecord[]> {
    // a seek or reset while this round was being prepared leaves a position unresolved: skip that one
    const asked = states
      .filter((s) => s.position !== null)
      .map((s) => ({ state: s, offset: s.position as number, version: s.version }));
    if (asked.length === 0) return [];
    const topics = new Map<string, { partition: number; fetchOffset: number; partitionMaxBytes: number }[]>();
    for (const { state, offset } of asked) {
      const list = topics.get(state.topic) ?? [];
      list.push({ partition: state.partition, fetchOffset: offset, partitionMaxBytes: state.maxBytes });
      topics.set(state.topic, list);
    }
    const body: FetchRequest = {
      maxWaitMs,
      minBytes: this.minBytes,
      maxBytes: this.maxBytes,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    };
    const m = this.membership;
    const generationId = m?.generationId ?? -1;
    if (m && generationId >= 0) {
      body.groupId = m.groupId;
      body.generationId = generationId;
      body.memberId = m.memberId;
    }
    // a long poll goes on the broker's fetch connection: produce acknowledgements, heartbeats and
    // commits on the default one are not held behind it (responses come in request order)
    const conn = await this.cluster.brokerConnection(leader, maxWaitMs > 0 ? 'fetch' : 'default');
    const res = await conn.request(ApiKey.Fetch, body, {
      timeoutMs: this.cluster.requestTimeoutMs + maxWaitMs,
    });
    if (m && fencingCodes.has(res.errorCode)) {
      // this generation is over: the membership rejoins, the records are someone else's now
      m.requestRejoin(generationId, res.errorCode === WireError.UNKNOWN_MEMBER_ID);
      return [];
    }
    checkTopLevel(res, 'fetch');
    const out: ConsumerRecord[] = [];
    let retriable: unknown = null;
    const current: { state: PartitionState; offset: number; p: FetchPartitionResponse }[] = [];
    for (const { state, offset, version } of asked) {
      // a seek, pause or new assignment during the fetch wins over what it brought
      if (
        this.partitions.get(topicPartitionKey(state.topic, state.partition)) !== state ||
        state.position !== offset ||
        state.version !== version ||
        this.isPaused(state.topic, state.partition)
      )
        continue;
      const p = res.topics
        ?.find((t) => t.name === state.topic)
        ?.partitions?.find((x) => x.partition === state.partition);
      if (p) current.push({ state, offset, p });
    }
    if (this.fetchAhead) this.fetchAheadOf(current);
    for (const { state, offset, p } of current) {
      const ctx = `fetch ${state.topic}-${state.partition} at offset ${offset}`;
      if (m && fencingCodes.has(p.errorCode)) {
        m.requestRejoin(generationId, p.errorCode === WireError.UNKNOWN_MEMBER_ID);
        continue;
      }
      if (p.errorCode === WireError.OFFSET_OUT_OF_RANGE) {
        state.position = null;
        state.consumed = null;
        state.reset = this.membership ? this.groupReset : this.defaultReset;
        continue;
      }
      if (
        p.errorCode === WireError.CORRUPT_MESSAGE &&
        this.skipCorrupt &&
        p.nextReadableOffset !== undefined &&
        p.nextReadableOffset > offset
      ) {
        // the caller chose to go on past records the broker found corrupt, and is told what was skipped
        state.position = p.nextReadableOffset;
        state.version++;
        this.skipCorrupt({ topic: state.topic, partition: state.partition, from: offset, to: p.nextReadableOffset });
        continue;
      }
      if (p.errorCode !== 0) {
        const err = wireError(p.errorCode, ctx, p.errorMessage);
        if (!isRetriableError(err)) throw err;
        retriable ??= err;
        this.cluster.invalidate(state.topic);
        continue;
      }
      let records: ConsumerRecord[];
      try {
        records = this.takeRecords(state, offset, p.records);
      } catch (err) {
        // a round fetched ahead from past these bytes: back to them, and that round's answer is stale
        state.position = offset;
        state.version++;
        throw err;
      }
      // appended one by one: a spread of a large fetch (100k+ records) overflows the call stack
      for (const record of records) out.push(record);
    }
    if (out.length === 0 && retriable) throw retriable;
    return out;
  }

  /**
   * Set by a round with a single leader: when its response arrives, the next
   * round is started before this one's records are decoded, so decoding
   * overlaps the next request's trip (the consumer was idle half the time
   * waiting for one round after the other). The positions it fetches from
   * come from the batch headers; decoding then advances them to the same place.
   */
  private fetchAhead = false;

  private fetchAheadOf(current: { state: PartitionState; offset: number; p: FetchPartitionResponse }[]): void {
    this.fetchAhead = false;
    if (this.closed || this.buffered.length >= consumerPrefetchRecordsMax / 2) return;
    let advanced = false;
    for (const { state, offset, p } of current) {
      if (p.errorCode !== 0) return; // errors are handled by this round first
      const next = endOfWholeBatches(p.records, offset);
      if (next > offset) {
        state.position = next;
        advanced = true;
      }
    }
    if (advanced) this.startFetchRound(this.maxWaitMs, true);
  }

  /** Decodes the whole batches of a fetch and advances the position past them. */
  private takeRecords(state: PartitionState, offset: number, bytes: Buffer | undefined): ConsumerRecord[] {
    const out: ConsumerRecord[] = [];
    if (!bytes || bytes.length === 0) return out;
    let pos = 0;
    let next = offset;
    while (bytes.length - pos >= batchHeaderBytes) {
      const size = batchSizeOf(bytes, pos);
      if (size < batchHeaderBytes) {
        throw new SluiceError(
          ErrorCode.CorruptRecord,
          `fetch of ${state.topic}-${state.partition}: impossible batch length ${size - logOverheadBytes}`,
        );
      }
      if (pos + size > bytes.length) break; // a partial batch at the end: fetched again next time
      const batch = bytes.subarray(pos, pos + size);
      const { topic, partition } = state;
      // one object per record, built directly (this loop is the consumer's hot path)
      forEachRecord(batch, 0, (recordOffset, timestamp, key, value, recordHeaders) => {
        if (recordOffset < next) return;
        const headers: Record<string, Buffer> = {};
        for (const h of recordHeaders) headers[h.key] = h.value ?? emptyBuffer;
        out.push({ topic, partition, offset: recordOffset, key, value, headers, timestamp });
        next = recordOffset + 1;
      });
      next = Math.max(next, lastOffsetOf(batch) + 1);
      pos += size;
    }
    if (next === offset && bytes.length > 0) {
      // not one whole batch fitted: ask for more next time (a batch is at most batchBytesMax)
      state.maxBytes = Math.min(batchBytesMax + logOverheadBytes, Math.max(state.maxBytes * 2, bytes.length * 2));
    }
    state.position = next;
    return out;
  }

  /**
   * Delivers records to eachMessage (one at a time per partition) or
   * eachBatch (one poll's records of a partition at a time), in order per
   * partition, up to partitionsConsumedConcurrently partitions at once, until
   * close(). A throwing handler stops run() (which rejects with its error);
   * its partition is rewound to the failed record (to the first unresolved
   * one for eachBatch), so the next poll() or run() redelivers it.
   */
  async run(options: RunOptions): Promise<void> {
    if (this.closed) throw closedError('the consumer');
    const hasMessage = typeof options?.eachMessage === 'function';
    const hasBatch = typeof options?.eachBatch === 'function';
    if (hasMessage === hasBatch) throw invalidArgument('run() needs eachMessage or eachBatch (one of them)');
    const concurrency = boundedInt(
      'partitionsConsumedConcurrently',
      options.partitionsConsumedConcurrently,
      1,
      consumerPartitionsConcurrentlyMax,
      this.concurrency,
    );
    if (this.running) throw invalidArgument('run() is already running');
    this.running = true;
    let done: () => void = () => undefined;
    this.runDone = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      this.promotePolled();
      let failures = 0;
      while (!this.closed) {
        let records: ConsumerRecord[];
        try {
          records = await this.pollRecords({});
          failures = 0;
        } catch (err) {
          if (this.closed) break;
          if (err === this.groupError || !isRetriableError(err) || ++failures > runFailuresMax) throw err;
          await Promise.race([
            this.cluster.pause(this.cluster.backoffMs(failures)).catch(() => undefined),
            this.closedPromise,
          ]);
          continue;
        }
        if (records.length > 0) await this.deliver(records, options, concurrency);
      }
    } finally {
      this.running = false;
      done();
    }
  }

  private async deliver(records: ConsumerRecord[], options: RunOptions, concurrency: number): Promise<void> {
    const groups = new Map<string, DeliveryGroup>();
    for (const r of records) {
      const key = topicPartitionKey(r.topic, r.partition);
      let g = groups.get(key);
      if (!g) {
        const state = this.partitions.get(key);
        if (!state) continue;
        g = { state, version: state.version, records: [] };
        groups.set(key, g);
      }
      g.records.push(r);
    }
    const queue = [...groups.values()];
    let failure: { err: unknown } | null = null;
    const worker = async (): Promise<void> => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        if (failure) {
          // not started: fetched again by the next run() or poll()
          this.rewind(g, (g.records[0] as ConsumerRecord).offset);
          continue;
        }
        try {
          if (options.eachBatch) await this.deliverBatch(g, options);
          else await this.deliverMessages(g, options);
        } catch (err) {
          failure ??= { err };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    if (failure) throw (failure as { err: unknown }).err;
  }

  /** Still this partition's current records: assigned, not sought or paused since, no rebalance or close under way. */
  private current(g: DeliveryGroup): boolean {
    const { state } = g;
    return (
      !this.closed &&
      !this.revoking &&
      state.version === g.version &&
      this.partitions.get(topicPartitionKey(state.topic, state.partition)) === state &&
      !this.isPaused(state.topic, state.partition)
    );
  }

  private stillAssigned(state: PartitionState): boolean {
    return this.partitions.get(topicPartitionKey(state.topic, state.partition)) === state;
  }

  /** Makes the partition fetch again from `offset` (when nothing else moved it meanwhile). */
  private rewind(g: DeliveryGroup, offset: number): void {
    if (!this.stillAssigned(g.state) || g.state.version !== g.version) return;
    this.stateFor(g.state.topic, g.state.partition);
    g.state.position = offset;
    g.state.consumed = offset;
  }

  private beginDelivery(): void {
    this.activeDeliveries++;
  }

  private endDelivery(): void {
    this.activeDeliveries--;
    if (this.activeDeliveries === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async deliverMessages(g: DeliveryGroup, options: RunOptions): Promise<void> {
    const handler = options.eachMessage as NonNullable<RunOptions['eachMessage']>;
    for (const r of g.records) {
      if (!this.current(g)) return;
      const { topic, partition, ...message } = r;
      g.state.consumed = r.offset + 1;
      this.beginDelivery();
      try {
        await deliveryContext.run(this, () => handler({ topic, partition, message }));
      } catch (err) {
        this.rewind(g, r.offset);
        throw err;
      } finally {
        this.endDelivery();
      }
      if (this.stillAssigned(g.state)) g.state.processed = r.offset + 1;
    }
  }

  private async deliverBatch(g: DeliveryGroup, options: RunOptions): Promise<void> {
    const handler = options.eachBatch as NonNullable<RunOptions['eachBatch']>;
    if (!this.current(g)) return;
    const first = g.records[0] as ConsumerRecord;
    const last = g.records[g.records.length - 1] as ConsumerRecord;
    const messages: Message[] = g.records.map(({ topic: _t, partition: _p, ...message }) => message);
    let resolved: number | null = null;
    const payload: EachBatchPayload = {
      batch: {
        topic: g.state.topic,
        partition: g.state.partition,
        messages,
        firstOffset: () => first.offset,
        lastOffset: () => last.offset,
      },
      resolveOffset: (offset: number) => {
        if (!Number.isSafeInteger(offset) || offset < first.offset || offset > last.offset) return;
        if (resolved !== null && offset + 1 <= resolved) return;
        resolved = offset + 1;
        if (this.stillAssigned(g.state)) g.state.processed = resolved;
      },
      heartbeat: async () => undefined,
      commitOffsetsIfNecessary: async () => {
        if (this.membership) await this.commitProcessed();
      },
      isRunning: () => !this.closed,
      isStale: () => !this.current(g),
    };
    g.state.consumed = last.offset + 1;
    this.beginDelivery();
    try {
      await deliveryContext.run(this, () => handler(payload));
    } catch (err) {
      this.rewind(g, resolved ?? first.offset);
      throw err;
    } finally {
      this.endDelivery();
    }
    if (options.eachBatchAutoResolve !== false) payload.resolveOffset(last.offset);
    else if (((resolved as number | null) ?? first.offset) <= last.offset) this.rewind(g, resolved ?? first.offset);
  }

  /**
   * Group only: commits the offsets of the processed records (each partition's
   * last processed offset + 1), or exactly `offsets` (next offsets to consume)
   * when given. Rejects when the group is rebalancing or this member's
   * generation is over (the offsets were not stored).
   */
  async commit(offsets?: TopicPartitionOffset[]): Promise<void> {
    if (this.groupId === undefined)
      throw new SluiceError(ErrorCode.Unsupported, 'commit() needs a consumer group (groupId)');
    if (this.closed) throw closedError('the consumer');
    const m = this.membership;
    if (!m) throw invalidArgument('commit() before subscribe(): the consumer is not in its group yet');
    if (offsets !== undefined) {
      if (!Array.isArray(offsets)) throw invalidArgument('commit() takes [{ topic, partition, offset }]');
      const list = offsets.map((o) => {
        checkTopicPartition(o?.topic, o?.partition);
        const n = o.offset === undefined || o.offset === null ? Number.NaN : parseOffset(o.offset);
        if (typeof n !== 'number' || Number.isNaN(n)) throw invalidArgument('commit() needs numeric offsets');
        return { topic: o.topic, partition: o.partition, offset: n };
      });
      await this.serialized(async () => {
        if (m.generationId < 0) throw this.notMember();
        await m.commit(list);
        for (const o of list) {
          const s = this.partitions.get(topicPartitionKey(o.topic, o.partition));
          if (s) s.committed = o.offset;
        }
      });
      return;
    }
    this.promotePolled();
    await this.commitProcessed(true);
  }

  private notMember(): SluiceError {
    return new SluiceError(
      ErrorCode.BrokerError,
      `not a member of group '${this.groupId}' right now (joining or rebalancing): nothing committed`,
    );
  }

  /** Runs commits one after another. */
  private serialized(fn: () => Promise<void>): Promise<void> {
    const next = this.commitChain.then(fn, fn);
    this.commitChain = next.catch(() => undefined);
    return next;
  }

  /** Commits every partition whose processed offset moved since its last commit. */
  private commitProcessed(explicit = false): Promise<void> {
    return this.serialized(async () => {
      const m = this.membership;
      if (!m) return;
      const todo = [...this.partitions.values()]
        .filter((s) => s.processed !== null && s.processed !== s.committed)
        .map((s) => ({ state: s, offset: s.processed as number }));
      if (todo.length === 0) return;
      if (m.generationId < 0) {
        if (explicit) throw this.notMember();
        return;
      }
      await m.commit(todo.map(({ state, offset }) => ({ topic: state.topic, partition: state.partition, offset })));
      for (const { state, offset } of todo) state.committed = offset;
    });
  }

  /**
   * Stops run() and poll(); resolves when run() has returned (at once when
   * called from a handler). A group member then commits what was processed
   * (autoCommit) and leaves the group, so the others take its partitions at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeSignal();
    const inside = deliveryContext.getStore() === this;
    if (this.runDone && !inside) await this.runDone;
    if (this.autoCommitTimer) clearInterval(this.autoCommitTimer);
    this.autoCommitTimer = null;
    if (this.membership) {
      if (this.autoCommit && !this.revoking) {
        this.promotePolled();
        await this.commitProcessed().catch(() => undefined);
      }
      await this.membership.stop();
    }
    this.buffered = [];
    this.onClose(this);
  }
}
