/**
 * Partition reassignment, as Kafka 2.4+ does it in ZooKeeper mode (KIP-455).
 *
 * Where it is kept: in the topic znode itself, `/brokers/topics/<t>`, next to
 * the assignment: `{"version":2,"partitions":{"0":[2,3,1]},
 * "adding_replicas":{"0":[3]},"removing_replicas":{"0":[1]}}`. That is
 * KIP-455's form; the legacy `/admin/reassign_partitions` znode (one JSON
 * plan for the whole cluster, written by the old tool, read only by the
 * controller) cannot tell a partition's original replicas from its target
 * once the replica set is the union of both, and it is read by Kafka 2.4+
 * only to migrate it into the topic znodes. Keeping the reassignment in the
 * topic znode makes it durable with the assignment in one conditional write:
 * a controller that takes over mid-way finds every ongoing reassignment in
 * the topic znodes and carries on (Kafka's controller does the same at
 * failover).
 *
 * For a partition with original replicas ORS and target TRS (Kafka's names):
 * - start: replicas = (TRS ++ ORS).distinct (target order first, so the
 *   target's first replica is the preferred leader), adding = TRS - ORS,
 *   removing = ORS - TRS. Every broker reads its replica set from the topic
 *   znode (ZooKeeperCoordinator), so an added broker starts following the
 *   leader at once, and the leader starts tracking it (ReplicaManager).
 * - the leader adds each new replica to the ISR once it has caught up (the
 *   usual ISR expansion). The controller watches the partition's state znode.
 * - complete, once every TRS replica is in the ISR: replicas = TRS in target
 *   order (the reassignment fields for the partition go), then the state: the
 *   leader stays when it is in TRS (Kafka moves leadership only then), else
 *   the first TRS replica that is live and in the ISR leads; the ISR shrinks
 *   to its TRS members; the leader epoch is bumped, which fences the removed
 *   replicas. The removed brokers see they are no replicas any more, stop
 *   their followers (or their leadership) and delete the partition's log.
 *   The topic znode is written first: a state written first would name, for
 *   a moment, a new leader that still counts the removed brokers as replicas
 *   and could take one back into the ISR. A controller that fails between
 *   the two writes leaves a leader or ISR member outside the replicas, which
 *   the next controller's reconciliation repairs (fenceNonReplicas).
 * - cancel (target null): the target becomes ORS, which completes at once
 *   (ORS members never left the ISR unless they lag, then when they return).
 */
import { assert } from '../../shared/assert.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { reassignmentWatchesMax } from '../../shared/limits.js';
import type { PartitionReassignment } from '../coordinator.js';
import { isZkError, type ZkClient, ZkCode, ZkEvent } from './zk-client.js';
import {
  brokerIdsPath,
  brokerTopicsPath,
  type PartitionStateZnode,
  parseAssignment,
  parsePartitionState,
  partitionStatePath,
  type TopicAssignment,
  topicPath,
} from './zk-paths.js';

/** The reassignment fields of one partition of a topic znode (empty arrays when it is not reassigning). */
export function reassignmentOf(
  assignment: TopicAssignment,
  partition: number,
): { replicas: number[]; adding: number[]; removing: number[] } {
  const key = String(partition);
  return {
    replicas: [...(assignment.partitions[key] ?? [])],
    adding: [...(assignment.adding_replicas?.[key] ?? [])],
    removing: [...(assignment.removing_replicas?.[key] ?? [])],
  };
}

export function isReassigning(assignment: TopicAssignment, partition: number): boolean {
  const { adding, removing } = reassignmentOf(assignment, partition);
  return adding.length > 0 || removing.length > 0;
}

/** The topic's partitions under reassignment (ascending). */
export function reassigningPartitions(assignment: TopicAssignment): number[] {
  return Object.keys(assignment.partitions)
    .map(Number)
    .filter((partition) => isReassigning(assignment, partition))
    .sort((a, b) => a - b);
}

/** ORS: the replicas before the reassignment (Kafka's originReplicas = replicas - adding). */
export function originReplicas(assignment: TopicAssignment, partition: number): number[] {
  const { replicas, adding } = reassignmentOf(assignment, partition);
  return replicas.filter((r) => !adding.includes(r));
}

