/**
 * LogFlusher (log-flusher.ts) on real segment files: a flush moves the
 * recovery point to the log end and persists it, flushes run one after
 * another, the interval checks, and a failed fsync reaches the failure hook.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LogFlusher } from '../../../src/storage/log-flusher.js';
import { SegmentList } from '../../../src/storage/segment-list.js';
import { storageFixture } from '../../helpers/storage.js';
import { segmentBuilder } from './segment-builders.js';

const fx = storageFixture(afterEach);
const builder = segmentBuilder(afterEach);
afterEach(() => vi.restoreAllMocks());

function flusher() {
  const dir = fx.dir();
  const list = new SegmentList([builder.create(dir, 0, [2]), builder.create(dir, 2, [3])], 0, 0);
  const persisted: number[] = [];
  const failures: unknown[] = [];
  const f = new LogFlusher(list, {
    persist: async () => {
      persisted.push(list.recoveryPoint);
    },
    failed: (err) => failures.push(err),
  });
  return { list, f, persisted, failures };
}

describe('LogFlusher', () => {
  it('moves the recovery point to the log end and persists it, once per new data', async () => {
    const { list, f, persisted } = flusher();
    f.appended(5);
    expect(f.unflushed).toBe(5);
    await f.flush();
    expect([list.recoveryPoint, f.unflushed]).toEqual([5, 0]);
    await f.flush(); // nothing new: no fsync, no write
    expect(persisted).toEqual([5]);
  });

  it('runs flushes one after another', async () => {
    const { f, persisted, list } = flusher();
    const first = f.flush();
    list.advance(9, 0);
    const second = f.flush();
    await Promise.all([first, second, f.idle]);
    expect(persisted).toEqual([9]); // the first flush already saw the later log end; the second had nothing left
  });

  it('is due when records wait and the interval has passed', () => {
    const { f } = flusher();
    const now = Date.now();
    expect(f.due(now + 10_000, 1000)).toBe(false);
    f.appended(1);
    expect(f.due(now + 10_000, 1000)).toBe(true);
    expect(f.due(now - 10_000, 1000)).toBe(false);
  });

  it('hands a failed fsync to the failure hook and rejects', async () => {
    const { f, failures, list } = flusher();
    vi.spyOn(fs, 'fdatasync').mockImplementation(((_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) =>
      cb(Object.assign(new Error('EIO'), { code: 'EIO' }))) as typeof fs.fdatasync);
    f.appended(1);
    await expect(f.flush()).rejects.toThrow(/cannot fsync/);
    expect(failures).toHaveLength(1);
    expect(list.recoveryPoint).toBe(0);
    await f.idle; // the chain goes on after a failure
  });
});
