/**
 * Topic metadata, leadership and topic configuration, behind one interface.
 * The standalone implementation keeps them in the broker's LevelDB; the
 * ZooKeeper-backed cluster implements the same interface, so request handling
 * never knows which one it talks to.
 */
import type { AclBinding, AclBindingFilter } from '../security/acl.js';
import type { ClientQuotaStore } from './client-quota-store.js';
import type { LegacyConsoleUsersStore } from './legacy-console-users.js';
import type { ScramCredentialStore } from './scram-store.js';
export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  /** The native listener. */
  port: number;
  /** The Kafka-protocol listener on the same host, when the broker runs one. */
  kafkaPort?: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level overrides with Kafka's topic key names (retention.ms, segment.bytes, ...). */
  configs: Record<string, string>;
  /**
   * The topic's id (topic-id.ts), given by the coordinator when it creates the
   * topic: every topic a coordinator answers has one, and a topic deleted and
   * created again under the same name has a new one. Ignored in createTopic's argument.
   */
  topicId?: string;
}

export interface PartitionState {
  topic: string;
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  /** While the partition is under reassignment: the replicas being added (catching up). */
  addingReplicas?: number[];
  /** While under reassignment with a throttle: the bytes/s its adding replicas may fetch at. */
  throttleBytesPerSec?: number;
}

export type TopicConfigListener = (topic: string, configs: Record<string, string>) => void;

export type PartitionStateListener = (state: PartitionState, previous: PartitionState | undefined) => void;