/** TRS: the target (Kafka's targetReplicas = replicas - removing, in the order given). */
export function targetReplicas(assignment: TopicAssignment, partition: number): number[] {
  const { replicas, removing } = reassignmentOf(assignment, partition);
  return replicas.filter((r) => !removing.includes(r));
}

/** A copy of the topic znode with `partition`'s replicas and reassignment fields set (empty fields dropped). */
export function withPartition(
  assignment: TopicAssignment,
  partition: number,
  replicas: number[],
  adding: number[],
  removing: number[],
  throttleBytesPerSec = 0,
): TopicAssignment {
  const key = String(partition);
  // everything else in the znode (its version, the topic id) is kept: a topic id lost here would get
  // the topic a new one, and every broker would take its partition directories for a deleted topic's
  const {
    adding_replicas: _adding,
    removing_replicas: _removing,
    sluice_throttle_bytes_per_sec: _throttle,
    ...rest
  } = assignment;
  const next: TopicAssignment = {
    ...rest,
    partitions: { ...assignment.partitions, [key]: [...replicas] },
  };
  const addingMap = { ...(assignment.adding_replicas ?? {}) };
  const removingMap = { ...(assignment.removing_replicas ?? {}) };
  const throttleMap = { ...(assignment.sluice_throttle_bytes_per_sec ?? {}) };
  delete addingMap[key];
  delete removingMap[key];
  delete throttleMap[key];
  if (adding.length > 0) addingMap[key] = [...adding];
  if (removing.length > 0) removingMap[key] = [...removing];
  if (adding.length > 0 && throttleBytesPerSec > 0) throttleMap[key] = throttleBytesPerSec;
  if (Object.keys(addingMap).length > 0) next.adding_replicas = addingMap;
  if (Object.keys(removingMap).length > 0) next.removing_replicas = removingMap;
  if (Object.keys(throttleMap).length > 0) next.sluice_throttle_bytes_per_sec = throttleMap;
  return next;
}

/**
 * The topic znode with a reassignment of `partition` to `target` started (or,
 * when one is in progress, replaced: its original replicas stay the origin,
 * as in Kafka). A target equal to the origin ends the reassignment (cancel).
 */
export function startReassignment(
  assignment: TopicAssignment,
  partition: number,
  target: number[],
  throttleBytesPerSec = 0,
): TopicAssignment {
  const origin = originReplicas(assignment, partition);
  const replicas = [...new Set([...target, ...origin])];
  return withPartition(
    assignment,
    partition,
    replicas,
    target.filter((r) => !origin.includes(r)),
    origin.filter((r) => !target.includes(r)),
    throttleBytesPerSec,
  );
}

/** Kafka's checks of a target replica list: INVALID_REPLICA_ASSIGNMENT when empty, duplicated or not live. */
export function checkTarget(target: number[], live: ReadonlySet<number>): void {
  if (target.length === 0) {
    throw new SluiceError(ErrorCode.InvalidReplicaAssignment, 'empty replica list specified in partition reassignment');
  }
  if (new Set(target).size !== target.length) {
    throw new SluiceError(
      ErrorCode.InvalidReplicaAssignment,
      `duplicate replica ids in partition reassignment replica list: ${target.join(',')}`,
    );
  }
  const notLive = target.filter((r) => !Number.isInteger(r) || r < 0 || !live.has(r));
  if (notLive.length > 0) {
    throw new SluiceError(
      ErrorCode.InvalidReplicaAssignment,
      `replica assignment has brokers that are not alive: ${notLive.join(',')} (live: ${[...live].sort((a, b) => a - b).join(',')})`,
    );
  }
}

/**
 * A state whose leader or ISR names brokers outside `replicas` (the last step
 * of a reassignment, or its repair after a controller failover): the leader
 * stays when it is a live replica in the ISR, else the first replica (in
 * assignment order) that is live and in the ISR leads; the ISR keeps only
 * replicas; the leader epoch is bumped, fencing the brokers that left.
 * Undefined when the state is already within the replicas, or when no
 * replica in the ISR is live (then the partition waits, as Kafka's
 * reassignment does, rather than lose records).
 */
