/** The fault plan: one seed gives one plan, every kind of fault comes up, and targets stay in range. */
import { describe, expect, it } from 'vitest';
import { faultKinds, holdMsMax, holdMsMin, planFaults } from './fault-plan.js';

describe('fault plan', () => {
  it('replays exactly from its seed and differs between seeds', () => {
    expect(planFaults(42, 10, 8, 3)).toEqual(planFaults(42, 10, 8, 3));
    expect(planFaults(42, 10, 8, 3)).not.toEqual(planFaults(43, 10, 8, 3));
  });

  it('draws every kind of fault, with targets and durations in range', () => {
    const plan = planFaults(7, 200, 8, 3);
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(faultKinds));
    for (const f of plan) {
      expect(f.target).toBeGreaterThanOrEqual(0);
      expect(f.target).toBeLessThan(f.kind === 'pause' ? 3 : 8);
      expect(f.holdMs).toBeGreaterThanOrEqual(holdMsMin);
      expect(f.holdMs).toBeLessThanOrEqual(holdMsMax);
    }
    expect(plan.map((f) => f.round)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});
