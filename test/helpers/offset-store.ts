/**
 * An offset store on a standalone broker's storage (real LogManager, real
 * LevelDB, a real ReplicaManager leading every __consumer_offsets partition),
 * for the offset store's tests. Close what `open` returns with `close`.
 */
import { parseBrokerConfig } from '../../src/config/broker-config.js';
import { StandaloneCoordinator } from '../../src/coordination/standalone/standalone-coordinator.js';
import { OffsetStore, offsetsTopic } from '../../src/groups/offset-store.js';
import { AppendNotifier } from '../../src/replication/append-notifier.js';
import { ReplicaManager } from '../../src/replication/replica-manager.js';
import { silentLogger } from '../../src/shared/logger.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { TopicManager } from '../../src/topics/topic-manager.js';

export interface OpenOffsetStore {
  logs: LogManager;
  replicas: ReplicaManager;
  store: OffsetStore;
  /** Stops the replica manager, then closes the logs. */
  close(): Promise<void>;
}

export async function openOffsetStore(dir: string, segmentBytes: number): Promise<OpenOffsetStore> {
  const logs = await LogManager.open({ logDirs: [dir], retentionCheckIntervalMs: 0 });
  const coordinator = new StandaloneCoordinator(0, { nodeId: 0, host: '127.0.0.1', port: 0 }, logs.metadataDb);
  await coordinator.start();
  const config = parseBrokerConfig(new Map());
  const replicas = new ReplicaManager({
    brokerId: 0,
    logs,
    coordinator,
    config,
    notifier: new AppendNotifier(),
    logger: silentLogger,
  });
  const topics = new TopicManager(replicas, coordinator, config, silentLogger);
  const store = new OffsetStore(replicas, topics, 1, segmentBytes);
  replicas.onLeadershipChange((topic, partition, leader) => {
    if (topic !== offsetsTopic) return;
    if (leader) store.onBecomeLeader(partition);
    else store.onResign(partition);
  });
  replicas.onTxnMarker((marker) => store.onTxnMarker(marker));
  await replicas.start();
  await store.ensureTopic();
  return {
    logs,
    replicas,
    store,
    close: async () => {
      await replicas.close();
      await logs.close();
    },
  };
}
