/**
 * Writes a transaction's markers (Kafka's TransactionMarkerChannelManager):
 * WriteTxnMarkers to the current leader of each of its partitions, grouped
 * by leader, over the native protocol (the brokers' own connections, with
 * the inter-broker TLS / SASL settings: opened by the `connect` the broker
 * hands in, so that this layer does not import the client library). Every failure is retried with a
 * doubling backoff until the marker is written: a leader that moved, a
 * broker down, a refusal (UNSUPPORTED_VERSION from a broker that does not
 * serve markers yet) are logged, rate-limited, and tried again. A partition
 * whose topic was deleted counts as done. The send stops when the caller's
 * `valid()` turns false (this broker no longer coordinates the transaction:
 * the new coordinator resumes it from the log; markers are idempotent).
 *
 * Bounded: at most txnMarkerInFlightPerBroker requests to one leader at a
 * time, and txnMarkersPerRequestMax partitions per request.
 */
import type { Coordinator } from '../coordination/coordinator.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { AnswerOf, RequestOf } from '../protocol/native/apis.js';
import { ErrorCode, SluiceError, WireError, wireErrorName } from '../shared/errors.js';
import {
  txnMarkerInFlightPerBroker,
  txnMarkerRequestTimeoutMs,
  txnMarkerRetryBackoffMsMax,
  txnMarkerRetryBackoffMsMin,
  txnMarkersPerRequestMax,
} from '../shared/limits.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { RateLimitedLog } from '../shared/rate-limited-log.js';
import type { TxnPartition } from './txn-metadata.js';

export interface TxnMarkers {
  producerId: number;
  producerEpoch: number;
  committed: boolean;
  /** The leader epoch of the coordinator's __transaction_state partition. */
  coordinatorEpoch: number;
  partitions: readonly TxnPartition[];
}

type WriteTxnMarkers = typeof ApiKey.WriteTxnMarkers;

/** A connection to one broker, as the channel uses it: the client library's Connection fits. */
export interface MarkerConnection {
  connect(): Promise<void>;
  request(apiKey: WriteTxnMarkers, body: RequestOf<WriteTxnMarkers>): Promise<AnswerOf<WriteTxnMarkers>>;
  close(): void;
}

/** What the channel asks of a new connection; the broker adds its inter-broker TLS and SASL settings. */
export interface MarkerConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  requestTimeoutMs: number;
  maxInFlight: number;
  onClose: () => void;
}

export interface MarkerChannelOptions {
  brokerId: number;
  coordinator: Pick<Coordinator, 'partitionState' | 'brokers' | 'topic'>;
  /** Opens (unconnected) a connection to a broker. */
  connect: (options: MarkerConnectionOptions) => MarkerConnection;
  logger?: Logger;
}

/** Thrown by write() when the send stopped: this broker no longer coordinates the transaction, or it is closing. */
export class MarkersCancelled extends Error {}

/** A counting semaphore: at most `limit` holders; the waiters are the callers of write(), bounded by the ids held. */
class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<void> {
    if (this.used < this.limit) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }
}

export class MarkerChannel {
  private readonly connections = new Map<number, { conn: MarkerConnection; host: string; port: number }>();
  private readonly slots = new Map<number, Slots>();
  private readonly sleepers = new Set<() => void>();
  private closed = false;
  private readonly warnings: RateLimitedLog;

  constructor(private readonly options: MarkerChannelOptions) {
    this.warnings = new RateLimitedLog(options.logger ?? silentLogger, {
      linesPerWindow: 10,
      windowMs: 10_000,
      summary: 'more transaction marker failures',
    });
  }

