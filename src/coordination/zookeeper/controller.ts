/**
 * The cluster controller, Kafka's ZooKeeper-era design on a small scale.
 *
 * Election: every broker tries to create the ephemeral /controller znode; the
 * winner bumps /controller_epoch (conditional set, so two winners in a row
 * never share an epoch) and the others watch /controller, trying again when it
 * is deleted (its owner's session ended) — so failover takes at most one
 * ZooKeeper session timeout after a broker dies, and no time after a clean
 * close.
 *
 * The active controller watches /brokers/ids, /brokers/topics,
 * /admin/delete_topics and /config/changes (a topic's configs changed: an
 * unclean leader election just enabled applies at once, as in Kafka). On every change it reconciles all partitions against
 * the live broker set (O(partitions) reads per event — fine at Sluice's scale):
 * - a partition without a state znode gets one: leader = first live replica of
 *   the assignment (the preferred replica), ISR = the live replicas;
 * - a partition whose leader died gets a new leader from the live ISR, in
 *   assignment order; when no ISR member is alive the partition goes offline
 *   (leader -1, ISR keeps the last leader so it can come back cleanly) unless
 *   `unclean.leader.election.enable` (topic config, else the broker default)
 *   allows any live replica to lead with ISR = [itself];
 * - dead brokers are removed from the ISR of partitions whose leader lives;
 * - a broker that restarted since a partition's state was written (its
 *   registration's creation zxid, Kafka's broker epoch, is newer) is handled
 *   as dead and then as live, even when its old registration's deletion was
 *   never seen (see reconcilePartition).
 * Every change bumps leader_epoch and stamps the controller epoch; writes are
 * conditional on the state znode's version. Brokers learn about changes by
 * watching the state znodes (ZooKeeperCoordinator's partitionStateChanged
 * event) instead of Kafka's LeaderAndIsr requests.
 *
 * Moving away from a broker (issue 18), one mechanism used twice:
 * - controlled shutdown: a broker about to stop creates the ephemeral
 *   /sluice/controlled_shutdown/<id> (zk-paths.ts; it goes with the broker's
 *   session); the controller watches those children and, for that broker,
 *   elects a new leader from the ISR minus it for every partition it leads
 *   and removes it from the ISR of the partitions others lead (moveAway) —
 *   only what can move: a partition whose only in-sync replica it is stays
 *   with it (nothing acknowledged may be lost);
 * - fencing: the controller probes every registered broker's native listener
 *   (options.prober, the replication layer's broker-prober.ts). A broker
 *   whose listener refuses (the process is gone) or stays silent past a
 *   bound is fenced: handled as not live, exactly as if its session had
 *   ended (electLeader), while its registration stays the authority
 *   ZooKeeper keeps. A fenced broker that answers again, still under the
 *   same registration, is unfenced and rejoins as a follower (the leader
 *   epochs it missed fence it).
 *   The other brokers probe the controller alone: when its listener refuses
 *   (its process is gone) they delete /controller, so that a live broker
 *   takes over at once instead of after the dead one's session (and fences
 *   it in turn); the same after a silence past the probe bound.
 *
 * Replica assignment is Kafka's rack-unaware AdminUtils.assignReplicasToBrokers.
 * Partition reassignment (KIP-455) runs on this queue too: reassignment.ts.
 */
import { assert, crashOnBug } from '../../shared/assert.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { inParallel } from '../../shared/in-parallel.js';
import {
  configChangeNotificationsKept,
  reassignmentCheckIntervalMs,
  zookeeperRequestsInFlightMax,
} from '../../shared/limits.js';
import { topicPartitionKey } from '../../shared/topic-partition.js';
import type { BrokerProber, BrokerProberFactory, ProbedBroker, ProbeVerdict } from '../coordinator.js';
import { fenceNonReplicas, isReassigning, Reassignments } from './reassignment.js';
import { ensureTopicId, topicIdOf } from './topic-znode.js';
import { isZkError, type ZkClient, ZkCode, ZkEvent } from './zk-client.js';
import {
  brokerIdsPath,
  brokerPath,
  brokerTopicsPath,
  configChangesPath,
  controlledShutdownPath,
  controllerEpochPath,
  controllerPath,
  controllerZnode,
  deleteTopicPath,
  deleteTopicsPath,
  leaderHandoverPath,
  type PartitionStateZnode,
  parseAssignment,
  parseBroker,
  parseController,
  parseLeaderHandover,
  parsePartitionState,
  parseTopicConfig,
  partitionPath,
  partitionStatePath,
  topicConfigPath,
  topicPath,
} from './zk-paths.js';

export const uncleanLeaderElectionKey = 'unclean.leader.election.enable';

