/**
 * QueueState's counters only grow (asserted: a negative move is a bug): they
 * count what was enqueued, acknowledged and dead-lettered, and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { QueueState } from '../../../src/queues/queue-state.js';
import { AssertionFailure } from '../../../src/shared/assert.js';

describe('queue state counters', () => {
  it('count messages in and out, never by a negative or fractional amount', () => {
    const state = new QueueState();
    for (let offset = 0; offset < 4; offset++) state.addMessage(offset, Number.POSITIVE_INFINITY);
    const [a, b, c] = [0, 1, 2].map((o) => state.pending.get(o)).filter((e) => e !== undefined);
    if (!a || !b || !c) throw new Error('entries missing');
    state.beginLeaving([a, b]);
    state.finishLeaving([a, b], 'ack');
    state.beginLeaving([c]);
    state.finishLeaving([c], 'dlq');
    state.count('expired', 5); // counted nowhere
    expect(state.counters).toEqual({ enqueued: 4, dequeued: 2, deadLettered: 1 });
    expect(state.size).toBe(1);
    expect(() => state.count('ack', -1)).toThrow(AssertionFailure);
    expect(() => state.count('dlq', 0.5)).toThrow(AssertionFailure);
    expect(state.counters).toEqual({ enqueued: 4, dequeued: 2, deadLettered: 1 });
  });
});
