/**
 * One consumer's membership of a group (Kafka's eager rebalance protocol):
 * find the coordinator, JoinGroup (the leader also computes the assignment
 * with the chosen assignor), SyncGroup, then heartbeat every
 * heartbeatIntervalMs until the coordinator says to rejoin
 * (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID) or the
 * consumer asks for it (new subscription, fenced fetch or commit).
 *
 * Before every rejoin the consumer's revoke hook runs (it stops delivery of
 * the old partitions and commits what was processed); after every sync the
 * assign hook runs (it looks up committed offsets and starts fetching).
 *
 * One loop, one request at a time. Bounded: consecutive failures
 * (groupFailuresMax, each after a growing backoff) and consecutive rejoins
 * (groupRejoinsMax) end the membership with the error, reported through the
 * fatal hook. stop() leaves the group (LeaveGroup) so the others rebalance at once.
 */
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { RequestOf, ResponseOf } from '../protocol/native/apis.js';
import {
  consumerProtocolType,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type Subscription,
  type TopicPartitions,
} from '../protocol/native/consumer-protocol.js';
import type { JoinGroupResponse, OffsetCommitRequest } from '../protocol/native/group-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { groupCloseWaitMsMax, groupFailuresMax, groupRejoinsMax, groupSubscriptionCheckMs } from '../shared/limits.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import type { Assignor, GroupMember } from './assignors/index.js';
import type { BrokerAddress } from './brokers.js';
import type { Cluster } from './cluster.js';
import type { AnsweredRequestOptions, AnsweredRequests, Connection } from './connection.js';
import { isRetriableError, wireError } from './errors.js';
import { metadataGap } from './metadata.js';
import { requestChunks } from './request-chunks.js';

export interface MembershipHooks {
  /** The topics to subscribe to now (regular expressions resolved against the metadata). */
  topics(): Promise<string[]>;
  /** Whether topics() may change on its own (a regular expression): then it is checked now and then. */
  dynamicTopics(): boolean;
  /** Before a rejoin: stop delivering `partitions` and commit what was processed (autoCommit). */
  revoke(partitions: TopicPartitions[]): Promise<void>;
  /** After a sync: consume `partitions` (generation `generationId`). */
  assign(partitions: TopicPartitions[], generationId: number): Promise<void>;
  /** The membership gave up (non-retriable error, or too many failures). */
  fatal(err: Error): void;
}

export interface MembershipOptions {
  groupId: string;
  /** KIP-345: a static member's instance id; null or absent for a dynamic member. */
  groupInstanceId?: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** In preference order; the coordinator picks one every member supports. */
  assignors: readonly Assignor[];
  /**
   * KIP-447 (a read_committed consumer): committed offsets are fetched with requireStable, so a
   * partition whose offsets a transaction still holds pending answers UNSTABLE_OFFSET_COMMIT (retried)
   * instead of the offset from before that transaction: a committed transaction's input is not read again.
   */
  requireStable?: boolean;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next offset to consume (last processed + 1). */
  offset: number;
}

/** The coordinator said: join again (after a new memberId when `reset`). */
class RejoinSignal extends Error {}

/** Wire codes that mean "this member's generation is over". */
export const fencingCodes: ReadonlySet<number> = new Set<number>([
  WireError.ILLEGAL_GENERATION,
  WireError.UNKNOWN_MEMBER_ID,
  WireError.REBALANCE_IN_PROGRESS,
]);

const coordinatorCodes: ReadonlySet<number> = new Set<number>([
  WireError.COORDINATOR_NOT_AVAILABLE,
  WireError.NOT_COORDINATOR,
]);

const sameTopics = (a: string[], b: string[]): boolean => a.length === b.length && a.every((t, i) => t === b[i]);

