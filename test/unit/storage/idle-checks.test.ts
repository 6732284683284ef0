/**
 * What an idle broker asks of every log each second must cost no promise and
 * no copy of the log table (issue 20 item 4): the flush check is synchronous,
 * and the scrubber says when a step would do nothing, so its logs are not gathered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/shared/logger.js';
import { LogScrubber } from '../../../src/storage/log-scrubber.js';
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
});
