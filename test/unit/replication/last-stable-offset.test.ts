/**
 * The last stable offset of a partition replica (issue 21, KIP-98) on a real log: the first
 * offset of the oldest open transaction, never above the high watermark, never below the log
 * start (retention or DeleteRecords may remove where an open transaction began).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionReplica } from '../../../src/replication/partition-replica.js';
import { encodeTxnMarker } from '../../../src/wire/txn-marker.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);

async function leaderWithFollower(): Promise<PartitionReplica> {
  const logs = await fx.open(fx.dir());
  const replica = new PartitionReplica('t', 0, await logs.getOrCreate('t', 0), 1, () => undefined);
  await replica.becomeLeader(0, [1, 2], [1, 2], Date.now());
  return replica;
}

const tx = (pid: number, count: number): Buffer =>
  testBatch(`tx${pid}`, count, 1000, { producerId: pid, producerEpoch: 0, baseSequence: 0, transactional: true });

describe('last stable offset', () => {
  it('is the high watermark while no transaction is open, and never above it', async () => {
    const replica = await leaderWithFollower();
    await replica.log.append(testBatch('a', 4, 1000));
    replica.onLeaderAppend();
    expect(replica.lastStableOffset).toBe(0); // the follower has nothing yet
    replica.onFollowerFetch(2, 4, Date.now());
    expect(replica.lastStableOffset).toBe(4);
    await replica.log.append(tx(7, 2)); // 4-5, open
    replica.onLeaderAppend();
    replica.onFollowerFetch(2, 6, Date.now());
    expect(replica.highWatermark).toBe(6);
    expect(replica.lastStableOffset).toBe(4);
    const marker = encodeTxnMarker({ producerId: 7, producerEpoch: 0, committed: true, coordinatorEpoch: 0 });
    await replica.log.append(marker, { origin: 'coordinator' }); // 6
    replica.onLeaderAppend();
    // closed, but the marker is not replicated yet: the LSO is the high watermark
    expect(replica.lastStableOffset).toBe(6);
    replica.onFollowerFetch(2, 7, Date.now());
    expect(replica.lastStableOffset).toBe(7);
  });

  it('never points below the log start', async () => {
    const replica = await leaderWithFollower();
    await replica.log.append(tx(9, 3)); // 0-2, left open
    await replica.log.append(testBatch('b', 3, 1000)); // 3-5
    replica.onLeaderAppend();
    replica.onFollowerFetch(2, 6, Date.now());
    expect(replica.lastStableOffset).toBe(0);
    await replica.log.advanceLogStartOffset(4);
    expect(replica.log.firstUnstableOffset).toBe(0); // still open
    expect(replica.lastStableOffset).toBe(4);
  });
});
