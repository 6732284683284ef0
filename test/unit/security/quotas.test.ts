import { describe, expect, it } from 'vitest';
import {
  entityKey,
  precedence,
  type QuotaRecord,
  QuotaTracker,
  RateWindow,
  resolveQuota,
  throttleTimeMs,
} from '../../../src/security/quotas.js';

function records(list: QuotaRecord[]): Map<string, QuotaRecord> {
  return new Map(list.map((r) => [entityKey(r.entity), r]));
}

describe('quota precedence (Kafka docs order)', () => {
  it('lists the eight entities most specific first', () => {
    expect(precedence('u', 'c')).toEqual([
      { user: 'u', clientId: 'c' },
      { user: 'u', clientId: null },
      { user: 'u' },
      { user: null, clientId: 'c' },
      { user: null, clientId: null },
      { user: null },
      { clientId: 'c' },
      { clientId: null },
    ]);
  });

  it('takes the most specific entity that sets the key, per key', () => {
    const set = records([
      { entity: { clientId: null }, quotas: { producer_byte_rate: 1, consumer_byte_rate: 11 } },
      { entity: { user: null }, quotas: { producer_byte_rate: 2 } },
      { entity: { user: 'u', clientId: 'c' }, quotas: { consumer_byte_rate: 3 } },
    ]);
    expect(resolveQuota(set, 'u', 'c', 'producer_byte_rate')).toEqual({ limit: 2, sharedBy: { user: 'u' } });
    expect(resolveQuota(set, 'u', 'c', 'consumer_byte_rate')).toEqual({
      limit: 3,
      sharedBy: { user: 'u', clientId: 'c' },
    });
    expect(resolveQuota(set, 'v', 'c', 'consumer_byte_rate')).toEqual({ limit: 11, sharedBy: { clientId: 'c' } });
    expect(resolveQuota(records([]), 'u', 'c', 'producer_byte_rate')).toBeUndefined();
  });
});

describe('rate and throttle math', () => {
  it('throttle is (observed − quota) / quota × window, capped at the whole window', () => {
    expect(throttleTimeMs(100, 100, 10_000, 11_000)).toBe(0);
    expect(throttleTimeMs(150, 100, 10_000, 11_000)).toBe(5000);
    expect(throttleTimeMs(1000, 100, 10_000, 11_000)).toBe(11_000);
  });

  it('measures a first burst over at least (num − 1) samples', () => {
    const w = new RateWindow({ samples: 11, sampleMs: 1000 });
    w.record(100_000, 5_000_000);
    expect(w.windowMs(5_000_000)).toBe(10_000);
    expect(w.rate(5_000_000)).toBe(10_000);
    // samples older than the window are forgotten
    expect(w.rate(5_000_000 + 11_000)).toBe(0);
  });

  it('tracks each client id separately under a <default> client quota', () => {
    const t = new QuotaTracker(10, { samples: 2, sampleMs: 1000 });
    t.setRecords([{ entity: { clientId: null }, quotas: { producer_byte_rate: 1000 } }]);
    expect(t.record('producer_byte_rate', 'ANONYMOUS', 'a', 1000, 10_000)?.throttleMs).toBe(0);
    // 2000 bytes over the 1 s minimum window: twice the quota → throttled one window
    expect(t.record('producer_byte_rate', 'ANONYMOUS', 'a', 1000, 10_000)?.throttleMs).toBe(1000);
    expect(t.record('producer_byte_rate', 'ANONYMOUS', 'b', 1000, 10_000)?.throttleMs).toBe(0);
    expect(t.record('consumer_byte_rate', 'ANONYMOUS', 'a', 1000, 10_000)).toBeUndefined();
  });

  it('request_percentage: percent-seconds over the window, throttled at most one sample (Kafka request quota)', () => {
    const t = new QuotaTracker(10, { samples: 11, sampleMs: 1000 });
    t.setRecords([{ entity: { user: 'u' }, quotas: { request_percentage: 50 } }]);
    expect(t.sets('request_percentage')).toBe(true);
    expect(t.sets('producer_byte_rate')).toBe(false);
    // 4 s of one thread (400 percent-seconds) over the 10 s minimum window: 40 % of a thread, under 50 %
    expect(t.record('request_percentage', 'u', 'c', 400, 50_000)?.throttleMs).toBe(0);
    // 6 s: 60 % → (60 − 50) / 50 × 10 s = 2 s, bounded by one 1 s sample (the byte rates' bound is 11 s)
    expect(t.record('request_percentage', 'u', 'c', 200, 50_000)?.throttleMs).toBe(1000);
    // another user has no request quota
    expect(t.record('request_percentage', 'v', 'c', 1000, 50_000)).toBeUndefined();
  });
});
