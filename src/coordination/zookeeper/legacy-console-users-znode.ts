/**
 * The console users import record (../legacy-console-users.ts) in ZooKeeper:
 *
 *   /sluice/console-users   {"importedAt":<ms>,"file":"...","pending":{"<user>":"role:salt:hash"}}
 *
 * Not a Kafka path (Kafka has no console): under /sluice, beside nothing
 * Kafka's tools read.
 */
import {
  type LegacyConsoleUsersRecord,
  type LegacyConsoleUsersStore,
  parseLegacyRecord,
  type VersionedLegacyRecord,
} from '../legacy-console-users.js';
import { isZkError, type ZkClient, ZkCode } from './zk-client.js';

export const sluicePath = '/sluice';
export const consoleUsersPath = '/sluice/console-users';

export class ZkLegacyConsoleUsers implements LegacyConsoleUsersStore {
  constructor(private readonly client: () => ZkClient) {}

  async read(): Promise<VersionedLegacyRecord | undefined> {
    const node = await this.client().get(consoleUsersPath);
    if (!node) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(node.data);
    } catch {
      value = undefined;
    }
    return {
      record: parseLegacyRecord(`znode ${consoleUsersPath}`, value),
      version: node.version,
    };
  }

  async create(record: LegacyConsoleUsersRecord): Promise<boolean> {
    const zk = this.client();
    await zk.ensurePath(sluicePath);
    try {
      await zk.create(consoleUsersPath, JSON.stringify(record), 'persistent');
      return true;
    } catch (err) {
      if (isZkError(err, ZkCode.NodeExists)) return false;
      throw err;
    }
  }

  async replace(record: LegacyConsoleUsersRecord, version: number): Promise<boolean> {
    try {
      await this.client().set(consoleUsersPath, JSON.stringify(record), version);
      return true;
    } catch (err) {
      if (isZkError(err, ZkCode.BadVersion) || isZkError(err, ZkCode.NoNode)) return false;
      throw err;
    }
  }
}
