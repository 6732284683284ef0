/**
 * The admin console's former users file (`http.users.file`, lines
 * `name=role:salt:hash` with scrypt hashes), imported once into the cluster
 * so that the console authenticates against the same SCRAM credentials as
 * the listeners (issue 17: one user store).
 *
 * The file holds hashes, not passwords, and a SCRAM credential can only be
 * made from the password: so the import keeps each user's line here as
 * "pending", and the user's first successful console login (which has the
 * password) makes their SCRAM credentials and removes the line. The record
 * also marks the import as done: the file is never read again, so a user
 * deleted later with `sluice user delete` does not come back from it.
 *
 * Kept in ZooKeeper at /sluice/console-users in a cluster (the first broker
 * to start imports; the others find the record), in LevelDB standalone.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';

export interface LegacyConsoleUsersRecord {
  /** When the file was imported (ms since the epoch), and its path then. */
  importedAt: number;
  file: string;
  /** Users not yet moved into the SCRAM store: name → the file's `role:salt:hash`. */
  pending: Record<string, string>;
}

export interface VersionedLegacyRecord {
  record: LegacyConsoleUsersRecord;
  /** For a conditional replace. */
  version: number;
}

export interface LegacyConsoleUsersStore {
  /** The record, or undefined before the import. */
  read(): Promise<VersionedLegacyRecord | undefined>;
  /** Creates the record; false when one exists already (another broker imported first). */
  create(record: LegacyConsoleUsersRecord): Promise<boolean>;
  /** Replaces the record if it is still at `version`; false when it changed meanwhile. */
  replace(record: LegacyConsoleUsersRecord, version: number): Promise<boolean>;
}

/** Checks a stored record's shape (it is read from ZooKeeper or disk). */
export function parseLegacyRecord(where: string, value: unknown): LegacyConsoleUsersRecord {
  const r = value as Partial<LegacyConsoleUsersRecord> | null;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    typeof r.importedAt === 'number' &&
    typeof r.file === 'string' &&
    typeof r.pending === 'object' &&
    r.pending !== null &&
    Object.values(r.pending).every((line) => typeof line === 'string');
  if (!ok) throw new SluiceError(ErrorCode.StorageError, `${where} does not hold a console users import record`);
  return r as LegacyConsoleUsersRecord;
}

/**
 * Ends a user's pending line (its credentials were just set or deleted through the SCRAM store, which
 * is what counts from then on); true when there was one. A few attempts against concurrent changes.
 */
export async function dropPendingUser(store: LegacyConsoleUsersStore | undefined, user: string): Promise<boolean> {
  for (let attempt = 0; store && attempt < 5; attempt++) {
    const current = await store.read();
    if (!current || !Object.hasOwn(current.record.pending, user)) return false;
    const pending = { ...current.record.pending };
    delete pending[user];
    if (await store.replace({ ...current.record, pending }, current.version)) return true;
  }
  return false;
}
