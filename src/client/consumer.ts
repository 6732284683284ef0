/**
 * The consumer: the public facade over four parts (the seams of kafkajs and
 * the Java client), each in src/client/consumer/ and unit-tested on its own:
 *
 * - SubscriptionState: the assigned partitions, positions, pauses, seeks;
 * - Fetcher: Fetch requests per leader (long polls on their own connection),
 *   decoding, partition errors, OFFSET_OUT_OF_RANGE per autoOffsetReset;
 * - Runner: the run() loop handing records to eachMessage / eachBatch;
 * - OffsetCommitter: commits of processed offsets, auto-commit, carry-over;
 *
 * and GroupMembership (group-membership.ts) for join / sync / heartbeat.
 *
 * Without a group it reads the partitions it is given (assign(), or
 * subscribe() meaning every partition of the topics) from positions it keeps
 * itself — an offset, earliest/latest, or a timestamp — in order per
 * partition, so a reader can replay from any offset.
 *
 * With a groupId, subscribe() starts a GroupMembership: the group's leader
 * shares the partitions out, and each assignment arrives with the group's
 * committed offsets (or autoOffsetReset where none is). Delivery is
 * at-least-once: a partition's offset is committed only up to records whose
 * handler resolved (last processed + 1); before giving partitions up in a
 * rebalance the consumer lets running handlers finish and, with autoCommit,
 * commits them.
 */

import type { TopicPartitions } from '../protocol/native/consumer-protocol.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  batchBytesMax,
  consumerAutoCommitIntervalMsDefault,
  consumerAutoCommitIntervalMsMax,
  consumerPartitionsConcurrentlyMax,
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
import { topicPartitionKey } from '../shared/topic-partition.js';
import { type Assignor, builtinAssignor, defaultAssignors } from './assignors/index.js';
import type { Cluster } from './cluster.js';
import { Fetcher } from './consumer/fetcher.js';
import { OffsetCommitter } from './consumer/offset-committer.js';
import { insideHandlerOf, Runner } from './consumer/runner.js';
import {
  checkTopicPartition,
  moveTo,
  newState,
  type PartitionState,
  parseOffset,
  type Reset,
  resetOf,
  SubscriptionState,
} from './consumer/subscription-state.js';
import { closedError, invalidArgument } from './errors.js';
import { GroupMembership } from './group-membership.js';
import { boundedInt } from './options.js';
import type {
  AssignorSpec,
  ConsumerOptions,
  ConsumerRecord,
  GroupGeneration,
  OffsetSpec,
  PollOptions,
  RunOptions,
  SubscribeOptions,
  TopicPartitionOffset,
  TopicPartitionsSpec,
  TopicPattern,
} from './types.js';

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

export class Consumer {
  readonly groupId: string | undefined;
  private readonly defaultReset: Reset;
  private readonly maxBytesPerPartition: number;
  private readonly subscription: SubscriptionState;
  private readonly fetcher: Fetcher;
  private readonly runner: Runner;
  private readonly committer: OffsetCommitter;
  private closed = false;
  private closeSignal: () => void = () => undefined;
  private readonly closedPromise: Promise<void>;
  private readonly concurrency: number;

  // ---- groups ----
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly groupInstanceId: string | null;
  private readonly rebalanceTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly assignors: readonly Assignor[];
  /** isolationLevel 'read_committed': also fetches the group's offsets with requireStable (KIP-447). */
  private readonly readCommitted: boolean;
  private membership: GroupMembership | null = null;
  private readonly subscribedTopics = new Set<string>();
  private readonly subscribedPatterns: RegExp[] = [];
  private groupReset: Reset;
  /** Set while a rebalance takes the partitions away: nothing more is delivered. */
  private revoking = false;
  private groupError: Error | null = null;

