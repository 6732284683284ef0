/**
 * Client quota configs (issue 17), kept where Kafka keeps them: ZooKeeper
 * `/config/users/<u>`, `/config/clients/<c>` and `/config/users/<u>/clients/<c>`
 * (`<default>` for the default entities) in a cluster
 * (zookeeper/zk-client-quota-store.ts), the broker's LevelDB standalone
 * (standalone/standalone-client-quota-store.ts). Reads are from memory.
 */
import { isQuotaKey, type QuotaEntity, type QuotaKey, type QuotaRecord } from '../security/quotas.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';

/** A quota to set, or null to remove it. */
export type QuotaChanges = Partial<Record<QuotaKey, number | null>>;

export interface ClientQuotaStore {
  /** Every entity with at least one quota. */
  describe(): QuotaRecord[];
  /** Sets and removes one entity's quotas; resolves once this broker's describe() shows it. */
  alter(entity: QuotaEntity, changes: QuotaChanges): Promise<void>;
  /** Called after every change this broker sees (its own and other brokers'). */
  onChange(listener: () => void): void;
}

/** Throws InvalidRequest unless `entity` names a user or a client id (Kafka's rule) and each value is valid. */
export function checkQuotaChange(entity: QuotaEntity, changes: QuotaChanges): void {
  if (entity.user === undefined && entity.clientId === undefined) {
    throw new SluiceError(ErrorCode.InvalidRequest, 'a quota entity names a user, a client id or both');
  }
  if (entity.user === '' || entity.clientId === '') {
    throw new SluiceError(ErrorCode.InvalidRequest, 'an empty user or client id is not an entity (use the default)');
  }
  for (const [key, value] of Object.entries(changes)) {
    if (!isQuotaKey(key)) throw new SluiceError(ErrorCode.InvalidRequest, `unknown quota key ${key}`);
    if (value === null || value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0) {
      throw new SluiceError(ErrorCode.InvalidRequest, `${key} must be a positive number, not ${value}`);
    }
  }
}

/** The quotas after `changes`. */
export function applyQuotaChanges(
  current: QuotaRecord['quotas'] | undefined,
  changes: QuotaChanges,
): QuotaRecord['quotas'] {
  const next: QuotaRecord['quotas'] = { ...current };
  for (const [key, value] of Object.entries(changes) as [QuotaKey, number | null][]) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Kafka's config text of the quotas ("1024"), and back (non-quota keys, e.g. SCRAM credentials, are skipped). */
export function quotasToConfig(quotas: QuotaRecord['quotas']): Record<string, string> {
  return Object.fromEntries(Object.entries(quotas).map(([k, v]) => [k, String(v)]));
}

export function quotasFromConfig(config: Record<string, unknown>): QuotaRecord['quotas'] {
  const out: QuotaRecord['quotas'] = {};
  for (const [key, value] of Object.entries(config)) {
    if (!isQuotaKey(key)) continue;
    const n = Number(value);
    if (Number.isFinite(n) && n > 0) out[key] = n;
  }
  return out;
}
