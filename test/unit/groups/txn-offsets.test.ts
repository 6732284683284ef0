/** Pending transactional offsets (pure bookkeeping): what a marker completes, and what it never touches. */
import { describe, expect, it } from 'vitest';
import { PendingTxnOffsets } from '../../../src/groups/txn-offsets.js';

const value = (offset: number) => ({ offset, metadata: '', commitTimestamp: 1, leaderEpoch: -1 });
const everyGroup = () => true;

describe('pending transactional offsets', () => {
  it("completes only the marker's producer, and only offsets written before the marker", () => {
    const pending = new PendingTxnOffsets();
    pending.add('g', 7, [{ topic: 'a', partition: 0, value: value(5), logOffset: 10 }]);
    pending.add('g', 8, [{ topic: 'a', partition: 1, value: value(6), logOffset: 11 }]);
    pending.add('g', 7, [{ topic: 'a', partition: 2, value: value(9), logOffset: 30 }]);
    expect(pending.count('g')).toBe(3);
    const done = pending.complete(7, 20, everyGroup);
    expect(done).toEqual([{ group: 'g', topic: 'a', partition: 0, value: value(5), logOffset: 10 }]);
    // a marker told again (a replay read it too) ends nothing more
    expect(pending.complete(7, 20, everyGroup)).toEqual([]);
    expect(pending.has('g', 'a', 0)).toBe(false);
    expect(pending.has('g', 'a', 1)).toBe(true);
    expect(pending.has('g', 'a', 2)).toBe(true);
    expect(pending.count('g')).toBe(2);
  });

  it("a later offset of the same producer and partition replaces the earlier; other groups' partitions are left alone", () => {
    const pending = new PendingTxnOffsets();
    pending.add('g', 7, [{ topic: 'a', partition: 0, value: value(5), logOffset: 10 }]);
    expect(
      pending.added('g', 7, [
        { topic: 'a', partition: 0 },
        { topic: 'a', partition: 1 },
      ]),
    ).toBe(1);
    pending.add('g', 7, [{ topic: 'a', partition: 0, value: value(8), logOffset: 12 }]);
    pending.add('h', 7, [{ topic: 'a', partition: 0, value: value(1), logOffset: 13 }]);
    expect(pending.count('g')).toBe(1);
    const done = pending.complete(7, 50, (group) => group === 'g');
    expect(done.map((d) => d.value.offset)).toEqual([8]);
    expect(pending.has('h', 'a', 0)).toBe(true);
    expect(pending.groups()).toEqual(['h']);
  });

  it('drops a partition for every producer (a tombstone), and forgets whole groups', () => {
    const pending = new PendingTxnOffsets();
    pending.add('g', 7, [{ topic: 'a', partition: 0, value: value(5), logOffset: 10 }]);
    pending.add('g', 8, [
      { topic: 'a', partition: 0, value: value(6), logOffset: 11 },
      { topic: 'b', partition: 0, value: value(6), logOffset: 11 },
    ]);
    expect([...pending.keys('g')].length).toBe(2);
    pending.dropKey('g', 'a', 0);
    expect(pending.has('g', 'a', 0)).toBe(false);
    expect(pending.count('g')).toBe(1);
    pending.forget((group) => group === 'g');
    expect(pending.count('g')).toBe(0);
    expect(pending.groups()).toEqual([]);
  });
});