  constructor(
    private readonly cluster: Cluster,
    options: ConsumerOptions = {},
    private readonly onClose: (c: Consumer) => void = () => undefined,
  ) {
    if (options.groupId !== undefined && (typeof options.groupId !== 'string' || options.groupId.length === 0))
      throw invalidArgument('groupId must be a non-empty string');
    this.groupId = options.groupId;
    this.defaultReset = resetOf(options.autoOffsetReset);
    this.groupReset = this.defaultReset;
    // null has always meant the default here (`??`), so it still does
    const maxWaitMs = boundedInt('maxWaitMs', options.maxWaitMs ?? undefined, 0, 600_000, fetchMaxWaitMsDefault);
    const maxBytes = Math.min(options.maxBytes ?? fetchMaxBytesDefault, batchBytesMax * 2);
    this.maxBytesPerPartition = Math.min(options.maxBytesPerPartition ?? fetchPartitionMaxBytesDefault, maxBytes);
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

    this.subscription = new SubscriptionState((state) => {
      this.fetcher.drop(state);
      this.committer.forgetPolled(state);
    });
    this.committer = new OffsetCommitter(this.subscription, () => this.membership, this.groupId);
    const isolationLevel = options.isolationLevel ?? 'read_uncommitted';
    if (isolationLevel !== 'read_committed' && isolationLevel !== 'read_uncommitted')
      throw invalidArgument(
        `isolationLevel must be 'read_committed' or 'read_uncommitted', not ${String(options.isolationLevel)}`,
      );
    this.readCommitted = isolationLevel === 'read_committed';
    this.fetcher = new Fetcher(
      cluster,
      this.subscription,
      {
        maxWaitMs,
        minBytes: options.minBytes ?? 1,
        maxBytes,
        skipCorrupt: options.skipCorrupt,
        groupId: this.groupId,
        readCommitted: isolationLevel === 'read_committed',
      },
      {
        membership: () => this.membership,
        revoking: () => this.revoking,
        closed: () => this.closed,
        closedPromise: this.closedPromise,
        outOfRangeReset: () => (this.membership ? this.groupReset : this.defaultReset),
      },
    );
    this.runner = new Runner(this, {
      cluster,
      subscription: this.subscription,
      poll: () => this.pollRecords({}),
      closed: () => this.closed,
      closedPromise: this.closedPromise,
      revoking: () => this.revoking,
      groupError: () => this.groupError,
      commitProcessed: () => this.committer.commitProcessed(),
      invalidate: (state) => {
        this.subscription.invalidate(state.topic, state.partition);
      },
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
    this.subscription.add(assignment);
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
        requireStable: this.readCommitted,
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
      this.committer.startAutoCommit(this.autoCommitIntervalMs, () => !!this.membership?.stable && !this.revoking);
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
      await this.runner.waitIdle(this.rebalanceTimeoutMs);
      if (this.autoCommit) {
        this.committer.promotePolled();
        try {
          await this.committer.commitProcessed();
        } catch {
          // not committed: the next owner gets those records again (at-least-once)
        }
      }
      this.committer.keepUncommitted();
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
        const state = newState(tp.topic, partition, this.groupReset, this.maxBytesPerPartition);
        const offset = committed.get(topicPartitionKey(tp.topic, partition)) ?? -1;
        if (offset >= 0) {
          moveTo(state, offset);
          state.committed = offset;
        }
        // processed by this member in the generation just ended, but not committed then: this one commits it
        const carried = this.committer.carried(tp.topic, partition);
        if (carried !== undefined && carried > offset) {
          moveTo(state, carried);
          state.processed = carried;
        }
        const seek = this.subscription.takePendingSeek(tp.topic, partition);
        if (seek !== undefined) moveTo(state, seek);
        next.push(state);
      }
    }
    this.committer.clearCarryOver();
    if (this.closed) return;
    this.applyAssignment(next);
  }

  /** Reads exactly these partitions, each from its offset (default: autoOffsetReset). Replaces the assignment. */
  assign(partitions: TopicPartitionOffset[]): void {
    if (this.closed) throw closedError('the consumer');
    this.requireNoGroup('assign()');
    if (!Array.isArray(partitions)) throw invalidArgument('assign() needs [{ topic, partition, offset? }]');
    const next = partitions.map((tp) => {
      checkTopicPartition(tp?.topic, tp?.partition);
      const state = newState(tp.topic, tp.partition, this.defaultReset, this.maxBytesPerPartition);
      if (tp.offset !== undefined && tp.offset !== null) moveTo(state, parseOffset(tp.offset));
      return state;
    });
    this.applyAssignment(next);
  }

  /** Replaces the assignment (assign(), or a group's new generation), keeping nothing buffered for dropped partitions. */
  private applyAssignment(next: PartitionState[]): void {
    this.subscription.replace(next);
    this.fetcher.retainAssigned();
    this.committer.retainAssigned();
  }

  assignment(): { topic: string; partition: number }[] {
    return this.subscription.assignment();
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
    const first = this.fetcher.firstBufferedOffset(topic, partition);
    if (first !== null) return first;
    return this.subscription.get(topic, partition)?.position ?? null;
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
    if (this.groupId !== undefined && !this.subscription.has(target.topic, target.partition)) {
      this.subscription.seekLater(target.topic, target.partition, o);
      return;
    }
    moveTo(this.stateFor(target.topic, target.partition), o);
  }

