/**
 * The broker's group coordinator: membership of every group it coordinates
 * (group.ts) and their committed offsets (offset-store.ts). A broker
 * coordinates the groups whose __consumer_offsets partition it leads (in
 * standalone mode: all of them); requests for other groups get
 * NOT_COORDINATOR, and the client finds the coordinator again. When this
 * broker stops leading an offsets partition its groups' members are sent away
 * (COORDINATOR_NOT_AVAILABLE) and rejoin at the new coordinator.
 */
import type {
  DescribeGroupsResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupResponse,
} from '../protocol/native/group-messages.js';
import type { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from '../protocol/native/transaction-messages.js';
import { ErrorCode, isSluiceError, SluiceError, toWireError, WireError } from '../shared/errors.js';
import {
  groupOffsetMetadataBytesMax,
  groupSessionTimeoutMsMax,
  groupSessionTimeoutMsMin,
  groupsMax,
} from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { answerOf, Group, isGroupRefusal, joinFailure } from './group.js';
import { type OffsetStore, offsetsPartitionFor } from './offset-store.js';
import { checkTxnCommitter, txnCommitWriteError } from './txn-commit.js';

function unknownMember(memberId: string): SluiceError {
  return new SluiceError(ErrorCode.UnknownMemberId, `unknown member ${memberId}`);
}

/**
 * Who may commit: anyone to a group nobody is in (an admin reset, or a
 * consumer without membership, generation -1), else a member of the current
 * generation — not between join and sync (Kafka's rule: the current
 * generation may commit while members rejoin, which is when they hand
 * partitions over, but not while the next generation's assignment is pending).
 */
function checkCommitter(req: OffsetCommitRequest, group: Group | undefined): void {
  if (req.generationId < 0) {
    if (group && group.size > 0) {
      throw new SluiceError(
        ErrorCode.NonEmptyGroup,
        `group ${req.groupId} has ${group.size} active members; stop them first`,
      );
    }
    return;
  }
  if (!group) throw unknownMember(req.memberId);
  group.check(req.memberId, req.generationId, req.groupInstanceId ?? null);
  if (group.state === 'CompletingRebalance') {
    throw new SluiceError(ErrorCode.RebalanceInProgress, `group ${req.groupId} is completing a rebalance`);
  }
}

/** A partition's answer to a refused commit: the member refusals say why in the words clients have always seen. */
function commitRefused(refusal: SluiceError): { errorCode: number; errorMessage: string } {
  const { errorCode, errorMessage } = toWireError(refusal);
  switch (refusal.code) {
    case ErrorCode.IllegalGeneration:
      return { errorCode, errorMessage: 'commit refused: stale generation' };
    case ErrorCode.UnknownMemberId:
    case ErrorCode.RebalanceInProgress:
      return { errorCode, errorMessage: 'commit refused: not a member of the current generation' };
    default:
      return { errorCode, errorMessage };
  }
}

/** The refusal `check` throws, if any. */
function coordinatorRefusal(check: () => void): SluiceError | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    if (isGroupRefusal(err)) return err;
    throw err;
  }
}

