/**
 * The consumer's fetcher (the Java client's Fetcher, kafkajs's fetchManager):
 * resolves pending positions (ListOffsets: earliest, latest or by time),
 * sends one Fetch per leader of the assigned, unpaused partitions (several to
 * a leader of more than clientRequestPartitionsMax of them), decodes
 * the answers into records and buffers them, and handles the partition
 * errors: OFFSET_OUT_OF_RANGE resets the position per autoOffsetReset, a
 * fenced generation asks the membership to rejoin, retriable errors (a
 * leader change) look the leader up again next round.
 *
 * A long poll (maxWaitMs > 0) goes on the broker's fetch connection, so
 * produce acknowledgements, heartbeats and commits on the default one are not
 * held behind it (responses come in request order).
 *
 * Bounds: one fetch round in flight (one request per leader), each bounded by
 * maxBytes / maxBytesPerPartition; poll() returns at most maxRecords and keeps
 * the rest of that round buffered; the next round is fetched in the background
 * while fewer than consumerPrefetchRecordsMax records and consumerPrefetchBytesMax
 * fetched bytes are buffered.
 */
import { WireError } from '../../protocol/error-codes.js';
import { ApiKey } from '../../protocol/native/api-keys.js';
import type { FetchPartitionResponse, FetchRequest } from '../../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { consumerPollRecordsMax, consumerPrefetchBytesMax, consumerPrefetchRecordsMax } from '../../shared/limits.js';
import type { Cluster } from '../cluster.js';
import { checkTopLevel, isRetriableError, wireError } from '../errors.js';
import { fencingCodes, type GroupMembership } from '../group-membership.js';
import { earliestTimestamp, latestTimestamp, listOffsets } from '../offsets.js';
import { requestChunks } from '../request-chunks.js';
import type { ConsumerRecord, CorruptSkip, PollOptions } from '../types.js';
import { completeFetch, endOfWholeBatches, FetchBuffer } from './records.js';
import type { PartitionState, Reset, SubscriptionState } from './subscription-state.js';

export interface FetcherOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  /** Set by a caller that chose to skip records the broker finds corrupt (told each time). */
  skipCorrupt: ((skipped: CorruptSkip) => void) | undefined;
  /** For error messages: the group, when there is one. */
  groupId: string | undefined;
  /** isolationLevel 'read_committed': fetch up to the last stable offset, skip aborted transactions. */
  readCommitted?: boolean;
}

/** What the fetcher asks of the consumer it works for. */
export interface FetcherContext {
  membership(): GroupMembership | null;
  /** A rebalance is taking the partitions away: fetch nothing. */
  revoking(): boolean;
  closed(): boolean;
  /** Resolves when the consumer closes (waits end early). */
  closedPromise: Promise<void>;
  /** Where a partition goes when its position is out of range (autoOffsetReset). */
  outOfRangeReset(): Reset;
}

interface Asked {
  state: PartitionState;
  offset: number;
  version: number;
}

interface Answered {
  state: PartitionState;
  offset: number;
  p: FetchPartitionResponse;
}

