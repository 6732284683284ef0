/**
 * A log of lines a client can provoke at will (refused connections, malformed
 * requests, failed logins) must not flood the disk: at most `linesPerWindow`
 * lines per window; the rest are counted and reported in one summary line when
 * the window ends (by timer, or at the next line, whichever comes first).
 * One mechanism for every such log, so they all behave alike.
 */
import type { Logger } from './logger.js';

export interface RateLimitedLogOptions {
  linesPerWindow: number;
  windowMs: number;
  /** The summary line's message; its fields are `{ suppressed, windowMs }`. */
  summary: string;
}

export class RateLimitedLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private linesInWindow = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly options: RateLimitedLogOptions,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: object, message: string): void {
    if (this.allow()) this.log.warn(fields, message);
  }

  info(fields: object, message: string): void {
    if (this.allow()) this.log.info(fields, message);
  }

  /** Writes the pending summary line now (the window ended, or shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed === 0) return;
    this.log.warn({ suppressed: this.suppressed, windowMs: this.options.windowMs }, this.options.summary);
    this.suppressed = 0;
  }

  private allow(): boolean {
    const now = this.now();
    if (now - this.windowStart >= this.options.windowMs) {
      this.flush();
      this.windowStart = now;
      this.linesInWindow = 0;
    }
    if (this.linesInWindow < this.options.linesPerWindow) {
      this.linesInWindow++;
      return true;
    }
    this.suppressed++;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.windowStart + this.options.windowMs - now));
      this.timer.unref();
    }
    return false;
  }
}
