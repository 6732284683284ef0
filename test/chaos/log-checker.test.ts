/**
 * The log checker on synthetic inputs: a clean history passes, and each kind
 * of failure (loss, wrong offset, duplicate, reordering, divergent replicas,
 * a dirty group read, a record never delivered to the group, a stall without
 * acknowledgements) is found and counted — a checker that cannot fail would
 * prove nothing.
 */
import { describe, expect, it } from 'vitest';
import type { LogRecord, ProducerEvent } from './events.js';
import { compareReplicas, LogChecker } from './log-checker.js';
import { failedChecks } from './verdict.js';

const ack = (producer: string, seq: number, partition: number, offset: number, t = 1000 + seq): ProducerEvent => ({
  ev: 'ack',
  t,
  producer,
  seq,
  partition,
  offset,
});
const rec = (partition: number, offset: number, value: string | null): LogRecord => ({ partition, offset, value });

/** p1 writes 0..3 to partition 0 (offsets 0..3), p2 writes 0..1 to partition 1. */
function cleanHistory(): { acks: ProducerEvent[]; log: LogRecord[] } {
  return {
    acks: [
      ack('p1', 0, 0, 0),
      ack('p1', 1, 0, 1),
      ack('p2', 0, 1, 0),
      ack('p1', 2, 0, 2),
      ack('p2', 1, 1, 1),
      ack('p1', 3, 0, 3),
    ],
    log: [
      rec(0, 0, 'p1:0'),
      rec(0, 1, 'p1:1'),
      rec(0, 2, 'p1:2'),
      rec(0, 3, 'p1:3'),
      rec(1, 0, 'p2:0'),
      rec(1, 1, 'p2:1'),
    ],
  };
}

function check(acks: ProducerEvent[], log: LogRecord[], group: LogRecord[] = log, loadEnd?: number) {
  const c = new LogChecker();
  for (const a of acks) c.producerEvent(a);
  for (const r of log) c.logRecord(r);
  for (const d of group) c.groupDelivery({ ...d, t: 0 });
  return c.finish(loadEnd);
}