export class Fetcher {
  /** Fetched, not yet returned by poll(): in order per partition. */
  private buffered = new FetchBuffer();
  private polling: Promise<void> | null = null;
  private pollingInBackground = false;
  /**
   * Set by a round with a single leader: when its response arrives, the next
   * round is started before this one's records are decoded, so decoding
   * overlaps the next request's trip. The positions it fetches from come from
   * the batch headers; decoding then advances them to the same place.
   */
  private fetchAhead = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly subscription: SubscriptionState,
    private readonly options: FetcherOptions,
    private readonly context: FetcherContext,
  ) {}

  get bufferedCount(): number {
    return this.buffered.length;
  }

  /** The first buffered record's offset of a partition (null: none buffered). */
  firstBufferedOffset(topic: string, partition: number): number | null {
    return this.buffered.firstOffsetOf(topic, partition);
  }

  /** Forgets the buffered records of a partition (sought, paused). */
  drop(state: PartitionState): void {
    this.buffered.dropPartition(state.topic, state.partition);
  }

  /** Forgets the buffered records of partitions no longer assigned. */
  retainAssigned(): void {
    this.buffered.retain((topic, partition) => this.subscription.has(topic, partition));
  }

  clear(): void {
    this.buffered = new FetchBuffer();
  }

  /**
   * The next records (in order per partition), waiting up to maxWaitMs for
   * some when none is buffered; [] when none arrived or the consumer closed.
   */
  async poll(options: PollOptions): Promise<ConsumerRecord[]> {
    const maxRecords = Math.max(1, Math.min(options.maxRecords ?? consumerPollRecordsMax, consumerPollRecordsMax));
    const { closedPromise } = this.context;
    if (this.buffered.length === 0) {
      const prefetched = this.polling !== null && this.pollingInBackground;
      if (!this.polling) this.startRound(options.maxWaitMs ?? this.options.maxWaitMs, false);
      await Promise.race([this.polling, closedPromise]);
      if (this.context.closed()) return [];
      // a round fetched ahead (before a seek or a new assignment) may bring nothing for where the
      // caller reads now: ask once more, for the current positions
      if (prefetched && this.buffered.length === 0) {
        if (!this.polling) this.startRound(options.maxWaitMs ?? this.options.maxWaitMs, false);
        await Promise.race([this.polling, closedPromise]);
        if (this.context.closed()) return [];
      }
    }
    const records = this.buffered.take(maxRecords);
    // fetch the next round while the caller works on these (Kafka's consumer pipelines fetches the
    // same way); bounded: one round in flight, none while enough is buffered
    if (
      !this.polling &&
      this.buffered.length < consumerPrefetchRecordsMax &&
      this.buffered.bytes < consumerPrefetchBytesMax &&
      !this.context.closed()
    ) {
      this.startRound(this.options.maxWaitMs, true);
    }
    return records;
  }

  private startRound(maxWaitMs: number, background: boolean): void {
    this.pollingInBackground = background;
    const round = this.fetchRound(maxWaitMs).finally(() => {
      if (this.polling === round) this.polling = null;
    });
    // a failure surfaces at the poll() that waits for this round; until then it is not unhandled
    round.catch(() => undefined);
    this.polling = round;
  }

  /** Turns every pending reset into an offset (ListOffsets at the leaders). */
  async resolvePositions(): Promise<void> {
    const pending = [...this.subscription.states()].filter((s) => s.position === null);
    if (pending.length === 0) return;
    const none = pending.find((s) => s.reset.kind === 'none');
    if (none) {
      const where =
        this.options.groupId !== undefined
          ? `no committed offset in group '${this.options.groupId}'`
          : 'no offset given';
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
    // read_committed: 'latest' is the last stable offset (ListOffsets honours the isolation level)
    const answers = await listOffsets(this.cluster, queries, this.options.readCommitted ? 1 : 0);
    answers.forEach((a, i) => {
      const s = pending[i] as PartitionState;
      // only when nobody moved the partition meanwhile
      if (s.position === null && this.subscription.isAssigned(s)) {
        s.position = a.offset;
        s.consumed = a.offset;
      }
    });
  }

  /** One fetch from every leader of the assigned, unpaused partitions; what arrives is buffered. */
  private async fetchRound(maxWaitMs: number): Promise<void> {
    const { closedPromise } = this.context;
    const active = this.subscription.active();
    const membership = this.context.membership();
    // a rejoin under way: the partitions are about to be revoked, and fetches would be fenced anyway
    const rejoining = membership !== null && !membership.stable;
    if (active.length === 0 || this.context.revoking() || rejoining) {
      await Promise.race([this.cluster.pause(maxWaitMs), closedPromise]);
      return;
    }
    await this.resolvePositions();
    const byLeader = new Map<number, PartitionState[]>();
    for (const s of active) {
      if (s.position === null) continue;
      const leader =
        this.cluster.freshLeaderOf(s.topic, s.partition) ?? (await this.cluster.leaderOf(s.topic, s.partition));
      const list = byLeader.get(leader) ?? [];
      list.push(s);
      byLeader.set(leader, list);
    }
    if (byLeader.size === 0) {
      await Promise.race([this.cluster.pause(maxWaitMs), closedPromise]);
      return;
    }
    // a leader of more partitions than one request may name gets several requests (request-chunks.ts)
    const groups = [...byLeader].flatMap(([leader, states]) =>
      requestChunks(states).map((chunk): [number, PartitionState[]] => [leader, [...chunk.values()].flat()]),
    );
    // fetching ahead keeps one round in flight at most: with several requests the rounds would overlap
    this.fetchAhead = groups.length === 1 && membership === null;
    const results = await Promise.allSettled(
      groups.map(([leader, states]) => this.fetchFrom(leader, states, maxWaitMs)),
    );
    let got = 0;
    let firstError: unknown = null;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        got += r.value;
        return;
      }
      firstError ??= r.reason;
      // that leader is unreachable or refused the whole fetch: its partitions may have moved (a failover),
      // so their leaders are looked up again next round, even while other leaders keep delivering
      for (const s of groups[i]?.[1] ?? []) this.cluster.invalidate(s.topic);
    });
    if (got === 0 && firstError !== null) throw firstError;
  }

  /** Fetches `states` from their leader; buffers what arrives and returns how many records. */
  private async fetchFrom(leader: number, states: PartitionState[], maxWaitMs: number): Promise<number> {
    // a seek or reset while this round was being prepared leaves a position unresolved: skip that one
    const asked: Asked[] = [];
    for (const s of states) if (s.position !== null) asked.push({ state: s, offset: s.position, version: s.version });
    if (asked.length === 0) return 0;
    const topics = new Map<string, { partition: number; fetchOffset: number; partitionMaxBytes: number }[]>();
    for (const { state, offset } of asked) {
      const list = topics.get(state.topic) ?? [];
      list.push({ partition: state.partition, fetchOffset: offset, partitionMaxBytes: state.maxBytes });
      topics.set(state.topic, list);
    }
    const body: FetchRequest = {
      maxWaitMs,
      minBytes: this.options.minBytes,
      maxBytes: this.options.maxBytes,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    };
    if (this.options.readCommitted) body.isolationLevel = 1;
    const m = this.context.membership();
    const generationId = m?.generationId ?? -1;
    if (m && generationId >= 0) {
      body.groupId = m.groupId;
      body.generationId = generationId;
      body.memberId = m.memberId;
    }
    const purpose = maxWaitMs > 0 ? 'fetch' : 'default';
    // without a promise while the connection is open (once per fetch)
    const conn = this.cluster.openConnection(leader, purpose) ?? (await this.cluster.brokerConnection(leader, purpose));
    const res = await conn.request(ApiKey.Fetch, body, {
      timeoutMs: this.cluster.requestTimeoutMs + maxWaitMs,
    });
    if (m && fencingCodes.has(res.errorCode)) {
      // this generation is over: the membership rejoins, the records are someone else's now
      m.requestRejoin(generationId, res.errorCode === WireError.UNKNOWN_MEMBER_ID);
      return 0;
    }
    checkTopLevel(res, 'fetch');
    let got = 0;
    let retriable: unknown = null;
    const current: Answered[] = [];
    // looked up by name and partition: a scan of the answer per asked partition is quadratic at 100,000 of them
    const answered = new Map<string, Map<number, FetchPartitionResponse>>();
    for (const t of res.topics ?? []) {
      const byPartition = answered.get(t.name) ?? new Map<number, FetchPartitionResponse>();
      for (const x of t.partitions ?? []) if (!byPartition.has(x.partition)) byPartition.set(x.partition, x);
      answered.set(t.name, byPartition);
    }
    for (const { state, offset, version } of asked) {
      // a seek, pause or new assignment during the fetch wins over what it brought
      if (
        !this.subscription.isAssigned(state) ||
        state.position !== offset ||
        state.version !== version ||
        this.subscription.isPaused(state.topic, state.partition)
      )
        continue;
      const p = answered.get(state.topic)?.get(state.partition);
      if (p) current.push({ state, offset, p });
    }
    if (this.fetchAhead) this.fetchAheadOf(current);
    for (const { state, offset, p } of current) {
      if (m && fencingCodes.has(p.errorCode)) {
        m.requestRejoin(generationId, p.errorCode === WireError.UNKNOWN_MEMBER_ID);
        continue;
      }
      if (p.errorCode === WireError.OFFSET_OUT_OF_RANGE) {
        state.position = null;
        state.consumed = null;
        state.reset = this.context.outOfRangeReset();
        continue;
      }
      const skip = this.options.skipCorrupt;
      if (
        p.errorCode === WireError.CORRUPT_MESSAGE &&
        skip &&
        p.nextReadableOffset !== undefined &&
        p.nextReadableOffset > offset
      ) {
        // the caller chose to go on past records the broker found corrupt, and is told what was skipped
        state.position = p.nextReadableOffset;
        state.version++;
        skip({ topic: state.topic, partition: state.partition, from: offset, to: p.nextReadableOffset });
        continue;
      }
      if (p.errorCode !== 0) {
        const err = wireError(
          p.errorCode,
          `fetch ${state.topic}-${state.partition} at offset ${offset}`,
          p.errorMessage,
        );
        if (!isRetriableError(err)) throw err;
        retriable ??= err;
        this.cluster.invalidate(state.topic);
        continue;
      }
      let completed: ReturnType<typeof completeFetch>;
      try {
        // read_committed: the answer lists the aborted transactions its records overlap (none: an empty list)
        completed = completeFetch(
          state,
          offset,
          p.records,
          this.options.readCommitted ? (p.abortedTransactions ?? []) : undefined,
        );
      } catch (err) {
        // a round fetched ahead from past these bytes: back to them, and that round's answer is stale
        state.position = offset;
        state.version++;
        throw err;
      }
      if (completed) {
        this.buffered.push(completed);
        got += completed.remaining;
      }
    }
    if (got === 0 && retriable) throw retriable;
    return got;
  }

  private fetchAheadOf(current: Answered[]): void {
    this.fetchAhead = false;
    if (
      this.context.closed() ||
      this.buffered.length >= consumerPrefetchRecordsMax / 2 ||
      this.buffered.bytes >= consumerPrefetchBytesMax / 2
    )
      return;
    let advanced = false;
    for (const { state, offset, p } of current) {
      if (p.errorCode !== 0) return; // errors are handled by this round first
      const next = endOfWholeBatches(p.records, offset);
      if (next > offset) {
        state.position = next;
        advanced = true;
      }
    }
    if (advanced) this.startRound(this.options.maxWaitMs, true);
  }
}
