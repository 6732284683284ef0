/**
 * Replica fetch sessions (fetch-sessions.ts) on a real replica manager (real
 * logs, real LevelDB): a follower's full fetch makes a session; an incremental
 * fetch names only what changed and is answered only with partitions that have
 * something new; a partition added to the session is answered alone; an
 * unknown session or a wrong epoch is refused with its own error; endPolls
 * ends a held poll without ending the session.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientInfo } from '../../../src/handlers/context.js';
import { fetchHandler } from '../../../src/handlers/fetch.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import type { FetchRequest, FetchResponse } from '../../../src/protocol/native/messages.js';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { fetchWaitMsMax } from '../../../src/shared/limits.js';
import { MemoryCoordinator, startedHandlerContext, testClient } from '../../helpers/replica-manager.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const managers: ReplicaManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

let nextConnectionId = 7_000;

/** A follower connection (broker 2) whose close the test triggers. */
function followerConnection(): { client: ClientInfo; close: () => void } {
  const listeners: (() => void)[] = [];
  const client: ClientInfo = {
    ...testClient,
    connectionId: nextConnectionId++,
    onClose: (listener) => listeners.push(listener),
  };
  return {
    client,
    close: () => {
      for (const l of listeners.splice(0)) l();
    },
  };
}

const position = (partition: number, fetchOffset: number): FetchRequest['topics'][number]['partitions'][number] => ({
  partition,
  fetchOffset,
  currentLeaderEpoch: 0,
  logStartOffset: 0,
  lastFetchedEpoch: -1,
});

const answered = (response: FetchResponse | undefined): number[] =>
  (response?.topics ?? []).flatMap((t) => t.partitions.map((p) => p.partition)).sort((a, b) => a - b);

async function setUp(partitions: number) {
  const logs = await fx.open(fx.dir());
  const coordinator = new MemoryCoordinator({ partitions, replicas: [1, 2] });
  const { replicas, ctx } = await startedHandlerContext(logs, coordinator, (r) => managers.push(r));
  return { replicas, ctx };
}

