/**
 * Warnings that a client can provoke at will (refused connections, closed
 * ones) must not flood the log: at most `perWindow` lines per window for one
 * message; the rest are counted and reported in one line when the window ends.
 */
import type { Logger } from '../shared/logger.js';

export class RateLimitedWarning {
  private windowStartedAt = 0;
  private loggedInWindow = 0;
  private suppressed = 0;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>): void {
    const now = this.now();
    if (now - this.windowStartedAt >= this.windowMs) {
      this.flush();
      this.windowStartedAt = now;
      this.loggedInWindow = 0;
    }
    if (this.loggedInWindow < this.perWindow) {
      this.loggedInWindow++;
      this.log.warn(fields, this.message);
      return;
    }
    this.suppressed++;
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.windowMs - (now - this.windowStartedAt));
      this.flushTimer.unref();
    }
  }

  /** Logs how many warnings were left out, if any. */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.suppressed === 0) return;
    this.log.warn(
      { suppressed: this.suppressed, windowMs: this.windowMs },
      `${this.message} (more, not logged one by one)`,
    );
    this.suppressed = 0;
  }
}
