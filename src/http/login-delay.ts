/**
 * How long a failed login is slowed down: a delay that doubles with each
 * failure of the same user or address (from a small minimum to a cap of a
 * few seconds) and decays when the failures stop. Pure functions and a
 * bounded failure counter; the lanes in login-lane.ts enforce the delay.
 */

/** The delay after the `failures`-th recent failure: 0, then min, 2·min, 4·min ... up to max. */
export function failureDelayMs(failures: number, minMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  // the exponent is capped so 2 ** n stays finite whatever the count
  return Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 30));
}

/** A failure count after `elapsedMs` without failures: halved once per whole quiet period. */
export function decayedFailures(count: number, elapsedMs: number, quietMs: number): number {
  const periods = Math.floor(Math.max(0, elapsedMs) / quietMs);
  return periods >= 31 ? 0 : count >> periods;
}

interface Failures {
  count: number;
  lastAt: number;
}

/**
 * Recent failures per key (a username or an address), decayed on read.
 * Bounded: beyond `keysMax` the key that failed least recently is forgotten
 * (a Map keeps insertion order and a failure re-inserts its key).
 */
export class FailureCounter {
  private readonly entries = new Map<string, Failures>();

  constructor(
    private readonly keysMax: number,
    private readonly quietMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  count(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    const count = decayedFailures(e.count, this.now() - e.lastAt, this.quietMs);
    if (count === 0) this.entries.delete(key);
    return count;
  }

  /** Records one more failure; returns the new count. */
  add(key: string): number {
    const count = this.count(key) + 1;
    this.entries.delete(key);
    while (this.entries.size >= this.keysMax) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { count, lastAt: this.now() });
    return count;
  }
}
