import { afterEach, describe, expect, it } from 'vitest';
import { RequestTimer } from '../../../src/server/request-time.js';

/** Keeps the event loop busy for `ms` (wall clock). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

const timer = new RequestTimer();
afterEach(() => timer.setEnabled(false));

describe('RequestTimer (request_percentage handling time)', () => {
  it('charges a request its synchronous start and its continuations, not the time it waits', async () => {
    timer.setEnabled(true);
    const a = { ms: 0 };
    const b = { ms: 0 };
    const handled = timer.run(a, async () => {
      spin(20);
      // a long poll: waiting costs nothing
      await new Promise((resolve) => setTimeout(resolve, 300));
      spin(20);
      await Promise.resolve();
      spin(20);
    });
    // another request's work while the first one waits is charged to that one only
    await timer.run(b, async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      spin(30);
    });
    await handled;
    expect(a.ms).toBeGreaterThanOrEqual(60);
    expect(a.ms).toBeLessThan(300);
    expect(b.ms).toBeGreaterThanOrEqual(30);
    expect(b.ms).toBeLessThan(60);
  });

  it('measures nothing while disabled', async () => {
    const a = { ms: 0 };
    await timer.run(a, async () => {
      spin(5);
    });
    expect(a.ms).toBe(0);
  });
});
