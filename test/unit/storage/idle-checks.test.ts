/**
 * What an idle broker asks of every log each second must cost no promise and
 * no copy of the log table (issue 20 item 4): the flush check is synchronous,
 * and the scrubber says when a step would do nothing, so its logs are not gathered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/shared/logger.js';
import { LogManager } from '../../../src/storage/log-manager.js';
import { LogScrubber } from '../../../src/storage/log-scrubber.js';
import { pollUntil } from '../../helpers/poll.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);

describe('idle checks', () => {
  it('flushDue: only when records wait and log.flush.interval.ms has passed; flushDue flushes exactly those', async () => {
    const manager = await fx.open(fx.dir(), { flushIntervalMs: 1_000 });
    const written = await manager.getOrCreate('t', 0);
    const quiet = await manager.getOrCreate('t', 1);
    await written.append(testBatch('a', 3, 1_000));
    const later = Date.now() + 60_000;
    expect(written.flushDue(later)).toBe(true);
    expect(quiet.flushDue(later)).toBe(false);
    await manager.flushDue(later);
    expect(written.flushDue(later)).toBe(false);
  });

  it('a scrubber rests between passes and not before its first or during one', () => {
    const scrubber = new LogScrubber(
      { bytesPerSecond: 1 << 20, passIntervalMs: 60_000, onCorrupt: () => undefined },
      silentLogger,
    );
    expect(scrubber.resting(1_000)).toBe(false);
    // a pass over no logs ends at once: the next is due a pass interval later
    scrubber.step(new Map(), 1_000);
    expect(scrubber.resting(2_000)).toBe(true);
    expect(scrubber.resting(61_000)).toBe(false);
  });

  it('a resting scrubber is next due when its next pass is, not a step later (one timer between passes)', () => {
    const scrubber = new LogScrubber(
      { bytesPerSecond: 1 << 20, passIntervalMs: 60_000, onCorrupt: () => undefined },
      silentLogger,
    );
    // before the first pass and during one: a step every intervalMs
    expect(scrubber.nextStepInMs(1_000)).toBe(scrubber.intervalMs);
    scrubber.step(new Map(), 1_000);
    // between passes: the time left until the next one
    expect(scrubber.nextStepInMs(1_000)).toBe(60_000);
    expect(scrubber.nextStepInMs(31_000)).toBe(30_000);
    // the pass due (or nearly): never sooner than a step
    expect(scrubber.nextStepInMs(60_990)).toBe(scrubber.intervalMs);
    expect(scrubber.nextStepInMs(61_000)).toBe(scrubber.intervalMs);
  });

  it("a log manager's scrubber goes on pass after pass on its own timer, and stops with the manager", async () => {
    const steps: number[] = [];
    let bytes = 0;
    const manager = await LogManager.open({
      logDirs: [fx.dir()],
      config: { segmentBytes: 400 },
      retentionCheckIntervalMs: 0,
      scrub: {
        bytesPerSecond: 1 << 30,
        passIntervalMs: 50,
        onCorrupt: () => undefined,
        scrubbed: (n) => {
          bytes += n;
          steps.push(n);
        },
      },
    });
    try {
      const log = await manager.getOrCreate('t', 0);
      for (let i = 0; i < 6; i++) await log.append(testBatch(`b${i}`, 2, 1_000 + i));
      const closed = log.closedSegments().reduce((n, seg) => n + seg.size, 0);
      expect(closed).toBeGreaterThan(0);
      // three passes over the closed segments at least: the timer went on after each rest
      await pollUntil('three scrub passes', 30_000, async () => (bytes >= 3 * closed ? true : undefined), 20);
    } finally {
      await manager.close();
    }
    const after = steps.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(steps.length).toBe(after);
  });
});