  /** Resolves once every partition has the marker (or no longer exists); throws MarkersCancelled when stopped. */
  async write(markers: TxnMarkers, valid: () => boolean): Promise<void> {
    let pending = [...markers.partitions];
    let backoffMs = txnMarkerRetryBackoffMsMin;
    for (;;) {
      if (this.closed || !valid()) throw new MarkersCancelled('transaction markers no longer this broker’s to write');
      pending = pending.filter((p) => this.exists(p));
      if (pending.length === 0) return;
      const byLeader = new Map<number, TxnPartition[]>();
      const leaderless: TxnPartition[] = [];
      for (const p of pending) {
        const leader = this.options.coordinator.partitionState(p.topic, p.partition)?.leader ?? -1;
        if (leader < 0) leaderless.push(p);
        else byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
      }
      const failed = await Promise.all(
        [...byLeader].map(([leader, parts]) => this.sendToLeader(leader, markers, parts, valid)),
      );
      pending = [...leaderless, ...failed.flat()];
      if (pending.length === 0) return;
      await this.sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, txnMarkerRetryBackoffMsMax);
    }
  }

  private exists(p: TxnPartition): boolean {
    const spec = this.options.coordinator.topic(p.topic);
    return spec !== undefined && p.partition < spec.partitions;
  }

  /** Sends the markers of `parts` to `leader`, a request per chunk; resolves to the partitions still without one. */
  private async sendToLeader(
    leader: number,
    markers: TxnMarkers,
    parts: TxnPartition[],
    valid: () => boolean,
  ): Promise<TxnPartition[]> {
    const failed: TxnPartition[] = [];
    for (let i = 0; i < parts.length; i += txnMarkersPerRequestMax) {
      const chunk = parts.slice(i, i + txnMarkersPerRequestMax);
      let slots = this.slots.get(leader);
      if (!slots) {
        slots = new Slots(txnMarkerInFlightPerBroker);
        this.slots.set(leader, slots);
      }
      await slots.acquire();
      try {
        if (this.closed || !valid()) throw new MarkersCancelled('transaction markers no longer this broker’s to write');
        failed.push(...(await this.request(leader, markers, chunk)));
      } finally {
        slots.release();
      }
    }
    return failed;
  }

  private async request(leader: number, markers: TxnMarkers, chunk: TxnPartition[]): Promise<TxnPartition[]> {
    const topics = new Map<string, number[]>();
    for (const p of chunk) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p.partition]);
    const body = {
      markers: [
        {
          producerId: markers.producerId,
          producerEpoch: markers.producerEpoch,
          committed: markers.committed,
          coordinatorEpoch: markers.coordinatorEpoch,
          topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
        },
      ],
    };
    let res: AnswerOf<WriteTxnMarkers>;
    try {
      const conn = await this.connection(leader);
      res = await conn.request(ApiKey.WriteTxnMarkers, body);
    } catch (err) {
      this.dropConnection(leader);
      this.warnings.warn({ err, leader, producerId: markers.producerId }, 'transaction markers not sent; retrying');
      return chunk;
    }
    if (res.errorCode !== 0 || !res.markers) {
      this.warnings.warn(
        {
          leader,
          producerId: markers.producerId,
          error: wireErrorName(res.errorCode ?? WireError.UNKNOWN_SERVER_ERROR),
          message: res.errorMessage,
        },
        'transaction markers refused; retrying',
      );
      return chunk;
    }
    const results = new Map<string, number>();
    for (const m of res.markers) {
      for (const t of m.topics) for (const p of t.partitions) results.set(`${t.name}\u0000${p.partition}`, p.errorCode);
    }
    const failed: TxnPartition[] = [];
    for (const p of chunk) {
      const code = results.get(`${p.topic}\u0000${p.partition}`) ?? WireError.UNKNOWN_SERVER_ERROR;
      if (code === 0) continue;
      if (code === WireError.TRANSACTION_COORDINATOR_FENCED || code === WireError.INVALID_PRODUCER_EPOCH) {
        // a newer coordinator or producer epoch has written to the partition: as Kafka's coordinator, stop
        // sending this transaction's markers (it is not this coordinator's to finish any more)
        throw new MarkersCancelled(
          `partition ${p.topic}-${p.partition} heard from a newer coordinator or producer epoch`,
        );
      }
      this.warnings.warn(
        { leader, topic: p.topic, partition: p.partition, producerId: markers.producerId, error: wireErrorName(code) },
        'transaction marker refused; retrying',
      );
      failed.push(p);
    }
    return failed;
  }

  private async connection(brokerId: number): Promise<MarkerConnection> {
    const endpoint = this.options.coordinator.brokers().find((b) => b.nodeId === brokerId);
    if (!endpoint) throw new SluiceError(ErrorCode.BrokerUnreachable, `broker ${brokerId} is not registered`);
    const held = this.connections.get(brokerId);
    if (held && held.host === endpoint.host && held.port === endpoint.port) return held.conn;
    if (held) this.dropConnection(brokerId);
    const conn = this.options.connect({
      host: endpoint.host,
      port: endpoint.port,
      clientId: `broker-${this.options.brokerId}-txn-markers`,
      requestTimeoutMs: txnMarkerRequestTimeoutMs,
      maxInFlight: txnMarkerInFlightPerBroker,
      onClose: () => {
        if (this.connections.get(brokerId)?.conn === conn) this.connections.delete(brokerId);
      },
    });
    this.connections.set(brokerId, { conn, host: endpoint.host, port: endpoint.port });
    await conn.connect();
    return conn;
  }

  private dropConnection(brokerId: number): void {
    const held = this.connections.get(brokerId);
    this.connections.delete(brokerId);
    held?.conn.close();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Stops every send (each write() then throws MarkersCancelled) and closes the connections. */
  close(): void {
    this.closed = true;
    for (const wake of [...this.sleepers]) wake();
    for (const id of [...this.connections.keys()]) this.dropConnection(id);
    this.warnings.flush();
  }
}