export class GroupMembership {
  memberId = '';
  generationId = -1;
  leaderId = '';
  protocol = '';
  private readonly options: MembershipOptions;
  /** What this member was last assigned (sent as ownedPartitions, for sticky assignors). */
  private lastAssigned: TopicPartitions[] = [];
  /** True while the consumer holds an assignment (the revoke hook is due before a rejoin). */
  private holding = false;
  private rejoinNeeded = true;
  private coordinator: BrokerAddress | null = null;
  private stopped = false;
  private loopDone: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private subscribedTopics: string[] = [];
  /**
   * The partition counts the leader assigned from (the group's subscribed topics): when one changes
   * (CreatePartitions), the leader rejoins so the new partitions are assigned, as Kafka's leader does.
   */
  private assignedCounts = new Map<string, number>();
  private lastPartitionCheck = 0;
  private lastTopicCheck = 0;
  private left = false;

  constructor(
    private readonly cluster: Cluster,
    options: MembershipOptions,
    private readonly hooks: MembershipHooks,
  ) {
    if (options.assignors.length === 0) throw new SluiceError(ErrorCode.InvalidArgument, 'no partition assignor');
    this.options = options;
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Joined, synced, and no rejoin pending. */
  get stable(): boolean {
    return this.holding && !this.rejoinNeeded && this.generationId >= 0;
  }

  get isLeader(): boolean {
    return this.memberId !== '' && this.memberId === this.leaderId;
  }

  /** Starts the membership loop (once). */
  start(): void {
    if (this.loopDone || this.stopped) return;
    this.loopDone = this.loop();
  }

  /**
   * Asks for a rejoin. With `generationId`, only when that is still the
   * current generation (a stale fetch's fencing error must not start another round).
   */
  requestRejoin(generationId?: number, resetMemberId = false): void {
    if (generationId !== undefined && generationId !== this.generationId) return;
    if (resetMemberId) this.memberId = '';
    this.rejoinNeeded = true;
    this.wake();
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /** Waits `ms` or until wake(). */
  private nap(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      timer.unref?.();
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let rejoins = 0;
    while (!this.stopped) {
      try {
        if (this.rejoinNeeded) {
          await this.rebalance();
          rejoins = 0;
          failures = 0;
          continue;
        }
        await this.nap(this.options.heartbeatIntervalMs);
        if (this.stopped || this.rejoinNeeded) continue;
        await this.heartbeat();
        if (this.hooks.dynamicTopics() && Date.now() - this.lastTopicCheck >= groupSubscriptionCheckMs) {
          this.lastTopicCheck = Date.now();
          const topics = await this.hooks.topics();
          if (!sameTopics(topics, this.subscribedTopics)) this.requestRejoin();
        }
        if (this.isLeader && Date.now() - this.lastPartitionCheck >= groupSubscriptionCheckMs) {
          this.lastPartitionCheck = Date.now();
          if (await this.partitionCountsChanged()) this.requestRejoin();
        }
        failures = 0;
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof RejoinSignal) {
          this.rejoinNeeded = true;
          if (++rejoins > groupRejoinsMax) {
            this.fail(
              new SluiceError(
                ErrorCode.BrokerError,
                `group '${this.groupId}': no stable generation after ${groupRejoinsMax} rejoins`,
                { cause: err },
              ),
            );
            break;
          }
          // REBALANCE_IN_PROGRESS and friends: rejoin at once, then with a growing pause
          if (rejoins > 3)
            await this.nap(Math.min(this.cluster.backoffMs(rejoins - 3), this.options.heartbeatIntervalMs));
          continue;
        }
        const retriable = isRetriableError(err);
        if (!retriable || ++failures > groupFailuresMax) {
          this.fail(err as Error);
          break;
        }
        if (this.holding && failures * this.options.heartbeatIntervalMs > this.options.sessionTimeoutMs) {
          // the coordinator has surely dropped us by now: our partitions may be someone else's
          this.rejoinNeeded = true;
        }
        await this.nap(this.cluster.backoffMs(failures - 1));
      }
    }
  }

  private fail(err: Error): void {
    this.stopped = true;
    this.hooks.fatal(err);
  }

  /**
   * The coordinator's connection (FindCoordinator when unknown). A request on
   * it that times out or loses the connection forgets the coordinator, so the
   * next step looks it up again: a paused broker still accepts connections,
   * and by the time its session expires its groups have moved elsewhere.
   */
  private async coordinatorConnection(): Promise<AnsweredRequests> {
    if (!this.coordinator) {
      const conn = await this.cluster.anyConnection();
      const res = await conn.request(ApiKey.FindCoordinator, { key: this.groupId });
      if (res.errorCode !== 0)
        throw wireError(res.errorCode, `find coordinator of group '${this.groupId}'`, res.errorMessage);
      this.coordinator = { host: res.host, port: res.port };
    }
    const coordinator = this.coordinator;
    let conn: Connection;
    try {
      conn = await this.cluster.connectionTo(coordinator);
    } catch (err) {
      this.coordinator = null;
      throw err;
    }
    return {
      request: async <K extends ApiKey>(
        apiKey: K,
        body: RequestOf<K>,
        options?: AnsweredRequestOptions,
      ): Promise<ResponseOf<K>> => {
        try {
          return await conn.request(apiKey, body, options);
        } catch (err) {
          const transport =
            err instanceof SluiceError && (err.code === ErrorCode.Timeout || err.code === ErrorCode.BrokerUnreachable);
          if (transport && this.coordinator === coordinator) this.coordinator = null;
          throw err;
        }
      },
    };
  }

  /**
   * Throws for a non-zero group error: RejoinSignal for fencing codes,
   * a retriable error (and a new coordinator lookup) for coordinator codes.
   */
  private check(code: number, what: string, message?: string): void {
    if (code === 0 || code === undefined) return;
    if (code === WireError.UNKNOWN_MEMBER_ID) {
      this.memberId = '';
      this.generationId = -1;
      throw new RejoinSignal(`${what}: UNKNOWN_MEMBER_ID`);
    }
    if (code === WireError.ILLEGAL_GENERATION || code === WireError.REBALANCE_IN_PROGRESS)
      throw new RejoinSignal(`${what}: ${code}`);
    if (coordinatorCodes.has(code)) this.coordinator = null;
    // retriable (the coordinator codes) as Kafka says: wireError marks it
    throw wireError(code, `${what} (group '${this.groupId}')`, message);
  }

  private async rebalance(): Promise<void> {
    if (this.holding) {
      await this.hooks.revoke(this.lastAssigned);
      this.holding = false;
    }
    if (this.stopped) return;
    this.rejoinNeeded = false;
    try {
      await this.joinAndSync();
    } catch (err) {
      // not in a generation (the join or sync failed, the leader could not assign, or the assign hook
      // threw): join again after the loop's backoff rather than heartbeat a generation that never was
      this.rejoinNeeded = true;
      throw err;
    }
  }

  private async joinAndSync(): Promise<void> {
    const topics = await this.hooks.topics();
    this.subscribedTopics = topics;
    this.lastTopicCheck = Date.now();
    const conn = await this.coordinatorConnection();
    const subscription: Subscription = { version: 0, topics, ownedPartitions: this.lastAssigned };
    const metadata = encodeSubscription(subscription);
    const timeoutMs = this.options.rebalanceTimeoutMs + this.cluster.requestTimeoutMs;
    const joinRequest = () =>
      conn.request(
        ApiKey.JoinGroup,
        {
          groupId: this.groupId,
          sessionTimeoutMs: this.options.sessionTimeoutMs,
          rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId ?? null,
          // KIP-394: a new member is first given its id (MEMBER_ID_REQUIRED), so a join abandoned
          // before it is answered leaves no member behind for the group to wait for
          requireKnownMemberId: true,
          protocolType: consumerProtocolType,
          protocols: this.options.assignors.map((a) => ({ name: a.name, metadata })),
        },
        { timeoutMs },
      );
    let join = await joinRequest();
    if (join.errorCode === WireError.MEMBER_ID_REQUIRED && this.memberId === '' && join.memberId) {
      // join again at once with the id given: the coordinator forgets it after the session timeout
      this.memberId = join.memberId;
      join = await joinRequest();
    }
    this.check(join.errorCode, 'join group', join.errorMessage);
    this.memberId = join.memberId;
    this.generationId = join.generationId;
    this.leaderId = join.leader;
    this.protocol = join.protocolName;
    const assignments = this.isLeader ? await this.computeAssignments(join) : [];
    if (this.stopped) return;
    const sync = await conn.request(
      ApiKey.SyncGroup,
      {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId ?? null,
        assignments,
      },
      { timeoutMs },
    );
    this.check(sync.errorCode, 'sync group', sync.errorMessage);
    const assigned = decodeAssignment(Buffer.from(sync.assignment ?? Buffer.alloc(0))).partitions ?? [];
    this.lastAssigned = assigned.map((tp) => ({ topic: tp.topic, partitions: [...tp.partitions] }));
    this.holding = true;
    await this.hooks.assign(this.lastAssigned, this.generationId);
  }

  /** The leader's job: every member's assignment, by the assignor the coordinator chose. */
  private async computeAssignments(join: JoinGroupResponse): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.options.assignors.find((a) => a.name === join.protocolName);
    if (!assignor) {
      throw new SluiceError(
        ErrorCode.InvalidRequest,
        `group '${this.groupId}': the coordinator chose assignor '${join.protocolName}', which this member does not have`,
      );
    }
    const members: GroupMember[] = (join.members ?? []).map((m) => {
      let subscription: Subscription;
      try {
        subscription = decodeSubscription(Buffer.from(m.metadata));
      } catch {
        subscription = { version: 0, topics: [], ownedPartitions: [] };
      }
      return { memberId: m.memberId, subscription };
    });
    const wanted = [...new Set(members.flatMap((m) => m.subscription.topics))].sort();
    const partitionsPerTopic = new Map<string, number>();
    if (wanted.length > 0) {
      const res = await this.cluster.refreshMetadata(wanted);
      for (const t of res.topics) if (t.errorCode === 0) partitionsPerTopic.set(t.name, t.partitions.length);
      // a subscribed topic that does not exist (yet) is left out, as in Kafka; one whose metadata has a gap
      // (missing from the answer, no leader known yet) is not: assigning without it would leave its partitions
      // unconsumed until some later rebalance, so the leader asks again (rebalance() rejoins)
      const unknown = new Set(
        res.topics.filter((t) => t.errorCode === WireError.UNKNOWN_TOPIC_OR_PARTITION).map((t) => t.name),
      );
      const gap = wanted.find((name) => !partitionsPerTopic.has(name) && !unknown.has(name));
      if (gap !== undefined) throw metadataGap(`group '${this.groupId}': metadata for subscribed topic '${gap}'`);
    }
    this.assignedCounts = new Map(partitionsPerTopic);
    this.lastPartitionCheck = Date.now();
    const result = assignor.assign(members, partitionsPerTopic);
    return members.map((m) => ({
      memberId: m.memberId,
      assignment: encodeAssignment({ version: 0, partitions: result.get(m.memberId) ?? [] }),
    }));
  }

