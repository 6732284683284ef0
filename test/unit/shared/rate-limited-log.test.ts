/**
 * One bounded log for every line a client can provoke (refused connections,
 * malformed requests, failed logins): a few lines per window, then one line
 * counting the rest, written by timer or at the next line, and on flush().
 */
import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../../src/shared/logger.js';
import { RateLimitedLog } from '../../../src/shared/rate-limited-log.js';
import { capturingLogger } from '../../helpers/capturing-logger.js';

describe('RateLimitedLog', () => {
  it('logs a few lines per window and one line with the count of the rest when the window ends', () => {
    vi.useFakeTimers();
    try {
      const lines: { fields: unknown; msg: string }[] = [];
      const log = { warn: (fields: unknown, msg: string) => lines.push({ fields, msg }) } as unknown as Logger;
      let now = 0;
      const w = new RateLimitedLog(
        log,
        { linesPerWindow: 2, windowMs: 1000, summary: 'connection refused (more, not logged one by one)' },
        () => now,
      );
      for (let i = 0; i < 10; i++) w.warn({ i }, 'connection refused');
      expect(lines).toHaveLength(2);
      vi.advanceTimersByTime(1000);
      expect(lines).toHaveLength(3);
      expect(lines[2]).toEqual({
        fields: { suppressed: 8, windowMs: 1000 },
        msg: 'connection refused (more, not logged one by one)',
      });
      now = 1500;
      w.warn({ i: 10 }, 'connection refused');
      expect(lines).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes the summary before the first line of the next window, and on flush()', () => {
    let now = 0;
    const { logger, lines } = capturingLogger();
    const log = new RateLimitedLog(
      logger,
      { linesPerWindow: 3, windowMs: 1000, summary: 'login attempts not logged one by one (log rate limit)' },
      () => now,
    );
    for (let i = 0; i < 10; i++) log.warn({ i }, 'failed login');
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2]);
    now = 1000;
    log.info({ i: 10 }, 'login after failed attempts');
    expect(lines.map((l) => [l.msg, l.suppressed ?? l.i])).toEqual([
      ['failed login', 0],
      ['failed login', 1],
      ['failed login', 2],
      ['login attempts not logged one by one (log rate limit)', 7],
      ['login after failed attempts', 10],
    ]);
    log.warn({ i: 11 }, 'failed login');
    log.warn({ i: 12 }, 'failed login');
    log.warn({ i: 13 }, 'failed login');
    log.flush();
    expect(lines.at(-1)).toMatchObject({ suppressed: 1 });
  });
});