  /** Moves a partition to the first record with a timestamp at or after `timestamp` (ms or Date); the end when none. */
  async seekToTimestamp(target: { topic: string; partition: number; timestamp: number | Date }): Promise<void> {
    if (this.closed) throw closedError('the consumer');
    checkTopicPartition(target?.topic, target?.partition);
    const ts = target.timestamp instanceof Date ? target.timestamp.getTime() : target.timestamp;
    if (!Number.isSafeInteger(ts) || ts < 0)
      throw invalidArgument(`timestamp must be milliseconds since the epoch, not ${String(ts)}`);
    if (this.groupId !== undefined && !this.subscription.has(target.topic, target.partition)) {
      throw invalidArgument(`${target.topic}-${target.partition} is not assigned to this member of '${this.groupId}'`);
    }
    moveTo(this.stateFor(target.topic, target.partition), { kind: 'timestamp', timestamp: ts });
    await this.fetcher.resolvePositions();
  }

  /** The partition's state (created when no group), with its buffered records dropped and older deliveries stale. */
  private stateFor(topic: string, partition: number): PartitionState {
    return this.subscription.invalidate(topic, partition, () => {
      this.requireNoGroup('seek() of an unassigned partition');
      return newState(topic, partition, this.defaultReset, this.maxBytesPerPartition);
    });
  }

  /**
   * Stops fetching and delivering these partitions (every partition of a
   * topic when `partitions` is omitted, including ones assigned later) until
   * resume(). Records fetched but not yet delivered are fetched again after resume().
   */
  pause(topics: TopicPartitionsSpec[]): void {
    if (this.closed) throw closedError('the consumer');
    this.subscription.pause(topics);
  }

  /** Undoes pause() for these partitions (every partition of a topic when `partitions` is omitted). */
  resume(topics: TopicPartitionsSpec[]): void {
    if (this.closed) throw closedError('the consumer');
    this.subscription.resume(topics);
  }

  /** The assigned partitions that are paused. */
  paused(): { topic: string; partition: number }[] {
    return this.subscription.paused();
  }

  /**
   * Returns the next records (in order per partition), waiting up to maxWaitMs
   * for some when none is buffered; [] when none arrived. In a group, the
   * records a poll() returned count as processed at the next poll(), commit() or close().
   */
  async poll(options: PollOptions = {}): Promise<ConsumerRecord[]> {
    if (this.closed) throw closedError('the consumer');
    this.committer.promotePolled();
    const records = await this.pollRecords(options);
    // records come in runs of one partition: look each run's partition up once
    let state: PartitionState | undefined;
    for (const r of records) {
      if (state === undefined || state.topic !== r.topic || state.partition !== r.partition) {
        state = this.subscription.get(r.topic, r.partition);
        if (!state) continue;
      }
      state.consumed = r.offset + 1;
      if (this.membership) this.committer.notePolled(state, r.offset + 1);
    }
    return records;
  }

  private pollRecords(options: PollOptions): Promise<ConsumerRecord[]> {
    if (this.groupError) return Promise.reject(this.groupError);
    return this.fetcher.poll(options);
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
    if (this.runner.isRunning) throw invalidArgument('run() is already running');
    this.committer.promotePolled();
    await this.runner.run(options, concurrency);
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
    if (!this.membership) throw invalidArgument('commit() before subscribe(): the consumer is not in its group yet');
    if (offsets !== undefined) {
      if (!Array.isArray(offsets)) throw invalidArgument('commit() takes [{ topic, partition, offset }]');
      const list = offsets.map((o) => {
        checkTopicPartition(o?.topic, o?.partition);
        const n = o.offset === undefined || o.offset === null ? Number.NaN : parseOffset(o.offset);
        if (typeof n !== 'number' || Number.isNaN(n)) throw invalidArgument('commit() needs numeric offsets');
        return { topic: o.topic, partition: o.partition, offset: n };
      });
      await this.committer.commitExact(list);
      return;
    }
    this.committer.promotePolled();
    await this.committer.commitProcessed(true);
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
    if (!insideHandlerOf(this)) await this.runner.finished();
    this.committer.stopAutoCommit();
    if (this.membership) {
      if (this.autoCommit && !this.revoking) {
        this.committer.promotePolled();
        await this.committer.commitProcessed().catch(() => undefined);
      }
      await this.membership.stop();
    }
    this.fetcher.clear();
    this.onClose(this);
  }
}
