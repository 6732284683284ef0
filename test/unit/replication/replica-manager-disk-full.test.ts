/**
 * A partition whose log cannot be created because the disk is full (issue 18, item 3): the
 * replica manager tries its state change again every log.dir.full.retry.ms, and the partition is
 * led here once space returns, with no restart. Real logs (real files, real LevelDB); the full disk
 * is faked at fs.writeSync (the partition.metadata write of a new log); the coordinator is in memory.
 */
import fs from 'node:fs';
import { afterEach, expect, it, vi } from 'vitest';
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
import { LogManager } from '../../../src/storage/log-manager.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of closing.splice(0).reverse()) await c.close();
});

/** Topic 't' of one partition led by broker 1 alone. */
class OneTopicCoordinator implements Coordinator {
  readonly brokerId = 1;
  private readonly spec: TopicSpec = {
    name: 't',
    partitions: 1,
    replicationFactor: 1,
    configs: {},
    topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
  };
  private readonly state: PartitionState = {
    topic: 't',
    partition: 0,
    leader: 1,
    leaderEpoch: 0,
    replicas: [1],
    isr: [1],
  };
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
    return topic === 't' && partition === 0 ? this.state : undefined;
  }
  async createTopic(): Promise<void> {}
  async deleteTopic(): Promise<void> {}
  async allocateProducerId(): Promise<number> {
    return 0;
  }
  async updateIsr(): Promise<boolean> {
    return false;
  }
  onPartitionStateChanged(_listener: PartitionStateListener): () => void {
    return () => {};
  }
  onTopicDeleted(): () => void {
    return () => {};
  }
  async alterTopicConfigs(): Promise<Record<string, string>> {
    return {};
  }
  onTopicConfigChanged(): () => void {
    return () => {};
  }
}

it('a partition whose log a full disk refused is led here once space returns, with no restart', async () => {
  const logs = await LogManager.open({ logDirs: [fx.dir()], retentionCheckIntervalMs: 0, dirFullRetryMs: 0 });
  closing.push(logs);
  const manager = new ReplicaManager({
    brokerId: 1,
    logs,
    coordinator: new OneTopicCoordinator(),
    config: parseBrokerConfig(new Map([['log.dir.full.retry.ms', '10']])),
    notifier: new AppendNotifier(),
    logger: silentLogger,
  });
  closing.push(manager);
  const writes = vi.spyOn(fs, 'writeSync').mockImplementation(() => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  });
  await manager.start();
  expect(manager.replica('t', 0)).toBeUndefined();
  // tried again while the disk is still full
  await vi.waitFor(() => expect(writes.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
  expect(manager.replica('t', 0)).toBeUndefined();

  vi.restoreAllMocks();
  await vi.waitFor(() => expect(manager.replica('t', 0)?.role).toBe('leader'), { timeout: 10_000 });
  const appended = await manager.appendAsLeader('t', 0, testBatch('a', 3, 1000), 1, 10_000);
  expect(appended.baseOffset).toBe(0);
});
