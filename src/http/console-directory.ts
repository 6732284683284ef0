/**
 * Who may use the admin console and HTTP API (issue 17: one user store).
 *
 * Authentication: the same SCRAM credentials the listeners use (ZooKeeper
 * /config/users or the standalone LevelDB): the password is checked against
 * the stored SCRAM-SHA-512 credential, else the SCRAM-SHA-256 one (PBKDF2
 * with the stored salt and iterations, as SASL PLAIN does). A user still
 * pending from the former users file is checked against its scrypt hash once
 * and moved into the SCRAM store on that login (legacy-console-users.ts).
 *
 * Authorization: the same ACLs as the listeners, on the cluster resource —
 * Alter (or a super user) makes an admin, Describe a viewer. They are read
 * on every request, so a revoked ACL takes effect at once, sessions included.
 * With the authorizer off (`authorizer.enabled=false`, where every client of
 * the listeners may do everything anyway) a user without such an ACL is a
 * viewer; with it on, such a user is refused (403).
 */

import type { LegacyConsoleUsersStore } from '../coordination/legacy-console-users.js';
import type { ScramCredentialStore } from '../coordination/scram-store.js';
import {
  type AclBinding,
  AclOperation,
  type AuthorizerOptions,
  authorize,
  clusterResourceName,
  ResourceType,
} from '../security/acl.js';
import { userPrincipal } from '../security/principal.js';
import { type ScramMechanism, scramCredential, verifyPassword as verifyScram } from '../security/scram.js';
import { consoleUsersTrackedMax } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { parseUserLine, type Role, type UserRecord, verifyPassword as verifyScrypt } from './users.js';

export interface ConsoleDirectory {
  /** Whether the user has a credential to check (unknown users cost no hashing). */
  has(username: string): boolean;
  /**
   * True when `password` is the user's. A user pending from the former users file is moved into the
   * SCRAM store by its first right password, unless `move` is false (a check that changes nothing).
   */
  verify(username: string, password: string, move?: boolean): Promise<boolean>;
  /** The user's role for a request from `host`, or undefined when the user has no rights on the cluster. */
  roleOf(username: string, host: string): Role | undefined;
  /** The most users per-user login state is kept for. */
  readonly usersMax: number;
}

/** Users given as records (the former file's format, roles included): an override for tests. */
export class RecordsDirectory implements ConsoleDirectory {
  constructor(private readonly users: ReadonlyMap<string, UserRecord>) {}

  get usersMax(): number {
    return Math.max(1, this.users.size);
  }

  has(username: string): boolean {
    return this.users.has(username);
  }

  async verify(username: string, password: string): Promise<boolean> {
    const user = this.users.get(username);
    return user !== undefined && (await verifyScrypt(user, password));
  }

  roleOf(username: string): Role | undefined {
    return this.users.get(username)?.role;
  }
}

export interface StoreDirectoryOptions {
  credentials: ScramCredentialStore;
  legacy?: LegacyConsoleUsersStore;
  /** Users pending from the former file, as read at start (re-read before each is trusted). */
  pending: ReadonlyMap<string, UserRecord>;
  acls: () => readonly AclBinding[];
  authorizer: AuthorizerOptions & { enabled: boolean };
  logger: Logger;
}

/** The strongest first: a user may have either or both. */
const mechanisms: readonly ScramMechanism[] = ['SCRAM-SHA-512', 'SCRAM-SHA-256'];

export class StoreDirectory implements ConsoleDirectory {
  readonly usersMax = consoleUsersTrackedMax;
  private readonly pending: Map<string, UserRecord>;

  constructor(private readonly options: StoreDirectoryOptions) {
    this.pending = new Map(options.pending);
  }

  has(username: string): boolean {
    return this.scramOf(username) !== undefined || this.pending.has(username);
  }

  async verify(username: string, password: string, move = true): Promise<boolean> {
    const scram = this.scramOf(username);
    if (scram) return verifyScram(scram.mechanism, scram.credential, password);
    const legacy = this.pending.get(username);
    if (!legacy) return false;
    // the record may have changed since start (moved on another broker, or the user deleted since)
    const current = await this.options.legacy?.read();
    const line = current?.record.pending[username];
    const record = line === undefined ? undefined : parseUserLine(username, line);
    if (!record) {
      this.pending.delete(username);
      return this.scramOf(username) ? this.verify(username, password, move) : false;
    }
    if (!(await verifyScrypt(record, password))) return false;
    if (move) await this.moveIntoScramStore(username, password);
    return true;
  }

  roleOf(username: string, host: string): Role | undefined {
    const { authorizer } = this.options;
    // with the authorizer off no ACL is required anywhere else; here a user without one is a viewer
    const options = authorizer.enabled ? authorizer : { ...authorizer, allowEveryoneIfNoAclFound: false };
    const cluster = {
      resourceType: ResourceType.Cluster,
      name: clusterResourceName,
    } as const;
    const acls = this.options.acls();
    const principal = userPrincipal(username);
    if (authorize(acls, options, principal, host, AclOperation.Alter, cluster)) return 'admin';
    if (authorize(acls, options, principal, host, AclOperation.Describe, cluster)) return 'viewer';
    return authorizer.enabled ? undefined : 'viewer';
  }

  private scramOf(username: string) {
    for (const mechanism of mechanisms) {
      const credential = this.options.credentials.credential(username, mechanism);
      if (credential) return { mechanism, credential };
    }
    return undefined;
  }

  /**
   * The password is known now: make the user's SCRAM credential, then drop its pending line. One
   * credential, SCRAM-SHA-512 (the one the console and PLAIN check first): with two, a password
   * changed later for one mechanism would leave the old one working through the other.
   */
  private async moveIntoScramStore(username: string, password: string): Promise<void> {
    const credential = await scramCredential('SCRAM-SHA-512', password);
    await this.options.credentials.alter(username, { 'SCRAM-SHA-512': credential });
    this.pending.delete(username);
    const legacy = this.options.legacy;
    for (let attempt = 0; legacy && attempt < 5; attempt++) {
      const current = await legacy.read();
      if (!current || current.record.pending[username] === undefined) break;
      const { [username]: _moved, ...rest } = current.record.pending;
      if (await legacy.replace({ ...current.record, pending: rest }, current.version)) break;
    }
    this.options.logger.info({ username }, 'console user moved from the users file into the SCRAM store');
  }
}
