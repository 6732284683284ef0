/**
 * Client quotas in ZooKeeper, Kafka's way (ZooKeeper-era kafka-configs
 * --alter --entity-type users/clients --add-config producer_byte_rate=...):
 *
 *   /config/users/<u>                   {"version":1,"config":{"producer_byte_rate":"1024",...}}
 *   /config/clients/<c>                 the same
 *   /config/users/<u>/clients/<c>       the same
 *   /config/changes/config_change_<seq> {"version":2,"entity_path":"users/<u>/clients/<c>"}
 *
 * Names are sanitized as Kafka's Sanitizer does; `<default>` is the default
 * entity. /config/users/<u> is shared with the SCRAM credentials
 * (zk-scram-store.ts): each store rewrites only its own keys. Every broker
 * keeps all quotas in memory and reloads them when a config change
 * notification appears (a children watch on /config/changes, as Kafka's
 * brokers listen for changes).
 */
import { entityKey, type QuotaEntity, type QuotaRecord } from '../../security/quotas.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import {
  applyQuotaChanges,
  type ClientQuotaStore,
  checkQuotaChange,
  type QuotaChanges,
  quotasFromConfig,
  quotasToConfig,
} from '../client-quota-store.js';
import { updateConfigEntity } from './config-entity.js';
import { WatchedRefreshes } from './watched-refreshes.js';
import { type ZkClient, ZkEvent } from './zk-client.js';
import { configChangesPath, parseZnode } from './zk-paths.js';
import { configUsersPath, desanitizeUser, sanitizeUser } from './zk-scram-store.js';

export const configClientsPath = '/config/clients';
const defaultEntity = '<default>';

const zkName = (name: string | null): string => (name === null ? defaultEntity : sanitizeUser(name));
const fromZkName = (name: string): string | null => (name === defaultEntity ? null : desanitizeUser(name));

/** The znode path of an entity relative to /config (Kafka's entity_path). */
export function entityPath(entity: QuotaEntity): string {
  if (entity.user !== undefined && entity.clientId !== undefined) {
    return `users/${zkName(entity.user)}/clients/${zkName(entity.clientId)}`;
  }
  if (entity.user !== undefined) return `users/${zkName(entity.user)}`;
  return `clients/${zkName(entity.clientId ?? null)}`;
}

function parseConfig(path: string, data: string): Record<string, unknown> {
  // an entity znode created as a parent of another may hold no data: no config (Kafka's reading)
  if (data === '') return {};
  return parseZnode<{ version: 1; config: Record<string, unknown> }>(
    path,
    data,
    (v) => typeof v.config === 'object' && v.config !== null,
  ).config;
}

/** Every stored quota (also used offline). */
export async function readAllClientQuotas(zk: ZkClient): Promise<QuotaRecord[]> {
  const out: QuotaRecord[] = [];
  const add = async (path: string, entity: QuotaEntity): Promise<void> => {
    const node = await zk.get(path);
    if (!node) return;
    const quotas = quotasFromConfig(parseConfig(path, node.data));
    if (Object.keys(quotas).length > 0) out.push({ entity, quotas });
  };
  for (const u of await zk.children(configUsersPath).catch(() => [])) {
    const user = fromZkName(u);
    await add(`${configUsersPath}/${u}`, { user });
    for (const c of await zk.children(`${configUsersPath}/${u}/clients`).catch(() => [])) {
      await add(`${configUsersPath}/${u}/clients/${c}`, { user, clientId: fromZkName(c) });
    }
  }
  for (const c of await zk.children(configClientsPath).catch(() => [])) {
    await add(`${configClientsPath}/${c}`, { clientId: fromZkName(c) });
  }
  return out;
}

/** Writes one entity's quota changes (conditional, retried) and the change notification; keeps other keys. */
export async function writeClientQuotaChanges(zk: ZkClient, entity: QuotaEntity, changes: QuotaChanges): Promise<void> {
  checkQuotaChange(entity, changes);
  const relative = entityPath(entity);
  const path = `/config/${relative}`;
  await zk.ensurePath(path.slice(0, path.lastIndexOf('/')));
  if (entity.user !== undefined && entity.clientId !== undefined) {
    // the user's own znode, as Kafka's entity znodes hold: an empty config
    const userPath = path.slice(0, path.indexOf('/clients/'));
    const parent = await zk.get(userPath);
    // conditional: a SCRAM credential written meanwhile wins
    if (parent && parent.data === '') {
      await zk.set(userPath, JSON.stringify({ version: 1, config: {} }), parent.version).catch(() => undefined);
    }
  }
  await updateConfigEntity(
    zk,
    { path, entityPath: relative, what: `the quotas of ${relative}` },
    parseConfig,
    (config) => {
      const quotas = applyQuotaChanges(quotasFromConfig(config), changes);
      for (const key of Object.keys(changes)) delete config[key];
      Object.assign(config, quotasToConfig(quotas));
    },
  );
}

export class ZkClientQuotaStore implements ClientQuotaStore {
  private records: QuotaRecord[] = [];
  private readonly listeners: (() => void)[] = [];
  private readonly refreshes: WatchedRefreshes;
  private zk: ZkClient | undefined;

  constructor(onError: (err: unknown) => void) {
    this.refreshes = new WatchedRefreshes(onError);
  }

  async attach(zk: ZkClient): Promise<void> {
    this.zk = zk;
    await zk.ensurePath(configChangesPath);
    await this.enqueue(() => this.reload(zk));
  }

  detach(): void {
    this.zk = undefined;
  }

  describe(): QuotaRecord[] {
    return this.records;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async alter(entity: QuotaEntity, changes: QuotaChanges): Promise<void> {
    const zk = this.zk;
    if (!zk) throw new SluiceError(ErrorCode.BrokerNotReady, 'the ZooKeeper coordinator is not running');
    await writeClientQuotaChanges(zk, entity, changes);
    await this.enqueue(() => this.reload(zk, false));
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    return this.refreshes.enqueue(step);
  }

  /** Reads every quota; `watch`: (re-)arms the one children watch on /config/changes first. */
  private async reload(zk: ZkClient, watch = true): Promise<void> {
    if (watch) {
      await zk.watchChildren(configChangesPath, (type) => {
        if (type !== ZkEvent.Session && this.zk === zk) void this.enqueue(() => this.reload(zk));
      });
    }
    const records = await readAllClientQuotas(zk);
    this.records = records.sort((a, b) => entityKey(a.entity).localeCompare(entityKey(b.entity)));
    for (const listener of this.listeners) listener();
  }
}
