import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeadershipLog, ranges } from '../../../src/replication/leadership-log.js';
import { createLogger } from '../../../src/shared/logger.js';

interface Entry {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real pino logger at debug whose JSON lines are kept, parsed. */
function capture(): { entries: Entry[]; log: LeadershipLog } {
  const entries: Entry[] = [];
  const destination = {
    write: (s: string) => {
      for (const line of s.split('\n')) if (line !== '') entries.push(JSON.parse(line) as Entry);
    },
  };
  const logger = createLogger('sluice', { level: 'debug', format: 'json', isTty: false, destination });
  return { entries, log: new LeadershipLog(logger, 1_000, 8) };
}

const info = (entries: Entry[]) => entries.filter((e) => e.level === 30);

afterEach(() => {
  vi.useRealTimers();
});

describe('leadership log lines', () => {
  it('a few changes of a topic are logged at once, one line each', () => {
    const { entries, log } = capture();
    for (let p = 0; p < 3; p++) log.record('leading', { topic: 'orders', partition: p, epoch: 0, isr: [0] }, false);
    expect(info(entries).map((e) => [e.msg, e.partition])).toEqual([
      ['leading partition', 0],
      ['leading partition', 1],
      ['leading partition', 2],
    ]);
    log.flush();
    expect(info(entries)).toHaveLength(3);
  });

  it('50 partitions in a second: 8 lines, then one summary naming the other 42', () => {
    vi.useFakeTimers();
    const { entries, log } = capture();
    for (let p = 0; p < 50; p++) log.record('leading', { topic: '__consumer_offsets', partition: p, epoch: 0 }, false);
    expect(info(entries)).toHaveLength(8);
    vi.advanceTimersByTime(1_000);
    const lines = info(entries);
    expect(lines).toHaveLength(9);
    expect(lines[8]).toMatchObject({
      msg: 'leading partitions',
      topic: '__consumer_offsets',
      count: 42,
      partitions: '8-49',
    });
    // every change is still there at debug
    expect(entries.filter((e) => e.level === 20)).toHaveLength(42);
  });

  it('topics and roles have their own windows, and a new window starts after the last one closed', () => {
    vi.useFakeTimers();
    const { entries, log } = capture();
    for (let p = 0; p < 10; p++) {
      log.record('leading', { topic: 'a', partition: p, epoch: 1 }, false);
      log.record('following', { topic: 'a', partition: p, epoch: 1, leader: 2 }, false);
      log.record('leading', { topic: 'b', partition: p, epoch: 1 }, false);
    }
    vi.advanceTimersByTime(1_000);
    const summaries = info(entries).filter((e) => e.msg.endsWith('partitions'));
    expect(summaries.map((e) => [e.msg, e.topic, e.count])).toEqual([
      ['leading partitions', 'a', 2],
      ['following partitions', 'a', 2],
      ['leading partitions', 'b', 2],
    ]);
    log.record('leading', { topic: 'a', partition: 3, epoch: 2 }, false);
    expect(info(entries).at(-1)).toMatchObject({ msg: 'leading partition', topic: 'a', partition: 3, epoch: 2 });
  });

  it('quiet changes (applied at start) go to debug only', () => {
    const { entries, log } = capture();
    log.record('following', { topic: 't', partition: 0, epoch: 0, leader: 1 }, true);
    expect(info(entries)).toEqual([]);
    expect(entries).toHaveLength(1);
  });

  it('ranges', () => {
    expect(ranges([])).toBe('');
    expect(ranges([5])).toBe('5');
    expect(ranges([3, 0, 1, 2, 7, 9, 10, 11, 9])).toBe('0-3,7,9-11');
  });
});
