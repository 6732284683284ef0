/**
 * Kafka's config entities under /config (users/<u>, clients/<c>,
 * users/<u>/clients/<c>): one JSON znode `{"version":1,"config":{...}}` whose
 * keys several stores share (SCRAM credentials and client quotas both live in
 * /config/users/<u>). A writer changes only its own keys: read, change,
 * conditional write (again when another writer got there first), then Kafka's
 * /config/changes notification naming the entity, so every broker reloads it.
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { isZkError, type ZkClient, ZkCode } from './zk-client.js';
import { configChangePrefix, configChangesPath } from './zk-paths.js';

/** Conditional writes tried before giving up: each retry means another writer changed the znode meanwhile. */
const configEntityWriteAttempts = 10;

/**
 * Applies `change` to the entity's config (it edits the object it is given
 * and returns its result) and writes it back; `entityPath` is the path under
 * /config the notification names (`users/alice`), `what` names the entity in
 * the error when it kept changing.
 */
export async function updateConfigEntity<C extends Record<string, unknown>, T>(
  zk: ZkClient,
  entity: { path: string; entityPath: string; what: string },
  read: (path: string, data: string) => C,
  change: (config: C) => T,
): Promise<T> {
  await zk.ensurePath(configChangesPath);
  for (let attempt = 0; attempt < configEntityWriteAttempts; attempt++) {
    const node = await zk.get(entity.path);
    const config = (node ? { ...read(entity.path, node.data) } : {}) as C;
    const result = change(config);
    const data = JSON.stringify({ version: 1, config });
    try {
      if (node) await zk.set(entity.path, data, node.version);
      else await zk.create(entity.path, data, 'persistent');
    } catch (err) {
      if (isZkError(err, ZkCode.BadVersion) || isZkError(err, ZkCode.NodeExists)) continue;
      throw err;
    }
    await zk.createSequential(
      `${configChangesPath}/${configChangePrefix}`,
      JSON.stringify({ version: 2, entity_path: entity.entityPath }),
    );
    return result;
  }
  throw new SluiceError(ErrorCode.Timeout, `${entity.what} kept changing under this alteration`);
}
