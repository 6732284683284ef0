/**
 * While this broker cannot reach ZooKeeper (the coordinator's leadership
 * doubt, issue 18), it asks its peers, one per tick, whether its registration
 * (the znode created at its registration zxid) still exists (BrokerHeartbeat;
 * the peer reads ZooKeeper then, not a cache). ZooKeeper deletes a session's
 * ephemeral registration only when the session has ended, so a peer that is
 * itself connected and finds it gone proves this broker's session expired: the
 * controller has by then moved this broker's leaderships. The broker then
 * resigns at once (the session-lost path) instead of leading on until its
 * own connection returns — which, for a broker cut from ZooKeeper but not
 * from its clients, is when the cut heals: its clients would wait that long.
 *
 * A peer that is itself disconnected proves nothing and is not believed; when
 * ZooKeeper is down for every broker, sessions do not expire and nothing
 * happens (brokers keep serving with the partition states they have).
 */
import { Connection } from '../client/connection.js';
import type { TlsConnectOptions } from '../client/tls.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { interBrokerSaslOption } from '../config/inter-broker-sasl.js';
import type { BrokerEndpoint } from '../coordination/coordinator.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import { registrationCheckIntervalMs } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';

export interface RegistrationWatchOptions {
  brokerId: number;
  config: BrokerConfig;
  logger: Logger;
  /** The other brokers as last known (the coordinator's cache). */
  peers: () => readonly BrokerEndpoint[];
  /** The zxid that created this broker's registration (undefined: not registered, nothing to ask). */
  registrationZxid: () => number | undefined;
  /** A connected peer no longer sees this broker's registration. */
  onExpired: (peerId: number) => void;
  tls?: TlsConnectOptions;
}

export class RegistrationWatch {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  /** One connection per peer asked, closed when the watch stops (at most one per broker). */
  private readonly connections = new Map<number, Connection>();
  private asking = false;

  constructor(private readonly options: RegistrationWatchOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.tick(), registrationCheckIntervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (!this.running || this.asking) return this.schedule();
    const peers = this.options.peers().filter((p) => p.nodeId !== this.options.brokerId);
    const registrationZxid = this.options.registrationZxid();
    if (peers.length === 0 || registrationZxid === undefined) return this.schedule();
    const peer = peers[this.next++ % peers.length] as BrokerEndpoint;
    this.asking = true;
    try {
      const connection = this.connectionTo(peer);
      await connection.connect();
      const answer = await connection.request(
        ApiKey.BrokerHeartbeat,
        { brokerId: this.options.brokerId, registrationZxid },
        { timeoutMs: registrationCheckIntervalMs },
      );
      if (this.running && answer.errorCode === 0 && answer.connected && !answer.registered) {
        this.stop();
        this.options.onExpired(peer.nodeId);
        return;
      }
    } catch (err) {
      // an unreachable or slow peer: ask the next one on the next tick
      this.connections.get(peer.nodeId)?.close();
      this.connections.delete(peer.nodeId);
      this.options.logger.debug({ peer: peer.nodeId, err: (err as Error).message }, 'registration check failed');
    } finally {
      this.asking = false;
    }
    this.schedule();
  }

  private connectionTo(peer: BrokerEndpoint): Connection {
    const known = this.connections.get(peer.nodeId);
    if (known && !known.isClosed && known.host === peer.host && known.port === peer.port) return known;
    known?.close();
    const connection = new Connection({
      host: peer.host,
      port: peer.port,
      clientId: `registration-watch-${this.options.brokerId}`,
      // an unreachable peer (a cut link drops the SYN) must not hold the watch: the next tick asks another
      connectTimeoutMs: registrationCheckIntervalMs * 2,
      requestTimeoutMs: registrationCheckIntervalMs,
      maxInFlight: 1,
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      ...interBrokerSaslOption(this.options.config),
    });
    this.connections.set(peer.nodeId, connection);
    return connection;
  }
}
