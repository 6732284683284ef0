/**
 * A TCP listener: the native protocol or the Kafka protocol, by its codec, over
 * the same handlers. Both listeners of a broker share one ListenerLimits: one
 * request memory pool and one count of connections (max.connections,
 * max.connections.per.ip). A periodic sweep enforces frame deadlines and the idle timeout.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HandlerContext, HandlerTable } from '../handlers/context.js';
import {
  connectionSweepMsMax,
  connectionSweepMsMin,
  connectionWarningsPerWindow,
  connectionWarningWindowMs,
  shutdownDrainMsMax,
} from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { RateLimitedLog } from '../shared/rate-limited-log.js';
import { Connection, type ConnectionLimits, type ConnectionSasl } from './connection.js';
import type { ConnectionQuotas } from './connection-quotas.js';
import type { ServerCodec } from './server-codec.js';

export interface ListenerLimits extends ConnectionLimits {
  quotas: ConnectionQuotas;
}

export class ProtocolServer<R> {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection<R>>();
  private readonly sweep: NodeJS.Timeout;
  private readonly refused: RateLimitedLog;
  private readonly closing: RateLimitedLog;

  constructor(
    codec: ServerCodec<R>,
    handlers: HandlerTable,
    ctx: HandlerContext,
    limits: ListenerLimits,
    private readonly log: Logger,
    /** SASL on a SASL_PLAINTEXT or SASL_SSL listener: every connection must authenticate first. */
    sasl?: ConnectionSasl,
  ) {
    const window = { linesPerWindow: connectionWarningsPerWindow, windowMs: connectionWarningWindowMs };
    this.refused = new RateLimitedLog(log, { ...window, summary: 'connection refused (more, not logged one by one)' });
    this.closing = new RateLimitedLog(log, { ...window, summary: 'closing connection (more, not logged one by one)' });
    this.server = net.createServer({ noDelay: true }, (socket) => {
      const ip = socket.remoteAddress ?? '';
      const admitted = limits.quotas.tryAcquire(ip);
      if (!admitted.ok) {
        socket.on('error', () => undefined);
        socket.destroy();
        this.refused.warn({ remote: ip, reason: admitted.reason }, 'connection refused');
        return;
      }
      const connection = new Connection(
        socket,
        codec,
        handlers,
        ctx,
        limits,
        log,
        (fields) => this.closing.warn(fields, 'closing connection'),
        sasl,
      );
      this.connections.add(connection);
      socket.on('close', () => {
        this.connections.delete(connection);
        limits.quotas.release(ip);
      });
    });
    // a quarter of the shortest timeout: a deadline is enforced at most 25% late
    const sweepMs = Math.min(
      connectionSweepMsMax,
      Math.max(connectionSweepMsMin, Math.floor(Math.min(limits.frameReadTimeoutMs, limits.idleMs) / 4)),
    );
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.connections) c.checkTimeouts(now);
    }, sweepMs);
    this.sweep.unref();
  }

  /** Open connections of this listener. */
  get connectionCount(): number {
    return this.connections.size;
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as net.AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Stops accepting, lets in-flight requests finish (bounded), then closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.sweep);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const drained = Promise.all([...this.connections].map((c) => c.drained()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, shutdownDrainMsMax)))]);
    clearTimeout(timer);
    for (const c of this.connections) c.close();
    await closed;
    this.refused.flush();
    this.closing.flush();
    this.log.debug('listener closed');
  }
}
