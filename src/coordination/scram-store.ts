/**
 * The SCRAM credential store (issue 17): per user, one salted credential per
 * SCRAM mechanism (never a password), kept where Kafka keeps them: ZooKeeper
 * `/config/users/<sanitized name>` in a cluster (zookeeper/zk-scram-store.ts),
 * the broker's LevelDB standalone (standalone/standalone-scram-store.ts).
 * Both serve reads from an in-memory copy kept current (ZooKeeper watches),
 * so authenticating a connection never waits on ZooKeeper.
 */
import { formatCredential, parseCredential, type ScramCredential, type ScramMechanism } from '../security/scram.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { scramUserNameBytesMax } from '../shared/limits.js';

/** One credential as described: its mechanism and iterations (no secrets). */
export interface ScramCredentialInfo {
  mechanism: ScramMechanism;
  iterations: number;
}

export interface UserScramCredentials {
  user: string;
  credentials: ScramCredentialInfo[];
}

/** A credential to set (upsert) for the mechanism, or null to delete it. */
export type ScramChanges = Partial<Record<ScramMechanism, ScramCredential | null>>;

export interface ScramCredentialStore {
  /**
   * Resolves once the in-memory copy holds every stored user (the first load
   * at start-up; never rejects). Until then `credential` may miss a user who
   * exists, so authentication waits for it (connection.ts).
   */
  loaded(): Promise<void>;
  /** The stored credential, from memory. */
  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined;
  /** Every user with at least one credential, by name. */
  describe(): UserScramCredentials[];
  /**
   * Sets and deletes one user's credentials at once; resolves once this
   * broker's reads show the change (every other broker's soon after).
   * Throws ResourceNotFound when a credential to delete does not exist
   * (nothing is changed then), UnacceptableCredential for a bad name.
   */
  alter(user: string, changes: ScramChanges): Promise<void>;
}

/** Throws UnacceptableCredential unless `user` can be stored (Kafka refuses an empty name). */
export function checkScramUser(user: string): void {
  if (user.length === 0) throw new SluiceError(ErrorCode.UnacceptableCredential, 'the user name is empty');
  if (Buffer.byteLength(user) > scramUserNameBytesMax) {
    throw new SluiceError(ErrorCode.UnacceptableCredential, `the user name is over ${scramUserNameBytesMax} bytes`);
  }
}

/** A user's credentials by mechanism, in memory. */
export type UserCredentials = Map<ScramMechanism, ScramCredential>;

/**
 * The new credentials of a user after `changes`, checking that every deletion
 * names an existing credential (Kafka: RESOURCE_NOT_FOUND).
 */
export function applyScramChanges(user: string, current: UserCredentials, changes: ScramChanges): UserCredentials {
  checkScramUser(user);
  const next = new Map(current);
  for (const [mechanism, credential] of Object.entries(changes) as [ScramMechanism, ScramCredential | null][]) {
    if (credential === null) {
      if (!next.delete(mechanism)) {
        throw new SluiceError(
          ErrorCode.ResourceNotFound,
          `attempt to delete a user credential that does not exist: ${user} ${mechanism}`,
        );
      }
    } else next.set(mechanism, credential);
  }
  return next;
}

export function describeUsers(users: ReadonlyMap<string, UserCredentials>): UserScramCredentials[] {
  return [...users.entries()]
    .filter(([, c]) => c.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([user, c]) => ({
      user,
      credentials: [...c.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([mechanism, cred]) => ({ mechanism, iterations: cred.iterations })),
    }));
}

/** Kafka's config entries of a user ("SCRAM-SHA-256" → "salt=...,stored_key=...,server_key=...,iterations=N"). */
export function credentialsToConfig(credentials: UserCredentials): Record<string, string> {
  const config: Record<string, string> = {};
  for (const [mechanism, credential] of credentials) config[mechanism] = formatCredential(credential);
  return config;
}

/** The SCRAM entries of a user's config (other entries, such as quotas, are not credentials). */
export function credentialsFromConfig(config: Record<string, unknown>): UserCredentials {
  const credentials: UserCredentials = new Map();
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    const text = config[mechanism];
    if (typeof text === 'string') credentials.set(mechanism, parseCredential(text));
  }
  return credentials;
}
