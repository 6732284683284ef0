/** The reassignment throttle's token bucket, on a clock the test moves. */
import { describe, expect, it } from 'vitest';
import { ReplicationThrottle } from '../../../src/replication/replication-throttle.js';

describe('ReplicationThrottle', () => {
  it('throttles only the replicas named, at the smallest rate, refilling one second of tokens at most', () => {
    let now = 0;
    const t = new ReplicationThrottle(() => now);
    expect(t.allowance()).toBe(Number.POSITIVE_INFINITY);
    t.set('a-0', 1000);
    t.set('a-1', 500);
    expect(t.isThrottled('a-0')).toBe(true);
    expect(t.isThrottled('b-0')).toBe(false);
    expect(t.rate).toBe(500);
    expect(t.allowance()).toBe(500); // one second's worth at the rate in force
    t.consume(3000); // a whole batch larger than the allowance: debt
    expect(t.allowance()).toBeLessThanOrEqual(0);
    expect(t.waitMs()).toBe(5002);
    now += 5002;
    expect(t.allowance()).toBeGreaterThan(0);
    now += 60_000;
    expect(t.allowance()).toBe(500); // never more than one second's worth
  });

  it('goes when the reassignment completes', () => {
    const t = new ReplicationThrottle(() => 0);
    t.set('a-0', 100);
    t.set('a-0', undefined);
    expect(t.isThrottled('a-0')).toBe(false);
    expect(t.rate).toBe(0);
    expect(t.allowance()).toBe(Number.POSITIVE_INFINITY);
    t.consume(1_000_000);
    expect(t.waitMs()).toBe(0);
  });
});
