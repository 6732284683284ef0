/**
 * A partition whose log cannot be created because the disk is full (issue 18, item 3): the
 * replica manager tries its state change again every log.dir.full.retry.ms, and the partition is
 * led here once space returns, with no restart. Real logs (real files, real LevelDB); the full disk
 * is faked at the partition.metadata write of a new log (fs.promises file handles); the coordinator is in memory.
 */
import fs from 'node:fs';
import { afterEach, expect, it, vi } from 'vitest';
import { LogManager } from '../../../src/storage/log-manager.js';
import { MemoryCoordinator, newReplicaManager } from '../../helpers/replica-manager.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of closing.splice(0).reverse()) await c.close();
});

it('a partition whose log a full disk refused is led here once space returns, with no restart', async () => {
  const logs = await LogManager.open({ logDirs: [fx.dir()], retentionCheckIntervalMs: 0, dirFullRetryMs: 0 });
  closing.push(logs);
  // topic 't' of one partition led by broker 1 alone
  const manager = newReplicaManager(logs, new MemoryCoordinator({ topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }), {
    'log.dir.full.retry.ms': '10',
  });
  closing.push(manager);
  // the partition.metadata write of the new log is refused (written through a file handle, off the event loop)
  const realOpen = fs.promises.open.bind(fs.promises);
  const writes = vi
    .spyOn(fs.promises, 'open')
    .mockImplementation(async (...args: Parameters<typeof fs.promises.open>) => {
      const handle = await realOpen(...args);
      handle.writeFile = async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      return handle;
    });
  await manager.start();
  expect(manager.replica('t', 0)).toBeUndefined();
  // tried again while the disk is still full
  await vi.waitFor(() => expect(writes.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
  expect(manager.replica('t', 0)).toBeUndefined();

  vi.restoreAllMocks();
  await vi.waitFor(() => expect(manager.replica('t', 0)?.role).toBe('leader'), { timeout: 10_000 });
  const appended = await manager.appendAsLeader('t', 0, testBatch('a', 3, 1000), 1, 10_000);
  expect(appended.baseOffset).toBe(0);
});
