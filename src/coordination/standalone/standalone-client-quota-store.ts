/**
 * Client quotas of a standalone broker, in its LevelDB: one key per entity
 * (`~quota!<entity key>`) holding the entity and its quotas. Loaded into
 * memory at start; every change is written (sync) before memory.
 */
import { entityKey, type QuotaEntity, type QuotaRecord } from '../../security/quotas.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { type IndexDb, packValue, unpackValue } from '../../storage/index-store.js';
import {
  applyQuotaChanges,
  type ClientQuotaStore,
  checkQuotaChange,
  type QuotaChanges,
} from '../client-quota-store.js';

const quotaPrefix = '~quota!';

export class StandaloneClientQuotaStore implements ClientQuotaStore {
  private readonly records = new Map<string, QuotaRecord>();
  private readonly listeners: (() => void)[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly db: IndexDb) {}

  async load(): Promise<void> {
    this.records.clear();
    for await (const [key, value] of this.db.iterator({ gte: quotaPrefix, lt: `${quotaPrefix}\uffff` })) {
      try {
        const record = unpackValue<QuotaRecord>(value);
        this.records.set(entityKey(record.entity), record);
      } catch (err) {
        throw new SluiceError(ErrorCode.StorageError, `the stored client quota ${key} is invalid`, { cause: err });
      }
    }
  }

  describe(): QuotaRecord[] {
    return [...this.records.values()];
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  alter(entity: QuotaEntity, changes: QuotaChanges): Promise<void> {
    checkQuotaChange(entity, changes);
    const step = this.queue.then(async () => {
      const key = entityKey(entity);
      const quotas = applyQuotaChanges(this.records.get(key)?.quotas, changes);
      if (Object.keys(quotas).length === 0) {
        await this.db.del(`${quotaPrefix}${key}`, { sync: true });
        this.records.delete(key);
      } else {
        const record: QuotaRecord = { entity, quotas };
        await this.db.put(`${quotaPrefix}${key}`, packValue(record), { sync: true });
        this.records.set(key, record);
      }
      for (const listener of this.listeners) listener();
    });
    this.queue = step.catch(() => undefined);
    return step;
  }
}
