/**
 * The reassignment throttle (`sluice partition reassign --throttle`): a
 * per-broker limit on the bytes/s its followers fetch for the replicas being
 * added by a reassignment, and only for those (Kafka's
 * follower.replication.throttled.rate applied to the throttled replicas
 * list). The rate and the throttled replicas come with the reassignment (the
 * partition state), and go when it completes.
 *
 * A token bucket: it refills at the rate, holds at most one second's worth,
 * and may go into debt (a fetch answers at least one whole batch, as Kafka's
 * does). A throttled partition asks for no more than the tokens at hand and
 * sits out the fetches while there are none.
 */
export class ReplicationThrottle {
  /** Throttled replicas here (topic-partition key → their reassignment's bytes/s). */
  private readonly rates = new Map<string, number>();
  private tokens = 0;
  private refilledAt = Date.now();

  constructor(private readonly now: () => number = Date.now) {}

  set(key: string, bytesPerSec: number | undefined): void {
    if (bytesPerSec !== undefined && bytesPerSec > 0) {
      if (this.rates.size === 0) {
        this.tokens = bytesPerSec;
        this.refilledAt = this.now();
      }
      this.rates.set(key, bytesPerSec);
    } else {
      this.rates.delete(key);
    }
  }

  isThrottled(key: string): boolean {
    return this.rates.has(key);
  }

  /** The rate in force: the smallest of the throttled replicas' (0: nothing is throttled). */
  get rate(): number {
    let rate = 0;
    for (const r of this.rates.values()) rate = rate === 0 ? r : Math.min(rate, r);
    return rate;
  }

  /** Bytes the throttled replicas may fetch now (≤ 0: none until the bucket refills). */
  allowance(): number {
    const rate = this.rate;
    if (rate === 0) return Number.POSITIVE_INFINITY;
    const now = this.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    return Math.floor(this.tokens);
  }

  /** Ms until the bucket holds a byte again (0 when it does). */
  waitMs(): number {
    const rate = this.rate;
    if (rate === 0 || this.allowance() > 0) return 0;
    return Math.ceil(((1 - this.tokens) * 1000) / rate);
  }

  /** Bytes a throttled replica fetched. */
  consume(bytes: number): void {
    if (this.rate > 0) this.tokens -= bytes;
  }
}
