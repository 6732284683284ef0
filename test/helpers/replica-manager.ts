/**
 * The replica manager on real logs (real files, real LevelDB) with an
 * in-memory coordinator, for unit tests of its state changes: broker 1, one
 * topic 't' whose partition states the test holds and changes.
 */
import { parseBrokerConfig } from '../../src/config/broker-config.js';
import type {
  BrokerEndpoint,
  Coordinator,
  PartitionState,
  PartitionStateListener,
  TopicSpec,
} from '../../src/coordination/coordinator.js';
import type { ClientInfo, HandlerContext } from '../../src/handlers/context.js';
import { AppendNotifier } from '../../src/replication/append-notifier.js';
import { ReplicaManager } from '../../src/replication/replica-manager.js';
import { anonymousPrincipal } from '../../src/security/principal.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { LogManager } from '../../src/storage/log-manager.js';

export interface TopicShape {
  /** How many partitions 't' has (1 unless told). */
  partitions?: number;
  /** Each partition's replicas ([1] unless told); the replication factor is their count. */
  replicas?: number[];
  /** Each partition's ISR (the replicas unless told). */
  isr?: number[];
  /** The topic id in the spec (none unless told). */
  topicId?: string;
}

/**
 * Topic 't' in memory, every partition led by broker 1 at epoch 0. It tells
 * the listeners the replica manager registers only what a test reports
 * (reportState, reportDeleted); an ISR write is refused (false) unless a
 * subclass answers it.
 */
export class MemoryCoordinator implements Coordinator {
  readonly brokerId = 1;
  protected readonly spec: TopicSpec;
  protected states: PartitionState[];
  private readonly stateListeners = new Set<PartitionStateListener>();
  private readonly deleteListeners = new Set<(topic: string) => void>();

  constructor(private readonly shape: TopicShape = {}) {
    this.spec = {
      name: 't',
      partitions: shape.partitions ?? 1,
      replicationFactor: (shape.replicas ?? [1]).length,
      configs: {},
      ...(shape.topicId === undefined ? {} : { topicId: shape.topicId }),
    };
    this.states = this.freshStates();
  }

  /** Every partition's first state: led by broker 1 at epoch 0. */
  protected freshStates(): PartitionState[] {
    const replicas = this.shape.replicas ?? [1];
    return Array.from({ length: this.spec.partitions }, (_, p) => ({
      topic: 't',
      partition: p,
      leader: 1,
      leaderEpoch: 0,
      replicas: [...replicas],
      isr: [...(this.shape.isr ?? replicas)],
    }));
  }

  /** Tells the replica manager a partition's state changed from `previous` to `state` (set in `states` first). */
  protected reportState(state: PartitionState, previous: PartitionState | undefined): void {
    for (const listener of this.stateListeners) listener(state, previous);
  }

  /** Tells the replica manager topic `name` is deleted. */
  protected reportDeleted(name: string): void {
    for (const listener of this.deleteListeners) listener(name);
  }

  async start(): Promise<void> {}
  async close(): Promise<void> {}
  brokers(): BrokerEndpoint[] {
    return [];
  }
  controllerId(): number {
    return 1;
  }
  clusterId(): string {
    return 'c2x1aWNlLXRlc3QtY2x1cw';
  }
  topics(): TopicSpec[] {
    return [this.spec];
  }
  topic(name: string): TopicSpec | undefined {
    return name === 't' ? this.spec : undefined;
  }
  partitionState(topic: string, partition: number): PartitionState | undefined {
    return topic === 't' ? this.states[partition] : undefined;
  }
  async createTopic(): Promise<void> {}
  async deleteTopic(): Promise<void> {}
  async allocateProducerId(): Promise<number> {
    return 0;
  }
  updateIsr(_topic: string, _partition: number, _leaderEpoch: number, _isr: number[]): Promise<boolean> {
    return Promise.resolve(false);
  }
  onPartitionStateChanged(listener: PartitionStateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }
  onTopicDeleted(listener: (topic: string) => void): () => void {
    this.deleteListeners.add(listener);
    return () => this.deleteListeners.delete(listener);
  }
  async alterTopicConfigs(): Promise<Record<string, string>> {
    return {};
  }
  onTopicConfigChanged(): () => void {
    return () => {};
  }
}

/** A replica manager for broker 1 (not started) on `logs`, with the broker config `overrides`. */
export function newReplicaManager(
  logs: LogManager,
  coordinator: Coordinator,
  overrides: Record<string, string> = {},
): ReplicaManager {
  return new ReplicaManager({
    brokerId: 1,
    logs,
    coordinator,
    config: parseBrokerConfig(new Map(Object.entries(overrides))),
    notifier: new AppendNotifier(),
    logger: silentLogger,
  });
}

/**
 * A started replica manager on `logs` (see newReplicaManager) and the context a handler called
 * directly reads: its notifier, logs, coordinator and config, topics known to the coordinator
 * (no auto-creation), never stopping. `track` receives the manager so the test closes it.
 */
export async function startedHandlerContext(
  logs: LogManager,
  coordinator: Coordinator,
  track: (replicas: ReplicaManager) => void,
  overrides: Record<string, string> = {},
): Promise<{ replicas: ReplicaManager; ctx: HandlerContext }> {
  const config = parseBrokerConfig(new Map(Object.entries(overrides)));
  const notifier = new AppendNotifier();
  const replicas = new ReplicaManager({ brokerId: 1, logs, coordinator, config, notifier, logger: silentLogger });
  track(replicas);
  await replicas.start();
  const ctx = {
    replicas,
    notifier,
    fetchSessions: { live: 0 },
    logs,
    coordinator,
    config,
    logger: silentLogger,
    topics: { getOrAutoCreate: async (name: string) => coordinator.topic(name) },
    stopping: () => false,
  } as unknown as HandlerContext;
  return { replicas, ctx };
}

/** The client of a handler called directly in a unit test: anonymous, connection 1, nothing on close. */
export const testClient: ClientInfo = {
  clientId: 'test',
  clientHost: '127.0.0.1',
  principal: anonymousPrincipal,
  connectionId: 1,
  onClose: () => undefined,
};
