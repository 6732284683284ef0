/** The bounds both listeners of a broker share, from its configuration. */
import type { BrokerConfig } from '../config/broker-config.js';
import type { Logger } from '../shared/logger.js';
import { ConnectionQuotas, effectiveMaxConnections, openFilesLimit } from './connection-quotas.js';
import { RequestMemoryPool } from './request-memory-pool.js';
import type { ListenerLimits } from './server.js';

export function listenerLimitsOf(config: BrokerConfig, log: Logger): ListenerLimits {
  const connections = effectiveMaxConnections(config.int('max.connections'), openFilesLimit());
  if (connections.lowered) log.warn({ maxConnections: connections.max }, connections.lowered);
  return {
    maxFrameBytes: config.int('socket.request.max.bytes'),
    frameReadTimeoutMs: config.int('socket.request.read.timeout.ms'),
    idleMs: config.int('connections.max.idle.ms'),
    pool: new RequestMemoryPool(config.int('queued.max.request.bytes')),
    quotas: new ConnectionQuotas(connections.max, config.int('max.connections.per.ip')),
  };
}
