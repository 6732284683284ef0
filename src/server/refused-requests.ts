/**
 * The broker's record of requests it refused for their shape (INVALID_REQUEST
 * before any handler ran). A refusal is the client's fault, not the broker's:
 * one warning line, no stack. Bounded, so a client flooding malformed requests
 * cannot fill the disk: at most refusedRequestWarningsPerInterval lines per
 * interval, then the rest are counted and reported in one line when the next
 * interval begins.
 */
import { refusedRequestWarningIntervalMs, refusedRequestWarningsPerInterval } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';

export interface Refusal {
  listener: 'native' | 'kafka';
  api: string;
  clientId: string;
  reason: string;
}

export class RefusedRequests {
  private intervalStart = Number.NEGATIVE_INFINITY;
  private logged = 0;
  private unlogged = 0;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  refused(refusal: Refusal): void {
    const now = this.now();
    if (now - this.intervalStart >= refusedRequestWarningIntervalMs) {
      if (this.unlogged > 0) {
        this.log.warn(
          { unlogged: this.unlogged, intervalMs: refusedRequestWarningIntervalMs },
          'more malformed requests were refused than logged',
        );
      }
      this.intervalStart = now;
      this.logged = 0;
      this.unlogged = 0;
    }
    if (this.logged < refusedRequestWarningsPerInterval) {
      this.logged++;
      this.log.warn(refusal, 'malformed request refused');
    } else {
      this.unlogged++;
    }
  }
}
