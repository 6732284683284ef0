/**
 * Cluster mode (`zookeeper.connect` set): topic metadata, leadership and topic
 * configuration live in ZooKeeper with Kafka's layout (see zk-paths.ts).
 *
 * start() opens a session, makes sure of the persistent parents, registers the
 * broker with an ephemeral /brokers/ids/<id> (broker-registration.ts: a live
 * duplicate broker.id is refused, a quick restart's old session is waited
 * out), loads brokers, topics, configs and partition states into memory
 * with watches that keep the cache current, and joins the controller election
 * (controller.ts). Reads (brokers(), topics(), partitionState()) are served
 * from the cache.
 *
 * createTopic computes the replica assignment on the calling broker (Kafka's
 * admin path does the same), writes /config/topics/<t> and then
 * /brokers/topics/<t>, and waits until the controller — this broker or another
 * — has created every partition's state znode and the cache has seen it.
 * deleteTopic marks /admin/delete_topics/<t> and waits until the controller
 * has removed the topic. Partition state changes (new leader, epoch, ISR) are
 * reported through onPartitionStateChanged.
 *
 * A topic deleted and created again with the same name is a new topic, even
 * when this broker's watches only fire after both happened: the cache knows
 * each topic's znode by its creation zxid, reports the old topic deleted
 * before any state of the new one, and takes every partition state's replicas
 * from the topic znode the state was written under.
 */
import {
  type AclBinding,
  type AclBindingFilter,
  type AclEntry,
  filterMatches,
  type ResourcePattern,
  sameBinding,
} from '../../security/acl.js';
import { assert } from '../../shared/assert.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { inParallel } from '../../shared/in-parallel.js';
import {
  aclBindingsMax,
  zookeeperConnectTimeoutMsDefault,
  zookeeperRefreshRetryMs,
  zookeeperRequestsInFlightMax,
  zookeeperSessionTimeoutMsDefault,
  zookeeperTopicChangeWaitMs,
} from '../../shared/limits.js';
import { topicPartitionKey } from '../../shared/topic-partition.js';
import type {
  BrokerEndpoint,
  BrokerProberFactory,
  Coordinator,
  PartitionReassignment,
  PartitionState,
  PartitionStateListener,
  TopicConfigListener,
  TopicSpec,
} from '../coordinator.js';
import { checkTopicSpec } from '../topic-spec.js';
import {
  aclPersistentPaths,
  aclZnodePath,
  extendedAclChangesPath,
  literalAclChangesPath,
  loadAcls,
  updateResourceAcls,
} from './acl-znodes.js';
import { registerBroker } from './broker-registration.js';
import { loadOrCreateClusterId } from './cluster-id-znode.js';
import { assignReplicas, Controller } from './controller.js';
import { ZkLegacyConsoleUsers } from './legacy-console-users-znode.js';
import { addPartitions } from './partition-growth.js';
import { newTopicZnode, topicIdOf } from './topic-znode.js';
import { WatchedRefreshes } from './watched-refreshes.js';
import { isZkError, ZkClient, ZkCode, ZkEvent, type ZkNodeData } from './zk-client.js';
import { ZkClientQuotaStore } from './zk-client-quota-store.js';
import {
  brokerIdsPath,
  brokerPath,
  brokerTopicsPath,
  configChangePrefix,
  configChangesPath,
  controlledShutdownBrokerPath,
  controlledShutdownPath,
  deleteTopicPath,
  leaderHandoverRequestPath,
  parseAssignment,
  parseBroker,
  parsePartitionState,
  parseTopicConfig,
  partitionStatePath,
  persistentPaths,
  type TopicAssignment,
  topicConfigChange,
  topicConfigPath,
  topicPath,
} from './zk-paths.js';
import { ZkScramStore } from './zk-scram-store.js';

export interface ZooKeeperCoordinatorOptions {
  brokerId: number;
  /** zookeeper.connect: host:port[,host:port...][/chroot] */
  connect: string;
  /** The Kafka listener this broker registers. */
  endpoint: { host: string; port: number; kafkaPort?: number };
  /** Sluice's HTTP API port, registered alongside. */
  httpPort?: number;
  sessionTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Broker default of unclean.leader.election.enable (false, as in Kafka). */
  uncleanLeaderElectionEnable?: boolean;
  /** auto.leader.rebalance.enable: the controller moves leadership back to preferred replicas. */
  autoLeaderRebalanceEnable?: boolean;
  /** leader.imbalance.check.interval.seconds, in ms. */
  leaderImbalanceCheckIntervalMs?: number;
  /** Background failures (a watch refresh or a controller step that failed). */
  onError?: (err: unknown) => void;
  /** Fencing (issue 18): the prober the controller runs while this broker is the active controller. */
  prober?: BrokerProberFactory;
  /** This broker's controller fenced or unfenced a broker (for the log). */
  onFence?: (brokerId: number, fenced: boolean, why: string) => void;
  /** Told when registration waits for this broker id's previous session (a quick restart) to expire. */
  onWaitingForPreviousSession?: (info: { path: string; waitMs: number }) => void;
}

