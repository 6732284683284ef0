/**
 * The invariants PartitionReplica asserts (a failure is a bug: AssertionFailure):
 * a leader is a replica and in its ISR, a follower's leader is in the ISR,
 * the leader's own ISR changes keep it, and the high watermark never passes
 * the replica's log end. Real logs (real files, real LevelDB).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionReplica } from '../../../src/replication/partition-replica.js';
import { AssertionFailure } from '../../../src/shared/assert.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);

async function replicaOn(brokerId: number): Promise<PartitionReplica> {
  const logs = await fx.open(fx.dir());
  return new PartitionReplica('t', 0, await logs.getOrCreate('t', 0), brokerId, () => {});
}

describe('partition replica invariants', () => {
  it('leads only as a replica in its own ISR', async () => {
    const replica = await replicaOn(1);
    await expect(replica.becomeLeader(0, [1, 2], [2], Date.now())).rejects.toThrow(AssertionFailure);
    await expect(replica.becomeLeader(0, [2, 3], [1, 2, 3], Date.now())).rejects.toThrow(AssertionFailure);
    await replica.becomeLeader(0, [1, 2], [1, 2], Date.now());
    expect(replica.role).toBe('leader');
  });

  it('follows only another broker, one in the ISR it is given', async () => {
    const replica = await replicaOn(1);
    expect(() => replica.becomeFollower(2, 0, [1, 2, 3], [1, 3])).toThrow(AssertionFailure);
    expect(() => replica.becomeFollower(1, 0, [1, 2], [1, 2])).toThrow(AssertionFailure);
    expect(() => replica.becomeFollower(-1, 0, [1, 2], [1, 2])).toThrow(AssertionFailure);
    replica.becomeFollower(2, 0, [1, 2], [2]);
    expect(replica.role).toBe('follower');
    // a follower takes any ISR the coordinator reports (it need not hold this broker)
    replica.setIsr([2]);
    expect(replica.isr).toEqual([2]);
  });

  it('keeps the leader in its own ISR changes', async () => {
    const replica = await replicaOn(1);
    await replica.becomeLeader(0, [1, 2, 3], [1, 2, 3], Date.now());
    expect(() => replica.setIsr([2, 3])).toThrow(AssertionFailure);
    expect(() => replica.isrChangeProposed([2])).toThrow(AssertionFailure);
    replica.isrChangeProposed([1, 2]);
    replica.isrChangeConfirmed([1, 2]);
    expect(replica.isr).toEqual([1, 2]);
  });

  it('admits only replicas to the ISR, and keeps a replica set that holds itself', async () => {
    const replica = await replicaOn(1);
    await replica.becomeLeader(0, [1, 2, 3], [1, 2, 3], Date.now());
    expect(() => replica.updateReplicas([2, 3])).toThrow(AssertionFailure);
    // a reassignment's completion: the replicas lose 3 before the ISR does
    replica.updateReplicas([1, 2, 4]);
    expect(() => replica.isrChangeProposed([1, 2, 3, 5])).toThrow(AssertionFailure);
    replica.isrChangeProposed([1, 2, 3, 4]);
    replica.isrChangeConfirmed([1, 2, 3, 4]);
    expect(replica.isr).toEqual([1, 2, 3, 4]);
  });

  it('never raises the high watermark past its own log end, as leader or follower', async () => {
    const leader = await replicaOn(1);
    const now = Date.now();
    await leader.becomeLeader(0, [1, 2], [1, 2], now);
    await leader.log.append(testBatch('a', 10, 1000), { leaderEpoch: 0 });
    // a follower that claims more than the leader has (a diverged log, before it truncates)
    leader.onFollowerFetch(2, 50, now);
    expect(leader.highWatermark).toBe(10);

    const follower = await replicaOn(2);
    follower.becomeFollower(1, 0, [1, 2], [1, 2]);
    await follower.log.append(testBatch('a', 4, 1000), { leaderEpoch: 0 });
    follower.updateFollowerHighWatermark(10);
    expect(follower.highWatermark).toBe(4);
  });
});
