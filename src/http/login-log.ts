/**
 * The login attempt log, rate-limited: at most `linesPerSecondMax` lines a
 * second; the rest are counted and reported in one summary line when the
 * second is over, so a flood of failed logins cannot fill the log.
 */
import type { Logger } from '../shared/logger.js';

const windowMs = 1000;

export class LoginLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private linesInWindow = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly linesPerSecondMax: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: object, message: string): void {
    if (this.allow()) this.logger.warn(fields, message);
  }

  info(fields: object, message: string): void {
    if (this.allow()) this.logger.info(fields, message);
  }

  /** Writes the pending summary line (shutdown). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private allow(): boolean {
    const now = this.now();
    if (now - this.windowStart >= windowMs) {
      this.flush();
      this.windowStart = now;
      this.linesInWindow = 0;
    }
    if (this.linesInWindow < this.linesPerSecondMax) {
      this.linesInWindow++;
      return true;
    }
    this.suppressed++;
    if (!this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.flush();
        },
        Math.max(0, this.windowStart + windowMs - now),
      );
      this.timer.unref();
    }
    return false;
  }

  private flush(): void {
    if (this.suppressed === 0) return;
    this.logger.warn({ suppressed: this.suppressed }, 'login attempts not logged one by one (log rate limit)');
    this.suppressed = 0;
  }
}
