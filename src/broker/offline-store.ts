/**
 * A broker's own coordination store opened from its configuration, outside
 * the broker, for the CLI's offline commands (`sluice user ... --config`,
 * `sluice quota ... --config`), like Kafka's kafka-configs --zookeeper: with
 * zookeeper.connect, a ZooKeeper session (the running brokers pick changes up
 * through their watches); standalone, the broker's LevelDB, which only one
 * process may open, so the broker must be stopped (a clear error says so
 * otherwise, with `hint` saying what else to do).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrokerConfig } from '../config/broker-config.js';
import { ZkClient } from '../coordination/zookeeper/zk-client.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { zookeeperConnectTimeoutMsDefault } from '../shared/limits.js';
import { type IndexDb, openIndexDb } from '../storage/index-store.js';

export type OfflineStore =
  | { kind: 'zookeeper'; zk: ZkClient; where: string }
  | { kind: 'standalone'; db: IndexDb; where: string };

export async function withOfflineStore<T>(
  config: BrokerConfig,
  hint: string,
  fn: (store: OfflineStore) => Promise<T>,
): Promise<T> {
  const connect = config.string('zookeeper.connect');
  if (connect !== '') {
    const zk = await ZkClient.connect({
      connect,
      sessionTimeoutMs: config.int('zookeeper.session.timeout.ms'),
      connectTimeoutMs: zookeeperConnectTimeoutMsDefault,
    });
    try {
      return await fn({ kind: 'zookeeper', zk, where: `ZooKeeper ${connect}` });
    } finally {
      await zk.close();
    }
  }
  const [first] = config.list('log.dirs');
  if (first === undefined) throw new SluiceError(ErrorCode.InvalidConfig, 'log.dirs names no directory');
  const dir = path.resolve(first);
  fs.mkdirSync(dir, { recursive: true });
  let db: IndexDb;
  try {
    db = await openIndexDb(dir);
  } catch (err) {
    throw new SluiceError(ErrorCode.StorageError, `${(err as Error).message}: stop the broker, or ${hint}`, {
      cause: err,
    });
  }
  try {
    return await fn({ kind: 'standalone', db, where: `the standalone broker's data directory ${dir}` });
  } finally {
    await db.close();
  }
}