describe('log checker', () => {
  it('passes a clean history', () => {
    const { acks, log } = cleanHistory();
    const f = check(acks, log);
    expect(f).toMatchObject({ acknowledged: 6, lost: 0, wrongOffset: 0, duplicated: 0, reordered: 0, divergent: 0 });
    expect(f).toMatchObject({ groupDelivered: 6, groupMissed: 0, groupReadDiverged: 0 });
    expect(failedChecks(f, undefined)).toEqual([]);
  });

  it('counts an acknowledged record missing from the log as lost', () => {
    const { acks, log } = cleanHistory();
    const f = check(
      acks,
      log.filter((r) => r.value !== 'p1:3'),
    );
    expect(f.lost).toBe(1);
    expect(f.examples.lost?.[0]).toContain('p1:3');
    expect(failedChecks(f, undefined)).toContain('lost');
  });

  it('does not count an unacknowledged record missing from the log', () => {
    const { acks, log } = cleanHistory();
    const f = check(
      [...acks.slice(0, -1), { ev: 'fail', t: 2000, producer: 'p1', seq: 3, partition: 0, error: 'timeout' }],
      log.filter((r) => r.value !== 'p1:3'),
    );
    expect(f).toMatchObject({ lost: 0, unacknowledged: 1, acknowledged: 5 });
  });

  it('finds an acknowledged offset that holds another record', () => {
    const { acks, log } = cleanHistory();
    // p1:1 acknowledged at 0/1, stored at 0/4 behind a foreign record
    const moved = [...log.filter((r) => r.value !== 'p1:1' && r.partition === 0), rec(0, 4, 'p1:1')];
    moved.splice(1, 0, rec(0, 1, 'other'));
    const f = check(acks, [...moved, ...log.filter((r) => r.partition === 1)]);
    expect(f.wrongOffset).toBe(1);
    expect(f.lost).toBe(0);
    expect(failedChecks(f, undefined)).toContain('wrongOffset');
  });

  it('finds a duplicate in the log', () => {
    const { acks, log } = cleanHistory();
    const f = check(acks, [...log.slice(0, 4), rec(0, 4, 'p1:2'), ...log.slice(4)]);
    expect(f.duplicated).toBe(1);
    expect(f.reordered).toBe(0);
    expect(failedChecks(f, undefined)).toContain('duplicated');
  });

  it('finds records of one producer stored out of sequence order', () => {
    const { acks, log } = cleanHistory();
    const swapped = [rec(0, 0, 'p1:0'), rec(0, 1, 'p1:2'), rec(0, 2, 'p1:1'), rec(0, 3, 'p1:3'), ...log.slice(4)];
    const f = check(acks, swapped);
    expect(f.reordered).toBe(1);
    expect(failedChecks(f, undefined)).toContain('reordered');
  });

  it('does not call interleaved producers on one partition reordered', () => {
    const acks = [ack('a', 0, 0, 0), ack('b', 0, 0, 1), ack('a', 1, 0, 2), ack('b', 1, 0, 3)];
    const log = [rec(0, 0, 'a:0'), rec(0, 1, 'b:0'), rec(0, 2, 'a:1'), rec(0, 3, 'b:1')];
    expect(check(acks, log).reordered).toBe(0);
  });

  it('finds a group delivery the final log contradicts and an acknowledged record never delivered', () => {
    const { acks, log } = cleanHistory();
    const group = [
      rec(0, 0, 'p1:0'),
      rec(0, 1, 'ghost'),
      rec(0, 2, 'p1:2'),
      rec(0, 3, 'p1:3'),
      rec(1, 0, 'p2:0'),
      rec(1, 1, 'p2:1'),
    ];
    const f = check(acks, log, group);
    expect(f.groupReadDiverged).toBe(1);
    expect(f.groupMissed).toBe(1);
    expect(f.examples.groupMissed?.[0]).toContain('p1:1');
    expect(failedChecks(f, undefined)).toEqual(expect.arrayContaining(['groupReadDiverged', 'groupMissed']));
  });

  it('measures the longest time without an acknowledgement, up to the end of the load', () => {
    const acks = [ack('p', 0, 0, 0, 1000), ack('p', 1, 0, 1, 1100), ack('q', 0, 1, 0, 4100), ack('p', 2, 0, 2, 4200)];
    const log = [rec(0, 0, 'p:0'), rec(0, 1, 'p:1'), rec(0, 2, 'p:2'), rec(1, 0, 'q:0')];
    expect(check(acks, log)).toMatchObject({ longestNoAckMs: 3000, longestNoAckFrom: 1100, longestNoAckTo: 4100 });
    expect(check(acks, log, log, 9200)).toMatchObject({ longestNoAckMs: 5000, longestNoAckFrom: 4200 });
  });

  it('refuses a log read out of offset order and acknowledgements fed after the log', () => {
    const c = new LogChecker();
    c.logRecord(rec(0, 5, 'p:0'));
    expect(() => c.logRecord(rec(0, 5, 'p:1'))).toThrow(/offset 5 read after 5/);
    expect(() => c.producerEvent(ack('p', 0, 0, 5))).toThrow(/acks after log/);
  });
});

describe('replica comparison', () => {
  const copy = (broker: number, values: string[]) => ({
    broker,
    records: values.map((digest, offset) => ({ offset, digest })),
  });

  it('finds no divergence in identical copies below the high watermark, whatever lies above it', () => {
    const c = compareReplicas(0, 3, [
      copy(1, ['a', 'b', 'c', 'd']),
      copy(2, ['a', 'b', 'c']),
      copy(3, ['a', 'b', 'c', 'x']),
    ]);
    expect(c.divergentOffsets).toBe(0);
  });

  it('counts offsets where a copy differs or lacks the record', () => {
    const c = compareReplicas(4, 4, [
      copy(1, ['a', 'b', 'c', 'd']),
      copy(2, ['a', 'B', 'c', 'd']),
      copy(3, ['a', 'b', 'c']),
    ]);
    expect(c.divergentOffsets).toBe(2);
    expect(c.examples[0]).toContain('4/1');
    expect(c.examples[1]).toContain('broker 3 missing');
    const f = new LogChecker();
    f.replicaComparison(c);
    expect(failedChecks(f.finish(), undefined)).toContain('divergent');
  });
});
