/**
 * The per-partition replication state machine on real logs (real files, real
 * LevelDB): the high watermark is the smallest log end in the ISR and never
 * runs ahead of a follower; acks=-1 waiters complete exactly when the ISR has
 * the records, fail when leadership moves or the ISR shrinks below
 * min.insync.replicas; ISR shrink and expand follow Kafka's caught-up rule;
 * a follower that appends the leader's bytes keeps the leader's epoch stamps
 * and answers OffsetForLeaderEpoch like the leader.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { preferredLeader } from '../../../src/coordination/zookeeper/controller.js';
import { PartitionReplica } from '../../../src/replication/partition-replica.js';
import { isSluiceError } from '../../../src/shared/errors.js';
import { partitionLeaderEpochOf } from '../../../src/wire/record-batch.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);

async function replicaOn(brokerId = 1): Promise<{ replica: PartitionReplica; hwMoves: () => number }> {
  const logs = await fx.open(fx.dir());
  const log = await logs.getOrCreate('t', 0);
  let moves = 0;
  const replica = new PartitionReplica('t', 0, log, brokerId, () => {
    moves++;
  });
  return { replica, hwMoves: () => moves };
}

describe('partition replica (leader)', () => {
  it('alone in the ISR, the high watermark follows the log end at once', async () => {
    const { replica, hwMoves } = await replicaOn();
    await replica.becomeLeader(0, [1], [1], Date.now());
    await replica.log.append(testBatch('a', 5, 1000), { leaderEpoch: 0 });
    replica.onLeaderAppend();
    expect(replica.highWatermark).toBe(5);
    expect(hwMoves()).toBe(1);
    await replica.waitForReplication(5, 1, 1000);
  });

  it('with followers, the high watermark is the smallest ISR log end; acks=-1 completes only then', async () => {
    const { replica } = await replicaOn();
    const now = Date.now();
    await replica.becomeLeader(3, [1, 2, 3], [1, 2, 3], now);
    await replica.log.append(testBatch('a', 10, 1000), { leaderEpoch: 3 });
    replica.onLeaderAppend();
    expect(replica.highWatermark).toBe(0);
    let done = false;
    const waiting = replica.waitForReplication(10, 2, 5000).then(() => {
      done = true;
    });
    replica.onFollowerFetch(2, 10, now);
    expect(replica.highWatermark).toBe(0); // broker 3 has not fetched yet
    replica.onFollowerFetch(3, 4, now);
    expect(replica.highWatermark).toBe(4);
    await Promise.resolve();
    expect(done).toBe(false);
    replica.onFollowerFetch(3, 10, now);
    expect(replica.highWatermark).toBe(10);
    await waiting;
    expect(done).toBe(true);
  });

  it('fails acks=-1 waiters when leadership moves, and when the ISR has shrunk below min.insync.replicas', async () => {
    const { replica } = await replicaOn();
    const now = Date.now();
    await replica.becomeLeader(0, [1, 2, 3], [1, 2, 3], now);
    await replica.log.append(testBatch('a', 3, 1000), { leaderEpoch: 0 });
    const moved = replica.waitForReplication(3, 2, 5000);
    replica.becomeFollower(2, 1, [1, 2, 3], [2, 3]);
    await expect(moved).rejects.toSatisfy((err: unknown) => isSluiceError(err, 'SLUICE_ERR_NOT_LEADER'));

    await replica.becomeLeader(2, [1, 2, 3], [1, 2, 3], now);
    await replica.log.append(testBatch('b', 3, 2000), { leaderEpoch: 2 });
    const shrunk = replica.waitForReplication(6, 2, 5000);
    replica.setIsr([1]); // the other two were dropped: the leader alone has the records
    await expect(shrunk).rejects.toSatisfy((err: unknown) =>
      isSluiceError(err, 'SLUICE_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND'),
    );
  });

  it('times out an acks=-1 waiter that the ISR never confirms', async () => {
    const { replica } = await replicaOn();
    await replica.becomeLeader(0, [1, 2], [1, 2], Date.now());
    await replica.log.append(testBatch('a', 1, 1000), { leaderEpoch: 0 });
    await expect(replica.waitForReplication(1, 1, 50)).rejects.toSatisfy((err: unknown) =>
      isSluiceError(err, 'SLUICE_ERR_TIMEOUT'),
    );
  });

  it('shrinks the ISR by lag time and asks to expand it once a follower reaches the high watermark', async () => {
    const { replica } = await replicaOn();
    const t0 = 1_000_000;
    await replica.becomeLeader(0, [1, 2, 3], [1, 2, 3], t0);
    await replica.log.append(testBatch('a', 10, 1000), { leaderEpoch: 0 });
    expect(replica.laggingReplicas(t0 + 500, 1000)).toEqual([]);
    // broker 2 keeps up, broker 3 stops fetching
    expect(replica.onFollowerFetch(2, 10, t0 + 900)).toBe(false);
    expect(replica.laggingReplicas(t0 + 1500, 1000)).toEqual([3]);
    replica.setIsr([1, 2]);
    expect(replica.highWatermark).toBe(10);
    // broker 3 comes back: behind the high watermark it stays out, at it it asks to join
    expect(replica.onFollowerFetch(3, 5, t0 + 2000)).toBe(false);
    expect(replica.onFollowerFetch(3, 10, t0 + 2100)).toBe(true);
  });

  it('a follower that fetches but never reaches the log end counts as caught up only up to its last fetch', async () => {
    const { replica } = await replicaOn();
    const t0 = 2_000_000;
    await replica.becomeLeader(0, [1, 2], [1, 2], t0);
    await replica.log.append(testBatch('a', 10, 1000), { leaderEpoch: 0 });
    replica.onFollowerFetch(2, 0, t0 + 100); // log end was 10 then
    await replica.log.append(testBatch('b', 10, 2000), { leaderEpoch: 0 });
    replica.onFollowerFetch(2, 10, t0 + 900); // reached what the end was at the previous fetch
    expect(replica.laggingReplicas(t0 + 1050, 1000)).toEqual([]);
    replica.onFollowerFetch(2, 12, t0 + 1900); // behind both the end now and the end at the last fetch
    expect(replica.laggingReplicas(t0 + 2000, 1000)).toEqual([2]);
  });
  it('a follower whose long poll is held at the log end is caught up for as long as it is held, and until the append that ends it', async () => {
    const { replica } = await replicaOn();
    const t0 = 3_000_000;
    await replica.becomeLeader(0, [1, 2, 3], [1, 2, 3], t0);
    await replica.log.append(testBatch('a', 10, 1000), { leaderEpoch: 0 });
    replica.onFollowerFetch(2, 10, t0 + 100);
    replica.onFollowerFetch(3, 10, t0 + 100);
    // broker 2's poll is held at the log end; broker 3 fetched and went away
    replica.followerPollHeld(2, true, t0 + 100);
    expect(replica.laggingReplicas(t0 + 5_000, 1000)).toEqual([3]);
    // an append ends the hold: broker 2 was caught up until then, and lags only a lag time later
    await replica.log.append(testBatch('b', 1, 2000), { leaderEpoch: 0 });
    replica.followerPollHeld(2, false, t0 + 6_000);
    expect(replica.laggingReplicas(t0 + 6_900, 1000)).toEqual([3]);
    expect(replica.laggingReplicas(t0 + 7_100, 1000)).toEqual([2, 3]);
    // a hold counts only while the follower is at the log end
    replica.followerPollHeld(3, true, t0 + 7_200);
    expect(replica.laggingReplicas(t0 + 7_300, 1000)).toEqual([2, 3]);
  });

  it('DeleteRecords waits for the low watermark: the smallest log start of the leader and the live followers', async () => {
    const { replica } = await replicaOn();
    const now = Date.now();
    await replica.becomeLeader(0, [1, 2, 3], [1, 2, 3], now);
    await replica.log.append(testBatch('a', 10, 1000), { leaderEpoch: 0 });
    replica.onLeaderAppend();
    replica.onFollowerFetch(2, 10, now, 0);
    replica.onFollowerFetch(3, 10, now, 0);
    await replica.log.advanceLogStartOffset(6);
    const everyoneAlive = (): boolean => true;
    expect(replica.lowWatermark(everyoneAlive)).toBe(0);
    let answer: { lowWatermark: number; reached: boolean } | undefined;
    const waiting = replica.waitForLowWatermark(6, 5000, everyoneAlive).then((a) => {
      answer = a;
    });
    // a follower still reporting the old start is answered at once, so it learns the new one
    expect(replica.followerBehindLogStart(2, 0)).toBe(true);
    replica.onFollowerFetch(2, 10, now, 6);
    expect(replica.followerBehindLogStart(2, 6)).toBe(false);
    await Promise.resolve();
    expect(answer).toBeUndefined(); // broker 3 still starts at 0
    replica.onFollowerFetch(3, 10, now, 6);
    await waiting;
    expect(answer).toEqual({ lowWatermark: 6, reached: true });

    // a follower on a dead broker does not count (Kafka's lowWatermarkIfLeader)
    await replica.log.advanceLogStartOffset(8);
    replica.onFollowerFetch(2, 10, now, 8);
    expect(await replica.waitForLowWatermark(8, 5000, (id) => id !== 3)).toEqual({ lowWatermark: 8, reached: true });
    // otherwise the wait runs out with the low watermark reached so far
    expect(await replica.waitForLowWatermark(8, 20, everyoneAlive)).toEqual({ lowWatermark: 6, reached: false });
    // and leadership moving fails it
    const failing = replica.waitForLowWatermark(8, 5000, everyoneAlive);
    replica.becomeFollower(2, 1, [1, 2, 3], [1, 2, 3]);
    await expect(failing).rejects.toSatisfy((err) => isSluiceError(err) && err.code === 'SLUICE_ERR_NOT_LEADER');
  });
  it("counts a follower's fetch only when its last epoch agrees with the leader's history", async () => {
    const { replica } = await replicaOn();
    const now = Date.now();
    await replica.becomeLeader(0, [1, 2], [1, 2], now);
    await replica.log.append(testBatch('a', 5, 1000), { leaderEpoch: 0 });
    await replica.becomeLeader(2, [1, 2], [1, 2], now);
    await replica.log.append(testBatch('b', 5, 1000), { leaderEpoch: 2 });
    // a prefix of the leader's log: epoch 0 up to 5, epoch 2 up to 10, or nothing said
    expect(replica.followerDivergence(5, 0)).toBeUndefined();
    expect(replica.followerDivergence(3, 0)).toBeUndefined();
    expect(replica.followerDivergence(10, 2)).toBeUndefined();
    expect(replica.followerDivergence(10, -1)).toBeUndefined();
    // more of epoch 0 than the leader wrote, or an epoch past the leader's: no progress to count
    expect(replica.followerDivergence(7, 0)).toMatch(/epoch 0 up to 7, this leader only up to 5/);
    expect(replica.followerDivergence(12, 3)).toMatch(/epoch 3, past this leader's epoch 2/);
  });
});

describe('partition replica (follower)', () => {
  it("keeps the leader's epoch stamps and learns the epoch history from them", async () => {
    const leader = await replicaOn(1);
    await leader.replica.becomeLeader(4, [1, 2], [1, 2], Date.now());
    await leader.replica.log.append(testBatch('a', 3, 1000), { leaderEpoch: 4 });
    await leader.replica.becomeLeader(6, [1, 2], [1, 2], Date.now());
    await leader.replica.log.append(testBatch('b', 2, 2000), { leaderEpoch: 6 });
    const bytes = (await leader.replica.log.read(0, 1 << 20)).records;

    const follower = await replicaOn(2);
    follower.replica.becomeFollower(1, 6, [1, 2], [1, 2]);
    await follower.replica.log.append(Buffer.from(bytes), { assignOffsets: false });
    expect(follower.replica.log.logEndOffset).toBe(5);
    expect(follower.replica.log.epochHistory).toEqual([
      [4, 0],
      [6, 3],
    ]);
    const stored = (await follower.replica.log.read(3, 1 << 20)).records;
    expect(partitionLeaderEpochOf(stored, 0)).toBe(6);
    expect(follower.replica.log.endOffsetForEpoch(4)).toEqual({ epoch: 4, endOffset: 3 });
    expect(follower.replica.log.endOffsetForEpoch(5)).toEqual({ epoch: 4, endOffset: 3 });
    // the follower's high watermark is the leader's, capped by its own log end
    follower.replica.updateFollowerHighWatermark(99);
    expect(follower.replica.highWatermark).toBe(5);
  });

  it('a reopened replica starts from the high watermark it recorded, not from its log start', async () => {
    const dir = fx.dir();
    const logs = await fx.open(dir);
    const log = await logs.getOrCreate('t', 0);
    const replica = new PartitionReplica('t', 0, log, 2, () => undefined);
    replica.becomeFollower(1, 0, [1, 2], [1, 2]);
    await log.append(testBatch('a', 10, 1000), { assignOffsets: false });
    await log.advanceLogStartOffset(3);
    replica.updateFollowerHighWatermark(8);
    await logs.close();

    const reopened = await (await fx.open(dir)).getOrCreate('t', 0);
    const again = new PartitionReplica('t', 0, reopened, 2, () => undefined);
    // elected before anyone fetches from it, it must not answer less than was committed
    expect(again.highWatermark).toBe(8);
    expect(reopened.logStartOffset).toBe(3);
  });
});

describe('preferred leader election', () => {
  const state = { controller_epoch: 1, leader: 2, version: 1 as const, leader_epoch: 5, isr: [2, 1, 3] };

  it('moves leadership back to the first replica when it is alive and in the ISR', () => {
    expect(preferredLeader(state, [1, 2, 3], new Set([1, 2, 3]), 7)).toEqual({
      ...state,
      controller_epoch: 7,
      leader: 1,
      leader_epoch: 6,
    });
  });

  it('leaves the partition alone when the preferred replica leads, is dead, or is out of the ISR', () => {
    expect(preferredLeader({ ...state, leader: 1 }, [1, 2, 3], new Set([1, 2, 3]), 7)).toBeUndefined();
    expect(preferredLeader(state, [1, 2, 3], new Set([2, 3]), 7)).toBeUndefined();
    expect(preferredLeader({ ...state, isr: [2, 3] }, [1, 2, 3], new Set([1, 2, 3]), 7)).toBeUndefined();
    expect(preferredLeader({ ...state, leader: -1 }, [1, 2, 3], new Set([1, 2, 3]), 7)).toBeUndefined();
  });
});
