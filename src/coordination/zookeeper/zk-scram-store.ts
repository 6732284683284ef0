/**
 * SCRAM credentials in ZooKeeper, Kafka's way (ZooKeeper-era kafka-configs
 * --alter --entity-type users --add-config 'SCRAM-SHA-256=[...]'):
 *
 *   /config/users/<sanitized user>         {"version":1,"config":{"SCRAM-SHA-256":"salt=...,stored_key=...,server_key=...,iterations=4096"}}
 *   /config/changes/config_change_<seq>    {"version":2,"entity_path":"users/<sanitized user>"}
 *
 * The user name is sanitized as Kafka's Sanitizer does (URL encoding, '*'
 * as %2A, ' ' as %20). Other entries of a user's config (quotas) are kept.
 * Every broker keeps all users' credentials in memory, with a children watch
 * on /config/users and a node watch per user, so authentication never asks
 * ZooKeeper; an alteration also refreshes this broker's copy before it returns.
 * `loaded()` resolves after the first whole load; a new session (after a lost
 * one) re-reads every user in place, so no user is missing meanwhile.
 */
import type { ScramCredential, ScramMechanism } from '../../security/scram.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import {
  applyScramChanges,
  checkScramUser,
  credentialsFromConfig,
  credentialsToConfig,
  describeUsers,
  type ScramChanges,
  type ScramCredentialStore,
  type UserCredentials,
  type UserScramCredentials,
} from '../scram-store.js';
import { updateConfigEntity } from './config-entity.js';
import { WatchedRefreshes } from './watched-refreshes.js';
import type { ZkClient } from './zk-client.js';
import { parseZnode } from './zk-paths.js';

export const configUsersPath = '/config/users';

/** Kafka's Sanitizer.sanitize: Java's URLEncoder (UTF-8) with '*' → %2A and '+' (a space) → %20. */
export function sanitizeUser(user: string): string {
  return encodeURIComponent(user).replace(
    /[!'()~*]/g,
    (c) => `%${(c.codePointAt(0) as number).toString(16).toUpperCase()}`,
  );
}

/** The user a znode name stands for (a name that is not valid URL encoding stands for itself). */
export function desanitizeUser(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

const userPath = (user: string): string => `${configUsersPath}/${sanitizeUser(user)}`;

interface UserConfigZnode {
  version: 1;
  config: Record<string, string>;
}

function parseUserConfig(path: string, data: string): UserConfigZnode {
  // a parent created on the way to /config/users/<u>/clients/<c> may hold no data (Kafka reads it as no config)
  if (data === '') return { version: 1, config: {} };
  return parseZnode(path, data, (v) => typeof v.config === 'object' && v.config !== null);
}

/**
 * Writes one user's credential changes straight to ZooKeeper (conditional,
 * retried when another writer got there first) and the change notification.
 * Used by the store and by `sluice user --config` (offline bootstrap).
 */
export async function writeScramChanges(zk: ZkClient, user: string, changes: ScramChanges): Promise<UserCredentials> {
  checkScramUser(user);
  if (sanitizeUser(user) === '.' || sanitizeUser(user) === '..') {
    throw new SluiceError(ErrorCode.UnacceptableCredential, `'${user}' cannot be a user name`);
  }
  await zk.ensurePath(configUsersPath);
  return updateConfigEntity(
    zk,
    { path: userPath(user), entityPath: `users/${sanitizeUser(user)}`, what: `the credentials of ${user}` },
    (path, data) => parseUserConfig(path, data).config,
    (config) => {
      const next = applyScramChanges(user, credentialsFromConfig(config), changes);
      for (const key of Object.keys(changes)) delete config[key];
      Object.assign(config, credentialsToConfig(next));
      return next;
    },
  );
}

/** Every user's credentials as stored (offline listing). */
export async function readAllScramCredentials(zk: ZkClient): Promise<Map<string, UserCredentials>> {
  const users = new Map<string, UserCredentials>();
  for (const name of await zk.children(configUsersPath)) {
    const path = `${configUsersPath}/${name}`;
    const node = await zk.get(path);
    if (node) users.set(desanitizeUser(name), credentialsFromConfig(parseUserConfig(path, node.data).config));
  }
  return users;
}

export class ZkScramStore implements ScramCredentialStore {
  private readonly users = new Map<string, UserCredentials>();
  private readonly refreshes: WatchedRefreshes;
  private zk: ZkClient | undefined;
  private markLoaded: () => void = () => {};
  private readonly whenLoaded = new Promise<void>((resolve) => {
    this.markLoaded = resolve;
  });

  constructor(onError: (err: unknown) => void) {
    this.refreshes = new WatchedRefreshes(onError);
  }

  loaded(): Promise<void> {
    return this.whenLoaded;
  }

  /** Loads every user from `zk` (a new session after a lost one too) and watches for changes. */
  async attach(zk: ZkClient): Promise<void> {
    this.zk = zk;
    this.refreshes.disarmAll();
    await zk.ensurePath(configUsersPath);
    await this.refreshes.enqueue(async () => {
      await this.refreshUsers(zk, true);
    });
  }

  detach(): void {
    this.zk = undefined;
  }

  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.users.get(user)?.get(mechanism);
  }

  describe(): UserScramCredentials[] {
    return describeUsers(this.users);
  }

  async alter(user: string, changes: ScramChanges): Promise<void> {
    const zk = this.zk;
    if (!zk) throw new SluiceError(ErrorCode.BrokerNotReady, 'the ZooKeeper coordinator is not running');
    await writeScramChanges(zk, user, changes);
    await this.refreshes.enqueue(() => this.refreshUser(zk, sanitizeUser(user)));
  }

  /** Arms a watch of this session's (its refresh is dropped once another session is attached). */
  private arm(
    zk: ZkClient,
    key: string,
    register: (cb: (type: number) => void) => Promise<unknown>,
    onFire: () => Promise<void>,
  ): Promise<void> {
    return this.refreshes.arm(key, register, onFire, () => this.zk === zk);
  }

  /** Re-reads the user list and each new user (`all`: every user, for a new session). */
  private async refreshUsers(zk: ZkClient, all = false): Promise<void> {
    await this.arm(
      zk,
      'children',
      (cb) => zk.watchChildren(configUsersPath, (type) => cb(type)),
      () => this.refreshUsers(zk),
    );
    const names = await zk.children(configUsersPath);
    const present = new Set(names.map(desanitizeUser));
    for (const user of [...this.users.keys()]) if (!present.has(user)) this.users.delete(user);
    for (const name of names) if (all || !this.users.has(desanitizeUser(name))) await this.refreshUser(zk, name);
    // every user is in memory now (a failed first load is completed by the next watch's refresh)
    this.markLoaded();
  }

  private async refreshUser(zk: ZkClient, name: string): Promise<void> {
    const path = `${configUsersPath}/${name}`;
    await this.arm(
      zk,
      `node:${name}`,
      (cb) => zk.watchNode(path, cb),
      () => this.refreshUser(zk, name),
    );
    const node = await zk.get(path);
    const user = desanitizeUser(name);
    if (!node) {
      this.users.delete(user);
      return;
    }
    this.users.set(user, credentialsFromConfig(parseUserConfig(path, node.data).config));
  }
}