  /** True when a topic the leader assigned has another partition count now (fresh metadata). */
  private async partitionCountsChanged(): Promise<boolean> {
    if (this.assignedCounts.size === 0) return false;
    const res = await this.cluster.refreshMetadata([...this.assignedCounts.keys()]);
    return res.topics.some((t) => {
      const before = this.assignedCounts.get(t.name);
      return t.errorCode === 0 && before !== undefined && t.partitions.length !== before;
    });
  }

  private async heartbeat(): Promise<void> {
    const conn = await this.coordinatorConnection();
    const res = await conn.request(
      ApiKey.Heartbeat,
      {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId ?? null,
      },
      { timeoutMs: Math.max(this.options.sessionTimeoutMs, 1_000) },
    );
    this.check(res.errorCode, 'heartbeat', res.errorMessage);
  }

  /**
   * Commits offsets for the current generation (retrying coordinator moves).
   * A fenced commit (stale generation, unknown member, rebalance) asks for a
   * rejoin and throws: its offsets were not stored.
   */
  async commit(offsets: OffsetToCommit[]): Promise<void> {
    const generationId = this.generationId;
    // more partitions than one request may name: several commits, one after another (request-chunks.ts);
    // a failure stops there, as a partition's error in one request would
    for (const topics of requestChunks(offsets)) {
      const body: OffsetCommitRequest = {
        groupId: this.groupId,
        generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId ?? null,
        topics: [...topics].map(([name, list]) => ({
          name,
          partitions: list.map((o) => ({ partition: o.partition, offset: o.offset })),
        })),
      };
      await this.commitRequest(body, generationId);
    }
  }

