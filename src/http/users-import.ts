/**
 * The one-time import of the console's former users file into the cluster's
 * user store (issue 17; the record's meaning: legacy-console-users.ts), and
 * the start-up warning while a shipped default password still works.
 *
 * At the first start with a user store, each user of `http.users.file` that
 * has no SCRAM credential yet becomes pending (its scrypt line kept until its
 * first console login), and its role becomes an ACL on the cluster resource:
 * admin → ALLOW Alter, viewer → ALLOW Describe (host *). Users that already
 * have a SCRAM credential keep it; their role still becomes the ACL. The file
 * is not read again once the record exists.
 */
import { stat } from 'node:fs/promises';
import type { LegacyConsoleUsersStore } from '../coordination/legacy-console-users.js';
import type { ScramCredentialStore } from '../coordination/scram-store.js';
import {
  type AclBinding,
  AclOperation,
  AclPermission,
  clusterResourceName,
  PatternType,
  ResourceType,
  wildcardHost,
} from '../security/acl.js';
import { userPrincipal } from '../security/principal.js';
import type { Logger } from '../shared/logger.js';
import type { ConsoleDirectory } from './console-directory.js';
import { loadUsers, parseUserLine, type Role, type UserRecord, userLine } from './users.js';

export interface UsersImportOptions {
  file: string;
  credentials: ScramCredentialStore;
  legacy: LegacyConsoleUsersStore;
  createAcls: (bindings: readonly AclBinding[]) => Promise<void>;
  logger: Logger;
  now?: () => number;
}

/** The ACL a former role becomes. */
export function roleBinding(username: string, role: Role): AclBinding {
  return {
    pattern: {
      resourceType: ResourceType.Cluster,
      name: clusterResourceName,
      patternType: PatternType.Literal,
    },
    entry: {
      principal: userPrincipal(username),
      host: wildcardHost,
      operation: role === 'admin' ? AclOperation.Alter : AclOperation.Describe,
      permission: AclPermission.Allow,
    },
  };
}

/**
 * Imports the file unless an import record exists (this broker's or another's);
 * returns the users still pending from it either way.
 */
export async function importUsersFile(options: UsersImportOptions): Promise<Map<string, UserRecord>> {
  const { legacy, logger } = options;
  const existing = await legacy.read();
  if (existing) {
    await warnIfChangedSince(options.file, existing.record.importedAt, logger);
    return pendingUsers(existing.record.pending);
  }
  const users = await loadUsers(options.file, (message) => logger.warn(message));
  const hasScram = (u: string) =>
    options.credentials.credential(u, 'SCRAM-SHA-256') !== undefined ||
    options.credentials.credential(u, 'SCRAM-SHA-512') !== undefined;
  const pending: Record<string, string> = {};
  for (const user of users.values()) if (!hasScram(user.username)) pending[user.username] = userLine(user);
  // ACLs first: a broker that stops between the two imports again, and creating an ACL twice is harmless
  if (users.size > 0) await options.createAcls([...users.values()].map((u) => roleBinding(u.username, u.role)));
  const record = {
    importedAt: (options.now ?? Date.now)(),
    file: options.file,
    pending,
  };
  if (!(await legacy.create(record))) {
    // another broker imported first: its record is the one
    const winner = await legacy.read();
    return pendingUsers(winner?.record.pending ?? {});
  }
  if (users.size > 0) {
    logger.info(
      { file: options.file, users: [...users.keys()] },
      'console users imported from the users file into the user store (SCRAM credentials on first login, roles as ACLs on the cluster); the file is not read again — manage users with `sluice user` and `sluice acl`',
    );
  }
  return pendingUsers(pending);
}

/** The file is not read after its import: an edit made since (npm run user:add) would be silently lost. */
async function warnIfChangedSince(file: string, importedAt: number, logger: Logger): Promise<void> {
  const changedAt = await stat(file).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  if (changedAt > importedAt) {
    logger.warn(
      { file, importedAt: new Date(importedAt).toISOString() },
      'the console users file changed after it was imported and is not read again: add users with `sluice user add` and grant console rights with `sluice acl add` (Describe on the cluster: viewer, Alter: admin)',
    );
  }
}

function pendingUsers(pending: Record<string, string>): Map<string, UserRecord> {
  const users = new Map<string, UserRecord>();
  for (const [name, line] of Object.entries(pending)) {
    const user = parseUserLine(name, line);
    if (user) users.set(name, user);
  }
  return users;
}

/** The users and passwords the shipped config/users.properties had. */
export const shippedPasswords: ReadonlyMap<string, string> = new Map([
  ['admin', 'admin'],
  ['viewer', 'viewer'],
]);

/** One warning line while any shipped user's shipped password still logs in, naming each such user. */
export async function warnOnShippedPasswords(directory: ConsoleDirectory, logger: Logger): Promise<void> {
  const still: string[] = [];
  for (const [username, password] of shippedPasswords) {
    if (directory.has(username) && (await directory.verify(username, password, false))) still.push(username);
  }
  if (still.length === 0) return;
  const who = still.map((u) => `${u}/${shippedPasswords.get(u)}`).join(', ');
  const how = still.map((u) => `sluice user add ${u} --mechanism SCRAM-SHA-512`).join('; ');
  logger.warn(
    { usernames: still },
    `shipped console password still in use (${who}): anyone can log in with it; change it now (${how}; the password on stdin)`,
  );
}