interface CachedTopic {
  spec: TopicSpec;
  assignment: number[][];
  /**
   * The creation zxid of the topic's znode: which life of the topic this is.
   * A topic deleted and created again under the same name (faster than the
   * watches here refresh) has a new one, and is a new topic (Kafka's topic id).
   */
  createdZxid: number;
  /** The topic znode as read: the partitions under reassignment (reassignment.ts) and their throttle. */
  znode: TopicAssignment;
  /** The version of /config/topics/<t> the configs were read at (-1: none there). */
  configVersion: number;
}

function sameConfigs(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  if (!a) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

export class ZooKeeperCoordinator implements Coordinator {
  readonly brokerId: number;
  private zk: ZkClient | undefined;
  private controller: Controller | undefined;
  private readonly brokerMap = new Map<number, BrokerEndpoint>();
  private readonly topicMap = new Map<string, CachedTopic>();
  private readonly states = new Map<string, PartitionState>();
  /**
   * The topics (name → creation zxid) the cache held when the session was
   * lost and not seen again since: the next session's reload reports those
   * deleted meanwhile, or deleted and created again, as deleted.
   */
  private readonly beforeSessionLoss = new Map<string, number>();
  private readonly stateListeners = new Set<PartitionStateListener>();
  private readonly sessionListeners = new Set<() => void>();
  private readonly doubtListeners = new Set<(inDoubt: boolean) => void>();
  /** The ZooKeeper client's connection is up (between its 'connected' and 'disconnected' events). */
  private zkConnected = false;
  /** The zxid that created this session's registration (BrokerHeartbeat names it). */
  registrationZxid: number | undefined;
  private readonly deleteListeners = new Set<(topic: string) => void>();
  private readonly configListeners = new Set<TopicConfigListener>();
  /** The watch-driven cache's refreshes: one queue, one armed watch per path (watched-refreshes.ts). */
  private readonly refreshes = new WatchedRefreshes(
    (err) => this.reportError(err),
    () => this.closed,
  );
  /**
   * Partition states whose watch fired and that no refresh has read since (topic → partitions): the
   * first refresh queued reads them all at once (readStates), the others find nothing left. Bounded
   * by the partitions there are.
   */
  private readonly firedStates = new Map<string, Set<number>>();
  /** A read of partition states failed: they wait in firedStates for this retry (see refreshStates). */
  private statesRetry: NodeJS.Timeout | undefined;
  /** The cluster id read (or created) at the first start; the same for the coordinator's life. */
  private id: string | undefined;
  private closed = false;
  /** The ACL cache (issue 17): reloaded whenever a change notification appears. */
  private aclList: AclBinding[] = [];
  /** SCRAM credentials under /config/users, cached with watches (zk-scram-store.ts). */
  readonly scramCredentials = new ZkScramStore((err) => this.reportError(err));
  readonly legacyConsoleUsers = new ZkLegacyConsoleUsers(() => this.client());
  /** Client quotas under /config/users and /config/clients, reloaded on config changes (zk-client-quota-store.ts). */
  readonly clientQuotas = new ZkClientQuotaStore((err) => this.reportError(err));

  constructor(private readonly options: ZooKeeperCoordinatorOptions) {
    this.brokerId = options.brokerId;
  }

  /** Called after the cache sees a partition's state change (leader, epoch or ISR). Returns an unsubscribe. */
  onPartitionStateChanged(listener: PartitionStateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onTopicDeleted(listener: (topic: string) => void): () => void {
    this.deleteListeners.add(listener);
    return () => this.deleteListeners.delete(listener);
  }

  onTopicConfigChanged(listener: TopicConfigListener): () => void {
    this.configListeners.add(listener);
    return () => this.configListeners.delete(listener);
  }

  /**
   * Kafka's ZooKeeper-era config change: a conditional write of
   * /config/topics/<t> (retried when another alteration got there first), then
   * a notification /config/changes/config_change_<seq> naming the topic, as
   * Kafka's admin client path writes them. Every broker watches the config
   * znode (refreshTopic) and reports the change; the controller reads the
   * notifications (an enabled unclean leader election applies at once) and
   * keeps their number bounded. Resolves once this broker's cache has the change.
   */
  async alterTopicConfigs(topic: string, changes: Record<string, string | null>): Promise<Record<string, string>> {
    const zk = this.client();
    const path = topicConfigPath(topic);
    for (let attempt = 0; attempt < 10; attempt++) {
      const identity = (await zk.stat(topicPath(topic)))?.createdZxid;
      if (identity === undefined || (await zk.get(deleteTopicPath(topic)))) {
        throw new SluiceError(ErrorCode.UnknownPartition, `topic ${topic} does not exist`);
      }
      const node = await zk.get(path);
      const configs: Record<string, string> = node ? { ...parseTopicConfig(path, node.data).config } : {};
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) delete configs[key];
        else configs[key] = value;
      }
      const data = JSON.stringify({ version: 1, config: configs });
      let written: number;
      try {
        if (node) written = await zk.set(path, data, node.version);
        else {
          await zk.create(path, data, 'persistent');
          written = 0;
        }
      } catch (err) {
        if (isZkError(err, ZkCode.BadVersion) || isZkError(err, ZkCode.NodeExists)) continue;
        throw err;
      }
      await zk.createSequential(`${configChangesPath}/${configChangePrefix}`, JSON.stringify(topicConfigChange(topic)));
      await this.enqueueRefresh(() => this.refreshTopic(topic));
      await this.waitFor(() => {
        const cached = this.topicMap.get(topic);
        return cached?.createdZxid !== identity || cached.configVersion >= written;
      }, `the cache did not see the configs of topic ${topic}`);
      return { ...configs };
    }
    throw new SluiceError(ErrorCode.Timeout, `the configs of topic ${topic} kept changing under this alteration`);
  }

  /**
   * The leader's ISR change (Kafka's ZooKeeper-era AlterIsr): a conditional
   * write of the state znode, only while it still names this broker as leader
   * at `leaderEpoch`. The leader epoch is not bumped (Kafka does not either).
   */
  async updateIsr(topic: string, partition: number, leaderEpoch: number, isr: number[]): Promise<boolean> {
    const zk = this.client();
    const path = partitionStatePath(topic, partition);
    for (let attempt = 0; attempt < 5; attempt++) {
      const node = await zk.get(path);
      if (!node) return false;
      const current = parsePartitionState(path, node.data);
      if (current.leader !== this.brokerId || current.leader_epoch !== leaderEpoch) return false;
      // the leader's own ISR always holds the leader, once each (Kafka's controller refuses anything else)
      assert(
        isr.includes(this.brokerId),
        `${path}: leader ${this.brokerId} writes an ISR without itself: ${isr.join()}`,
      );
      assert(new Set(isr).size === isr.length, `${path}: ISR ${isr.join()} names a broker twice`);
      const next = { ...current, isr: [...isr] };
      try {
        await zk.set(path, JSON.stringify(next), node.version);
        await this.enqueueRefresh(() => this.refreshPartition(topic, partition));
        return true;
      } catch (err) {
        if (!isZkError(err, ZkCode.BadVersion)) throw err;
      }
    }
    return false;
  }

  // ---- ACLs (issue 17): Kafka's znodes (acl-znodes.ts), cached and reloaded on change notifications ----

  acls(): readonly AclBinding[] {
    return this.aclList;
  }

  async createAcls(bindings: readonly AclBinding[]): Promise<void> {
    const zk = this.client();
    const current = await loadAcls(zk);
    const fresh: AclBinding[] = [];
    for (const b of bindings) {
      if (!current.some((c) => sameBinding(c, b)) && !fresh.some((c) => sameBinding(c, b))) fresh.push(b);
    }
    if (current.length + fresh.length > aclBindingsMax) {
      throw new SluiceError(ErrorCode.InvalidRequest, `more than ${aclBindingsMax} ACLs would be stored`);
    }
    for (const [pattern, entries] of byPattern(fresh)) {
      await updateResourceAcls(zk, pattern, (stored) => {
        const added = entries.filter(
          (e) => !stored.some((s) => sameBinding({ pattern, entry: s }, { pattern, entry: e })),
        );
        return added.length === 0 ? stored : [...stored, ...added];
      });
    }
    await this.enqueueRefresh(() => this.refreshAcls());
  }

  async deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]> {
    const zk = this.client();
    const current = await loadAcls(zk);
    const deleted = filters.map((f) => current.filter((b) => filterMatches(f, b)));
    for (const [pattern] of byPattern(deleted.flat())) {
      await updateResourceAcls(zk, pattern, (stored) => {
        const kept = stored.filter((entry) => !filters.some((f) => filterMatches(f, { pattern, entry })));
        return kept.length === stored.length ? stored : kept;
      });
    }
    await this.enqueueRefresh(() => this.refreshAcls());
    return deleted;
  }

  /** Arms the watches on both notification paths, then reloads every ACL. */
  private async refreshAcls(): Promise<void> {
    const zk = this.client();
    for (const path of [literalAclChangesPath, extendedAclChangesPath]) {
      await this.arm(
        `children:${path}`,
        (cb) => zk.watchChildren(path, (type) => cb(type)),
        () => this.refreshAcls(),
      );
    }
    this.aclList = await loadAcls(zk);
  }

  /** The ZooKeeper connection dropped (true) or is back (false); see Coordinator. */
  onLeadershipDoubt(listener: (inDoubt: boolean) => void): () => void {
    this.doubtListeners.add(listener);
    return () => this.doubtListeners.delete(listener);
  }

  /**
   * A direct read, not the /brokers/ids cache: a cache that has not caught up
   * with a registration would falsely tell a broker its session is gone. A
   * failed read answers "not connected" (proves nothing).
   */
  async registrationOf(
    brokerId: number,
    registrationZxid: number,
  ): Promise<{ connected: boolean; registered: boolean }> {
    const zk = this.zk;
    if (this.closed || !this.zkConnected || !zk || zk.isClosed) return { connected: false, registered: false };
    try {
      const node = await zk.get(brokerPath(brokerId));
      return { connected: this.zkConnected, registered: node?.createdZxid === registrationZxid };
    } catch {
      return { connected: false, registered: false };
    }
  }

  abandonExpiredSession(): boolean {
    const zk = this.zk;
    if (this.closed || this.zkConnected || !zk || zk.isClosed || this.registrationZxid === undefined) return false;
    // closing emits 'closed', which runs the session-lost path (open(): stop the controller, tell the listeners)
    void zk.close();
    return true;
  }

  /** Called once if the ZooKeeper session ends other than by close() (expired): this broker is out of the cluster. */
  onSessionLost(listener: () => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      this.closed = true;
      throw err;
    }
  }

  /**
   * After the session was lost (onSessionLost): a new session, registration,
   * cache and controller election. The caches are rebuilt from scratch, so
   * every partition state is reported again; a topic deleted meanwhile (or
   * deleted and created again) is reported deleted first. Throws when
   * ZooKeeper cannot be reached yet; the caller tries again.
   */
  async reconnect(): Promise<void> {
    if (this.closed) throw new SluiceError(ErrorCode.BrokerError, 'the ZooKeeper coordinator was closed');
    this.controller?.stop();
    this.controller = undefined;
    await this.refreshes.settled();
    this.refreshes.disarmAll();
    this.brokerMap.clear();
    for (const [name, cached] of this.topicMap) this.beforeSessionLoss.set(name, cached.createdZxid);
    this.topicMap.clear();
    this.states.clear();
    // the new session reads every state again
    this.firedStates.clear();
    await this.open();
  }

  private async open(): Promise<void> {
    const zk = await ZkClient.connect({
      connect: this.options.connect,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? zookeeperSessionTimeoutMsDefault,
      connectTimeoutMs: this.options.connectTimeoutMs ?? zookeeperConnectTimeoutMsDefault,
    });
    // queues hook (issue 14): a dropped connection may be a session expiring; the session's end is 'closed'
    zk.on('disconnected', () => {
      if (this.closed || this.zk !== zk) return;
      this.zkConnected = false;
      for (const listener of this.doubtListeners) listener(true);
    });
    zk.on('connected', () => {
      if (this.closed || this.zk !== zk) return;
      this.zkConnected = true;
      for (const listener of this.doubtListeners) listener(false);
    });
    zk.on('closed', () => {
      if (this.closed || this.zk !== zk) return;
      this.controller?.stop();
      for (const listener of this.sessionListeners) listener();
    });
    try {
      for (const path of [...persistentPaths, ...aclPersistentPaths]) await zk.ensurePath(path);
      this.id ??= await loadOrCreateClusterId(zk);
      await this.register(zk);
      // only now does the coordinator serve (createTopic, updateIsr, ...): a broker still waiting
      // for its previous session's registration to expire is not part of the cluster yet
      this.zk = zk;
      // a new session (after one was lost) is connected already: its first 'connected' came before it served
      this.zkConnected = true;
      for (const listener of this.doubtListeners) listener(false);
      await this.enqueueRefresh(() => this.refreshBrokers());
      await this.enqueueRefresh(() => this.refreshTopics());
      await this.enqueueRefresh(() => this.refreshAcls());
      await this.scramCredentials.attach(zk);
      await this.clientQuotas.attach(zk);
      this.controller = new Controller(zk, this.brokerId, {
        uncleanLeaderElectionEnable: this.options.uncleanLeaderElectionEnable ?? false,
        autoLeaderRebalanceEnable: this.options.autoLeaderRebalanceEnable ?? true,
        leaderImbalanceCheckIntervalMs: this.options.leaderImbalanceCheckIntervalMs ?? 300_000,
        onError: (err) => this.reportError(err),
        onControllerChange: () => {},
        ...(this.options.prober ? { prober: this.options.prober } : {}),
        ...(this.options.onFence ? { onFence: this.options.onFence } : {}),
      });
      await this.controller.start();
    } catch (err) {
      this.controller?.stop();
      this.zk = undefined;
      this.scramCredentials.detach();
      this.clientQuotas.detach();
      await zk.close();
      throw err;
    }
  }

  private async register(zk: ZkClient): Promise<void> {
    const { host, port, kafkaPort } = this.options.endpoint;
    this.registrationZxid = undefined;
    await registerBroker(zk, {
      brokerId: this.brokerId,
      host,
      port,
      ...(kafkaPort !== undefined ? { kafkaPort } : {}),
      ...(this.options.httpPort !== undefined ? { httpPort: this.options.httpPort } : {}),
      // the previous incarnation asked for the same timeout, so the server granted it what it grants this
      // session (the request bounded by the server's tick time): that is when the old session expires
      sessionTimeoutMs:
        zk.negotiatedSessionTimeoutMs ?? this.options.sessionTimeoutMs ?? zookeeperSessionTimeoutMsDefault,
      onWaiting: (info) => this.options.onWaitingForPreviousSession?.(info),
      cancelled: () => this.closed,
    });
    this.registrationZxid = (await zk.get(brokerPath(this.brokerId)))?.createdZxid;
  }

  /**
   * Controlled shutdown (issue 18): the ephemeral /sluice/controlled_shutdown/<id>
   * asks the controller, whichever broker it is now or becomes, to move this
   * broker's leaderships and ISR memberships away (controller.ts moveAway). It
   * lives as long as this session, so it goes with the broker. Idempotent.
   */
  async requestControlledShutdown(): Promise<void> {
    const zk = this.client();
    try {
      await zk.create(
        controlledShutdownBrokerPath(this.brokerId),
        JSON.stringify({ timestamp: String(Date.now()) }),
        'ephemeral',
      );
    } catch (err) {
      if (!isZkError(err, ZkCode.NodeExists)) throw err;
    }
  }

  /** A leadership handover of one partition (zk-paths.ts leaderHandoverPath), ephemeral. Idempotent. */
  async requestLeaderHandover(topic: string, partition: number): Promise<void> {
    try {
      await this.client().create(
        leaderHandoverRequestPath(topic, partition, this.brokerId),
        JSON.stringify({ timestamp: String(Date.now()) }),
        'ephemeral',
      );
    } catch (err) {
      if (!isZkError(err, ZkCode.NodeExists)) throw err;
    }
  }

  async brokersShuttingDown(): Promise<number[]> {
    const children = await this.client().children(controlledShutdownPath);
    return children.map(Number).filter((id) => Number.isSafeInteger(id) && this.brokerMap.has(id));
  }

  /** The brokers the active controller (this broker) has fenced; [] on any other broker. */
  fencedBrokers(): number[] {
    return this.controller?.isActive ? this.controller.fencedBrokers : [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller?.stop();
    await this.refreshes.settled();
    await this.zk?.close();
  }

  brokers(): BrokerEndpoint[] {
    return [...this.brokerMap.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  controllerId(): number {
    return this.controller?.controllerId ?? -1;
  }

  clusterId(): string {
    // not an assertion: the listeners open before the coordinator starts (the port is what it
    // registers), so a Metadata request can arrive first; it gets a retriable error, the broker lives on
    if (this.id === undefined)
      throw new SluiceError(ErrorCode.BrokerNotReady, 'the broker has not joined its cluster yet');
    return this.id;
  }

  /** True while this broker is the active controller. */
  isController(): boolean {
    return this.controller?.isActive ?? false;
  }

  /** The controller epoch this broker won with (0 when it is not the controller). */
  controllerEpoch(): number {
    return this.controller?.controllerEpoch ?? 0;
  }

  topics(): TopicSpec[] {
    return [...this.topicMap.values()].map((t) => t.spec).sort((a, b) => a.name.localeCompare(b.name));
  }

  topic(name: string): TopicSpec | undefined {
    return this.topicMap.get(name)?.spec;
  }

  partitionState(topic: string, partition: number): PartitionState | undefined {
    return this.states.get(topicPartitionKey(topic, partition));
  }

  async createTopic(spec: TopicSpec): Promise<void> {
    const zk = this.client();
    checkTopicSpec(spec);
    if (this.topicMap.has(spec.name) || (await zk.get(topicPath(spec.name)))) {
      throw new SluiceError(ErrorCode.TopicExists, `topic ${spec.name} already exists`);
    }
    if (await zk.get(deleteTopicPath(spec.name))) {
      throw new SluiceError(ErrorCode.TopicExists, `topic ${spec.name} is marked for deletion`);
    }
    const live = (await zk.children(brokerIdsPath)).map(Number);
    const assignment = newTopicZnode(assignReplicas(live, spec.partitions, spec.replicationFactor));
    const config = JSON.stringify({ version: 1, config: { ...spec.configs } });
    try {
      await zk.create(topicConfigPath(spec.name), config, 'persistent');
    } catch (err) {
      if (!isZkError(err, ZkCode.NodeExists)) throw err;
      await zk.set(topicConfigPath(spec.name), config, -1);
    }
    try {
      await zk.create(topicPath(spec.name), JSON.stringify(assignment), 'persistent');
    } catch (err) {
      if (isZkError(err, ZkCode.NodeExists)) {
        throw new SluiceError(ErrorCode.TopicExists, `topic ${spec.name} already exists`);
      }
      throw err;
    }
    await this.waitFor(() => {
      for (let p = 0; p < spec.partitions; p++) if (!this.states.has(topicPartitionKey(spec.name, p))) return false;
      return true;
    }, `the controller did not create the partition states of topic ${spec.name}`);
  }

  /** CreatePartitions (partition-growth.ts): the znode grows, then this waits for the controller's new states here. */
  async createPartitions(topic: string, count: number): Promise<void> {
    const assignment = await addPartitions(this.client(), topic, count);
    await this.waitFor(() => {
      for (let p = 0; p < assignment.length; p++) if (!this.states.has(topicPartitionKey(topic, p))) return false;
      return true;
    }, `the controller did not create the new partition states of topic ${topic}`);
  }

  async deleteTopic(name: string): Promise<void> {
    const zk = this.client();
    const identity = this.topicMap.get(name)?.createdZxid ?? (await zk.stat(topicPath(name)))?.createdZxid;
    if (identity === undefined) {
      throw new SluiceError(ErrorCode.UnknownPartition, `topic ${name} does not exist`);
    }
    try {
      await zk.create(deleteTopicPath(name), '', 'persistent');
    } catch (err) {
      if (!isZkError(err, ZkCode.NodeExists)) throw err;
    }
    // done when the controller has removed the topic's znodes and, last, the deletion marker (and the
    // cache has dropped this life of the topic: another broker may have created the name again already)
    await this.waitFor(
      async () => this.topicMap.get(name)?.createdZxid !== identity && !(await zk.get(deleteTopicPath(name))),
      `the controller did not delete topic ${name}`,
    );
  }

  private client(): ZkClient {
    if (!this.zk || this.closed || this.zk.isClosed) {
      throw new SluiceError(ErrorCode.BrokerNotReady, 'the ZooKeeper coordinator is not running');
    }
    return this.zk;
  }

  private async waitFor(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + zookeeperTopicChangeWaitMs;
    while (!(await done())) {
      if (this.closed) throw new SluiceError(ErrorCode.BrokerError, 'the ZooKeeper coordinator was closed');
      if (Date.now() > deadline) {
        throw new SluiceError(ErrorCode.Timeout, `${what} within ${zookeeperTopicChangeWaitMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private reportError(err: unknown): void {
    if (this.closed) return;
    this.options.onError?.(err);
  }

  // ---- the watch-driven cache: every refresh runs on one queue, so they never interleave ----

  private enqueueRefresh(step: () => Promise<void>): Promise<void> {
    return this.refreshes.enqueue(step);
  }

  /** A one-shot watch per path at most: `onFire` runs on the refresh queue after the watch fires. */
  private arm(
    key: string,
    register: (cb: (type: number) => void) => Promise<unknown>,
    onFire: () => Promise<void>,
  ): Promise<void> {
    return this.refreshes.arm(key, register, onFire, () => !this.closed);
  }

  private async refreshBrokers(): Promise<void> {
    const zk = this.client();
    await this.arm(
      `children:${brokerIdsPath}`,
      (cb) => zk.watchChildren(brokerIdsPath, (type) => cb(type)),
      () => this.refreshBrokers(),
    );
    const ids = new Set((await zk.children(brokerIdsPath)).map(Number));
    for (const id of this.brokerMap.keys()) if (!ids.has(id)) this.brokerMap.delete(id);
    for (const id of ids) {
      if (this.brokerMap.has(id)) continue;
      const node = await zk.get(brokerPath(id));
      if (!node) continue;
      const reg = parseBroker(brokerPath(id), node.data);
      this.brokerMap.set(id, {
        nodeId: id,
        host: reg.host,
        port: reg.port,
        ...(typeof reg.kafka_port === 'number' ? { kafkaPort: reg.kafka_port } : {}),
      });
    }
  }

  private async refreshTopics(): Promise<void> {
    const zk = this.client();
    await this.arm(
      `children:${brokerTopicsPath}`,
      (cb) => zk.watchChildren(brokerTopicsPath, (type) => cb(type)),
      () => this.refreshTopics(),
    );
    const names = new Set(await zk.children(brokerTopicsPath));
    for (const name of [...this.topicMap.keys(), ...this.beforeSessionLoss.keys()]) {
      if (!names.has(name)) this.dropTopic(name);
    }
    for (const name of names) if (!this.topicMap.has(name)) await this.refreshTopic(name);
  }

  private dropTopic(name: string): void {
    const cached = this.topicMap.get(name);
    const knownBeforeSessionLoss = this.beforeSessionLoss.delete(name);
    this.topicMap.delete(name);
    if (cached) for (let p = 0; p < cached.assignment.length; p++) this.states.delete(topicPartitionKey(name, p));
    if (!cached && !knownBeforeSessionLoss) return;
    for (const listener of this.deleteListeners) {
      try {
        listener(name);
      } catch (err) {
        this.reportError(err);
      }
    }
  }

  private async refreshTopic(name: string): Promise<void> {
    const zk = this.client();
    const path = topicPath(name);
    await this.arm(
      `node:${path}`,
      (cb) => zk.watchNode(path, cb),
      () => this.refreshTopic(name),
    );
    const node = await zk.get(path);
    if (!node) {
      this.dropTopic(name);
      return;
    }
    // deleted and created again since the cache loaded it (or since the session was lost): the old
    // topic goes (its states and logs with it, onTopicDeleted) before the new one is reported
    const known = this.topicMap.get(name)?.createdZxid ?? this.beforeSessionLoss.get(name);
    if (known !== node.createdZxid) this.dropTopic(name);
    this.beforeSessionLoss.delete(name);
    const assignmentZnode = parseAssignment(path, node.data);
    const assignment: number[][] = [];
    for (const [key, replicas] of Object.entries(assignmentZnode.partitions)) assignment[Number(key)] = replicas;
    const configPath = topicConfigPath(name);
    await this.arm(
      `node:${configPath}`,
      (cb) => zk.watchNode(configPath, cb),
      () => this.refreshTopic(name),
    );
    const configNode = await zk.get(configPath);
    const configs = configNode ? parseTopicConfig(configPath, configNode.data).config : {};
    const topicId = topicIdOf(assignmentZnode);
    const spec: TopicSpec = {
      name,
      partitions: assignment.length,
      replicationFactor: assignment[0]?.length ?? 0,
      configs: { ...configs },
      // a topic from before topic ids has none until the controller gives it one (the watch reloads it)
      ...(topicId ? { topicId } : {}),
    };
    const before = this.topicMap.get(name);
    this.topicMap.set(name, {
      spec,
      assignment,
      createdZxid: node.createdZxid,
      znode: assignmentZnode,
      configVersion: configNode?.version ?? -1,
    });
    // the same life of the topic with other overrides: an alteration (here or on another broker)
    if (before && before.createdZxid === node.createdZxid && !sameConfigs(before.spec.configs, spec.configs)) {
      for (const listener of this.configListeners) {
        try {
          listener(name, { ...spec.configs });
        } catch (err) {
          this.reportError(err);
        }
      }
    }
    await this.refreshStates(name, [...assignment.keys()]);
  }

  private refreshPartition(topic: string, partition: number): Promise<void> {
    return this.refreshStates(topic, [partition]);
  }

  /** The fired partition state watches of every topic, read in one pass (see firedStates). */
  private async refreshFiredStates(): Promise<void> {
    for (const [topic, partitions] of [...this.firedStates]) {
      this.firedStates.delete(topic);
      await this.refreshStates(topic, [...partitions]);
    }
  }

  /**
   * Reads the state znodes of `partitions` of a cached topic, each with its watch armed,
   * zookeeperRequestsInFlightMax requests at a time, and applies them. The states' replicas come
   * from the cached assignment, so both must be of one life of the topic: the topic znode is looked
   * at after the states, once for the lot; when it is still the cached one, the states (its
   * children) were written under it; otherwise the topic was deleted, or deleted and created again,
   * and the topic's own refresh reports that (and reads its states again if it is new).
   */
  private async refreshStates(topic: string, partitions: number[]): Promise<void> {
    try {
      await this.readStates(topic, partitions);
    } catch (err) {
      // a request lost with the connection (the session lives on): read again in a while rather than
      // leave these partitions unknown here until their next change
      const fired = this.firedStates.get(topic) ?? new Set<number>();
      for (const partition of partitions) fired.add(partition);
      this.firedStates.set(topic, fired);
      this.statesRetry ??= setTimeout(() => {
        this.statesRetry = undefined;
        if (!this.closed) void this.enqueueRefresh(() => this.refreshFiredStates());
      }, zookeeperRefreshRetryMs).unref();
      throw err;
    }
  }

  private async readStates(topic: string, partitions: number[]): Promise<void> {
    const zk = this.client();
    const cached = this.topicMap.get(topic);
    if (!cached) return;
    const nodes = await inParallel(partitions, zookeeperRequestsInFlightMax, async (partition) => {
      const path = partitionStatePath(topic, partition);
      let exists: boolean | undefined;
      await this.arm(
        `node:${path}`,
        async (cb) => {
          exists = await zk.watchNode(path, (type) => {
            if (type !== ZkEvent.Session) {
              const fired = this.firedStates.get(topic) ?? new Set<number>();
              this.firedStates.set(topic, fired.add(partition));
            }
            cb(type);
          });
        },
        () => this.refreshFiredStates(),
      );
      // not there when the watch was armed: nothing to read (a new topic's states), the watch tells of its creation
      return exists === false ? undefined : zk.get(path);
    });
    if ((await zk.stat(topicPath(topic)))?.createdZxid !== cached.createdZxid) {
      await this.refreshTopic(topic);
      return;
    }
    for (const [i, partition] of partitions.entries()) this.applyState(topic, partition, cached, nodes[i]);
  }

  private applyState(topic: string, partition: number, cached: CachedTopic, node: ZkNodeData | undefined): void {
    const path = partitionStatePath(topic, partition);
    const key = topicPartitionKey(topic, partition);
    const previous = this.states.get(key);
    if (!node) {
      this.states.delete(key);
      return;
    }
    const znode = parsePartitionState(path, node.data);
    const state: PartitionState = {
      topic,
      partition,
      leader: znode.leader,
      leaderEpoch: znode.leader_epoch,
      replicas: [...(cached.assignment[partition] ?? [])],
      isr: [...znode.isr],
    };
    const adding = cached.znode.adding_replicas?.[String(partition)];
    const throttle = cached.znode.sluice_throttle_bytes_per_sec?.[String(partition)];
    if (adding && adding.length > 0) state.addingReplicas = [...adding];
    if (typeof throttle === 'number' && throttle > 0) state.throttleBytesPerSec = throttle;
    if (
      previous &&
      previous.leader === state.leader &&
      previous.leaderEpoch === state.leaderEpoch &&
      previous.isr.join() === state.isr.join() &&
      previous.replicas.join() === state.replicas.join() &&
      previous.addingReplicas?.join() === state.addingReplicas?.join() &&
      previous.throttleBytesPerSec === state.throttleBytesPerSec
    ) {
      return;
    }
    this.states.set(key, state);
    for (const listener of this.stateListeners) {
      try {
        listener(state, previous);
      } catch (err) {
        this.reportError(err);
      }
    }
  }

  // ---- partition reassignment (KIP-455, reassignment.ts): run by the active controller ----

  alterPartitionReassignment(
    topic: string,
    partition: number,
    target: number[] | null,
    throttleBytesPerSec = 0,
  ): Promise<void> {
    return this.asController((c) => c.reassignments.alter(topic, partition, target, throttleBytesPerSec));
  }

  listPartitionReassignments(): Promise<PartitionReassignment[]> {
    return this.asController((c) => c.reassignments.list());
  }

  private asController<T>(step: (controller: Controller) => Promise<T>): Promise<T> {
    const controller = this.controller;
    if (!controller?.isActive) {
      return Promise.reject(
        new SluiceError(
          ErrorCode.NotController,
          `broker ${this.brokerId} is not the controller (the controller is broker ${this.controllerId()})`,
        ),
      );
    }
    return controller.runAsController(() => step(controller));
  }

  // ---- producer ids (the idempotent producer) ----

  /** Ids left in the claimed block [next, end] (inclusive, Kafka's), and the claim of the next block while under way. */
  private readonly producerIds: {
    next: number;
    end: number;
    claiming?: Promise<void>;
  } = { next: 0, end: -1 };

  /**
   * Hands out ids from blocks claimed in /latest_producer_id_block (see
   * producer-id-block.ts): unique across the cluster and never reused. The
   * module is imported here, not at the top, to keep this addition in one place.
   */
  async allocateProducerId(): Promise<number> {
    const ids = this.producerIds;
    while (ids.next > ids.end) {
      ids.claiming ??= (async () => {
        const { allocateProducerIdBlock } = await import('./producer-id-block.js');
        const { producerIdBlockSize } = await import('../../shared/limits.js');
        const block = await allocateProducerIdBlock(this.client(), this.brokerId, producerIdBlockSize);
        ids.next = block.start;
        ids.end = block.end;
      })().finally(() => {
        ids.claiming = undefined;
      });
      await ids.claiming;
    }
    return ids.next++;
  }
}

/** Bindings grouped by their resource pattern (one znode each). */
function byPattern(bindings: readonly AclBinding[]): [ResourcePattern, AclEntry[]][] {
  const groups = new Map<string, [ResourcePattern, AclEntry[]]>();
  for (const b of bindings) {
    const key = aclZnodePath(b.pattern);
    const group = groups.get(key);
    if (group) group[1].push(b.entry);
    else groups.set(key, [b.pattern, [b.entry]]);
  }
  return [...groups.values()];
}