  private async commitRequest(body: OffsetCommitRequest, generationId: number): Promise<void> {
    await this.cluster.retry(async () => {
      const conn = await this.coordinatorConnection();
      const res = await conn.request(ApiKey.OffsetCommit, body);
      const codes: { code: number; message: string | undefined; what: string }[] = [];
      if (res.errorCode) codes.push({ code: res.errorCode, message: res.errorMessage, what: 'commit offsets' });
      for (const t of res.topics ?? []) {
        for (const p of t.partitions ?? []) {
          if (p.errorCode)
            codes.push({
              code: p.errorCode,
              message: p.errorMessage,
              what: `commit offset of ${t.name}-${p.partition}`,
            });
        }
      }
      const first = codes[0];
      if (!first) return;
      const fenced = codes.find((c) => fencingCodes.has(c.code));
      if (fenced) {
        this.requestRejoin(generationId, fenced.code === WireError.UNKNOWN_MEMBER_ID);
        throw wireError(
          fenced.code,
          `${fenced.what} (group '${this.groupId}', generation ${generationId})`,
          fenced.message,
        );
      }
      if (codes.some((c) => coordinatorCodes.has(c.code))) this.coordinator = null;
      throw wireError(first.code, `${first.what} (group '${this.groupId}')`, first.message);
    });
  }

