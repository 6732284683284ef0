/** The client's one check of bounded integer options (src/client/options.ts). */
import { describe, expect, it } from 'vitest';
import { boundedInt } from '../../../src/client/options.js';
import { Sluice } from '../../../src/client/sluice.js';
import { AssertionFailure } from '../../../src/shared/assert.js';
import { ErrorCode } from '../../../src/shared/errors.js';

describe('boundedInt', () => {
  it('returns an integer in range, and the fallback (unchecked) for undefined', () => {
    expect(boundedInt('retries', 0, 0, 5, 3)).toBe(0);
    expect(boundedInt('retries', 5, 0, 5, 3)).toBe(5);
    expect(boundedInt('retries', undefined, 0, 5, 3)).toBe(3);
    expect(boundedInt('heartbeatIntervalMs', undefined, 1, 0, 1)).toBe(1);
  });

  it('refuses anything else with InvalidArgument, naming the option, its range and the value', () => {
    for (const [value, shown] of [
      [-1, '-1'],
      [6, '6'],
      [1.5, '1.5'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [null, 'null'],
      ['2', '2'],
    ] as const) {
      expect(() => boundedInt('retries', value as number, 0, 5, 3), shown).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidArgument,
          message: `retries must be an integer in 0..5, not ${shown}`,
        }),
      );
    }
  });

  it('asserts that its bounds are safe integers (a caller bug)', () => {
    expect(() => boundedInt('x', 1, 0, Number.POSITIVE_INFINITY, 0)).toThrow(AssertionFailure);
  });
});

describe("the consumer's maxWaitMs", () => {
  it('is checked by boundedInt (0..600000); undefined and null mean the default', async () => {
    const sluice = new Sluice({ brokers: '127.0.0.1:1' });
    try {
      for (const bad of [-1, 600_001, 1.5]) {
        expect(() => sluice.consumer({ maxWaitMs: bad }), String(bad)).toThrow(
          expect.objectContaining({
            code: ErrorCode.InvalidArgument,
            message: `maxWaitMs must be an integer in 0..600000, not ${bad}`,
          }),
        );
      }
      for (const ok of [0, 600_000, undefined, null]) {
        const consumer = sluice.consumer({ maxWaitMs: ok as number | undefined });
        await consumer.close();
      }
    } finally {
      await sluice.close();
    }
  });
});
