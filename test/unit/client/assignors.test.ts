/** The partition assignors: balanced, deterministic, every partition exactly once, subscriptions respected. */
import { describe, expect, it } from 'vitest';
import {
  type Assignor,
  builtinAssignor,
  type GroupMember,
  rangeAssignor,
  roundRobinAssignor,
  stickyAssignor,
} from '../../../src/client/assignors/index.js';
import type { TopicPartitions } from '../../../src/protocol/native/consumer-protocol.js';

const member = (memberId: string, topics: string[], owned: TopicPartitions[] = []): GroupMember => ({
  memberId,
  subscription: { version: 0, topics, ownedPartitions: owned },
});

const flat = (a: Map<string, TopicPartitions[]>): string[] =>
  [...a.values()].flatMap((tps) => tps.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`)));

const count = (a: Map<string, TopicPartitions[]>, memberId: string): number =>
  (a.get(memberId) ?? []).reduce((n, tp) => n + tp.partitions.length, 0);

const all: Assignor[] = [rangeAssignor, roundRobinAssignor, stickyAssignor];

describe.each(all.map((a) => [a.name, a] as const))('%s assignor', (_name, assignor) => {
  it('gives every partition exactly once, balanced within one', () => {
    const members = ['c', 'a', 'b'].map((id) => member(id, ['t']));
    const result = assignor.assign(members, new Map([['t', 10]]));
    const got = flat(result);
    expect(got.length).toBe(10);
    expect(new Set(got).size).toBe(10);
    const counts = ['a', 'b', 'c'].map((id) => count(result, id));
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(10);
  });

  it('is deterministic whatever the order of members', () => {
    const members = ['m1', 'm2', 'm3', 'm4'].map((id) => member(id, ['x', 'y']));
    const parts = new Map([
      ['x', 5],
      ['y', 3],
    ]);
    const one = assignor.assign(members, parts);
    const two = assignor.assign([...members].reverse(), new Map([...parts].reverse()));
    for (const id of ['m1', 'm2', 'm3', 'm4']) expect(two.get(id)).toEqual(one.get(id));
  });

  it('leaves some members empty when there are more members than partitions', () => {
    const members = ['a', 'b', 'c', 'd', 'e'].map((id) => member(id, ['t']));
    const result = assignor.assign(members, new Map([['t', 2]]));
    expect(result.size).toBe(5);
    expect(flat(result).sort()).toEqual(['t-0', 't-1']);
    expect(['a', 'b', 'c', 'd', 'e'].filter((id) => count(result, id) === 0).length).toBe(3);
    for (const id of ['a', 'b', 'c', 'd', 'e']) expect(count(result, id)).toBeLessThanOrEqual(1);
  });

  it('respects different subscriptions and skips unknown or unsubscribed topics', () => {
    const members = [member('a', ['x']), member('b', ['x', 'y']), member('c', ['y', 'missing'])];
    const result = assignor.assign(
      members,
      new Map([
        ['x', 4],
        ['y', 4],
        ['z', 3],
      ]),
    );
    const got = flat(result);
    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual(['x-0', 'x-1', 'x-2', 'x-3', 'y-0', 'y-1', 'y-2', 'y-3']);
    for (const tp of result.get('a') ?? []) expect(tp.topic).toBe('x');
    for (const tp of result.get('c') ?? []) expect(tp.topic).toBe('y');
    expect(count(result, 'a')).toBeGreaterThan(0);
    expect(count(result, 'c')).toBeGreaterThan(0);
  });

  it('handles no members and no partitions', () => {
    expect(assignor.assign([], new Map([['t', 3]])).size).toBe(0);
    const result = assignor.assign([member('a', ['t'])], new Map());
    expect(result.get('a')).toEqual([]);
  });

  it('sorts partitions within a topic and topics by name', () => {
    const result = assignor.assign(
      [member('a', ['b-topic', 'a-topic'])],
      new Map([
        ['b-topic', 3],
        ['a-topic', 2],
      ]),
    );
    expect(result.get('a')).toEqual([
      { topic: 'a-topic', partitions: [0, 1] },
      { topic: 'b-topic', partitions: [0, 1, 2] },
    ]);
  });
});

describe('range assignor', () => {
  it("gives consecutive ranges per topic, the first members one more (Kafka's layout)", () => {
    const result = rangeAssignor.assign(
      [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
      new Map([['t', 7]]),
    );
    expect(result.get('a')).toEqual([{ topic: 't', partitions: [0, 1, 2] }]);
    expect(result.get('b')).toEqual([{ topic: 't', partitions: [3, 4] }]);
    expect(result.get('c')).toEqual([{ topic: 't', partitions: [5, 6] }]);
  });
});

describe('round-robin assignor', () => {
  it('deals partitions of all topics in turn', () => {
    const result = roundRobinAssignor.assign(
      [member('a', ['t', 'u']), member('b', ['t', 'u'])],
      new Map([
        ['t', 3],
        ['u', 3],
      ]),
    );
    expect(result.get('a')).toEqual([
      { topic: 't', partitions: [0, 2] },
      { topic: 'u', partitions: [1] },
    ]);
    expect(result.get('b')).toEqual([
      { topic: 't', partitions: [1] },
      { topic: 'u', partitions: [0, 2] },
    ]);
  });
});

describe('sticky assignor', () => {
  it('keeps owned partitions when a member joins, moving only what balance needs', () => {
    const parts = new Map([['t', 6]]);
    const first = stickyAssignor.assign([member('a', ['t']), member('b', ['t'])], parts);
    const next = stickyAssignor.assign(
      [member('a', ['t'], first.get('a')), member('b', ['t'], first.get('b')), member('c', ['t'])],
      parts,
    );
    expect(count(next, 'a')).toBe(2);
    expect(count(next, 'b')).toBe(2);
    expect(count(next, 'c')).toBe(2);
    const kept = (id: string): number => {
      const before = new Set(flat(new Map([[id, first.get(id) ?? []]])));
      return flat(new Map([[id, next.get(id) ?? []]])).filter((x) => before.has(x)).length;
    };
    expect(kept('a')).toBe(2);
    expect(kept('b')).toBe(2);
  });

  it('gives a leaving member’s partitions to the others and keeps the rest', () => {
    const parts = new Map([['t', 6]]);
    const first = stickyAssignor.assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], parts);
    const next = stickyAssignor.assign([member('a', ['t'], first.get('a')), member('b', ['t'], first.get('b'))], parts);
    expect(flat(next).sort()).toEqual(['t-0', 't-1', 't-2', 't-3', 't-4', 't-5']);
    for (const id of ['a', 'b']) {
      for (const tp of first.get(id) ?? []) {
        for (const p of tp.partitions) expect(flat(new Map([[id, next.get(id) ?? []]]))).toContain(`t-${p}`);
      }
    }
  });

  it('ignores owned partitions claimed twice or no longer existing', () => {
    const result = stickyAssignor.assign(
      [
        member('a', ['t'], [{ topic: 't', partitions: [0, 1, 9] }]),
        member('b', ['t'], [{ topic: 't', partitions: [0] }]),
      ],
      new Map([['t', 2]]),
    );
    expect(flat(result).sort()).toEqual(['t-0', 't-1']);
    expect(count(result, 'a')).toBe(1);
    expect(count(result, 'b')).toBe(1);
  });
});

describe('builtinAssignor', () => {
  it('finds the built-ins by their protocol names', () => {
    expect(builtinAssignor('range')).toBe(rangeAssignor);
    expect(builtinAssignor('roundrobin')).toBe(roundRobinAssignor);
    expect(builtinAssignor('sticky')).toBe(stickyAssignor);
    expect(builtinAssignor('nope')).toBeUndefined();
  });
});
