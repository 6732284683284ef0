/**
 * The warning log of refused requests is bounded: a flood of malformed
 * requests writes at most refusedRequestWarningsPerInterval lines per
 * interval, then one line counting the rest; never a stack.
 */
import { describe, expect, it } from 'vitest';
import { RefusedRequests } from '../../../src/server/refused-requests.js';
import { refusedRequestWarningIntervalMs, refusedRequestWarningsPerInterval } from '../../../src/shared/limits.js';
import type { Logger } from '../../../src/shared/logger.js';

function recordingLogger(): { logger: Logger; lines: { level: string; fields: object; msg: string }[] } {
  const lines: { level: string; fields: object; msg: string }[] = [];
  const at =
    (level: string) =>
    (fields: object, msg: string): void => {
      lines.push({ level, fields, msg });
    };
  return { logger: { warn: at('warn'), error: at('error') } as unknown as Logger, lines };
}

describe('refused request warnings', () => {
  const refusal = { listener: 'native' as const, api: 'Produce', clientId: 'c', reason: 'topics[0] must be a map' };

  it('logs each refusal as one warning without a stack, up to the bound per interval', () => {
    let now = 1000;
    const { logger, lines } = recordingLogger();
    const refused = new RefusedRequests(logger, () => now);
    for (let i = 0; i < 10_000; i++) refused.refused(refusal);
    expect(lines).toHaveLength(refusedRequestWarningsPerInterval);
    expect(lines.every((l) => l.level === 'warn' && l.msg === 'malformed request refused')).toBe(true);
    expect(lines[0]?.fields).toEqual(refusal);
    expect(JSON.stringify(lines)).not.toContain('stack');

    now += refusedRequestWarningIntervalMs;
    refused.refused(refusal);
    expect(lines[refusedRequestWarningsPerInterval]).toEqual({
      level: 'warn',
      fields: { suppressed: 10_000 - refusedRequestWarningsPerInterval, windowMs: refusedRequestWarningIntervalMs },
      msg: 'more malformed requests were refused than logged',
    });
    expect(lines).toHaveLength(refusedRequestWarningsPerInterval + 2);
  });
});
