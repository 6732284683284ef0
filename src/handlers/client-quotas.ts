/**
 * The broker's client quotas (issue 17): each Produce and Fetch of a client
 * counts its bytes against the producer_byte_rate / consumer_byte_rate that
 * applies to its user (the principal's name) and client id, and answers the
 * throttle time its response carries (the connection then reads nothing from
 * the client for that long). Each request's handling time (measured by the
 * connection, src/server/request-time.ts) counts against its
 * request_percentage likewise. The math is src/security/quotas.ts.
 */
import { type QuotaRecord, QuotaTracker, type WindowConfig } from '../security/quotas.js';
import { clientQuotaWindowsMax } from '../shared/limits.js';
import type { ClientInfo, ClientQuotas } from './context.js';

/** Where the quota usage is reported (the broker's Prometheus registry). */
export interface QuotaMetrics {
  quota(quota: string, user: string, clientId: string, bytes: number, throttleMs: number): void;
  /** Request handling time counted against request_percentage (user '' and client id '' for exempt requests). */
  requestTime(user: string, clientId: string, seconds: number, throttleMs: number, exempt: boolean): void;
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

  get measuresRequestTime(): boolean {
    return this.tracker.sets('request_percentage');
  }

  requestTime(client: Pick<ClientInfo, 'principal' | 'clientId'>, ms: number, throttle: boolean): number {
    if (!this.tracker.sets('request_percentage')) return 0;
    // percent-seconds: ms of one thread / 1000 s × 100 %
    const usage = this.tracker.record(
      'request_percentage',
      quotaUser(client.principal),
      client.clientId,
      ms / 10,
      this.now(),
    );
    if (!usage) return 0;
    const throttleMs = throttle ? usage.throttleMs : 0;
    this.metrics?.requestTime(usage.entity.user ?? '', usage.entity.clientId ?? '', ms / 1000, throttleMs, false);
    return throttleMs;
  }

  exemptRequestTime(ms: number): void {
    if (this.tracker.sets('request_percentage')) this.metrics?.requestTime('', '', ms / 1000, 0, true);
  }
}
