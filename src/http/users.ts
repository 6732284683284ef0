/**
 * The console's former users file, `config/users.properties`: lines
 * `username=role:salt:hash`, the hash scrypt (N=16384, r=8, p=1, 64 bytes) of
 * the password with a 16-byte random salt, both hex. Roles: admin (may change
 * things), viewer (reads). Imported once into the SCRAM store and ACLs
 * (users-import.ts); the console then authenticates against the store
 * (console-directory.ts).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export type Role = 'admin' | 'viewer';
export interface UserRecord {
  username: string;
  role: Role;
  salt: string;
  hash: string;
}

const scryptParams = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const keyLength = 64;
const userNamePattern = /^[A-Za-z0-9_.@-]{1,64}$/;

function derive(password: string, salt: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, Buffer.from(salt, 'hex'), keyLength, scryptParams, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export function isRole(value: string): value is Role {
  return value === 'admin' || value === 'viewer';
}

export function isUserName(value: string): boolean {
  return userNamePattern.test(value);
}

/** `role:salt:hash` for a new password (random salt). */
export async function hashPassword(password: string, role: Role): Promise<string> {
  const salt = randomBytes(16).toString('hex');
  const key = await derive(password, salt);
  return `${role}:${salt}:${key.toString('hex')}`;
}

export async function verifyPassword(user: UserRecord, password: string): Promise<boolean> {
  const expected = Buffer.from(user.hash, 'hex');
  if (expected.length !== keyLength) return false;
  const key = await derive(password, user.salt);
  return timingSafeEqual(key, expected);
}

/** Parses the users file; malformed lines are reported through `warn` and skipped. */
export function parseUsers(text: string, warn: (message: string) => void = () => {}): Map<string, UserRecord> {
  const users = new Map<string, UserRecord>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.indexOf('=');
    const username = eq < 0 ? '' : line.slice(0, eq).trim();
    const user = parseUserLine(username, eq < 0 ? '' : line.slice(eq + 1).trim());
    if (!user) {
      warn(`users file line ${i + 1} is not username=role:salt:hash; skipped`);
      continue;
    }
    users.set(username, user);
  }
  return users;
}

/** One user from its `role:salt:hash`, or undefined when the name or the value is malformed. */
export function parseUserLine(username: string, value: string): UserRecord | undefined {
  const [role = '', salt = '', hash = ''] = value.split(':');
  if (!isUserName(username) || !isRole(role) || !/^[0-9a-f]{32}$/.test(salt) || !/^[0-9a-f]{128}$/.test(hash)) {
    return undefined;
  }
  return { username, role, salt, hash };
}

/** The file's `role:salt:hash` of a user. */
export function userLine(user: UserRecord): string {
  return `${user.role}:${user.salt}:${user.hash}`;
}

export async function loadUsers(file: string, warn?: (message: string) => void): Promise<Map<string, UserRecord>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    warn?.(`cannot read users file ${file}: ${(err as Error).message}; nobody can log in`);
    return new Map();
  }
  return parseUsers(text, warn);
}
