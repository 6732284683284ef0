/**
 * `sluice user ... --config FILE`: SCRAM credentials written straight to a
 * broker's store from its own configuration, to bootstrap the first user
 * before any client can authenticate (like Kafka's kafka-configs --zookeeper
 * and kafka-storage format --add-scram). With zookeeper.connect: ZooKeeper's
 * /config/users, the running brokers pick the change up through their
 * watches. Standalone: the broker's LevelDB, which only one process may open,
 * so the broker must be stopped (a clear error says so otherwise).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrokerConfig } from '../config/broker-config.js';
import type { ScramChanges, UserScramCredentials } from '../coordination/scram-store.js';
import { describeUsers } from '../coordination/scram-store.js';
import { StandaloneScramStore } from '../coordination/standalone/standalone-scram-store.js';
import { ZkClient } from '../coordination/zookeeper/zk-client.js';
import { readAllScramCredentials, writeScramChanges } from '../coordination/zookeeper/zk-scram-store.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { zookeeperConnectTimeoutMsDefault } from '../shared/limits.js';
import { openIndexDb } from '../storage/index-store.js';

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
  const connect = config.string('zookeeper.connect');
  if (connect !== '') {
    const zk = await ZkClient.connect({
      connect,
      sessionTimeoutMs: config.int('zookeeper.session.timeout.ms'),
      connectTimeoutMs: zookeeperConnectTimeoutMsDefault,
    });
    try {
      return await fn({
        where: `ZooKeeper ${connect}`,
        alter: async (user, changes) => {
          await writeScramChanges(zk, user, changes);
        },
        describe: async () => describeUsers(await readAllScramCredentials(zk)),
      });
    } finally {
      await zk.close();
    }
  }
  const [first] = config.list('log.dirs');
  if (first === undefined) throw new SluiceError(ErrorCode.InvalidConfig, 'log.dirs names no directory');
  const dir = path.resolve(first);
  fs.mkdirSync(dir, { recursive: true });
  let db: Awaited<ReturnType<typeof openIndexDb>>;
  try {
    db = await openIndexDb(dir);
  } catch (err) {
    throw new SluiceError(
      ErrorCode.StorageError,
      `${(err as Error).message}: stop the broker, or add the user through it (sluice user add without --config)`,
      { cause: err },
    );
  }
  try {
    const store = new StandaloneScramStore(db);
    await store.load();
    return await fn({
      where: `the standalone broker's data directory ${dir}`,
      alter: (user, changes) => store.alter(user, changes),
      describe: async () => store.describe(),
    });
  } finally {
    await db.close();
  }
}
