import { describe, expect, it } from 'vitest';
import { RequestMemoryPool } from '../../../src/server/request-memory-pool.js';
import { AssertionFailure } from '../../../src/shared/assert.js';

const mib = 1024 * 1024;

describe('RequestMemoryPool', () => {
  it('admits reservations up to its capacity and no further', () => {
    const pool = new RequestMemoryPool(8 * mib);
    expect(pool.smallFrameBytes).toBe(64 * 1024); // at most an eighth of the pool, at most 64 KiB
    for (let i = 0; i < 128; i++) expect(pool.tryReserve(64 * 1024)).toBe(true);
    expect(pool.usedBytes).toBe(8 * mib);
    expect(pool.tryReserve(1)).toBe(false);
    pool.release(64 * 1024);
    expect(pool.tryReserve(64 * 1024)).toBe(true);
    expect(pool.tryReserve(1)).toBe(false);
  });

  it('keeps an eighth for small frames: large frames together never take it', () => {
    const pool = new RequestMemoryPool(8 * mib);
    expect(pool.largeFramesBytesMax).toBe(7 * mib);
    expect(pool.tryReserve(4 * mib)).toBe(true);
    expect(pool.tryReserve(3 * mib)).toBe(true);
    // a large frame that would eat into the reserve waits, even one just above the small size ...
    expect(pool.tryReserve(64 * 1024 + 1)).toBe(false);
    // ... while small ones still get in, up to the whole reserve
    for (let i = 0; i < 16; i++) expect(pool.tryReserve(64 * 1024)).toBe(true);
    expect(pool.usedBytes).toBe(8 * mib);
    expect(pool.tryReserve(1)).toBe(false);
    pool.release(4 * mib);
    expect(pool.tryReserve(4 * mib)).toBe(true);
  });

  it('wakes waiters oldest first, and a large waiter that does not fit does not hold up a small one', () => {
    const pool = new RequestMemoryPool(8 * mib);
    expect(pool.tryReserve(7 * mib)).toBe(true); // large frames' whole share
    for (let i = 0; i < 16; i++) expect(pool.tryReserve(64 * 1024)).toBe(true); // the reserve
    const order: string[] = [];
    const waiter = (name: string, bytes: number) => () => {
      const ok = pool.tryReserve(bytes);
      if (ok) order.push(name);
      return ok;
    };
    pool.wait(waiter('large 2 MiB', 2 * mib));
    pool.wait(waiter('small A', 64 * 1024));
    pool.wait(waiter('small B', 64 * 1024));
    expect(pool.waiting).toBe(3);
    pool.release(64 * 1024);
    pool.release(64 * 1024); // room in the reserve: the large one cannot use it, both small ones can
    expect(order).toEqual(['small A', 'small B']);
    expect(pool.waiting).toBe(1);
    pool.release(7 * mib);
    expect(order).toEqual(['small A', 'small B', 'large 2 MiB']);
    expect(pool.waiting).toBe(0);
  });

  it('a cancelled waiter is not called', () => {
    const pool = new RequestMemoryPool(mib * 8);
    expect(pool.tryReserve(8 * mib)).toBe(false); // more than large frames may hold
    expect(pool.tryReserve(7 * mib)).toBe(true);
    let called = 0;
    const retry = (): boolean => {
      called++;
      return true;
    };
    pool.wait(retry);
    pool.cancel(retry);
    pool.release(7 * mib);
    expect(called).toBe(0);
  });

  it('counts stray bytes apart from reservations, and refuses to release what it did not reserve', () => {
    const pool = new RequestMemoryPool(8 * mib);
    pool.addStray(65536);
    expect(pool.strayBytes).toBe(65536);
    expect(pool.usedBytes).toBe(0);
    expect(pool.tryReserve(7 * mib)).toBe(true);
    pool.addStray(-65536);
    expect(pool.strayBytes).toBe(0);
    expect(() => pool.release(8 * mib)).toThrow(AssertionFailure);
    expect(() => pool.addStray(-1)).toThrow(AssertionFailure);
  });
});
