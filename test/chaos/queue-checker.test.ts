/**
 * The queue checker on synthetic histories: a clean one passes, and each
 * kind of failure (loss, a redelivery after an acknowledgement, an
 * unflagged redelivery, a dead letter before its limit, a transacted commit
 * that kept the acknowledgement but not the send) is found.
 */
import { describe, expect, it } from 'vitest';
import type { QueueEvent } from './events.js';
import { QueueChecker } from './queue-checker.js';
import { failedChecks } from './verdict.js';

const t = 0;
/** The offset of message `q<n>`: n (a second copy is given another offset explicitly). */
const at = (id: string): number => Number(id.slice(1));
const send = (id: string, queue = 'in', offset = at(id)): QueueEvent => ({ ev: 'send', t, queue, id, offset });
const deliver = (id: string, count: number, redelivered = count > 1, queue = 'in', offset = at(id)): QueueEvent => ({
  ev: 'deliver',
  t,
  queue,
  id,
  offset,
  via: 'listener',
  count,
  redelivered,
});
const ack = (id: string, queue = 'in', offset = at(id)): QueueEvent => ({
  ev: 'ack',
  t,
  queue,
  id,
  offset,
  via: 'listener',
});
const remaining = (id: string, dlq: boolean, queue = 'in', offset = at(id)): QueueEvent => ({
  ev: 'remaining',
  t,
  queue,
  id,
  offset,
  dlq,
  deliveryCount: 0,
});

function check(events: QueueEvent[], maxRedeliveries = 6) {
  const c = new QueueChecker(maxRedeliveries);
  for (const e of events) c.event(e);
  return c.finish();
}

describe('queue checker', () => {
  it('passes a clean history: acknowledged, released and redelivered flagged, left in the queue', () => {
    const f = check([
      send('q1'),
      send('q2'),
      send('q3'),
      deliver('q1', 1),
      ack('q1'),
      deliver('q2', 1),
      { ev: 'release', t, queue: 'in', id: 'q2', offset: 2, via: 'listener' },
      deliver('q2', 2),
      ack('q2'),
      remaining('q3', false),
    ]);
    expect(f).toMatchObject({ sent: 3, acknowledged: 2, remaining: 1, lost: 0, ackedThenRedelivered: 0 });
    expect(f).toMatchObject({ unflaggedRedeliveries: 0, dlqBeforeLimit: 0 });
    expect(failedChecks(undefined, f)).toEqual([]);
  });

  it('finds a sent message that was never acknowledged nor left anywhere', () => {
    const f = check([send('q1'), send('q2'), deliver('q1', 1), ack('q1'), deliver('q2', 1)]);
    expect(f.lost).toBe(1);
    expect(f.examples.lost?.[0]).toContain('in/q2');
    expect(failedChecks(undefined, f)).toContain('queueLost');
  });

  it('finds a delivery after a successful acknowledgement, and an acknowledged message still queued', () => {
    const f = check([
      send('q1'),
      send('q2'),
      deliver('q1', 1),
      ack('q1'),
      deliver('q1', 2),
      deliver('q2', 1),
      ack('q2'),
      remaining('q2', false),
    ]);
    expect(f.ackedThenRedelivered).toBe(2);
    expect(failedChecks(undefined, f)).toContain('ackedThenRedelivered');
  });

  it('tells a second copy of an id (a retried send) from a redelivery', () => {
    // q1 stored twice, at offsets 1 and 7: each copy delivered once and acknowledged
    const f = check([send('q1'), deliver('q1', 1), ack('q1'), deliver('q1', 1, false, 'in', 7), ack('q1', 'in', 7)]);
    expect(f).toMatchObject({ duplicateCopies: 1, ackedThenRedelivered: 0, unflaggedRedeliveries: 0, ackedTwice: 0 });
    expect(failedChecks(undefined, f)).toEqual([]);
  });

  it('counts a message two consumers acknowledged', () => {
    const twice: QueueEvent = { ev: 'ack', t, queue: 'in', id: 'q1', offset: 1, via: 'receiver' };
    const f = check([send('q1'), deliver('q1', 1), deliver('q1', 1), ack('q1'), twice]);
    expect(f).toMatchObject({ ackedTwice: 1, unflaggedRedeliveries: 1 });
  });

  it('finds a redelivery with delivery count 1 or redelivered false', () => {
    const f = check([
      send('q1'),
      send('q2'),
      deliver('q1', 1),
      deliver('q1', 1, false),
      ack('q1'),
      deliver('q2', 1),
      deliver('q2', 2, false),
      ack('q2'),
    ]);
    expect(f.unflaggedRedeliveries).toBe(2);
    expect(failedChecks(undefined, f)).toContain('unflaggedRedeliveries');
  });

  it("judges redeliveries by the broker's counts, not by the order two consumers logged them", () => {
    // the first delivery (count 1, to a transacted receiver whose connection then broke) was logged 16 ms
    // after the flagged second one (count 2, to a listener): chaos seed 20 before this rule
    const f = check([send('q1'), deliver('q1', 2, true), deliver('q1', 1, false), ack('q1')]);
    expect(f.unflaggedRedeliveries).toBe(0);
    // two first deliveries, in either order, are still one unflagged redelivery
    const twice = check([send('q2'), deliver('q2', 2, true), deliver('q2', 1, false), deliver('q2', 1, false)]);
    expect(twice.unflaggedRedeliveries).toBe(1);
  });

  it('finds a dead letter that reached the DLQ with fewer deliveries than its limit', () => {
    const events: QueueEvent[] = [send('q1'), send('q2')];
    for (let n = 1; n <= 3; n++) events.push(deliver('q1', n));
    for (let n = 1; n <= 4; n++) events.push(deliver('q2', n));
    events.push(remaining('q1', true), remaining('q2', true));
    const f = check(events, 3);
    expect(f).toMatchObject({ deadLettered: 2, dlqBeforeLimit: 1, lost: 0 });
    expect(f.examples.dlqBeforeLimit?.[0]).toContain('q1');
  });

  it('tells a failed transacted commit that took effect from one that lost the input', () => {
    const base: QueueEvent[] = [send('q1'), send('q2'), deliver('q1', 1), deliver('q2', 1)];
    const rollback: QueueEvent = { ev: 'rollback', t, from: 'in', to: 'out', ids: ['q1', 'q2'], error: 'timeout' };
    // q1's copy reached out (the commit took effect); q2's acknowledgement was stored, its copy never written
    const f = check([...base, rollback, deliver('q1', 1, false, 'out'), ack('q1', 'out')]);
    expect(f.lost).toBe(1);
    expect(f.examples.lost?.[0]).toContain('in/q2');
    const committed: QueueEvent = {
      ev: 'commit',
      t,
      from: 'in',
      to: 'out',
      acked: ['q1', 'q2'],
      ackedOffsets: [1, 2],
      sent: ['q1', 'q2'],
    };
    const g = check([...base, committed, deliver('q1', 1, false, 'out'), ack('q1', 'out')]);
    expect(g.lost).toBe(1);
    expect(g.examples.lost?.[0]).toContain('out/q2');
  });

  it('counts a message whose acknowledgement failed and that is gone as unknown, not lost', () => {
    const f = check([
      send('q1'),
      deliver('q1', 1),
      { ev: 'ack-fail', t, queue: 'in', id: 'q1', offset: 1, via: 'receiver', error: 'x' },
    ]);
    expect(f).toMatchObject({ lost: 0, ackOutcomeUnknown: 1 });
  });
});
