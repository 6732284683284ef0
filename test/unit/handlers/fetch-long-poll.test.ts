/**
 * The fetch handler's long poll on a real replica manager (real logs, real
 * LevelDB): an append that lands while the fetch is still reading its
 * partitions must wake it. The handler used to register its append waiter
 * only after the read, so an append to a partition already read (while a
 * later partition's position came from the index) was missed, and the fetch
 * slept until maxWaitMs although its minBytes were there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientInfo } from '../../../src/handlers/context.js';
import { fetchHandler } from '../../../src/handlers/fetch.js';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { fetchWaitMsMax } from '../../../src/shared/limits.js';
import { MemoryCoordinator, startedHandlerContext, testClient } from '../../helpers/replica-manager.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const managers: ReplicaManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

const client = testClient;

describe('fetch handler: long poll', () => {
  it('an append to a partition already read while the fetch reads the next one wakes the fetch', async () => {
    const logs = await fx.open(fx.dir());
    const coordinator = new MemoryCoordinator({ partitions: 2 });
    const { replicas, ctx } = await startedHandlerContext(logs, coordinator, (r) => managers.push(r));
    const first = await replicas.appendAsLeader('t', 0, testBatch('p0', 4, 1_000), 1, 1_000);
    // partition 1 has written its epoch already, so its next append needs no index write
    await replicas.appendAsLeader('t', 1, testBatch('p1-early', 1, 1_000), 1, 1_000);
    const p0Bytes = (await replicas.leaderReplica('t', 0).log.read(0, 1 << 20)).records.length;
    expect(first.baseOffset).toBe(0);

    // partition 1 is read first, at its log end (from memory); partition 0 from offset 0 (its position
    // comes from LevelDB): the append to partition 1 lands while partition 0 is being read
    const fetching = fetchHandler.handle(
      {
        replicaId: -1,
        maxWaitMs: fetchWaitMsMax,
        minBytes: p0Bytes + 1,
        topics: [
          {
            name: 't',
            partitions: [
              { partition: 1, fetchOffset: 1 },
              { partition: 0, fetchOffset: 0 },
            ],
          },
        ],
      },
      ctx,
      client,
    );
    await replicas.appendAsLeader('t', 1, testBatch('p1', 3, 2_000), 1, 1_000);

    // on the old code this waited the whole fetchWaitMsMax (30 s), past the test's timeout
    const response = await fetching;
    const partitions = response?.topics[0]?.partitions ?? [];
    expect(partitions.map((p) => [p.partition, p.errorCode, p.records.length > 0])).toEqual([
      [1, 0, true],
      [0, 0, true],
    ]);
  }, 10_000);

  it("a follower's poll held at the log end keeps it caught up, and ends when its connection closes", async () => {
    const logs = await fx.open(fx.dir());
    const coordinator = new MemoryCoordinator({ replicas: [1, 2] });
    const { replicas, ctx } = await startedHandlerContext(logs, coordinator, (r) => managers.push(r), {
      'replica.lag.time.max.ms': '1000',
    });
    const leader = replicas.leaderReplica('t', 0);
    const closeListeners: (() => void)[] = [];
    const follower: ClientInfo = { ...client, connectionId: 2, onClose: (listener) => closeListeners.push(listener) };

    const polling = fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: fetchWaitMsMax,
        minBytes: 1,
        topics: [{ name: 't', partitions: [{ partition: 0, fetchOffset: 0, currentLeaderEpoch: 0 }] }],
      },
      ctx,
      follower,
    );
    // held at the log end: long past the lag time, broker 2 is not lagging
    while (closeListeners.length === 0) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(leader.laggingReplicas(Date.now() + 10_000, 1000)).toEqual([]);
    // the connection closes: the poll ends (on the old code it waited fetchWaitMsMax), the hold with it
    for (const listener of closeListeners) listener();
    await polling;
    expect(leader.laggingReplicas(Date.now() + 10_000, 1000)).toEqual([2]);
  }, 10_000);
});