/**
 * Kafka's rack-unaware assignment: the first replica of partition p is broker
 * (p + startIndex) mod n; followers follow at a shift that grows by one every
 * n partitions, so leaders and followers both spread evenly. `startIndex` and
 * `shift` are random in Kafka (and by default here); fixed values make the
 * result deterministic.
 */
export function assignReplicas(
  brokerIds: number[],
  partitions: number,
  replicationFactor: number,
  startIndex = Math.floor(Math.random() * brokerIds.length),
  shift = Math.floor(Math.random() * brokerIds.length),
): number[][] {
  const brokers = [...brokerIds].sort((a, b) => a - b);
  const n = brokers.length;
  if (replicationFactor < 1 || replicationFactor > n) {
    throw new SluiceError(
      ErrorCode.InvalidReplicationFactor,
      `replication factor ${replicationFactor} is larger than the ${n} live broker(s) available`,
    );
  }
  const result: number[][] = [];
  let nextReplicaShift = shift;
  for (let p = 0; p < partitions; p++) {
    if (p > 0 && p % n === 0) nextReplicaShift++;
    const first = (p + startIndex) % n;
    const replicas = [brokers[first]!];
    for (let j = 0; j < replicationFactor - 1; j++) {
      const s = 1 + ((nextReplicaShift + j) % (n - 1));
      replicas.push(brokers[(first + s) % n]!);
    }
    result.push(replicas);
  }
  return result;
}

/**
 * The new state for a partition given the live brokers, or undefined when
 * nothing changes. Pure, so the election rules are unit-testable.
 */
export function electLeader(
  state: PartitionStateZnode,
  replicas: number[],
  live: ReadonlySet<number>,
  unclean: boolean,
  controllerEpoch: number,
): PartitionStateZnode | undefined {
  const isrLive = state.isr.filter((r) => live.has(r));
  let leader = state.leader;
  let isr = isrLive;
  if (leader >= 0 && live.has(leader)) {
    if (isrLive.length === state.isr.length) return undefined;
  } else {
    leader = replicas.find((r) => isrLive.includes(r)) ?? isrLive[0] ?? -1;
    if (leader === -1 && unclean) {
      leader = replicas.find((r) => live.has(r)) ?? -1;
      if (leader !== -1) isr = [leader];
    }
    if (leader === -1) {
      // Offline: keep the last leader in the ISR (Kafka does) so it can return cleanly.
      isr = state.leader >= 0 && state.isr.includes(state.leader) ? [state.leader] : state.isr;
      if (state.leader === -1 && sameMembers(isr, state.isr)) return undefined;
    }
  }
  return nextState(state, leader, isr, controllerEpoch);
}

/** The state that follows `state` with `leader` and `isr`: the next leader epoch, checked (assertWritable). */
function nextState(
  state: PartitionStateZnode,
  leader: number,
  isr: number[],
  controllerEpoch: number,
): PartitionStateZnode {
  const next: PartitionStateZnode = {
    controller_epoch: controllerEpoch,
    leader,
    version: 1,
    leader_epoch: state.leader_epoch + 1,
    isr,
  };
  assertWritable(next, state);
  return next;
}

/**
 * What every partition state the controller writes keeps: a leader (when
 * there is one) in the ISR, and a leader epoch above the one it replaces.
 * (ISR ⊆ replicas is not asserted here: it holds for what the controller
 * computes, but the ISR it starts from was read from ZooKeeper, where a
 * leader may have written it. It is asserted where the controller makes the
 * whole ISR itself: a new partition's first state, and fenceNonReplicas.)
 */
function assertWritable(next: PartitionStateZnode, previous: PartitionStateZnode | undefined): void {
  assert(
    next.leader === -1 || next.isr.includes(next.leader),
    `partition state with leader ${next.leader} outside its ISR ${next.isr.join()}`,
  );
  assert(
    previous === undefined || next.leader_epoch > previous.leader_epoch,
    `leader epoch ${next.leader_epoch} does not follow ${previous?.leader_epoch}`,
  );
}

/**
 * Preferred leader election (auto.leader.rebalance.enable): when the first
 * replica of the assignment is alive and in the ISR but does not lead, it
 * takes leadership back, with a new leader epoch. Undefined when nothing moves.
 */
export function preferredLeader(
  state: PartitionStateZnode,
  replicas: number[],
  live: ReadonlySet<number>,
  controllerEpoch: number,
): PartitionStateZnode | undefined {
  const preferred = replicas[0];
  if (preferred === undefined || state.leader === preferred || state.leader < 0) return undefined;
  if (!live.has(preferred) || !state.isr.includes(preferred)) return undefined;
  const next = {
    ...state,
    controller_epoch: controllerEpoch,
    leader: preferred,
    leader_epoch: state.leader_epoch + 1,
  };
  assertWritable(next, state);
  return next;
}

