/**
 * A queue's log follower on a real partition log: a new leader's log may end
 * with messages no other replica has (their sends were never acknowledged);
 * they are taken in only once committed, the replay included (issue 18).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LogFollower } from '../../../src/queues/log-follower.js';
import { messageRecordInput } from '../../../src/queues/queue-records.js';
import type { PartitionReplica } from '../../../src/replication/partition-replica.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { storageFixture } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);

/** A queue log of `count` messages, and a replica view of it whose high watermark the test moves. */
async function queueLog(count: number) {
  const manager = await fx.open(fx.dir());
  const log = await manager.getOrCreate('__queue.q', 0);
  // one batch per send, as a queue's log has them (a high watermark only ever falls between batches)
  for (let i = 0; i < count; i++) {
    await log.append(encodeRecordBatch([messageRecordInput({ value: Buffer.from(`m${i}`) }, 1000)]));
  }
  const replica = { log, highWatermark: 0 };
  return { log, replica };
}

function follow(replica: { log: unknown; highWatermark: number }) {
  const seen: number[] = [];
  const follower = new LogFollower(replica as unknown as PartitionReplica, {
    message: (record) => seen.push(record.offset),
    state: () => undefined,
    txnBatch: () => undefined,
    marker: () => undefined,
    added: () => undefined,
  });
  return { follower, seen };
}

describe('queue log follower', () => {
  it('takes in no message above the high watermark, and finishes its replay only when the high watermark reaches the log end it started with', async () => {
    const { replica } = await queueLog(5);
    replica.highWatermark = 2; // offsets 2..4 are not on the other replicas yet
    const { follower, seen } = follow(replica);
    let replayed = false;
    void follower.replayed.then(() => {
      replayed = true;
    });
    await follower.start();
    expect(seen).toEqual([0, 1]);
    expect(replayed).toBe(false);

    replica.highWatermark = 4;
    follower.onCommitted();
    await follower.scannedPast(3);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(replayed).toBe(false);

    replica.highWatermark = 5;
    follower.onCommitted();
    await follower.replayed;
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('a follower stopped before its replay is done releases those waiting for it', async () => {
    const { replica } = await queueLog(3);
    const { follower } = follow(replica);
    await follower.start();
    follower.stop();
    await expect(follower.replayed).resolves.toBeUndefined();
  });
});
