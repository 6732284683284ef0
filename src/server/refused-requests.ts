/**
 * The broker's record of requests it refused for their shape (INVALID_REQUEST
 * before any handler ran). A refusal is the client's fault, not the broker's:
 * one warning line, no stack. Bounded, so a client flooding malformed requests
 * cannot fill the disk: at most refusedRequestWarningsPerInterval lines per
 * interval, then the rest are counted in one summary line.
 */
import { refusedRequestWarningIntervalMs, refusedRequestWarningsPerInterval } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { RateLimitedLog } from '../shared/rate-limited-log.js';

export interface Refusal {
  listener: 'native' | 'kafka';
  api: string;
  clientId: string;
  reason: string;
}

export class RefusedRequests {
  private readonly log: RateLimitedLog;

  constructor(log: Logger, now: () => number = Date.now) {
    this.log = new RateLimitedLog(
      log,
      {
        linesPerWindow: refusedRequestWarningsPerInterval,
        windowMs: refusedRequestWarningIntervalMs,
        summary: 'more malformed requests were refused than logged',
      },
      now,
    );
  }

  refused(refusal: Refusal): void {
    this.log.warn(refusal, 'malformed request refused');
  }
}
