/**
 * One consumer group's membership, Kafka's state machine:
 *
 *   Empty -> PreparingRebalance -> CompletingRebalance -> Stable
 *      ^______________|_______________________|______________|  (members leave / expire / join)
 *
 * JoinGroup parks each member until every known member has rejoined (or the
 * rebalance timeout drops the missing ones); then the generation advances and
 * the leader gets every subscription. SyncGroup parks members until the leader
 * hands over the assignment. Heartbeats keep a member's session alive and tell
 * it when to rejoin. Every wait is bounded by a timer.
 *
 * Static members (KIP-345, group.instance.id) keep their place across
 * restarts: one that joins again without a member id while its instance is
 * still a member (its session has not timed out) takes over that member —
 * a new member id, the same assignment — and a Stable group does not
 * rebalance when its subscription is unchanged (the old member id is fenced:
 * FENCED_INSTANCE_ID). It leaves only by LeaveGroup naming its instance, or
 * when its session times out.
 */
import { randomUUID } from 'node:crypto';
import { consumerProtocolType, decodeSubscription } from '../protocol/native/consumer-protocol.js';
import type {
  GroupState,
  JoinGroupRequest,
  JoinGroupResponse,
  SyncGroupResponse,
} from '../protocol/native/group-messages.js';
import { assert } from '../shared/assert.js';
import { ErrorCode, isSluiceError, SluiceError, wireErrorOf } from '../shared/errors.js';
import { groupMembersMax, memberIdClientIdCharsMax } from '../shared/limits.js';

interface Member {
  memberId: string;
  /** KIP-345: the static member's instance id; null for a dynamic member. */
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  joinWaiter?: (r: JoinGroupResponse) => void;
  syncWaiter?: (r: SyncGroupResponse) => void;
  sessionTimer?: NodeJS.Timeout;
}

const noBytes = Buffer.alloc(0);

/**
 * The conditions a group refuses a request with (thrown as SluiceErrors by
 * the group and its coordinator; the handlers answer them in the API's
 * response shape). Anything else a request meets fails the request as a whole.
 */
const refusals = new Set<ErrorCode>([
  ErrorCode.InvalidGroupId,
  ErrorCode.InvalidSessionTimeout,
  ErrorCode.InconsistentGroupProtocol,
  ErrorCode.NotCoordinator,
  ErrorCode.CoordinatorLoadInProgress,
  ErrorCode.CoordinatorNotAvailable,
  ErrorCode.UnknownMemberId,
  ErrorCode.IllegalGeneration,
  ErrorCode.RebalanceInProgress,
  ErrorCode.NonEmptyGroup,
  ErrorCode.GroupIdNotFound,
  ErrorCode.FencedInstanceId,
]);

export function isGroupRefusal(err: unknown): err is SluiceError {
  return isSluiceError(err) && refusals.has(err.code);
}

/** The wire error fields of an answer that carries only `code` (a parked member sent away: no message). */
export function answerOf(code: ErrorCode): { errorCode: number } {
  return { errorCode: wireErrorOf(code) };
}

/** A JoinGroup answer that carries only an error (toWireError's fields, or answerOf's). */
export function joinFailure(memberId: string, error: { errorCode: number; errorMessage?: string }): JoinGroupResponse {
  return {
    errorCode: error.errorCode,
    ...(error.errorMessage ? { errorMessage: error.errorMessage } : {}),
    generationId: -1,
    protocolName: '',
    leader: '',
    memberId,
    members: [],
  };
}

function newMemberId(clientId: string): string {
  // the client id part is cut so the id stays a valid Kafka STRING (int16 bytes) however long the client id
  return `${clientId.slice(0, memberIdClientIdCharsMax) || 'member'}-${randomUUID()}`;
}

function groupFull(memberId: string): JoinGroupResponse {
  return joinFailure(memberId, { ...answerOf(ErrorCode.BrokerError), errorMessage: 'the group is full' });
}

