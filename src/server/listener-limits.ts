/** The bounds both listeners of a broker share, from its configuration, and their metrics. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BrokerConfig } from '../config/broker-config.js';
import type { Logger } from '../shared/logger.js';
import type { CloseReason } from './connection.js';
import { ConnectionQuotas, effectiveMaxConnections, openFilesLimit } from './connection-quotas.js';
import { RequestMemoryPool } from './request-memory-pool.js';
import type { ListenerLimits } from './server.js';

export function listenerLimitsOf(config: BrokerConfig, log: Logger, registry?: Registry): ListenerLimits {
  const connections = effectiveMaxConnections(config.int('max.connections'), openFilesLimit());
  if (connections.lowered) log.warn({ maxConnections: connections.max }, connections.lowered);
  const limits: ListenerLimits = {
    maxFrameBytes: config.int('socket.request.max.bytes'),
    frameReadTimeoutMs: config.int('socket.request.read.timeout.ms'),
    idleMs: config.int('connections.max.idle.ms'),
    failedAuthenticationDelayMs: config.int('connection.failed.authentication.delay.ms'),
    pool: new RequestMemoryPool(config.int('queued.max.request.bytes')),
    quotas: new ConnectionQuotas(connections.max, config.int('max.connections.per.ip')),
    closed: { frame_timeout: 0, idle: 0, invalid_frame: 0, tls_handshake: 0, unauthenticated: 0 },
  };
  log.debug(
    {
      queuedMaxRequestBytes: limits.pool.capacityBytes,
      largeFramesBytesMax: limits.pool.largeFramesBytesMax,
      smallFrameBytes: limits.pool.smallFrameBytes,
      frameReadTimeoutMs: limits.frameReadTimeoutMs,
      idleMs: limits.idleMs,
      maxConnections: limits.quotas.maxConnections,
      maxConnectionsPerIp: limits.quotas.maxConnectionsPerIp,
    },
    'request and connection limits',
  );
  if (registry) registerListenerMetrics(registry, limits);
  return limits;
}

/** Gauges and counters read from the shared limits at scrape time (nothing on the hot path). */
function registerListenerMetrics(registry: Registry, limits: ListenerLimits): void {
  const registers = [registry];
  const { pool, quotas } = limits;
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };
  gauge('sluice_request_memory_capacity_bytes', 'queued.max.request.bytes', () => pool.capacityBytes);
  gauge(
    'sluice_request_memory_reserved_bytes',
    'Request bytes reserved by frames being received or awaiting their answer',
    () => pool.usedBytes,
  );
  gauge(
    'sluice_request_memory_stray_bytes',
    'Bytes received beyond any reservation (the start of frames waiting for memory)',
    () => pool.strayBytes,
  );
  gauge(
    'sluice_request_memory_waiting_connections',
    'Connections not read from because their next frame waits for request memory',
    () => pool.waiting,
  );
  gauge('sluice_connections_open', 'Open client connections over both listeners', () => quotas.open);
  new Counter({
    name: 'sluice_connections_refused_total',
    help: 'Connections closed at once because of max.connections or max.connections.per.ip',
    registers,
    collect() {
      this.reset();
      this.inc(quotas.refusedTotal);
    },
  });
  new Counter({
    name: 'sluice_connections_closed_total',
    help: 'Connections the broker closed: frame_timeout (socket.request.read.timeout.ms), idle (connections.max.idle.ms), invalid_frame, tls_handshake (a failed TLS handshake or refused client certificate), unauthenticated (a request before SASL authentication)',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(limits.closed) as [CloseReason, number][]) this.inc({ reason }, n);
    },
  });
}