export function fenceNonReplicas(
  state: PartitionStateZnode,
  replicas: number[],
  live: ReadonlySet<number>,
  controllerEpoch: number,
): PartitionStateZnode | undefined {
  const outside =
    state.isr.some((r) => !replicas.includes(r)) || (state.leader >= 0 && !replicas.includes(state.leader));
  if (!outside) return undefined;
  const isr = state.isr.filter((r) => replicas.includes(r));
  const leader =
    state.leader >= 0 && replicas.includes(state.leader) && isr.includes(state.leader) && live.has(state.leader)
      ? state.leader
      : replicas.find((r) => isr.includes(r) && live.has(r));
  if (leader === undefined) return undefined;
  // computed here, not read: leader ∈ ISR ⊆ replicas holds by construction
  assert(
    replicas.includes(leader) && isr.every((r) => replicas.includes(r)),
    `fenced state (leader ${leader}, ISR ${isr.join()}) outside replicas ${replicas.join()}`,
  );
  return {
    controller_epoch: controllerEpoch,
    leader,
    version: 1,
    leader_epoch: state.leader_epoch + 1,
    isr,
  };
}

/** What the controller lends the reassignment steps. */
export interface ReassignmentHost {
  /** This broker is the active controller. */
  active(): boolean;
  /** The controller epoch it won with. */
  epoch(): number;
  /** Runs a step on the controller's queue (one step at a time with its other work). */
  enqueue(step: () => Promise<void>): Promise<void>;
}

/**
 * The controller's side: starts, completes and cancels reassignments, and
 * resumes them after a failover. Every method runs on the controller's queue.
 */
export class Reassignments {
  /** State znodes of reassigning partitions this controller watches (one-shot watches, re-armed). */
  private readonly watched = new Set<string>();
  /**
   * Topics with a partition under reassignment, as this controller last read
   * their znodes: all the periodic check reads. Rebuilt from every topic znode
   * when it becomes controller (checkAll); kept up by alter and by the
   * controller's reconciliation, which reads a topic's znode whenever it
   * changes (its data watch) and so also sees a reassignment written by hand.
   * Holds existing topics only (one gone is dropped when next read).
   */
  private readonly ongoing = new Set<string>();

  constructor(
    private readonly zk: ZkClient,
    private readonly host: ReassignmentHost,
  ) {}

  private async live(): Promise<Set<number>> {
    return new Set((await this.zk.children(brokerIdsPath)).map(Number));
  }