describe('fetch handler: replica fetch sessions', () => {
  it('a full fetch makes a session; an incremental one is answered only with the partition that has records', async () => {
    const { replicas, ctx } = await setUp(4);
    const { client } = followerConnection();
    const full = await fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: 0,
        sessionId: 0,
        sessionEpoch: 0,
        topics: [{ name: 't', partitions: [0, 1, 2, 3].map((p) => position(p, 0)) }],
      },
      ctx,
      client,
    );
    expect(full?.errorCode).toBe(0);
    expect(full?.sessionId).toBeGreaterThan(0);
    expect(answered(full)).toEqual([0, 1, 2, 3]);

    await replicas.appendAsLeader('t', 2, testBatch('p2', 3, 1_000), 1, 1_000);
    // nothing named: the leader holds every position; only partition 2 has records
    const incremental = await fetchHandler.handle(
      { replicaId: 2, maxWaitMs: 0, sessionId: full?.sessionId, sessionEpoch: 1, topics: [] },
      ctx,
      client,
    );
    expect(incremental?.errorCode).toBe(0);
    expect(incremental?.sessionId).toBe(full?.sessionId);
    expect(answered(incremental)).toEqual([2]);
    expect(incremental?.topics[0]?.partitions[0]?.records.length).toBeGreaterThan(0);

    // the follower names its new position on partition 2: it is answered (its high watermark moved), the others not
    const next = await fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: 0,
        sessionId: full?.sessionId,
        sessionEpoch: 2,
        topics: [{ name: 't', partitions: [position(2, 3)] }],
      },
      ctx,
      client,
    );
    expect(answered(next)).toEqual([2]);
    expect(next?.topics[0]?.partitions[0]?.highWatermark).toBe(3);
    expect(replicas.leaderReplica('t', 2).highWatermark).toBe(3);

    // nothing changed anywhere: an empty answer
    const quiet = await fetchHandler.handle(
      { replicaId: 2, maxWaitMs: 0, sessionId: full?.sessionId, sessionEpoch: 3, topics: [] },
      ctx,
      client,
    );
    expect(quiet?.errorCode).toBe(0);
    expect(answered(quiet)).toEqual([]);
  });

  it('a partition added to the session is named and answered alone; a forgotten one is no longer answered', async () => {
    const { replicas, ctx } = await setUp(3);
    const { client } = followerConnection();
    const full = await fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: 0,
        sessionId: 0,
        sessionEpoch: 0,
        topics: [{ name: 't', partitions: [position(0, 0), position(1, 0)] }],
      },
      ctx,
      client,
    );
    expect(answered(full)).toEqual([0, 1]);
    const added = await fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: 0,
        sessionId: full?.sessionId,
        sessionEpoch: 1,
        topics: [{ name: 't', partitions: [position(2, 0)] }],
      },
      ctx,
      client,
    );
    expect(answered(added)).toEqual([2]);

    await replicas.appendAsLeader('t', 0, testBatch('p0', 1, 1_000), 1, 1_000);
    await replicas.appendAsLeader('t', 2, testBatch('p2', 1, 1_000), 1, 1_000);
    const afterForget = await fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: 0,
        sessionId: full?.sessionId,
        sessionEpoch: 2,
        forgotten: [{ name: 't', partitions: [0] }],
        topics: [],
      },
      ctx,
      client,
    );
    expect(answered(afterForget)).toEqual([2]);
  });

  it('an unknown session, a wrong epoch and a closed connection are refused with their errors', async () => {
    const { ctx } = await setUp(1);
    const { client, close } = followerConnection();
    const unknown = await fetchHandler.handle(
      { replicaId: 2, maxWaitMs: 0, sessionId: 12345, sessionEpoch: 1, topics: [] },
      ctx,
      client,
    );
    expect(unknown?.errorCode).toBe(WireError.FETCH_SESSION_ID_NOT_FOUND);

    const full = await fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: 0,
        sessionId: 0,
        sessionEpoch: 0,
        topics: [{ name: 't', partitions: [position(0, 0)] }],
      },
      ctx,
      client,
    );
    const wrongEpoch = await fetchHandler.handle(
      { replicaId: 2, maxWaitMs: 0, sessionId: full?.sessionId, sessionEpoch: 5, topics: [] },
      ctx,
      client,
    );
    expect(wrongEpoch?.errorCode).toBe(WireError.INVALID_FETCH_SESSION_EPOCH);
    // the session is dropped: even the right epoch now finds none
    const afterwards = await fetchHandler.handle(
      { replicaId: 2, maxWaitMs: 0, sessionId: full?.sessionId, sessionEpoch: 1, topics: [] },
      ctx,
      client,
    );
    expect(afterwards?.errorCode).toBe(WireError.FETCH_SESSION_ID_NOT_FOUND);

    // a session ends with its connection
    const again = await fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: 0,
        sessionId: 0,
        sessionEpoch: 0,
        topics: [{ name: 't', partitions: [position(0, 0)] }],
      },
      ctx,
      client,
    );
    close();
    const afterClose = await fetchHandler.handle(
      { replicaId: 2, maxWaitMs: 0, sessionId: again?.sessionId, sessionEpoch: 1, topics: [] },
      ctx,
      client,
    );
    expect(afterClose?.errorCode).toBe(WireError.FETCH_SESSION_ID_NOT_FOUND);

    // a consumer's fetch (no session fields) is answered as before, without a session id
    const consumer = await fetchHandler.handle(
      { replicaId: -1, maxWaitMs: 0, topics: [{ name: 't', partitions: [{ partition: 0, fetchOffset: 0 }] }] },
      ctx,
      testClient,
    );
    expect(consumer?.sessionId).toBeUndefined();
    expect(answered(consumer)).toEqual([0]);
  });

  it('endPolls ends a long poll held on the connection, and the session goes on', async () => {
    const { ctx } = await setUp(2);
    const { client } = followerConnection();
    const full = await fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: 0,
        sessionId: 0,
        sessionEpoch: 0,
        topics: [{ name: 't', partitions: [position(0, 0)] }],
      },
      ctx,
      client,
    );
    // held at the log end for up to 30 s (past the test's timeout) unless endPolls cuts it
    const polling = fetchHandler.handle(
      { replicaId: 2, maxWaitMs: fetchWaitMsMax, minBytes: 1, sessionId: full?.sessionId, sessionEpoch: 1, topics: [] },
      ctx,
      client,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const cut = await fetchHandler.handle(
      { replicaId: 2, sessionId: full?.sessionId, endPolls: true, topics: [] },
      ctx,
      client,
    );
    expect(cut?.errorCode).toBe(0);
    const polled = await polling;
    expect(polled?.errorCode).toBe(0);
    const added = await fetchHandler.handle(
      {
        replicaId: 2,
        maxWaitMs: 0,
        sessionId: full?.sessionId,
        sessionEpoch: 2,
        topics: [{ name: 't', partitions: [position(1, 0)] }],
      },
      ctx,
      client,
    );
    expect(added?.errorCode).toBe(0);
    expect(answered(added)).toEqual([1]);
  }, 10_000);
});