export interface Coordinator {
  readonly brokerId: number;
  start(): Promise<void>;
  close(): Promise<void>;
  brokers(): BrokerEndpoint[];
  controllerId(): number;
  /**
   * The cluster's id (Kafka's 22-character URL-safe base64 UUID, see cluster-id.ts):
   * generated once for the cluster and stored with its metadata, the same on every
   * broker and across restarts. Known after start() resolves.
   */
  clusterId(): string;
  topics(): TopicSpec[];
  topic(name: string): TopicSpec | undefined;
  partitionState(topic: string, partition: number): PartitionState | undefined;
  /** Throws SluiceError TopicExists / InvalidPartitions / InvalidReplicationFactor. */
  createTopic(spec: TopicSpec): Promise<void>;
  /** Throws SluiceError UnknownPartition when the topic does not exist. */
  deleteTopic(name: string): Promise<void>;
  /**
   * Changes a topic's config overrides (issue 16): a string sets the key, null
   * removes its override (the topic falls back to the broker's value). Keys and
   * values are not checked here (the topic manager checks them against the
   * config table). Resolves with the new overrides once this broker's topic()
   * shows them; every broker (this one included) reports the change through
   * onTopicConfigChanged. Throws UnknownPartition when the topic does not exist.
   */
  alterTopicConfigs(topic: string, changes: Record<string, string | null>): Promise<Record<string, string>>;
  /** Called after a topic's config overrides changed (here or on another broker), with the new overrides. Returns an unsubscribe. */
  onTopicConfigChanged(listener: TopicConfigListener): () => void;
  /**
   * Grows the topic to `count` partitions (Kafka's CreatePartitions): the new
   * partitions get replicas and leaders as at creation, and their states are
   * reported (onPartitionStateChanged) before this resolves. Throws
   * UnknownPartition when the topic does not exist, InvalidPartitions when
   * `count` is not above the current count (a topic never shrinks) or over the
   * limit, InvalidReplicationFactor when too few brokers are alive. Optional:
   * a coordinator without it cannot grow topics.
   */
  createPartitions?(topic: string, count: number): Promise<void>;
  /** A producer id for an idempotent producer: unique in the cluster and never reused, even after a crash. */
  allocateProducerId(): Promise<number>;
  /** Called after a partition's state (leader, epoch, ISR) is created or changes. Returns an unsubscribe. */
  onPartitionStateChanged(listener: PartitionStateListener): () => void;
  /**
   * Called after a topic disappears (deleted here or by another broker). A topic deleted and created
   * again under the same name is a new topic: its deletion is reported before any state of the new one,
   * whose leader epochs start afresh. Returns an unsubscribe.
   */
  onTopicDeleted(listener: (topic: string) => void): () => void;
  /**
   * The partition's leader changes its ISR (shrink or expand). Conditional:
   * false when this broker no longer leads the partition at `leaderEpoch`.
   * The new ISR holds the leader itself and each broker once (asserted: a
   * caller breaking that is a bug), all of them replicas of the partition.
   */
  updateIsr(topic: string, partition: number, leaderEpoch: number, isr: number[]): Promise<boolean>;
  /**
   * Leadership in doubt (queues hook, issue 14): called with true when the
   * connection to ZooKeeper drops (the session may be expiring: another
   * broker may lead this broker's partitions already) and with false when it
   * is back. Optional: a standalone broker's leadership is never in doubt.
   */
  onLeadershipDoubt?(listener: (inDoubt: boolean) => void): () => void;
  /**
   * Another broker's registration (BrokerHeartbeat), read from the
   * coordination service now: whether this broker's own connection to it is
   * up, and whether `brokerId`'s registration created at `registrationZxid`
   * still exists. Optional: standalone has no peers.
   */
  registrationOf?(brokerId: number, registrationZxid: number): Promise<{ connected: boolean; registered: boolean }>;
  /** The zxid that created this broker's current registration (undefined while unregistered). */
  readonly registrationZxid?: number | undefined;
  /**
   * A peer connected to ZooKeeper no longer sees this broker's registration
   * while this broker cannot reach ZooKeeper: the session has expired there.
   * Ends the session here now (onSessionLost listeners run) rather than when
   * the connection returns; false (nothing done) when connected after all.
   */
  abandonExpiredSession?(): boolean;
  /**
   * Partition reassignment (KIP-455; issue 16): moves `partition` to the
   * `target` replicas, or cancels its reassignment when `target` is null.
   * Returns once the reassignment is recorded (it completes in the
   * background). Throws NotController on a broker that is not the
   * controller, UnknownPartition, InvalidReplicaAssignment,
   * NoReassignmentInProgress. `throttleBytesPerSec` (0: none) limits how fast
   * the added replicas fetch until it completes. Absent in a coordinator with
   * nothing to move.
   */
  alterPartitionReassignment?(
    topic: string,
    partition: number,
    target: number[] | null,
    throttleBytesPerSec?: number,
  ): Promise<void>;
  /** The partitions under reassignment (controller only, else NotController). */
  listPartitionReassignments?(): Promise<PartitionReassignment[]>;
  /**
   * Every ACL (issue 17), from the coordinator's cache: the authorizer reads
   * it on every request, so it is synchronous. A change made through any
   * broker shows here within moments (ZooKeeper: change notifications;
   * standalone: at once). Optional: a coordinator without ACL storage has none.
   */
  acls?(): readonly AclBinding[];
  /**
   * Stores the bindings (one already stored is kept once). Resolves once this
   * broker's acls() shows them. Throws InvalidRequest past aclBindingsMax.
   */
  createAcls?(bindings: readonly AclBinding[]): Promise<void>;
  /**
   * Deletes every stored ACL each filter matches (Kafka's AclBindingFilter
   * rules); resolves, per filter, with the bindings it deleted, once this
   * broker's acls() no longer shows them.
   */
  deleteAcls?(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]>;
  /**
   * SCRAM credentials (issue 17), kept where Kafka keeps them: ZooKeeper
   * /config/users/<u>, or the broker's LevelDB standalone; read from memory.
   * Absent in a coordinator without users (every SASL authentication fails).
   */
  readonly scramCredentials?: ScramCredentialStore;
  /**
   * Client quotas (issue 17), kept where Kafka keeps them: ZooKeeper
   * /config/users, /config/clients, or the broker's LevelDB standalone.
   */
  readonly clientQuotas?: ClientQuotaStore;
  /**
   * Controlled shutdown (issue 18): asks the controller to move this broker's
   * leaderships and ISR memberships to other brokers; resolves once asked
   * (the moves show as partition state changes). Idempotent. Absent where
   * there is no one to hand over to (standalone).
   */
  requestControlledShutdown?(): Promise<void>;
  /**
   * Asks the controller to move the leadership of one partition this broker leads (and its ISR
   * membership there) to another in-sync replica: its log holds corrupt records, which it repairs
   * as a follower (issue 18). Idempotent; absent where there is no one to hand over to.
   */
  requestLeaderHandover?(topic: string, partition: number): Promise<void>;
  /** The brokers that asked for a controlled shutdown and are still registered (read fresh). */
  brokersShuttingDown?(): Promise<number[]>;
  /** The console's former users file, imported once (legacy-console-users.ts). */
  readonly legacyConsoleUsers?: LegacyConsoleUsersStore;
}

/** One partition under reassignment: its full replica set now, and the replicas being added and removed. */
export interface PartitionReassignment {
  topic: string;
  partition: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

/** Fencing (issue 18; coordination/zookeeper/controller.ts) — a registered broker's native listener, as the controller's prober reaches it. */
export interface ProbedBroker {
  id: number;
  host: string;
  port: number;
}

/**
 * Probes brokers and reports each verdict: 'refused' (nothing listens: the
 * process is gone), 'silent' (no answer past its bound) or 'up' (answered).
 */
export interface BrokerProber {
  /** The brokers to probe from now on (the others are dropped). */
  track(brokers: readonly ProbedBroker[]): void;
  stop(): void;
}

export type ProbeVerdict = 'refused' | 'silent' | 'up';

export type BrokerProberFactory = (
  report: (brokerId: number, verdict: ProbeVerdict, why: string) => void,
) => BrokerProber;