/** Whether a topic's partition exists (the handler asks the cluster coordinator). */
export type PartitionExists = (topic: string, partition: number) => boolean;

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();

  constructor(
    readonly offsets: OffsetStore,
    private readonly logger: Logger,
    /** Kafka's group.initial.rebalance.delay.ms: how long a new group waits for more members. */
    private readonly initialRebalanceDelayMs = 3000,
  ) {}

  private group(groupId: string, create: boolean): Group | undefined {
    let group = this.groups.get(groupId);
    if (!group && create && this.groups.size < groupsMax) {
      group = new Group(
        groupId,
        (g, event) => this.logger.info({ group: g.groupId, state: g.state, generation: g.generationId }, event),
        this.initialRebalanceDelayMs,
      );
      this.groups.set(groupId, group);
    }
    return group;
  }

  /**
   * Throws unless this broker coordinates the group, once the offsets topic
   * exists (created on first use, as FindCoordinator does) and the group's
   * partition is replayed when this broker leads it.
   */
  private async settle(groupId: string): Promise<void> {
    await this.offsets.ensureTopic();
    if (this.offsets.loading(groupId)) await this.offsets.whenLoaded(groupId);
    this.offsets.checkCoordinator(groupId);
  }

  /** JoinGroup; throws the group's refusals (isGroupRefusal), which the handler answers in the JoinGroup shape. */
  async join(req: JoinGroupRequest, clientId: string, clientHost: string): Promise<JoinGroupResponse> {
    if (req.groupId === '') throw new SluiceError(ErrorCode.InvalidGroupId, 'the group id is empty');
    if (req.sessionTimeoutMs < groupSessionTimeoutMsMin || req.sessionTimeoutMs > groupSessionTimeoutMsMax) {
      throw new SluiceError(
        ErrorCode.InvalidSessionTimeout,
        `session timeout must be ${groupSessionTimeoutMsMin}..${groupSessionTimeoutMsMax} ms, got ${req.sessionTimeoutMs}`,
      );
    }
    if (req.protocols.length === 0) throw new SluiceError(ErrorCode.InconsistentGroupProtocol, 'no assignor offered');
    await this.settle(req.groupId);
    const group = this.group(req.groupId, true);
    if (!group) {
      // a limit, not one of Kafka's group conditions: answered as UNKNOWN_SERVER_ERROR in the JoinGroup shape
      return joinFailure(req.memberId, {
        ...answerOf(ErrorCode.BrokerError),
        errorMessage: 'too many groups on this broker',
      });
    }
    return group.join(req, clientId, clientHost);
  }

  /** SyncGroup; throws the group's refusals. */
  async sync(
    groupId: string,
    generationId: number,
    memberId: string,
    assignments: { memberId: string; assignment: Buffer }[],
    options: { groupInstanceId?: string | null; protocolType?: string | null; protocolName?: string | null } = {},
  ): Promise<SyncGroupResponse> {
    this.offsets.checkCoordinator(groupId);
    const group = this.group(groupId, false);
    if (!group) throw unknownMember(memberId);
    return group.sync(memberId, generationId, assignments, options);
  }

  /** Heartbeat; throws the group's refusals (RebalanceInProgress: the member must rejoin). */
  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null = null): void {
    this.offsets.checkCoordinator(groupId);
    const group = this.group(groupId, false);
    if (!group) throw unknownMember(memberId);
    group.heartbeat(memberId, generationId, groupInstanceId);
  }

  /** LeaveGroup of one member (by member id and/or instance id); throws the group's refusals. */
  leave(groupId: string, memberId: string, groupInstanceId: string | null = null): void {
    this.offsets.checkCoordinator(groupId);
    const group = this.group(groupId, false);
    if (!group) throw unknownMember(memberId);
    group.leave(memberId, groupInstanceId);
  }

  /**
   * LeaveGroup of several members (Kafka's v3+): each answered on its own
   * (UnknownMemberId, FencedInstanceId); throws only what refuses the whole
   * request (NotCoordinator and the like).
   */
  leaveMembers(
    groupId: string,
    members: { memberId: string; groupInstanceId?: string | null }[],
  ): { memberId: string; groupInstanceId: string | null; errorCode: number; errorMessage?: string }[] {
    this.offsets.checkCoordinator(groupId);
    const group = this.group(groupId, false);
    return members.map((m) => {
      const groupInstanceId = m.groupInstanceId ?? null;
      const refusal = coordinatorRefusal(() => {
        if (!group) throw unknownMember(m.memberId);
        group.leave(m.memberId, groupInstanceId);
      });
      return { memberId: m.memberId, groupInstanceId, ...(refusal ? toWireError(refusal) : { errorCode: 0 }) };
    });
  }

  /** Fencing for fetches that name a group: throws for a stale generation or an unknown member. */
  checkMember(groupId: string, generationId: number, memberId: string): void {
    // a partition leader that does not coordinate the group cannot judge the generation: it serves the fetch
    if (!this.offsets.coordinates(groupId)) return;
    const group = this.group(groupId, false);
    if (!group) throw unknownMember(memberId);
    group.check(memberId, generationId);
  }

  /**
   * OffsetCommit: a refusal is answered in each partition's errorCode (Kafka's
   * shape); the commit is written only when there is none. A partition
   * `exists` denies (no such topic, or beyond its partition count) is
   * answered UNKNOWN_TOPIC_OR_PARTITION and not written, whatever the group
   * says (Kafka filters those before the group coordinator sees the rest).
   */
  async commit(req: OffsetCommitRequest, exists: PartitionExists = () => true): Promise<OffsetCommitResponse> {
    const known = req.topics.flatMap((t) =>
      t.partitions.filter((p) => exists(t.name, p.partition)).map((p) => ({ topic: t.name, ...p })),
    );
    let refusal: SluiceError | undefined;
    if (known.length > 0) {
      const group = this.group(req.groupId, false);
      try {
        await this.settle(req.groupId);
        checkCommitter(req, group);
      } catch (err) {
        if (!isGroupRefusal(err)) throw err;
        refusal = err;
      }
      if (refusal === undefined) {
        const entries = known.map((p) => ({
          topic: p.topic,
          partition: p.partition,
          offset: p.offset,
          metadata: p.metadata ?? '',
          leaderEpoch: p.leaderEpoch ?? -1,
        }));
        await this.offsets.commit(req.groupId, entries);
      }
    }
    const answer = refusal === undefined ? { errorCode: WireError.NONE } : commitRefused(refusal);
    return {
      errorCode: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) =>
          exists(t.name, p.partition)
            ? { partition: p.partition, ...answer }
            : {
                partition: p.partition,
                errorCode: WireError.UNKNOWN_TOPIC_OR_PARTITION,
                errorMessage: `commit refused: ${t.name}[${p.partition}] does not exist`,
              },
        ),
      })),
    };
  }

  /**
   * TxnOffsetCommit (KIP-98/447): the offsets are written as one
   * transactional batch of the producer and stay pending until its marker.
   * Answered per partition as OffsetCommit: a partition `exists` denies is
   * UNKNOWN_TOPIC_OR_PARTITION, metadata too long OFFSET_METADATA_TOO_LARGE
   * (neither written); a refusal (not the coordinator, fenced member) or a
   * failed write answers every other partition.
   */
  async txnCommit(req: TxnOffsetCommitRequest, exists: PartitionExists = () => true): Promise<TxnOffsetCommitResponse> {
    const answers = new Map<string, { errorCode: number; errorMessage?: string }>();
    const key = (topic: string, partition: number) => `${partition}\u0000${topic}`;
    const toWrite = [];
    for (const t of req.topics) {
      for (const p of t.partitions) {
        if (!exists(t.name, p.partition)) {
          answers.set(key(t.name, p.partition), {
            errorCode: WireError.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `commit refused: ${t.name}[${p.partition}] does not exist`,
          });
        } else if ((p.metadata ?? '').length > groupOffsetMetadataBytesMax) {
          answers.set(
            key(t.name, p.partition),
            toWireError(
              new SluiceError(
                ErrorCode.OffsetMetadataTooLarge,
                `offset metadata longer than ${groupOffsetMetadataBytesMax}`,
              ),
            ),
          );
        } else {
          toWrite.push({
            topic: t.name,
            partition: p.partition,
            offset: p.offset,
            metadata: p.metadata ?? '',
            leaderEpoch: p.leaderEpoch ?? -1,
          });
        }
      }
    }
    let outcome: { errorCode: number; errorMessage?: string } = { errorCode: WireError.NONE };
    if (toWrite.length > 0) {
      try {
        if (req.groupId === '') throw new SluiceError(ErrorCode.InvalidGroupId, 'the group id is empty');
        await this.settle(req.groupId);
        checkTxnCommitter(req, this.group(req.groupId, false));
        await this.offsets
          .commitTransactional(req.groupId, req, toWrite)
          .catch((err: unknown) => Promise.reject(txnCommitWriteError(err)));
      } catch (err) {
        if (!isSluiceError(err)) throw err;
        outcome = toWireError(err);
      }
    }
    return {
      errorCode: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partition: p.partition,
          ...(answers.get(key(t.name, p.partition)) ?? outcome),
        })),
      })),
    };
  }

  /** OffsetFetch: a refusal is the answer's top-level error. */
  async fetchOffsets(req: OffsetFetchRequest): Promise<OffsetFetchResponse> {
    try {
      await this.settle(req.groupId);
    } catch (err) {
      if (!isGroupRefusal(err)) throw err;
      return { ...toWireError(err), topics: [] };
    }
    let wanted = req.topics;
    if (wanted === null) {
      const byTopic = new Map<string, number[]>();
      for (const { topic, partition } of await this.offsets.all(req.groupId)) {
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      }
      wanted = [...byTopic].map(([name, partitions]) => ({ name, partitions: partitions.sort((a, b) => a - b) }));
    }
    const topics: OffsetFetchResponse['topics'] = [];
    for (const t of wanted) {
      const partitions = [];
      for (const partition of t.partitions) {
        // KIP-447: a transaction still open on the partition may be about to replace its offset
        if (req.requireStable && this.offsets.hasPendingTxnOffset(req.groupId, t.name, partition)) {
          partitions.push({
            partition,
            offset: -1,
            metadata: '',
            leaderEpoch: -1,
            ...toWireError(
              new SluiceError(
                ErrorCode.UnstableOffsetCommit,
                `a transaction of group ${req.groupId} has an offset of ${t.name}[${partition}] not yet committed`,
              ),
            ),
          });
          continue;
        }
        const committed = await this.offsets.fetch(req.groupId, t.name, partition);
        partitions.push({
          partition,
          errorCode: 0,
          offset: committed?.offset ?? -1,
          metadata: committed?.metadata ?? '',
          leaderEpoch: committed?.leaderEpoch ?? -1,
        });
      }
      topics.push({ name: t.name, partitions });
    }
    return { errorCode: 0, topics };
  }

  /**
   * Kafka's DeleteGroups for one group: only a group without members can go
   * (NonEmptyGroup otherwise); its committed offsets are deleted with
   * tombstones in the offsets log, so they stay gone after a restart or a
   * coordinator move. Throws GroupIdNotFound when the group has neither
   * members nor offsets, NotCoordinator when another broker coordinates it.
   */
  async deleteGroup(groupId: string): Promise<void> {
    if (groupId === '') throw new SluiceError(ErrorCode.InvalidGroupId, 'the group id is empty');
    await this.settle(groupId);
    const group = this.groups.get(groupId);
    if (group && group.size > 0) {
      throw new SluiceError(
        ErrorCode.NonEmptyGroup,
        `group ${groupId} has ${group.size} active members; stop them first`,
      );
    }
    // gone before the tombstones are written: a member joining meanwhile starts a new, empty group
    if (group) {
      group.shutdown();
      this.groups.delete(groupId);
    }
    const deleted = await this.offsets.deleteGroup(groupId);
    if (!group && deleted === 0) throw new SluiceError(ErrorCode.GroupIdNotFound, `group ${groupId} does not exist`);
    this.logger.info({ group: groupId, offsets: deleted }, 'group deleted');
  }

  async list(): Promise<{ groupId: string; protocolType: string; state: Group['state'] }[]> {
    const ids = new Set([...this.groups.keys(), ...(await this.offsets.groupIds())]);
    return [...ids].sort().map((groupId) => {
      const g = this.groups.get(groupId);
      return { groupId, protocolType: g?.protocolType || 'consumer', state: g?.state ?? 'Empty' };
    });
  }

  async describe(groupIds: string[]): Promise<DescribeGroupsResponse> {
    const known = new Set(await this.offsets.groupIds());
    return {
      errorCode: 0,
      groups: groupIds.map((groupId) => {
        const refusal = coordinatorRefusal(() => this.offsets.checkCoordinator(groupId));
        if (refusal) {
          return {
            groupId,
            ...toWireError(refusal),
            state: 'Dead' as const,
            protocolType: '',
            protocol: '',
            members: [],
          };
        }
        const g = this.groups.get(groupId);
        if (!g && !known.has(groupId)) {
          return {
            groupId,
            ...toWireError(new SluiceError(ErrorCode.GroupIdNotFound, `group ${groupId} does not exist`)),
            state: 'Dead' as const,
            protocolType: '',
            protocol: '',
            members: [],
          };
        }
        return {
          groupId,
          errorCode: 0,
          state: g?.state ?? 'Empty',
          protocolType: g?.protocolType || 'consumer',
          protocol: g?.protocolName ?? '',
          members: g?.describeMembers() ?? [],
        };
      }),
    };
  }

  /** Follows the leadership of __consumer_offsets partitions (wired to the replica manager). */
  onOffsetsLeadership(partition: number, leader: boolean): void {
    if (leader) {
      this.offsets.onBecomeLeader(partition);
      return;
    }
    this.offsets.onResign(partition);
    for (const [groupId, group] of [...this.groups]) {
      if (offsetsPartitionFor(groupId) !== partition) continue;
      group.shutdown();
      this.groups.delete(groupId);
    }
  }

  shutdown(): void {
    for (const g of this.groups.values()) g.shutdown();
  }
}
