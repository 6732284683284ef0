import { describe, expect, it } from 'vitest';
import { ConnectionQuotas, effectiveMaxConnections } from '../../../src/server/connection-quotas.js';

describe('ConnectionQuotas', () => {
  it('caps connections per address and in all, and frees a slot when one closes', () => {
    const q = new ConnectionQuotas(3, 2);
    expect(q.tryAcquire('10.0.0.1').ok).toBe(true);
    expect(q.tryAcquire('10.0.0.1').ok).toBe(true);
    const perIp = q.tryAcquire('10.0.0.1');
    expect(perIp.ok).toBe(false);
    if (!perIp.ok) expect(perIp.reason).toMatch(/max\.connections\.per\.ip \(2\)/);
    expect(q.tryAcquire('10.0.0.2').ok).toBe(true);
    const total = q.tryAcquire('10.0.0.3');
    expect(total.ok).toBe(false);
    if (!total.ok) expect(total.reason).toMatch(/^max\.connections \(3\)/);
    expect(q.refusedTotal).toBe(2);
    q.release('10.0.0.1');
    expect(q.open).toBe(2);
    expect(q.openFrom('10.0.0.1')).toBe(1);
    expect(q.tryAcquire('10.0.0.3').ok).toBe(true);
    // releasing an address with nothing open changes nothing
    q.release('10.9.9.9');
    expect(q.open).toBe(3);
  });

  it('lowers max.connections to what the open files limit allows', () => {
    expect(effectiveMaxConnections(4096, 20_000)).toEqual({ max: 4096 });
    expect(effectiveMaxConnections(4096, undefined)).toEqual({ max: 4096 });
    const lowered = effectiveMaxConnections(4096, 2048);
    expect(lowered.max).toBe(1024);
    expect(lowered.lowered).toMatch(/open files limit is 2048/);
  });
});
