/**
 * The broker's client quotas (issue 17): each Produce and Fetch of a client
 * counts its bytes against the producer_byte_rate / consumer_byte_rate that
 * applies to its user (the principal's name) and client id, and answers the
 * throttle time its response carries (the connection then reads nothing from
 * the client for that long). The math is src/security/quotas.ts.
 */
import { type QuotaRecord, QuotaTracker, type WindowConfig } from '../security/quotas.js';
import { clientQuotaWindowsMax } from '../shared/limits.js';
import type { ClientInfo, ClientQuotas } from './context.js';

/** Where the quota usage is reported (the broker's Prometheus registry). */
export interface QuotaMetrics {
  quota(quota: string, user: string, clientId: string, bytes: number, throttleMs: number): void;
}

/** The user part of a principal (`User:alice` → `alice`; Kafka keys user quotas on the principal's name). */
export function quotaUser(principal: string): string {
  const colon = principal.indexOf(':');
  return colon < 0 ? principal : principal.slice(colon + 1);
}

export class BrokerClientQuotas implements ClientQuotas {
  private readonly tracker: QuotaTracker;

  constructor(
    window: WindowConfig,
    private readonly metrics?: QuotaMetrics,
    private readonly now: () => number = Date.now,
  ) {
    this.tracker = new QuotaTracker(clientQuotaWindowsMax, window);
  }

  /** Replaces the configured quotas. */
  setRecords(records: readonly QuotaRecord[]): void {
    this.tracker.setRecords(records);
  }

  throttle(key: 'producer_byte_rate' | 'consumer_byte_rate', client: ClientInfo, bytes: number): number {
    if (!this.tracker.active) return 0;
    const usage = this.tracker.record(key, quotaUser(client.principal), client.clientId, bytes, this.now());
    if (!usage) return 0;
    this.metrics?.quota(key, usage.entity.user ?? '', usage.entity.clientId ?? '', bytes, usage.throttleMs);
    return usage.throttleMs;
  }
}
