/**
 * A topic deleted and created again at once, as the replica manager hears of
 * it: onTopicDeleted, and right after it the new topic's partition states
 * (the ZooKeeper coordinator reports them in one refresh step). On real logs
 * (real files, real LevelDB) with an in-memory coordinator. The new topic's
 * partitions must get new, empty logs — not an old log the log manager has
 * not deleted yet (it deletes a topic's partitions one after another).
 */
import { afterEach, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import type {
  BrokerEndpoint,
  Coordinator,
  PartitionState,
  PartitionStateListener,
  TopicSpec,
} from '../../../src/coordination/coordinator.js';
import { AppendNotifier } from '../../../src/replication/append-notifier.js';
import { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const managers: ReplicaManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

const partitions = 4;

/** Topic 't' of four partitions, each led by broker 1 alone; recreate() deletes and creates it again. */
class RecreatingCoordinator implements Coordinator {
  readonly brokerId = 1;
  private readonly spec: TopicSpec = { name: 't', partitions, replicationFactor: 1, configs: {} };
  private states: PartitionState[] = RecreatingCoordinator.fresh();
  private readonly stateListeners = new Set<PartitionStateListener>();
  private readonly deleteListeners = new Set<(topic: string) => void>();

  private static fresh(): PartitionState[] {
    return Array.from({ length: partitions }, (_, p) => ({
      topic: 't',
      partition: p,
      leader: 1,
      leaderEpoch: 0,
      replicas: [1],
      isr: [1],
    }));
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
  async updateIsr(): Promise<boolean> {
    return false;
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

  /** The old 't' reported deleted, then at once every state of the new 't' (the same states: epoch 0 again). */
  recreate(): void {
    for (const listener of this.deleteListeners) listener('t');
    this.states = RecreatingCoordinator.fresh();
    for (const state of this.states) for (const listener of this.stateListeners) listener(state, undefined);
  }
}

it("a topic created again right after its deletion gets new, empty logs on every partition, none of the old one's", async () => {
  const logs = await fx.open(fx.dir());
  const coordinator = new RecreatingCoordinator();
  const manager = new ReplicaManager({
    brokerId: 1,
    logs,
    coordinator,
    config: parseBrokerConfig(new Map()),
    notifier: new AppendNotifier(),
    logger: silentLogger,
  });
  managers.push(manager);
  await manager.start();
  for (let p = 0; p < partitions; p++) await manager.appendAsLeader('t', p, testBatch(`old-${p}`, 5, 1000), 1, 10_000);
  expect(logs.all().map((log) => log.logEndOffset)).toEqual([5, 5, 5, 5]);

  coordinator.recreate();
  // (each partition's state changes apply in order: these come after the ones recreate() reported)
  await manager.removeTopic('t');
  await manager.applyTopic('t');

  for (let p = 0; p < partitions; p++) {
    const replica = manager.leaderReplica('t', p);
    expect(replica.log.logEndOffset, `t-${p}`).toBe(0);
    expect(logs.get('t', p)).toBe(replica.log);
    const appended = await manager.appendAsLeader('t', p, testBatch(`new-${p}`, 2, 2000), 1, 10_000);
    expect(appended.baseOffset, `t-${p}`).toBe(0);
  }
});
