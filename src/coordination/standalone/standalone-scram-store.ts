/**
 * SCRAM credentials of a standalone broker, in its LevelDB: one key per user
 * (`~scram!<user>`, '~' keeps it apart from partition keys) holding Kafka's
 * config entries of the user (the same text as ZooKeeper's /config/users/<u>).
 * Loaded into memory at start; every change is written (sync) before memory.
 */

import type { ScramCredential, ScramMechanism } from '../../security/scram.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { type IndexDb, packValue, unpackValue } from '../../storage/index-store.js';
import {
  applyScramChanges,
  credentialsFromConfig,
  credentialsToConfig,
  describeUsers,
  type ScramChanges,
  type ScramCredentialStore,
  type UserCredentials,
  type UserScramCredentials,
} from '../scram-store.js';

const scramPrefix = '~scram!';

export class StandaloneScramStore implements ScramCredentialStore {
  private readonly users = new Map<string, UserCredentials>();
  /** Alterations run one at a time (read, change, write). */
  private queue: Promise<void> = Promise.resolve();
  private markLoaded: () => void = () => {};
  private readonly whenLoaded = new Promise<void>((resolve) => {
    this.markLoaded = resolve;
  });

  constructor(private readonly db: IndexDb) {}

  async load(): Promise<void> {
    this.users.clear();
    for await (const [key, value] of this.db.iterator({ gte: scramPrefix, lt: `${scramPrefix}\uffff` })) {
      const user = key.slice(scramPrefix.length);
      try {
        this.users.set(user, credentialsFromConfig(unpackValue<Record<string, unknown>>(value)));
      } catch (err) {
        throw new SluiceError(ErrorCode.StorageError, `the stored SCRAM credentials of ${user} are invalid`, {
          cause: err,
        });
      }
    }
    this.markLoaded();
  }

  loaded(): Promise<void> {
    return this.whenLoaded;
  }

  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.users.get(user)?.get(mechanism);
  }

  describe(): UserScramCredentials[] {
    return describeUsers(this.users);
  }

  alter(user: string, changes: ScramChanges): Promise<void> {
    const step = this.queue.then(async () => {
      const next = applyScramChanges(user, this.users.get(user) ?? new Map(), changes);
      if (next.size === 0) await this.db.del(`${scramPrefix}${user}`, { sync: true });
      else await this.db.put(`${scramPrefix}${user}`, packValue(credentialsToConfig(next)), { sync: true });
      if (next.size === 0) this.users.delete(user);
      else this.users.set(user, next);
    });
    this.queue = step.catch(() => {});
    return step;
  }
}