  /**
   * AlterPartitionReassignments for one partition: `target` null cancels.
   * Throws UnknownPartition, InvalidReplicaAssignment or NoReassignmentInProgress.
   */
  async alter(topic: string, partition: number, target: number[] | null, throttleBytesPerSec = 0): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const node = await this.zk.get(topicPath(topic));
      if (!node) throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic ${topic}`);
      const assignment = parseAssignment(topicPath(topic), node.data);
      if (!Number.isInteger(partition) || assignment.partitions[String(partition)] === undefined) {
        throw new SluiceError(ErrorCode.UnknownPartition, `unknown partition ${topic}-${partition}`);
      }
      let wanted: number[];
      if (target === null) {
        if (!isReassigning(assignment, partition)) {
          throw new SluiceError(
            ErrorCode.NoReassignmentInProgress,
            `no reassignment of ${topic}-${partition} is in progress`,
          );
        }
        wanted = originReplicas(assignment, partition);
      } else {
        checkTarget(target, await this.live());
        wanted = target;
      }
      const next = startReassignment(assignment, partition, wanted, target === null ? 0 : throttleBytesPerSec);
      try {
        await this.zk.set(topicPath(topic), JSON.stringify(next), node.version);
      } catch (err) {
        if (isZkError(err, ZkCode.BadVersion)) continue;
        throw err;
      }
      this.note(topic, next);
      await this.check(topic, partition);
      return;
    }
    throw new SluiceError(ErrorCode.BrokerError, `${topic}-${partition}: the topic znode kept changing`);
  }

  /** Records whether `topic`'s znode, as just read or written, has a partition under reassignment. */
  note(topic: string, assignment: TopicAssignment): void {
    if (reassigningPartitions(assignment).length > 0) this.ongoing.add(topic);
    else this.ongoing.delete(topic);
  }

  /** Some topic has a partition under reassignment (as far as this controller has read). */
  get underWay(): boolean {
    return this.ongoing.size > 0;
  }

  /** The topic znode, noted (a topic gone has no partitions, and leaves the set). */
  private async readTopic(topic: string): Promise<TopicAssignment> {
    const node = await this.zk.get(topicPath(topic));
    const assignment: TopicAssignment = node
      ? parseAssignment(topicPath(topic), node.data)
      : { version: 2, partitions: {} };
    this.note(topic, assignment);
    return assignment;
  }

  /** Every partition under reassignment, read from the topic znodes (ListPartitionReassignments). */
  async list(): Promise<PartitionReassignment[]> {
    const out: PartitionReassignment[] = [];
    const topics = (await this.zk.children(brokerTopicsPath)).sort();
    // every topic is read: the set of topics under reassignment is rebuilt from what was found
    const present = new Set(topics);
    for (const topic of [...this.ongoing]) if (!present.has(topic)) this.ongoing.delete(topic);
    for (const topic of topics) {
      const assignment = await this.readTopic(topic);
      for (const partition of reassigningPartitions(assignment)) {
        const { replicas, adding, removing } = reassignmentOf(assignment, partition);
        out.push({
          topic,
          partition,
          replicas,
          addingReplicas: adding,
          removingReplicas: removing,
        });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /** On becoming controller: every topic znode is read, and every ongoing reassignment checked. */
  async checkAll(): Promise<void> {
    for (const r of await this.list()) {
      if (!this.host.active()) return;
      await this.check(r.topic, r.partition);
    }
  }

  /**
   * Periodically and after the live brokers change: the reassignments of the
   * topics known to have one are checked (nothing is read when there are none).
   */
  async checkOngoing(): Promise<void> {
    for (const topic of [...this.ongoing].sort()) {
      if (!this.host.active()) return;
      for (const partition of reassigningPartitions(await this.readTopic(topic))) {
        if (!this.host.active()) return;
        await this.check(topic, partition);
      }
    }
  }

  /**
   * Completes the reassignment of one partition when every target replica is
   * in the ISR; otherwise (re)arms a watch on its state znode to look again.
   */
  async check(topic: string, partition: number, attempt = 0): Promise<void> {
    if (!this.host.active() || attempt >= 10) return;
    const path = topicPath(topic);
    const node = await this.zk.get(path);
    if (!node) return;
    const assignment = parseAssignment(path, node.data);
    if (!isReassigning(assignment, partition)) return;
    const target = targetReplicas(assignment, partition);
    const statePath = partitionStatePath(topic, partition);
    await this.watchState(topic, partition);
    const stateNode = await this.zk.get(statePath);
    if (!stateNode) return;
    const state = parsePartitionState(statePath, stateNode.data);
    const live = await this.live();
    if (!target.every((r) => state.isr.includes(r))) return;
    // a leader for the target must be at hand before the old replicas go
    if (!target.some((r) => live.has(r) && state.isr.includes(r))) return;
    try {
      await this.zk.set(path, JSON.stringify(withPartition(assignment, partition, target, [], [])), node.version);
    } catch (err) {
      // the topic znode changed (another alter, or a new partition): the watch or the next event retries
      if (isZkError(err, ZkCode.BadVersion)) return void (await this.check(topic, partition, attempt + 1));
      throw err;
    }
    await this.fence(topic, partition, target, live);
  }

  /** Writes the state without the replicas that left (conditional, retried on a concurrent ISR change). */
  private async fence(topic: string, partition: number, replicas: number[], live: ReadonlySet<number>): Promise<void> {
    const path = partitionStatePath(topic, partition);
    for (let attempt = 0; attempt < 10 && this.host.active(); attempt++) {
      const node = await this.zk.get(path);
      if (!node) return;
      const next = fenceNonReplicas(parsePartitionState(path, node.data), replicas, live, this.host.epoch());
      if (!next) return;
      try {
        await this.zk.set(path, JSON.stringify(next), node.version);
        return;
      } catch (err) {
        if (!isZkError(err, ZkCode.BadVersion)) throw err;
      }
    }
  }

  private async watchState(topic: string, partition: number): Promise<void> {
    const path = partitionStatePath(topic, partition);
    if (this.watched.has(path) || this.watched.size >= reassignmentWatchesMax) return;
    this.watched.add(path);
    await this.zk.watchNode(path, (type) => {
      this.watched.delete(path);
      if (type === ZkEvent.Session || !this.host.active()) return;
      void this.host.enqueue(() => this.check(topic, partition));
    });
  }
}
