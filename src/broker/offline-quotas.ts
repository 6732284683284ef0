/**
 * `sluice quota ... --config FILE`: client quotas written straight to a
 * broker's store from its own configuration, as Kafka's kafka-configs
 * --zookeeper --alter --entity-type users/clients does: ZooKeeper's
 * /config/users and /config/clients with zookeeper.connect (the running
 * brokers pick the change up through their watches), the stopped standalone
 * broker's LevelDB otherwise (read at its next start). The opening is
 * offline-store.ts's, shared with `sluice user ... --config`.
 */
import type { BrokerConfig } from '../config/broker-config.js';
import type { QuotaChanges } from '../coordination/client-quota-store.js';
import { StandaloneClientQuotaStore } from '../coordination/standalone/standalone-client-quota-store.js';
import { readAllClientQuotas, writeClientQuotaChanges } from '../coordination/zookeeper/zk-client-quota-store.js';
import { entityKey, type QuotaEntity, type QuotaRecord } from '../security/quotas.js';
import { withOfflineStore } from './offline-store.js';

export type { QuotaChanges };

export interface OfflineQuotaStore {
  /** Where the quotas are kept (for the command's output). */
  readonly where: string;
  alter(entity: QuotaEntity, changes: QuotaChanges): Promise<void>;
  /** Every entity with at least one quota, in a stable order. */
  describe(): Promise<QuotaRecord[]>;
}

const sorted = (records: QuotaRecord[]): QuotaRecord[] =>
  [...records].sort((a, b) => entityKey(a.entity).localeCompare(entityKey(b.entity)));

export async function withOfflineQuotaStore<T>(
  config: BrokerConfig,
  fn: (store: OfflineQuotaStore) => Promise<T>,
): Promise<T> {
  return withOfflineStore(config, 'change the quotas through it (sluice quota without --config)', async (opened) => {
    if (opened.kind === 'zookeeper') {
      const { zk } = opened;
      return fn({
        where: opened.where,
        alter: (entity, changes) => writeClientQuotaChanges(zk, entity, changes),
        describe: async () => sorted(await readAllClientQuotas(zk)),
      });
    }
    const store = new StandaloneClientQuotaStore(opened.db);
    await store.load();
    return fn({
      where: opened.where,
      alter: (entity, changes) => store.alter(entity, changes),
      describe: async () => sorted(store.describe()),
    });
  });
}
