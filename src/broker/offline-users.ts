/**
 * `sluice user ... --config FILE`: SCRAM credentials written straight to a
 * broker's store from its own configuration, to bootstrap the first user
 * before any client can authenticate (like Kafka's kafka-configs --zookeeper
 * and kafka-storage format --add-scram). With zookeeper.connect: ZooKeeper's
 * /config/users, the running brokers pick the change up through their
 * watches. Standalone: the broker's LevelDB, which only one process may open,
 * so the broker must be stopped (a clear error says so otherwise). The
 * opening is offline-store.ts's, shared with `sluice quota ... --config`.
 */
import type { BrokerConfig } from '../config/broker-config.js';
import type { ScramChanges, UserScramCredentials } from '../coordination/scram-store.js';
import { describeUsers } from '../coordination/scram-store.js';
import { StandaloneScramStore } from '../coordination/standalone/standalone-scram-store.js';
import { readAllScramCredentials, writeScramChanges } from '../coordination/zookeeper/zk-scram-store.js';
import { withOfflineStore } from './offline-store.js';

export interface OfflineScramStore {
  /** Where the credentials are kept (for the command's output). */
  readonly where: string;
  alter(user: string, changes: ScramChanges): Promise<void>;
  describe(): Promise<UserScramCredentials[]>;
}

export async function withOfflineScramStore<T>(
  config: BrokerConfig,
  fn: (store: OfflineScramStore) => Promise<T>,
): Promise<T> {
  return withOfflineStore(config, 'add the user through it (sluice user add without --config)', async (opened) => {
    if (opened.kind === 'zookeeper') {
      const { zk } = opened;
      return fn({
        where: opened.where,
        alter: async (user, changes) => {
          await writeScramChanges(zk, user, changes);
        },
        describe: async () => describeUsers(await readAllScramCredentials(zk)),
      });
    }
    const store = new StandaloneScramStore(opened.db);
    await store.load();
    return fn({
      where: opened.where,
      alter: (user, changes) => store.alter(user, changes),
      describe: async () => store.describe(),
    });
  });
}