  /** Committed offsets (-1: none) of `partitions`. */
  async committedOffsets(partitions: TopicPartitions[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (partitions.length === 0) return out;
    const entries = partitions.flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })));
    // more partitions than one request may name: several requests, one after another (request-chunks.ts)
    for (const topics of requestChunks(entries)) await this.committedOffsetsOf(topics, out);
    return out;
  }

  private committedOffsetsOf(
    topics: Map<string, { topic: string; partition: number }[]>,
    out: Map<string, number>,
  ): Promise<void> {
    return this.cluster.retry(async () => {
      const conn = await this.coordinatorConnection();
      const res = await conn.request(ApiKey.OffsetFetch, {
        groupId: this.groupId,
        topics: [...topics].map(([name, list]) => ({ name, partitions: list.map((e) => e.partition) })),
        ...(this.options.requireStable ? { requireStable: true } : {}),
      });
      if (res.errorCode) {
        if (coordinatorCodes.has(res.errorCode)) this.coordinator = null;
        throw wireError(res.errorCode, `fetch committed offsets (group '${this.groupId}')`, res.errorMessage);
      }
      for (const t of res.topics ?? []) {
        for (const p of t.partitions ?? []) {
          if (p.errorCode) {
            throw wireError(p.errorCode, `fetch committed offset of ${t.name}-${p.partition}`, p.errorMessage);
          }
          out.set(topicPartitionKey(t.name, p.partition), p.offset);
        }
      }
    });
  }

  /** Stops the loop and leaves the group (best effort: the session timeout covers a failed leave). */
  async stop(): Promise<void> {
    if (this.left) return;
    this.left = true;
    this.stopped = true;
    this.wake();
    if (this.loopDone) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.loopDone.catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, groupCloseWaitMsMax);
        }),
      ]);
      clearTimeout(timer);
      this.loopDone = null;
    }
    // a static member does not leave (KIP-345): its place waits for it for the session timeout
    if (this.memberId !== '' && (this.options.groupInstanceId ?? null) === null && !this.cluster.isClosed) {
      try {
        const conn = await this.coordinatorConnection();
        await conn.request(
          ApiKey.LeaveGroup,
          { groupId: this.groupId, memberId: this.memberId },
          { timeoutMs: Math.min(this.cluster.requestTimeoutMs, groupCloseWaitMsMax) },
        );
      } catch {
        // the coordinator drops us after the session timeout instead
      }
    }
    this.memberId = '';
    this.generationId = -1;
    this.holding = false;
  }
}
