/** What the broker hands the admin HTTP API when it starts it. */
import type { ClientTlsOptions } from '../client/types.js';
import type { BrokerConfig } from '../config/broker-config.js';
import type { Coordinator } from '../coordination/coordinator.js';
import type { Logger } from '../shared/logger.js';
import type { LogManager } from '../storage/log-manager.js';
import type { LoginThrottleOptions } from './login-guard.js';
import type { UserRecord } from './users.js';

/** What the HTTP API serves of the broker's metrics: the Prometheus text, and per-topic totals. */
export interface HttpMetrics {
  readonly contentType: string;
  text(): Promise<string>;
  /** Records in/out of `topic` through this broker so far. */
  topicTotals(topic: string): { in: number; out: number };
}

export interface HttpServerOptions {
  config: BrokerConfig;
  logger: Logger;
  brokerAddress: () => { host: string; port: number };
  coordinator: Coordinator;
  mode: 'standalone' | 'cluster';
  /** Resolves when the broker is ready to serve (its listener answers), rejects with the reason when not. */
  ready: () => Promise<void>;
  metrics?: HttpMetrics;
  /** This broker's logs: size on disk of the partitions it holds. */
  logs?: LogManager;
  /** When this broker started (ms since the epoch). */
  startedAt?: number;
  /** Overrides the users file (tests). */
  users?: Map<string, UserRecord>;
  /** Overrides the failed-login delays and bounds of src/shared/limits.ts (tests). */
  loginThrottle?: Partial<LoginThrottleOptions>;
  /** TLS of the API's client to its broker's native listener (native.security.protocol SSL/SASL_SSL). */
  brokerTls?: ClientTlsOptions;
}
