/** The failed-login delay policy, the lanes that enforce it and the rate-limited login log. */
import { describe, expect, it } from 'vitest';
import { decayedFailures, FailureCounter, failureDelayMs } from '../../../src/http/login-delay.js';
import { LoginLane, type Turn } from '../../../src/http/login-lane.js';
import { loginFailureDelayMsMax, loginFailureDelayMsMin } from '../../../src/shared/limits.js';

describe('failure delay policy', () => {
  it('doubles from the minimum to the cap with each failure', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 50, 1e9].map((n) => failureDelayMs(n, 100, 3200));
    expect(delays).toEqual([0, 100, 200, 400, 800, 1600, 3200, 3200, 3200, 3200]);
    // the shipped bounds: a small first delay, a cap of a few seconds
    expect(loginFailureDelayMsMin).toBeLessThanOrEqual(250);
    expect(loginFailureDelayMsMax).toBeGreaterThanOrEqual(1000);
    expect(loginFailureDelayMsMax).toBeLessThanOrEqual(10_000);
  });

  it('halves a failure count per quiet period', () => {
    expect(decayedFailures(6, 59_999, 60_000)).toBe(6);
    expect(decayedFailures(6, 60_000, 60_000)).toBe(3);
    expect(decayedFailures(6, 120_000, 60_000)).toBe(1);
    expect(decayedFailures(6, 180_000, 60_000)).toBe(0);
    expect(decayedFailures(6, -5, 60_000)).toBe(6);
    expect(decayedFailures(1 << 30, 1e12, 1)).toBe(0);
  });

  it('counts failures per key, decays them and forgets the least recently failed key beyond its bound', () => {
    let now = 0;
    const counter = new FailureCounter(2, 1000, () => now);
    expect(counter.add('a')).toBe(1);
    expect(counter.add('a')).toBe(2);
    expect(counter.add('b')).toBe(1);
    expect(counter.add('a')).toBe(3); // a is now the most recent
    expect(counter.add('c')).toBe(1); // b goes
    expect(counter.size).toBe(2);
    expect(counter.count('b')).toBe(0);
    expect(counter.count('a')).toBe(3);
    now += 1000;
    expect(counter.count('a')).toBe(1);
    expect(counter.add('a')).toBe(2);
    now += 5000;
    expect(counter.count('a')).toBe(0);
    expect(counter.count('c')).toBe(0);
    expect(counter.size).toBe(0);
  });
});

describe('login lane', () => {
  const held = (t: Turn): (() => void) => {
    if (t.kind !== 'held') throw new Error(`expected to hold the lane, got ${t.kind}`);
    return t.release;
  };

  it('lets one attempt hold it at a time and hands it on when released', async () => {
    const lane = new LoginLane({ waitersMax: 4, whenFull: 'drop-heaviest', failuresOf: () => 0 });
    const order: string[] = [];
    const first = held(await lane.acquire('x'));
    const second = lane.acquire('x').then((t) => {
      order.push('second');
      return held(t);
    });
    const third = lane.acquire('y').then((t) => {
      order.push('third');
      return held(t);
    });
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    expect(lane.waiting).toBe(2);
    first();
    first(); // a second release changes nothing
    (await second)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    expect(lane.idle).toBe(true);
  });

  it('serves the waiter from the address with the fewest failures first', async () => {
    const failures = new Map([
      ['attacker', 9],
      ['quiet', 0],
    ]);
    const lane = new LoginLane({ waitersMax: 8, whenFull: 'drop-heaviest', failuresOf: (s) => failures.get(s) ?? 0 });
    const release = held(await lane.acquire('attacker'));
    const served: string[] = [];
    const waits = ['attacker', 'attacker', 'quiet', 'attacker'].map((s) =>
      lane.acquire(s).then((t) => {
        served.push(s);
        held(t)();
      }),
    );
    release();
    await Promise.all(waits);
    expect(served).toEqual(['quiet', 'attacker', 'attacker', 'attacker']);
  });

  it('when full, refuses the newest attempt of the heaviest address, never another address', async () => {
    const lane = new LoginLane({ waitersMax: 3, whenFull: 'drop-heaviest', failuresOf: () => 0 });
    const release = held(await lane.acquire('x'));
    const [flood0, flood1, flood2] = [lane.acquire('x'), lane.acquire('x'), lane.acquire('x')];
    // another x attempt: x holds every waiting place, so the newcomer is the one refused
    expect((await lane.acquire('x')).kind).toBe('refused');
    // an attempt from y takes the place of x's newest
    const fromY = lane.acquire('y');
    expect((await flood2).kind).toBe('refused');
    expect(lane.waiting).toBe(3);
    // y cannot be pushed out by x
    expect((await lane.acquire('x')).kind).toBe('refused');
    release();
    held(await flood0)();
    held(await flood1)();
    held(await fromY)();
    expect(lane.idle).toBe(true);
  });

  it("an address's lane lets attempts beyond its bound go on without it, and closing refuses waiters", async () => {
    const lane = new LoginLane({ waitersMax: 1, whenFull: 'bypass', failuresOf: () => 0 });
    held(await lane.acquire('a'));
    const waiting = lane.acquire('b');
    expect((await lane.acquire('c')).kind).toBe('bypassed');
    lane.close();
    expect((await waiting).kind).toBe('refused');
    expect((await lane.acquire('d')).kind).toBe('refused');
  });
});