/**
 * Moves leadership and ISR membership away from the brokers in `away`
 * (controlled shutdown): a partition one of them leads gets a new leader, the
 * first replica of the assignment in the ISR that is live and not going away,
 * with a new leader epoch; the brokers going away leave the ISR. The ISR never
 * loses its last member, as Kafka's controlled shutdown: a partition led by a
 * broker going away with no in-sync successor is left as it is (the broker
 * keeps leading it until it stops). min.insync.replicas is enforced where it
 * always is, on acks=-1 produce. Undefined when nothing changes. Pure.
 */
export function moveAway(
  state: PartitionStateZnode,
  replicas: number[],
  away: ReadonlySet<number>,
  live: ReadonlySet<number>,
  controllerEpoch: number,
): PartitionStateZnode | undefined {
  if (state.leader < 0 || away.size === 0) return undefined;
  let leader = state.leader;
  if (away.has(leader)) {
    const successor = replicas.find((r) => state.isr.includes(r) && live.has(r) && !away.has(r));
    if (successor === undefined) return undefined;
    leader = successor;
  }
  const isr = state.isr.filter((id) => !away.has(id));
  if (leader === state.leader && isr.length === state.isr.length) return undefined;
  return nextState(state, leader, isr, controllerEpoch);
}

function sameMembers(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export interface ControllerOptions {
  /** Broker-level default of unclean.leader.election.enable; a topic config overrides it. */
  uncleanLeaderElectionEnable: boolean;
  /** Move leadership back to preferred replicas every leaderImbalanceCheckIntervalMs. */
  autoLeaderRebalanceEnable: boolean;
  leaderImbalanceCheckIntervalMs: number;
  /** A background step failed (logged by the caller; the next event retries). */
  onError: (err: unknown) => void;
  /** The controller (id, epoch) changed as this broker sees it. */
  onControllerChange: (controllerId: number) => void;
  /**
   * Probes the registered brokers while this broker is the active controller
   * (fencing, see the file comment); absent: a broker is known dead only when
   * its session ends.
   */
  prober?: BrokerProberFactory;
  /** A broker was fenced or unfenced by this controller (for the log). */
  onFence?: (brokerId: number, fenced: boolean, why: string) => void;
}

interface Registered {
  /** The registration's creation zxid (Kafka's broker epoch). */
  czxid: number;
  host: string;
  port: number;
}

export class Controller {
  private current = -1;
  private epoch = 0;
  private active = false;
  private stopped = false;
  private controllerWatchArmed = false;
  private queue: Promise<void> = Promise.resolve();
  private rebalanceTimer: NodeJS.Timeout | undefined;
  private reassignmentTimer: NodeJS.Timeout | undefined;
  /** Partition reassignments (KIP-455, reassignment.ts), driven from this controller's queue. */
  readonly reassignments: Reassignments;
  /** The registered brokers as the last reconcile read them. */
  private registered = new Map<number, Registered>();
  /** Fenced brokers (id → the registration they were fenced under): handled as not live. */
  private readonly fenced = new Map<number, number>();
  private prober: BrokerProber | undefined;
  /** The brokers the prober is tracking, and those of them it last judged silent or refusing. */
  private probed = new Set<number>();
  private readonly silent = new Set<number>();
  private readonly refused = new Set<number>();
  private peersWatchArmed = false;

  constructor(
    private readonly zk: ZkClient,
    private readonly brokerId: number,
    private readonly options: ControllerOptions,
  ) {
    this.reassignments = new Reassignments(zk, {
      active: () => this.active && !this.stopped,
      epoch: () => this.epoch,
      enqueue: (step) => this.enqueue(step),
    });
  }

  /**
   * Runs `step` on the controller's queue while this broker is the active
   * controller, with its result or error for the caller; NotController when
   * it is not (or stops being it before the step runs).
   */
  runAsController<T>(step: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const notController = (): SluiceError =>
        new SluiceError(
          ErrorCode.NotController,
          `broker ${this.brokerId} is not the controller (the controller is broker ${this.current})`,
        );
      void this.enqueue(async () => {
        settled = true;
        if (!this.active) return reject(notController());
        try {
          resolve(await step());
        } catch (err) {
          reject(err);
        }
      }).then(() => {
        if (!settled) reject(notController());
      });
    });
  }

  /** Resolves once this broker knows who the controller is (possibly itself). */
  start(): Promise<void> {
    return this.enqueue(() => this.elect());
  }

  stop(): void {
    this.stopped = true;
    this.active = false;
    this.prober?.stop();
    this.prober = undefined;
    if (this.rebalanceTimer) clearInterval(this.rebalanceTimer);
    this.rebalanceTimer = undefined;
    if (this.reassignmentTimer) clearInterval(this.reassignmentTimer);
    this.reassignmentTimer = undefined;
  }

  get controllerId(): number {
    return this.current;
  }

  get isActive(): boolean {
    return this.active;
  }

  /** The epoch this broker won with (0 when it is not the controller). */
  get controllerEpoch(): number {
    return this.active ? this.epoch : 0;
  }

  /** Brokers fenced by this controller (ids, sorted): handled as not live although registered. */
  get fencedBrokers(): number[] {
    return [...this.fenced.keys()].sort((a, b) => a - b);
  }

  /**
   * A verdict of the prober: a broker that is down is fenced under its
   * current registration; a fenced broker that answers again is unfenced.
   * Either way every partition is reconciled against the new live set.
   */
  private onProbe(id: number, verdict: ProbeVerdict, why: string): void {
    if (this.stopped) return;
    const wasMinority = this.inMinority();
    this.silent.delete(id);
    this.refused.delete(id);
    if (verdict === 'silent') this.silent.add(id);
    if (verdict === 'refused') this.refused.add(id);
    if (!this.active) {
      // a silent controller may be alive beyond a cut that isolates us: a broker on the minority side does not replace it
      if (verdict !== 'up' && id === this.current && (verdict === 'refused' || !this.inMinority())) {
        void this.enqueue(() => this.controllerGone(id, why));
      } else if (wasMinority && !this.inMinority()) {
        // no longer on the minority side: stand in the election we sat out (if nobody has won it meanwhile)
        void this.enqueue(() => this.elect());
      }
      return;
    }
    if (verdict === 'silent' && this.inMinority()) {
      // most brokers silent at once: the cut is more likely ours than theirs. Fencing them would move
      // their ISR memberships to us and stall the cluster for the cut's length; stepping down lets the
      // majority side elect a controller that fences us instead.
      void this.enqueue(() =>
        this.resign(
          `brokers ${[...this.silent].join(',')} are silent: this controller is cut off from most of the cluster`,
        ),
      );
      return;
    }
    if (verdict !== 'up') {
      const registration = this.registered.get(id);
      if (!registration || this.fenced.get(id) === registration.czxid) return;
      this.fenced.set(id, registration.czxid);
      this.options.onFence?.(id, true, why);
    } else {
      if (!this.fenced.has(id)) return;
      this.fenced.delete(id);
      this.options.onFence?.(id, false, why);
    }
    void this.enqueue(async () => {
      if (this.active) await this.reconcile();
    });
  }

  /**
   * Whether this broker is on the minority side of a possible network cut:
   * fewer brokers answer its probes (itself included) than are silent (alive
   * perhaps, beyond the cut). Dead brokers (refused connections) are on no
   * side; brokers not judged yet count as answering. A tie (two brokers that
   * cannot hear each other) is no minority: ZooKeeper, which holds
   * /controller, decides between them as before.
   */
  private inMinority(): boolean {
    let silent = 0;
    let answering = 1;
    for (const id of this.probed) {
      if (this.silent.has(id)) silent++;
      else if (!this.refused.has(id)) answering++;
    }
    return answering < silent;
  }

  private track(brokers: readonly ProbedBroker[]): void {
    this.probed = new Set(brokers.map((b) => b.id));
    for (const set of [this.silent, this.refused]) for (const id of set) if (!this.probed.has(id)) set.delete(id);
    this.prober?.track(brokers);
  }

  /** This controller is cut off from most brokers: it gives /controller up for the majority side to take. */
  private async resign(why: string): Promise<void> {
    if (!this.active) return;
    const node = await this.zk.get(controllerPath);
    if (!node || parseController(controllerPath, node.data).brokerid !== this.brokerId) return;
    try {
      await this.zk.delete(controllerPath, node.version);
      this.options.onFence?.(this.brokerId, true, `controller steps down: ${why}`);
    } catch (err) {
      if (!isZkError(err, ZkCode.NoNode) && !isZkError(err, ZkCode.BadVersion)) throw err;
    }
  }

  private ensureProber(): BrokerProber | undefined {
    if (this.options.prober && !this.prober && !this.stopped) {
      this.prober = this.options.prober((id, verdict, why) => this.onProbe(id, verdict, why));
    }
    return this.prober;
  }

  /**
   * On a broker that is not the controller: probe every other registered
   * broker, the controller among them (its death would otherwise wait for its
   * session to expire, and with it every fence the controller would make); the
   * others tell which side of a network cut this broker is on (inMinority).
   * The list is read again on every change of /brokers/ids.
   */
  private async trackPeers(): Promise<void> {
    const prober = this.ensureProber();
    if (!prober || this.active) return;
    let children: string[];
    if (this.peersWatchArmed) children = await this.zk.children(brokerIdsPath);
    else {
      this.peersWatchArmed = true;
      children = await this.zk.watchChildren(brokerIdsPath, (type) => {
        this.peersWatchArmed = false;
        if (type !== ZkEvent.Session) void this.enqueue(() => this.trackPeers());
      });
    }
    const peers: ProbedBroker[] = [];
    for (const child of children) {
      const id = Number(child);
      if (!Number.isSafeInteger(id) || id === this.brokerId) continue;
      const node = await this.zk.get(brokerPath(id));
      if (!node) continue;
      const { host, port } = parseBroker(brokerPath(id), node.data);
      peers.push({ id, host, port });
    }
    if (!this.active && !this.stopped) this.track(peers);
  }

  /**
   * The controller refused a connection (its process is gone) or stayed
   * silent past the probe bound (paused). Its /controller znode (when it
   * still names it) is deleted, so that a live broker takes over now rather
   * than when its session expires; the new controller then fences it like
   * any other broker. A paused controller that comes back sees the deletion
   * (ZooKeeper delivers the watch before any later read) and steps down; a
   * step it had under way may still write, but every controller write is a
   * conditional update from what it just read and keeps the rules (a leader
   * from the ISR, a higher leader epoch), so two controllers for a moment
   * cost elections, never records.
   */
  private async controllerGone(id: number, why: string): Promise<void> {
    if (this.active || id !== this.current) return;
    const node = await this.zk.get(controllerPath);
    if (!node || parseController(controllerPath, node.data).brokerid !== id) return;
    try {
      await this.zk.delete(controllerPath, node.version);
      this.options.onFence?.(id, true, `the controller is gone (${why}): /controller deleted for a new election`);
    } catch (err) {
      if (!isZkError(err, ZkCode.NoNode) && !isZkError(err, ZkCode.BadVersion)) throw err;
    }
  }

  /** Runs controller work one step at a time; failures go to onError and do not stop the queue. */
  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        await step();
      } catch (err) {
        crashOnBug(err);
        if (!this.stopped) this.options.onError(err);
      }
    });
    this.queue = next;
    return next;
  }

  private async elect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      if (attempt > 100)
        throw new SluiceError(ErrorCode.Timeout, 'controller election did not settle after 100 attempts');
      let won = false;
      // a broker cut off from most of the others sits the election out: it could not fence them, and they
      // would replace it (onProbe stands again once it is no longer on the minority side)
      const stands = !this.inMinority();
      try {
        if (stands) {
          await this.zk.create(controllerPath, JSON.stringify(controllerZnode(this.brokerId)), 'ephemeral');
          won = true;
        }
      } catch (err) {
        if (!isZkError(err, ZkCode.NodeExists)) throw err;
      }
      if (!this.controllerWatchArmed) {
        this.controllerWatchArmed = true;
        await this.zk.watchNode(controllerPath, (type) => {
          this.controllerWatchArmed = false;
          if (type !== ZkEvent.Session) void this.enqueue(() => this.elect());
        });
      }
      const node = await this.zk.get(controllerPath);
      if (!node && !stands) {
        // nobody controls for now; the watch armed above (or leaving the minority side) runs the election again
        this.active = false;
        this.current = -1;
        await this.trackPeers();
        return;
      }
      if (!node) continue;
      const id = parseController(controllerPath, node.data).brokerid;
      if (won || (id === this.brokerId && !this.active)) {
        this.epoch = await this.bumpEpoch();
        this.current = id;
        this.active = true;
        this.options.onControllerChange(id);
        await this.onBecomeController();
      } else if (id !== this.current) {
        this.active = id === this.brokerId && this.active;
        this.current = id;
        this.options.onControllerChange(id);
      }
      if (!this.active) await this.trackPeers();
      return;
    }
  }

  private async bumpEpoch(): Promise<number> {
    for (;;) {
      const node = await this.zk.get(controllerEpochPath);
      try {
        if (!node) {
          await this.zk.create(controllerEpochPath, '1', 'persistent');
          return 1;
        }
        const next = Number(node.data) + 1;
        await this.zk.set(controllerEpochPath, String(next), node.version);
        return next;
      } catch (err) {
        if (!isZkError(err, ZkCode.NodeExists) && !isZkError(err, ZkCode.BadVersion)) throw err;
      }
    }
  }

  private async onBecomeController(): Promise<void> {
    this.ensureProber();
    await this.watchChildren(brokerIdsPath);
    await this.watchChildren(controlledShutdownPath);
    await this.watchChildren(leaderHandoverPath);
    await this.watchChildren(brokerTopicsPath);
    await this.watchChildren(deleteTopicsPath);
    await this.watchChildren(configChangesPath);
    await this.deleteMarkedTopics();
    await this.purgeConfigChanges();
    await this.reconcile();
    // reassignments a previous controller left under way carry on from the topic znodes
    await this.reassignments.checkAll();
    // only the topics known to have a reassignment are read: at idle the check costs nothing
    this.reassignmentTimer ??= setInterval(() => {
      if (this.active && this.reassignments.underWay) void this.enqueue(() => this.reassignments.checkOngoing());
    }, reassignmentCheckIntervalMs);
    this.reassignmentTimer.unref();
    if (this.options.autoLeaderRebalanceEnable && !this.rebalanceTimer) {
      this.rebalanceTimer = setInterval(() => {
        if (this.active) void this.enqueue(() => this.rebalanceLeaders());
      }, this.options.leaderImbalanceCheckIntervalMs);
      this.rebalanceTimer.unref();
    }
  }

  /** Preferred leader election for every partition whose preferred replica is back in the ISR. */
  private async rebalanceLeaders(): Promise<void> {
    // leadership never goes back to a fenced broker or one shutting down
    const shuttingDown = await this.shuttingDownBrokers();
    const live = new Set(
      (await this.zk.children(brokerIdsPath)).map(Number).filter((id) => !this.fenced.has(id) && !shuttingDown.has(id)),
    );
    for (const topic of await this.zk.children(brokerTopicsPath)) {
      if (!this.active) return;
      const assignmentNode = await this.zk.get(topicPath(topic));
      if (!assignmentNode) continue;
      const assignment = parseAssignment(topicPath(topic), assignmentNode.data);
      for (const [key, replicas] of Object.entries(assignment.partitions)) {
        // Kafka skips partitions under reassignment: their preferred replica is the target's
        if (isReassigning(assignment, Number(key))) continue;
        const path = partitionStatePath(topic, Number(key));
        const node = await this.zk.get(path);
        if (!node) continue;
        const next = preferredLeader(parsePartitionState(path, node.data), replicas, live, this.epoch);
        if (!next) continue;
        try {
          await this.zk.set(path, JSON.stringify(next), node.version);
        } catch (err) {
          // the leader changed the ISR meanwhile: the next check tries again
          if (!isZkError(err, ZkCode.BadVersion)) throw err;
        }
      }
    }
  }

  /** One-shot children watch that re-arms itself and reconciles on every change. */
  private async watchChildren(path: string): Promise<void> {
    await this.zk.watchChildren(path, (type) => {
      if (type === ZkEvent.Session || !this.active) return;
      void this.enqueue(async () => {
        if (!this.active) return;
        await this.watchChildren(path);
        if (path === deleteTopicsPath) await this.deleteMarkedTopics();
        else {
          // a config change may have enabled unclean leader election for a topic with an offline partition
          if (path === configChangesPath) await this.purgeConfigChanges();
          // a topic created (or deleted) changes no other topic's partitions: only new topics are looked at
          await this.reconcile(path === brokerTopicsPath ? 'new' : 'all');
          // the reconcile of every topic just noted which have a reassignment under way
          if (path === brokerIdsPath) await this.reassignments.checkOngoing();
        }
      });
    });
  }

  /**
   * Keeps the newest configChangeNotificationsKept config change notifications
   * (brokers learn of changes from the config znodes; the notifications are for
   * the controller and for Kafka's tools). Sequence numbers are zero-padded, so
   * name order is age order.
   */
  private async purgeConfigChanges(): Promise<void> {
    const children = (await this.zk.children(configChangesPath)).sort();
    for (const child of children.slice(0, Math.max(0, children.length - configChangeNotificationsKept))) {
      try {
        await this.zk.delete(`${configChangesPath}/${child}`);
      } catch (err) {
        if (!isZkError(err, ZkCode.NoNode)) throw err;
      }
    }
  }

  /** Topics whose znode's data watch is armed: a change (partitions added) reconciles again. */
  private readonly watchedTopics = new Set<string>();

  private async watchTopic(topic: string): Promise<void> {
    if (this.watchedTopics.has(topic)) return;
    this.watchedTopics.add(topic);
    await this.zk.watchNode(topicPath(topic), (type) => {
      this.watchedTopics.delete(topic);
      if (type === ZkEvent.Session || !this.active) return;
      void this.enqueue(async () => {
        if (this.active) await this.reconcile(topic);
      });
    });
  }

  private async deleteMarkedTopics(): Promise<void> {
    for (const topic of await this.zk.children(deleteTopicsPath)) {
      await this.zk.deleteRecursive(topicPath(topic));
      await this.zk.deleteRecursive(topicConfigPath(topic));
      await this.zk.deleteRecursive(deleteTopicPath(topic));
    }
  }

  /**
   * The live brokers, each with the zxid that created its registration (Kafka's "broker epoch"): a
   * broker registered after a partition state naming it was written has restarted since (see
   * reconcilePartition).
   */
  private async liveBrokers(): Promise<Map<number, number>> {
    const registered = new Map<number, Registered>();
    for (const child of await this.zk.children(brokerIdsPath)) {
      const id = Number(child);
      const node = await this.zk.get(brokerPath(id));
      if (!node) continue;
      const { host, port } = parseBroker(brokerPath(id), node.data);
      registered.set(id, { czxid: node.createdZxid, host, port });
    }
    this.registered = registered;
    // a fence holds for the registration it was made under: a broker that registered again (restarted) starts afresh
    for (const [id, czxid] of this.fenced) if (registered.get(id)?.czxid !== czxid) this.fenced.delete(id);
    this.track(
      [...registered].filter(([id]) => id !== this.brokerId).map(([id, r]) => ({ id, host: r.host, port: r.port })),
    );
    const live = new Map<number, number>();
    for (const [id, r] of registered) if (!this.fenced.has(id)) live.set(id, r.czxid);
    return live;
  }

  /** Leadership handovers asked for, by partition (topic-partition key): broker → its request's znode path. */
  private async leaderHandovers(): Promise<Map<string, Map<number, string>>> {
    const requests = new Map<string, Map<number, string>>();
    for (const name of await this.zk.children(leaderHandoverPath)) {
      const request = parseLeaderHandover(name);
      if (!request) continue;
      const key = topicPartitionKey(request.topic, request.partition);
      const brokers = requests.get(key) ?? new Map<number, string>();
      brokers.set(request.broker, `${leaderHandoverPath}/${name}`);
      requests.set(key, brokers);
    }
    return requests;
  }

  /** Registered brokers that asked for a controlled shutdown (their znode under controlledShutdownPath). */
  private async shuttingDownBrokers(): Promise<Set<number>> {
    return new Set((await this.zk.children(controlledShutdownPath)).map(Number).filter(Number.isSafeInteger));
  }

  /**
   * Topics whose every partition a reconcile of this controller has looked at, with the creation zxid
   * of the topic znode it saw (a topic deleted and created again under the same name is new).
   */
  private readonly reconciledTopics = new Map<string, number>();

  /**
   * Brings partition states in line with the live brokers (see the file comment): of every topic
   * ('all': a broker came, went or is shutting down, a handover or a config changed), of the topics
   * no reconcile has finished yet ('new': topics were created, which changes no other topic), or of
   * one topic (its znode changed: partitions added, a reassignment step). The partitions of a topic
   * are reconciled zookeeperRequestsInFlightMax at a time: each is independent, and one awaited round
   * trip after another made creating 10,000 partitions take minutes.
   */
  private async reconcile(scope: 'all' | 'new' | string = 'all'): Promise<void> {
    const live = await this.liveBrokers();
    const shuttingDown = await this.shuttingDownBrokers();
    const handovers = await this.leaderHandovers();
    const deleting = new Set(await this.zk.children(deleteTopicsPath));
    const topics = scope === 'all' || scope === 'new' ? await this.zk.children(brokerTopicsPath) : [scope];
    if (scope === 'all') this.reconciledTopics.clear();
    if (scope === 'new') {
      // topics gone since (deleted) leave the map: it never holds more than the topics there are
      const present = new Set(topics);
      for (const topic of [...this.reconciledTopics.keys()])
        if (!present.has(topic)) this.reconciledTopics.delete(topic);
    }
    for (const topic of topics) {
      if (!this.active || deleting.has(topic)) continue;
      // a stat (no data) tells a reconciled topic: a creation then costs one small read per topic
      const reconciled = this.reconciledTopics.get(topic);
      if (
        scope === 'new' &&
        reconciled !== undefined &&
        (await this.zk.stat(topicPath(topic)))?.createdZxid === reconciled
      ) {
        continue;
      }
      const assignmentNode = await this.zk.get(topicPath(topic));
      if (!assignmentNode) continue;
      let assignment = parseAssignment(topicPath(topic), assignmentNode.data);
      // issue 16 hook (topic-znode.ts): a topic from before topic ids gets one; partitions added
      // to the znode (CreatePartitions) are reconciled when its data watch fires
      if (!topicIdOf(assignment) || !this.watchedTopics.has(topic)) {
        if (!topicIdOf(assignment)) await ensureTopicId(this.zk, topic);
        await this.watchTopic(topic);
        const again = await this.zk.get(topicPath(topic));
        if (!again) continue;
        assignment = parseAssignment(topicPath(topic), again.data);
      }
      // a reassignment started (or finished) in this znode, by alter or by hand: the periodic check follows it
      this.reassignments.note(topic, assignment);
      const configNode = await this.zk.get(topicConfigPath(topic));
      const configured = configNode
        ? parseTopicConfig(topicConfigPath(topic), configNode.data).config[uncleanLeaderElectionKey]
        : undefined;
      const unclean =
        configured === undefined ? this.options.uncleanLeaderElectionEnable : configured.toLowerCase() === 'true';
      await inParallel(Object.entries(assignment.partitions), zookeeperRequestsInFlightMax, async ([key, replicas]) => {
        const partition = Number(key);
        const handover = handovers.get(topicPartitionKey(topic, partition));
        const away = handover ? new Set([...shuttingDown, ...handover.keys()]) : shuttingDown;
        await this.reconcilePartition(topic, partition, replicas, live, unclean, away);
        // a handover is asked for once: done (or impossible, with no other in-sync replica) it goes;
        // a leader still holding corrupt records asks again at its scrubber's next pass
        for (const request of handover?.values() ?? []) await this.zk.delete(request).catch(() => undefined);
      });
      if (this.active) this.reconciledTopics.set(topic, assignmentNode.createdZxid);
    }
  }

  /**
   * One partition's state against the live brokers. A leader or ISR member
   * whose registration is newer than the state restarted (or lost its session)
   * after the state was written — even when this controller never saw its old
   * registration go (it re-registered at once, or this controller took over
   * meanwhile). It is first handled as dead: out of the ISR, leadership moved
   * on with a new leader epoch; then as live, so it catches up before it
   * rejoins the ISR, and its log, which may have lost an unflushed tail,
   * never leads at the epoch of its previous life.
   */
  private async reconcilePartition(
    topic: string,
    partition: number,
    replicas: number[],
    liveBrokers: ReadonlyMap<number, number>,
    unclean: boolean,
    shuttingDown: ReadonlySet<number>,
  ): Promise<void> {
    const path = partitionStatePath(topic, partition);
    const live = new Set(liveBrokers.keys());
    for (let attempt = 0; attempt < 5 && this.active; attempt++) {
      const node = await this.zk.get(path);
      if (!node) {
        const isr = replicas.filter((r) => live.has(r));
        const initial: PartitionStateZnode = {
          controller_epoch: this.epoch,
          leader: isr[0] ?? -1,
          version: 1,
          leader_epoch: 0,
          isr,
        };
        assertWritable(initial, undefined);
        assert(
          initial.isr.every((id) => replicas.includes(id)),
          `${topic}-${partition}: initial ISR ${isr.join()} outside replicas ${replicas.join()}`,
        );
        await this.zk.ensureNode(partitionPath(topic, partition));
        try {
          await this.zk.create(path, JSON.stringify(initial), 'persistent');
          return;
        } catch (err) {
          if (!isZkError(err, ZkCode.NodeExists)) throw err;
          continue;
        }
      }
      const state = parsePartitionState(path, node.data);
      // a leader or ISR member outside the replicas: a reassignment's last step left undone (reassignment.ts)
      const fenced = fenceNonReplicas(state, replicas, live, this.epoch);
      if (fenced) {
        assertWritable(fenced, state);
        try {
          await this.zk.set(path, JSON.stringify(fenced), node.version);
        } catch (err) {
          if (!isZkError(err, ZkCode.BadVersion)) throw err;
        }
        continue;
      }
      const restarted = [state.leader, ...state.isr].filter(
        (id) => (liveBrokers.get(id) ?? Number.NEGATIVE_INFINITY) > node.modifiedZxid,
      );
      const withoutRestarted =
        restarted.length > 0
          ? electLeader(
              state,
              replicas,
              new Set([...live].filter((id) => !restarted.includes(id))),
              unclean,
              this.epoch,
            )
          : undefined;
      const elected = withoutRestarted ?? electLeader(state, replicas, live, unclean, this.epoch);
      // then away from the brokers shutting down, in the same write when there is one
      const moved = moveAway(elected ?? state, replicas, shuttingDown, live, this.epoch);
      const next = moved && elected ? { ...moved, leader_epoch: elected.leader_epoch } : (moved ?? elected);
      if (!next) return;
      assertWritable(next, state);
      try {
        await this.zk.set(path, JSON.stringify(next), node.version);
        // after the restarted brokers' exit, the same partition once more with them live (e.g. an
        // offline partition whose only in-sync replica was the restarted broker comes back)
        if (!withoutRestarted) return;
      } catch (err) {
        if (!isZkError(err, ZkCode.BadVersion)) throw err;
      }
    }
  }
}
