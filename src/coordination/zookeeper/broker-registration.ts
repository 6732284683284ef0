/**
 * Registers the broker's ephemeral /brokers/ids/<id>.
 *
 * A broker killed (kill -9, power loss) and started again within the
 * ZooKeeper session timeout finds its previous session's znode still there:
 * ZooKeeper deletes it only when that session expires. Refusing to start then
 * (as Kafka's "node already exists" does) turns every quick restart into an
 * exit, so when the znode names this broker's own address — no other live
 * process can listen on it — the broker waits for the old session to expire,
 * watching the znode, and then registers. A znode naming a different address
 * is another live broker with the same broker.id: refused at once.
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { zookeeperRegistrationPollMs, zookeeperRegistrationWaitMarginMs } from '../../shared/limits.js';
import { isZkError, type ZkClient, ZkCode } from './zk-client.js';
import { type BrokerRegistration, brokerPath, brokerRegistration, parseBroker } from './zk-paths.js';

export interface RegistrationOptions {
  brokerId: number;
  host: string;
  port: number;
  kafkaPort?: number;
  httpPort?: number;
  /** This broker's session timeout: the previous incarnation's session expires within it (plus ZooKeeper's tick). */
  sessionTimeoutMs: number;
  /** Told once when the broker starts waiting for its previous session's registration to go. */
  onWaiting?: (info: { path: string; waitMs: number }) => void;
  /** True once the caller gives up (coordinator closed): the wait ends with an error. */
  cancelled?: () => boolean;
}

/** Whether a registration names this broker's own listeners (host, native port and Kafka port when both have one). */
export function isOwnRegistration(
  holder: BrokerRegistration,
  own: { host: string; port: number; kafkaPort?: number },
): boolean {
  if (holder.host !== own.host || holder.port !== own.port) return false;
  const ownKafka = own.kafkaPort !== undefined && own.kafkaPort > 0 ? own.kafkaPort : undefined;
  return holder.kafka_port === undefined || ownKafka === undefined || holder.kafka_port === ownKafka;
}

/**
 * Creates the ephemeral registration; waits (bounded by the session timeout
 * plus a margin) while a previous session of this broker holds it; throws
 * SluiceError InvalidConfig when another live broker holds the id, Timeout
 * when the old registration outlives the wait.
 */
export async function registerBroker(zk: ZkClient, options: RegistrationOptions): Promise<void> {
  const path = brokerPath(options.brokerId);
  const data = JSON.stringify(brokerRegistration(options.host, options.port, options.httpPort, options.kafkaPort));
  const waitMs = options.sessionTimeoutMs + zookeeperRegistrationWaitMarginMs;
  let deadline: number | undefined;
  for (;;) {
    try {
      await zk.create(path, data, 'ephemeral');
      return;
    } catch (err) {
      if (!isZkError(err, ZkCode.NodeExists)) throw err;
    }
    const existing = await zk.get(path);
    if (!existing) continue; // the old session expired between create and get: create again
    let holder: BrokerRegistration | undefined;
    try {
      holder = parseBroker(path, existing.data);
    } catch {
      holder = undefined;
    }
    if (!holder || !isOwnRegistration(holder, options)) {
      throw new SluiceError(
        ErrorCode.InvalidConfig,
        `broker.id ${options.brokerId} is already registered in ZooKeeper at ${path}` +
          (holder ? ` by a live broker at ${holder.host}:${holder.port}` : ' (by an unreadable registration)') +
          '; every broker needs a unique broker.id',
      );
    }
    if (deadline === undefined) {
      deadline = Date.now() + waitMs;
      options.onWaiting?.({ path, waitMs });
    }
    if (options.cancelled?.()) {
      throw new SluiceError(ErrorCode.BrokerError, 'the ZooKeeper coordinator was closed');
    }
    if (Date.now() > deadline) {
      throw new SluiceError(
        ErrorCode.Timeout,
        `the previous session of broker.id ${options.brokerId} still holds ${path} after ${waitMs} ms; ` +
          'is another broker with this id running on the same address?',
      );
    }
    await deletedOrPolled(zk, path, Math.min(zookeeperRegistrationPollMs, Math.max(0, deadline - Date.now())));
  }
}

/** Resolves when the znode's watch fires (deleted) or after `ms`, whichever is first; the poll backs up a lost watch. */
async function deletedOrPolled(zk: ZkClient, path: string, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let wake: () => void = () => {};
  const woken = new Promise<void>((resolve) => {
    wake = resolve;
    timer = setTimeout(resolve, ms);
  });
  try {
    const exists = await zk.watchNode(path, () => wake());
    if (!exists) return;
    await woken;
  } finally {
    clearTimeout(timer);
  }
}
