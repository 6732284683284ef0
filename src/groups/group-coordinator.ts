/**
 * The broker's group coordinator: membership of every group it coordinates
 * (group.ts) and their committed offsets (offset-store.ts). A broker
 * coordinates the groups whose __consumer_offsets partition it leads (in
 * standalone mode: all of them); requests for other groups get
 * NOT_COORDINATOR, and the client finds the coordinator again. When this
 * broker stops leading an offsets partition its groups' members are sent away
 * (COORDINATOR_NOT_AVAILABLE) and rejoin at the new coordinator.
 */
import { WireError } from '../protocol/error-codes.js';
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
import { groupSessionTimeoutMsMax, groupSessionTimeoutMsMin, groupsMax } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { Group, joinFailure } from './group.js';
import { type OffsetStore, offsetsPartitionFor } from './offset-store.js';

const noBytes = Buffer.alloc(0);

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
   * Whether this broker coordinates the group, once the offsets topic exists
   * (created on first use, as FindCoordinator does) and the group's partition
   * is replayed when this broker leads it.
   */
  private async settle(groupId: string): Promise<number> {
    await this.offsets.ensureTopic();
    const owner = this.offsets.ownership(groupId);
    if (owner !== WireError.COORDINATOR_LOAD_IN_PROGRESS) return owner;
    await this.offsets.whenLoaded(groupId);
    return this.offsets.ownership(groupId);
  }

  async join(req: JoinGroupRequest, clientId: string, clientHost: string): Promise<JoinGroupResponse> {
    const fail = (errorCode: number, errorMessage: string): JoinGroupResponse =>
      joinFailure(req.memberId, errorCode, errorMessage);
    if (req.groupId === '') return fail(WireError.INVALID_GROUP_ID, 'the group id is empty');
    if (req.sessionTimeoutMs < groupSessionTimeoutMsMin || req.sessionTimeoutMs > groupSessionTimeoutMsMax) {
      return fail(
        WireError.INVALID_SESSION_TIMEOUT,
        `session timeout must be ${groupSessionTimeoutMsMin}..${groupSessionTimeoutMsMax} ms, got ${req.sessionTimeoutMs}`,
      );
    }
    if (req.protocols.length === 0) return fail(WireError.INCONSISTENT_GROUP_PROTOCOL, 'no assignor offered');
    const owner = await this.settle(req.groupId);
    if (owner !== WireError.NONE) return fail(owner, `this broker does not coordinate group ${req.groupId}`);
    const group = this.group(req.groupId, true);
    if (!group) return fail(WireError.UNKNOWN_SERVER_ERROR, 'too many groups on this broker');
    return group.join(req, clientId, clientHost);
  }

  sync(
    groupId: string,
    generationId: number,
    memberId: string,
    assignments: { memberId: string; assignment: Buffer }[],
  ): Promise<SyncGroupResponse> {
    const owner = this.offsets.ownership(groupId);
    if (owner !== WireError.NONE) return Promise.resolve({ errorCode: owner, assignment: noBytes });
    const group = this.group(groupId, false);
    if (!group) return Promise.resolve({ errorCode: WireError.UNKNOWN_MEMBER_ID, assignment: noBytes });
    return group.sync(memberId, generationId, assignments);
  }

  heartbeat(groupId: string, generationId: number, memberId: string): number {
    const owner = this.offsets.ownership(groupId);
    if (owner !== WireError.NONE) return owner;
    return this.group(groupId, false)?.heartbeat(memberId, generationId) ?? WireError.UNKNOWN_MEMBER_ID;
  }

  leave(groupId: string, memberId: string): number {
    const owner = this.offsets.ownership(groupId);
    if (owner !== WireError.NONE) return owner;
    return this.group(groupId, false)?.leave(memberId) ?? WireError.UNKNOWN_MEMBER_ID;
  }

  /** Fencing for fetches that name a group: a stale generation or unknown member is refused. */
  checkMember(groupId: string, generationId: number, memberId: string): number {
    // a partition leader that does not coordinate the group cannot judge the generation: it serves the fetch
    if (this.offsets.ownership(groupId) !== WireError.NONE) return WireError.NONE;
    const group = this.group(groupId, false);
    if (!group) return WireError.UNKNOWN_MEMBER_ID;
    return group.check(memberId, generationId);
  }

  async commit(req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    const group = this.group(req.groupId, false);
    let error: number = await this.settle(req.groupId);
    let message: string | undefined;
    if (error !== WireError.NONE) {
      message = `this broker does not coordinate group ${req.groupId}`;
    } else if (req.generationId < 0) {
      // an admin commit (reset-offsets) or a consumer without membership: only for a group nobody is in
      if (group && group.size > 0) {
        error = WireError.NON_EMPTY_GROUP;
        message = `group ${req.groupId} has ${group.size} active members; stop them first`;
      }
    } else if (!group) {
      error = WireError.UNKNOWN_MEMBER_ID;
    } else {
      error = group.check(req.memberId, req.generationId);
      // Kafka's rule: the current generation may commit while members rejoin (that is when they hand
      // partitions over), but not between join and sync, when the next generation's assignment is pending
      if (error === WireError.NONE && group.state === 'CompletingRebalance') error = WireError.REBALANCE_IN_PROGRESS;
    }
    if (error === WireError.NONE) {
      const entries = req.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partition,
          offset: p.offset,
          metadata: p.metadata ?? '',
        })),
      );
      await this.offsets.commit(req.groupId, entries);
    } else if (message === undefined) {
      message = `commit refused: ${error === WireError.ILLEGAL_GENERATION ? 'stale generation' : 'not a member of the current generation'}`;
    }
    return {
      errorCode: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partition: p.partition,
          errorCode: error,
          ...(message ? { errorMessage: message } : {}),
        })),
      })),
    };
  }

  async fetchOffsets(req: OffsetFetchRequest): Promise<OffsetFetchResponse> {
    const owner = await this.settle(req.groupId);
    if (owner !== WireError.NONE) {
      return { errorCode: owner, errorMessage: `this broker does not coordinate group ${req.groupId}`, topics: [] };
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
        const committed = await this.offsets.fetch(req.groupId, t.name, partition);
        partitions.push({
          partition,
          errorCode: 0,
          offset: committed?.offset ?? -1,
          metadata: committed?.metadata ?? '',
        });
      }
      topics.push({ name: t.name, partitions });
    }
    return { errorCode: 0, topics };
  }

  /**
   * Kafka's DeleteGroups for one group: only a group without members can go
   * (NON_EMPTY_GROUP otherwise); its committed offsets are deleted with
   * tombstones in the offsets log, so they stay gone after a restart or a
   * coordinator move. GROUP_ID_NOT_FOUND when the group has neither members
   * nor offsets; NOT_COORDINATOR when another broker coordinates it.
   */
  async deleteGroup(groupId: string): Promise<{ errorCode: number; errorMessage?: string }> {
    if (groupId === '') return { errorCode: WireError.INVALID_GROUP_ID, errorMessage: 'the group id is empty' };
    const owner = await this.settle(groupId);
    if (owner !== WireError.NONE)
      return { errorCode: owner, errorMessage: `this broker does not coordinate group ${groupId}` };
    const group = this.groups.get(groupId);
    if (group && group.size > 0) {
      return {
        errorCode: WireError.NON_EMPTY_GROUP,
        errorMessage: `group ${groupId} has ${group.size} active members; stop them first`,
      };
    }
    // gone before the tombstones are written: a member joining meanwhile starts a new, empty group
    if (group) {
      group.shutdown();
      this.groups.delete(groupId);
    }
    const deleted = await this.offsets.deleteGroup(groupId);
    if (!group && deleted === 0)
      return { errorCode: WireError.GROUP_ID_NOT_FOUND, errorMessage: `group ${groupId} does not exist` };
    this.logger.info({ group: groupId, offsets: deleted }, 'group deleted');
    return { errorCode: WireError.NONE };
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
        const owner = this.offsets.ownership(groupId);
        if (owner !== WireError.NONE) {
          return {
            groupId,
            errorCode: owner,
            errorMessage: `this broker does not coordinate group ${groupId}`,
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
            errorCode: WireError.GROUP_ID_NOT_FOUND,
            errorMessage: `group ${groupId} does not exist`,
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