export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType = '';
  protocolName = '';
  leaderId = '';
  private readonly members = new Map<string, Member>();
  /** Static members: instance id -> the member id that holds it now. */
  private readonly staticMembers = new Map<string, string>();
  /** Ids given with MEMBER_ID_REQUIRED whose member has not joined yet, each with its expiry (the session timeout). */
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private joinTimer: NodeJS.Timeout | undefined;
  /** A new group's first join phase stays open until then, so members starting together share generation 1. */
  private joinOpenUntil = 0;
  private delayTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly groupId: string,
    private readonly onChange: (group: Group, event: string) => void,
    /** Kafka's group.initial.rebalance.delay.ms. */
    private readonly initialRebalanceDelayMs = 0,
  ) {}

  get size(): number {
    return this.members.size;
  }

  describeMembers(): {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      metadata: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? noBytes,
      assignment: m.assignment,
    }));
  }

  /**
   * Member and generation check shared by SyncGroup, Heartbeat, OffsetCommit
   * and Fetch fencing: throws UnknownMemberId or IllegalGeneration.
   */
  check(memberId: string, generationId: number, groupInstanceId: string | null = null): void {
    this.checkInstance(memberId, groupInstanceId);
    if (!this.members.has(memberId)) throw new SluiceError(ErrorCode.UnknownMemberId, `unknown member ${memberId}`);
    if (generationId !== this.generationId) {
      throw new SluiceError(
        ErrorCode.IllegalGeneration,
        `generation ${generationId} is not group ${this.groupId}'s current one (${this.generationId})`,
      );
    }
  }

  /**
   * TxnOffsetCommit's check (KIP-447, Kafka's doTxnCommitOffsets): the
   * instance fencing of `check`, then the member and the generation only when
   * given (member id '' and generation -1 are a producer without group
   * metadata, v0-2); no rebalance check, unlike OffsetCommit's.
   */
  checkTxnCommitter(memberId: string, generationId: number, groupInstanceId: string | null): void {
    this.checkInstance(memberId, groupInstanceId);
    if (memberId !== '' && !this.members.has(memberId)) {
      throw new SluiceError(ErrorCode.UnknownMemberId, `unknown member ${memberId}`);
    }
    if (generationId >= 0 && generationId !== this.generationId) {
      throw new SluiceError(
        ErrorCode.IllegalGeneration,
        `generation ${generationId} is not group ${this.groupId}'s current one (${this.generationId})`,
      );
    }
  }

  /**
   * KIP-345: a request naming an instance id whose member id is another
   * (the instance joined again since) is fenced, as Kafka fences it.
   */
  private checkInstance(memberId: string, groupInstanceId: string | null): void {
    if (groupInstanceId === null) return;
    const current = this.staticMembers.get(groupInstanceId);
    if (current !== undefined && current !== memberId) {
      throw new SluiceError(
        ErrorCode.FencedInstanceId,
        `instance ${groupInstanceId} of group ${this.groupId} is held by member ${current}, not ${memberId}`,
      );
    }
  }

  /**
   * JoinGroup: resolves when the join phase ends (with the member sent away
   * as an error answer when it is removed meanwhile); throws the refusals
   * (InconsistentGroupProtocol, UnknownMemberId) before the member is parked.
   * With requireKnownMemberId a member without an id is answered at once
   * (MEMBER_ID_REQUIRED, with its id) and parked only when it comes back.
   */
  join(req: JoinGroupRequest, clientId: string, clientHost: string): Promise<JoinGroupResponse> {
    if (this.members.size > 0 && req.protocolType !== this.protocolType) {
      throw new SluiceError(
        ErrorCode.InconsistentGroupProtocol,
        `group ${this.groupId} uses protocol type ${this.protocolType}`,
      );
    }
    const instanceId = req.groupInstanceId ?? null;
    const held = instanceId === null ? undefined : this.staticMembers.get(instanceId);
    const names = new Set(req.protocols.map((p) => p.name));
    const others = [...this.members.values()].filter((m) => m.memberId !== req.memberId && m.memberId !== held);
    if (others.length > 0 && !others.every((m) => m.protocols.some((p) => names.has(p.name)))) {
      throw new SluiceError(ErrorCode.InconsistentGroupProtocol, 'no assignor is supported by every member');
    }
    let member: Member | undefined;
    if (instanceId !== null && req.memberId === '') {
      // KIP-345: a static member is never asked for a member id first (Kafka skips KIP-394 for it)
      const old = held === undefined ? undefined : this.members.get(held);
      if (old) {
        member = this.replaceStatic(old, clientId, clientHost);
        const kept = this.keepAssignment(member, old.protocols, req);
        if (kept) return Promise.resolve(kept);
      }
    } else if (instanceId !== null) {
      this.checkInstance(req.memberId, instanceId);
    } else if (req.memberId === '' && req.requireKnownMemberId) {
      return Promise.resolve(this.requireMemberId(req, clientId));
    }
    const pending = this.pending.get(req.memberId);
    if (!member) member = req.memberId === '' || pending ? undefined : this.members.get(req.memberId);
    if (req.memberId !== '' && !member && !pending)
      throw new SluiceError(ErrorCode.UnknownMemberId, `unknown member ${req.memberId}`);
    if (!member) {
      // a limit, not one of Kafka's group conditions: answered as UNKNOWN_SERVER_ERROR in the JoinGroup shape
      if (this.members.size >= groupMembersMax) return Promise.resolve(groupFull(req.memberId));
      clearTimeout(pending);
      this.pending.delete(req.memberId);
      member = {
        memberId: req.memberId || newMemberId(clientId),
        groupInstanceId: instanceId,
        clientId,
        clientHost,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        protocols: req.protocols,
        assignment: noBytes,
      };
      this.members.set(member.memberId, member);
      if (instanceId !== null) this.staticMembers.set(instanceId, member.memberId);
      this.onChange(this, `member ${member.memberId} joined`);
    }
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    this.protocolType = req.protocolType;
    this.stopSession(member);
    const joined = member;
    const response = new Promise<JoinGroupResponse>((resolve) => {
      joined.joinWaiter?.(joinFailure(joined.memberId, answerOf(ErrorCode.UnknownMemberId)));
      joined.joinWaiter = resolve;
    });
    if (this.state === 'Empty' || (this.state === 'PreparingRebalance' && Date.now() < this.joinOpenUntil)) {
      this.holdJoinOpen(req.rebalanceTimeoutMs);
    }
    if (this.state !== 'PreparingRebalance') this.prepareRebalance();
    this.tryCompleteJoin();
    return response;
  }

  /**
   * KIP-345: the instance's member id changes to a new one; the old id's
   * pending join or sync is answered FENCED_INSTANCE_ID, and so is every
   * later request that names the instance with it. The member keeps its
   * place: subscription, assignment, leadership.
   */
  private replaceStatic(old: Member, clientId: string, clientHost: string): Member {
    const fenced = answerOf(ErrorCode.FencedInstanceId);
    old.joinWaiter?.(joinFailure(old.memberId, fenced));
    old.syncWaiter?.({ ...fenced, assignment: noBytes });
    this.stopSession(old);
    const member: Member = {
      ...old,
      memberId: newMemberId(clientId),
      clientId,
      clientHost,
      joinWaiter: undefined,
      syncWaiter: undefined,
      sessionTimer: undefined,
    };
    this.members.delete(old.memberId);
    this.members.set(member.memberId, member);
    this.staticMembers.set(member.groupInstanceId as string, member.memberId);
    if (this.leaderId === old.memberId) this.leaderId = member.memberId;
    this.onChange(this, `static member ${member.groupInstanceId}: ${old.memberId} replaced by ${member.memberId}`);
    return member;
  }

  /**
   * A static member that rejoined a Stable group with the same subscription
   * keeps its assignment with no rebalance: answered at once with the
   * current generation (the leader with every member, as Kafka answers it;
   * its SyncGroup then gets the current assignment back, whatever it
   * computes). Undefined when a rebalance is needed instead.
   */
  private keepAssignment(
    member: Member,
    before: Member['protocols'],
    req: JoinGroupRequest,
  ): JoinGroupResponse | undefined {
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    if (this.state !== 'Stable' || this.chooseProtocol() !== this.protocolName) return undefined;
    const was = before.find((p) => p.name === this.protocolName)?.metadata;
    const now = req.protocols.find((p) => p.name === this.protocolName)?.metadata;
    if (!was || !now || !sameSubscription(this.protocolType, was, now)) return undefined;
    this.startSession(member);
    this.onChange(this, `static member ${member.groupInstanceId} rejoined: assignment kept, no rebalance`);
    return {
      errorCode: 0,
      generationId: this.generationId,
      protocolName: this.protocolName,
      leader: this.leaderId,
      memberId: member.memberId,
      members: member.memberId === this.leaderId ? this.memberSubscriptions() : [],
    };
  }

  private memberSubscriptions(): JoinGroupResponse['members'] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? noBytes,
    }));
  }

  /**
   * KIP-394: a new member is only given an id; it joins when it comes back
   * with it within its session timeout. A client that gives up in between
   * leaves nothing in the group to wait for.
   */
  private requireMemberId(req: JoinGroupRequest, clientId: string): JoinGroupResponse {
    if (this.members.size + this.pending.size >= groupMembersMax) return groupFull('');
    const memberId = newMemberId(clientId);
    const timer = setTimeout(() => this.pending.delete(memberId), req.sessionTimeoutMs);
    timer.unref();
    this.pending.set(memberId, timer);
    return joinFailure(memberId, answerOf(ErrorCode.MemberIdRequired));
  }

  private prepareRebalance(): void {
    // a sync in progress is abandoned: its members must rejoin
    for (const m of this.members.values()) {
      m.syncWaiter?.({ ...answerOf(ErrorCode.RebalanceInProgress), assignment: noBytes });
      m.syncWaiter = undefined;
    }
    this.state = 'PreparingRebalance';
    const timeout = Math.max(1, ...[...this.members.values()].map((m) => m.rebalanceTimeoutMs));
    clearTimeout(this.joinTimer);
    this.joinTimer = setTimeout(() => this.completeJoin(), timeout);
    this.joinTimer.unref();
  }

  /** Keeps a new group's join phase open a little longer for members still starting (bounded by the rebalance timeout). */
  private holdJoinOpen(rebalanceTimeoutMs: number): void {
    if (this.initialRebalanceDelayMs <= 0) return;
    const now = Date.now();
    if (this.joinOpenUntil === 0) this.joinOpenDeadline = now + rebalanceTimeoutMs;
    this.joinOpenUntil = Math.min(now + this.initialRebalanceDelayMs, this.joinOpenDeadline);
    clearTimeout(this.delayTimer);
    this.delayTimer = setTimeout(() => this.tryCompleteJoin(), Math.max(0, this.joinOpenUntil - now));
    this.delayTimer.unref();
  }

  private joinOpenDeadline = 0;

  private tryCompleteJoin(): void {
    if (this.state !== 'PreparingRebalance') return;
    const wait = this.joinOpenUntil - Date.now();
    if (wait > 0) {
      // timers may fire a millisecond early: look again when the window has really closed
      clearTimeout(this.delayTimer);
      this.delayTimer = setTimeout(() => this.tryCompleteJoin(), wait + 1);
      this.delayTimer.unref();
      return;
    }
    for (const m of this.members.values()) if (!m.joinWaiter) return;
    this.completeJoin();
  }

  /** Ends the join phase: members that did not rejoin are dropped, the generation advances. */
  private completeJoin(): void {
    clearTimeout(this.joinTimer);
    clearTimeout(this.delayTimer);
    this.joinTimer = undefined;
    this.joinOpenUntil = 0;
    this.joinOpenDeadline = 0;
    for (const m of [...this.members.values()]) if (!m.joinWaiter) this.remove(m, 'did not rejoin in time', false);
    this.advanceGeneration();
    if (this.members.size === 0) {
      this.state = 'Empty';
      this.protocolName = '';
      this.leaderId = '';
      this.onChange(this, `generation ${this.generationId}: empty`);
      return;
    }
    this.protocolName = this.chooseProtocol();
    if (!this.members.has(this.leaderId)) this.leaderId = this.members.keys().next().value as string;
    this.state = 'CompletingRebalance';
    const everyone = this.memberSubscriptions();
    for (const m of this.members.values()) {
      const waiter = m.joinWaiter;
      m.joinWaiter = undefined;
      m.assignment = noBytes;
      this.startSession(m);
      waiter?.({
        errorCode: 0,
        generationId: this.generationId,
        protocolName: this.protocolName,
        leader: this.leaderId,
        memberId: m.memberId,
        members: m.memberId === this.leaderId ? everyone : [],
      });
    }
    this.onChange(this, `generation ${this.generationId} with ${this.members.size} members`);
  }

  /** The assignor every member supports that ranks best across members' preference lists. */
  private chooseProtocol(): string {
    const members = [...this.members.values()];
    const candidates = (members[0] as Member).protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    let best = candidates[0] ?? '';
    let bestScore = Number.POSITIVE_INFINITY;
    for (const name of candidates) {
      const score = members.reduce((sum, m) => sum + m.protocols.findIndex((p) => p.name === name), 0);
      if (score < bestScore) {
        best = name;
        bestScore = score;
      }
    }
    return best;
  }

  sync(
    memberId: string,
    generationId: number,
    assignments: { memberId: string; assignment: Buffer }[],
    options: { groupInstanceId?: string | null; protocolType?: string | null; protocolName?: string | null } = {},
  ): Promise<SyncGroupResponse> {
    // refusals are thrown before the member waits: the check's, KIP-559's, and RebalanceInProgress
    this.check(memberId, generationId, options.groupInstanceId ?? null);
    if (
      (options.protocolType != null && options.protocolType !== this.protocolType) ||
      (options.protocolName != null && options.protocolName !== this.protocolName)
    ) {
      throw new SluiceError(
        ErrorCode.InconsistentGroupProtocol,
        `group ${this.groupId} uses protocol ${this.protocolType}/${this.protocolName}`,
      );
    }
    if (this.state === 'PreparingRebalance') {
      throw new SluiceError(ErrorCode.RebalanceInProgress, `group ${this.groupId} is rebalancing`);
    }
    const member = this.members.get(memberId) as Member;
    this.touch(member);
    if (this.state === 'Stable') return Promise.resolve(this.synced(member));
    const response = new Promise<SyncGroupResponse>((resolve) => {
      member.syncWaiter = resolve;
    });
    if (memberId === this.leaderId) {
      const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]));
      for (const m of this.members.values()) m.assignment = byMember.get(m.memberId) ?? noBytes;
      this.state = 'Stable';
      for (const m of this.members.values()) {
        m.syncWaiter?.(this.synced(m));
        m.syncWaiter = undefined;
      }
      this.onChange(this, `generation ${this.generationId} stable`);
    }
    return response;
  }

  private synced(member: Member): SyncGroupResponse {
    return {
      errorCode: 0,
      assignment: member.assignment,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
    };
  }

  /** Keeps the member's session alive; throws the check's refusals, and RebalanceInProgress (after the touch) when it must rejoin. */
  heartbeat(memberId: string, generationId: number, groupInstanceId: string | null = null): void {
    this.check(memberId, generationId, groupInstanceId);
    this.touch(this.members.get(memberId) as Member);
    if (this.state === 'PreparingRebalance') {
      throw new SluiceError(ErrorCode.RebalanceInProgress, `group ${this.groupId} is rebalancing`);
    }
  }

  /**
   * LeaveGroup for one member, by member id and/or instance id (Kafka's
   * rules): an instance held by another member id is FencedInstanceId; a
   * member known by neither is UnknownMemberId; a member given its id with
   * MEMBER_ID_REQUIRED but not joined yet is simply forgotten.
   */
  leave(memberId: string, groupInstanceId: string | null = null): void {
    if (groupInstanceId !== null && memberId !== '') this.checkInstance(memberId, groupInstanceId);
    const pending = this.pending.get(memberId);
    if (pending) {
      clearTimeout(pending);
      this.pending.delete(memberId);
      return;
    }
    const held = groupInstanceId === null ? undefined : this.staticMembers.get(groupInstanceId);
    const member = this.members.get(held ?? memberId);
    if (!member) throw new SluiceError(ErrorCode.UnknownMemberId, `unknown member ${memberId}`);
    this.remove(member, 'left the group', true);
  }

  private remove(member: Member, why: string, rebalance: boolean): void {
    this.stopSession(member);
    member.joinWaiter?.(joinFailure(member.memberId, answerOf(ErrorCode.UnknownMemberId)));
    member.syncWaiter?.({ ...answerOf(ErrorCode.UnknownMemberId), assignment: noBytes });
    this.members.delete(member.memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === member.memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    this.onChange(this, `member ${member.memberId} ${why}`);
    if (!rebalance) return;
    if (this.state === 'PreparingRebalance') this.tryCompleteJoin();
    else if (this.members.size === 0) {
      this.advanceGeneration();
      this.state = 'Empty';
      this.leaderId = '';
      this.protocolName = '';
    } else this.prepareRebalance();
  }

  /** The generation only ever grows: a member fenced by an old generation (ILLEGAL_GENERATION) never finds it current again. */
  private advanceGeneration(): void {
    const before = this.generationId;
    this.generationId = before + 1;
    assert(
      Number.isSafeInteger(this.generationId) && this.generationId > before,
      `group ${this.groupId}: generation ${this.generationId} after ${before}`,
    );
  }

  private startSession(member: Member): void {
    this.stopSession(member);
    member.sessionTimer = setTimeout(() => {
      if (this.members.get(member.memberId) === member) this.remove(member, 'session timed out', true);
    }, member.sessionTimeoutMs);
    member.sessionTimer.unref();
  }

  private stopSession(member: Member): void {
    clearTimeout(member.sessionTimer);
    member.sessionTimer = undefined;
  }

  /** A request from the member: its session starts again (unless it is parked in a join). */
  private touch(member: Member): void {
    if (!member.joinWaiter) this.startSession(member);
  }

  /** Ends every wait and timer (broker shutdown). */
  shutdown(): void {
    clearTimeout(this.joinTimer);
    clearTimeout(this.delayTimer);
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    for (const m of this.members.values()) {
      this.stopSession(m);
      m.joinWaiter?.(joinFailure(m.memberId, answerOf(ErrorCode.CoordinatorNotAvailable)));
      m.syncWaiter?.({ ...answerOf(ErrorCode.CoordinatorNotAvailable), assignment: noBytes });
    }
  }
}

/**
 * Whether two subscriptions of a member are the same for the assignment: for
 * the consumer protocol the same topics (whatever else its bytes carry, such
 * as the partitions a restarted member no longer owns); otherwise the same bytes.
 */
function sameSubscription(protocolType: string, a: Buffer, b: Buffer): boolean {
  if (a.equals(b)) return true;
  if (protocolType !== consumerProtocolType) return false;
  try {
    const before = new Set(decodeSubscription(a).topics);
    const after = new Set(decodeSubscription(b).topics);
    return after.size === before.size && [...after].every((t) => before.has(t));
  } catch {
    return false;
  }
}
