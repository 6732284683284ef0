/**
 * Replica fetch sessions (fetch-sessions.ts) on a real replica manager (real
 * logs, real LevelDB): a follower's full fetch makes a session; an incremental
 * fetch names only what changed and is answered only with partitions that have
 * something new; a partition added to the session is answered alone; an
 * unknown session or a wrong epoch is refused with its own error; endPolls
 * ends a held poll without ending the session. A pass reads only what changed:
 * an appended partition wakes a held poll; a follower whose quiet partitions
 * are not read stays caught up (ISR), and lags once its session stops fetching.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PartitionState } from '../../../src/coordination/coordinator.js';
import type { ClientInfo } from '../../../src/handlers/context.js';
import { fetchHandler } from '../../../src/handlers/fetch.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import type { FetchRequest, FetchResponse } from '../../../src/protocol/native/messages.js';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { fetchSessionsMax, fetchWaitMsMax } from '../../../src/shared/limits.js';
import { pollUntil } from '../../helpers/poll.js';
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

type Position = FetchRequest['topics'][number]['partitions'][number];

/**
 * A fetch of follower 2 in a session: `sessionId` 0 makes one (a full fetch), another id is an
 * incremental fetch at `sessionEpoch` naming `positions` (of topic t); `more` sets the rest.
 */
const sessionFetch = (
  sessionId: number | undefined,
  sessionEpoch: number,
  positions: Position[] = [],
  more: Partial<FetchRequest> = {},
): FetchRequest => ({
  replicaId: 2,
  maxWaitMs: 0,
  sessionId,
  sessionEpoch,
  topics: positions.length === 0 ? [] : [{ name: 't', partitions: positions }],
  ...more,
});

/** A full fetch of partitions 0..n-1 at offset 0. */
const fullFetch = (n: number): FetchRequest =>
  sessionFetch(
    0,
    0,
    Array.from({ length: n }, (_, p) => position(p, 0)),
  );

/** A coordinator whose test re-elects broker 1 at a new leader epoch. */
class ReelectingCoordinator extends MemoryCoordinator {
  reelect(partition: number): void {
    const previous = this.states[partition] as PartitionState;
    const state = { ...previous, leaderEpoch: previous.leaderEpoch + 1 };
    this.states[partition] = state;
    this.reportState(state, previous);
  }
}

async function setUp(partitions: number) {
  const logs = await fx.open(fx.dir());
  const coordinator = new ReelectingCoordinator({ partitions, replicas: [1, 2] });
  const { replicas, ctx } = await startedHandlerContext(logs, coordinator, (r) => managers.push(r));
  const fetch = (request: FetchRequest, client: ClientInfo) => fetchHandler.handle(request, ctx, client);
  return { replicas, ctx, fetch, coordinator };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fetch handler: replica fetch sessions', () => {
  it('a full fetch makes a session; an incremental one is answered only with the partition that has records', async () => {
    const { replicas, fetch } = await setUp(4);
    const { client } = followerConnection();
    const full = await fetch(fullFetch(4), client);
    expect(full?.errorCode).toBe(0);
    expect(full?.sessionId).toBeGreaterThan(0);
    expect(answered(full)).toEqual([0, 1, 2, 3]);

    await replicas.appendAsLeader('t', 2, testBatch('p2', 3, 1_000), 1, 1_000);
    // nothing named: the leader holds every position; only partition 2 has records
    const incremental = await fetch(sessionFetch(full?.sessionId, 1), client);
    expect(incremental?.errorCode).toBe(0);
    expect(incremental?.sessionId).toBe(full?.sessionId);
    expect(answered(incremental)).toEqual([2]);
    expect(incremental?.topics[0]?.partitions[0]?.records.length).toBeGreaterThan(0);

    // the follower names its new position on partition 2: it is answered (its high watermark moved), the others not
    const next = await fetch(sessionFetch(full?.sessionId, 2, [position(2, 3)]), client);
    expect(answered(next)).toEqual([2]);
    expect(next?.topics[0]?.partitions[0]?.highWatermark).toBe(3);
    expect(replicas.leaderReplica('t', 2).highWatermark).toBe(3);

    // nothing changed anywhere: an empty answer
    const quiet = await fetch(sessionFetch(full?.sessionId, 3), client);
    expect(quiet?.errorCode).toBe(0);
    expect(answered(quiet)).toEqual([]);
  });

  it('a partition added to the session is named and answered alone; a forgotten one is no longer answered', async () => {
    const { replicas, fetch } = await setUp(3);
    const { client } = followerConnection();
    const full = await fetch(fullFetch(2), client);
    expect(answered(full)).toEqual([0, 1]);
    const added = await fetch(sessionFetch(full?.sessionId, 1, [position(2, 0)]), client);
    expect(answered(added)).toEqual([2]);

    await replicas.appendAsLeader('t', 0, testBatch('p0', 1, 1_000), 1, 1_000);
    await replicas.appendAsLeader('t', 2, testBatch('p2', 1, 1_000), 1, 1_000);
    const afterForget = await fetch(
      sessionFetch(full?.sessionId, 2, [], { forgotten: [{ name: 't', partitions: [0] }] }),
      client,
    );
    expect(answered(afterForget)).toEqual([2]);
  });

  it('an unknown session, a wrong epoch and a closed connection are refused with their errors', async () => {
    const { fetch } = await setUp(1);
    const { client, close } = followerConnection();
    const unknown = await fetch(sessionFetch(12345, 1), client);
    expect(unknown?.errorCode).toBe(WireError.FETCH_SESSION_ID_NOT_FOUND);

    const full = await fetch(fullFetch(1), client);
    const wrongEpoch = await fetch(sessionFetch(full?.sessionId, 5), client);
    expect(wrongEpoch?.errorCode).toBe(WireError.INVALID_FETCH_SESSION_EPOCH);
    // the session is dropped: even the right epoch now finds none
    const afterwards = await fetch(sessionFetch(full?.sessionId, 1), client);
    expect(afterwards?.errorCode).toBe(WireError.FETCH_SESSION_ID_NOT_FOUND);

    // a session ends with its connection
    const again = await fetch(fullFetch(1), client);
    close();
    const afterClose = await fetch(sessionFetch(again?.sessionId, 1), client);
    expect(afterClose?.errorCode).toBe(WireError.FETCH_SESSION_ID_NOT_FOUND);

    // a consumer's fetch (no session fields) is answered as before, without a session id
    const consumer = await fetch(
      { replicaId: -1, maxWaitMs: 0, topics: [{ name: 't', partitions: [{ partition: 0, fetchOffset: 0 }] }] },
      testClient,
    );
    expect(consumer?.sessionId).toBeUndefined();
    expect(answered(consumer)).toEqual([0]);
  });

  it('endPolls ends a long poll held on the connection, and the session goes on', async () => {
    const { fetch } = await setUp(2);
    const { client } = followerConnection();
    const full = await fetch(fullFetch(1), client);
    // held at the log end for up to 30 s (past the test's timeout) unless endPolls cuts it
    const polling = fetch(sessionFetch(full?.sessionId, 1, [], { maxWaitMs: fetchWaitMsMax, minBytes: 1 }), client);
    await sleep(50);
    const cut = await fetch({ replicaId: 2, sessionId: full?.sessionId, endPolls: true, topics: [] }, client);
    expect(cut?.errorCode).toBe(0);
    const polled = await polling;
    expect(polled?.errorCode).toBe(0);
    const added = await fetch(sessionFetch(full?.sessionId, 2, [position(1, 0)]), client);
    expect(added?.errorCode).toBe(0);
    expect(answered(added)).toEqual([1]);
  }, 10_000);

  it('a partition appended to while a session long poll is held wakes the poll and is answered alone', async () => {
    const { replicas, fetch } = await setUp(3);
    const { client } = followerConnection();
    const full = await fetch(fullFetch(3), client);
    // held at the log end for up to 30 s (past the test's timeout) unless the append wakes it
    const polling = fetch(sessionFetch(full?.sessionId, 1, [], { maxWaitMs: fetchWaitMsMax, minBytes: 1 }), client);
    await sleep(50);
    await replicas.appendAsLeader('t', 1, testBatch('p1', 2, 1_000), 1, 1_000);
    const polled = await polling;
    expect(polled?.errorCode).toBe(0);
    expect(answered(polled)).toEqual([1]);
    expect(polled?.topics[0]?.partitions[0]?.records.length).toBeGreaterThan(0);
    // the follower names its new position: only that partition is answered (its high watermark moved)
    const next = await fetch(sessionFetch(full?.sessionId, 2, [position(1, 2)]), client);
    expect(answered(next)).toEqual([1]);
    expect(next?.topics[0]?.partitions[0]?.highWatermark).toBe(2);
  }, 10_000);

  it('a quiet session partition whose leader epoch changes is read again and answered with the fencing', async () => {
    const { replicas, fetch, coordinator } = await setUp(2);
    const { client } = followerConnection();
    const full = await fetch(fullFetch(2), client);
    expect(answered(await fetch(sessionFetch(full?.sessionId, 1), client))).toEqual([]);
    coordinator.reelect(1);
    await pollUntil('the new leader epoch', 5_000, async () =>
      replicas.leaderReplica('t', 1).leaderEpoch === 1 ? true : undefined,
    );
    const fenced = await fetch(sessionFetch(full?.sessionId, 2), client);
    expect(answered(fenced)).toEqual([1]);
    expect(fenced?.topics[0]?.partitions[0]?.errorCode).toBe(WireError.FENCED_LEADER_EPOCH);
  });

  it('a caught-up follower stays in the ISR at idle: its quiet session fetches count as caught up', async () => {
    const { replicas, fetch } = await setUp(3);
    const { client } = followerConnection();
    const full = await fetch(fullFetch(3), client);
    await sleep(40);
    const before = Date.now();
    // quiet incremental fetches: no partition is read, none answered
    expect(answered(await fetch(sessionFetch(full?.sessionId, 1), client))).toEqual([]);
    expect(answered(await fetch(sessionFetch(full?.sessionId, 2), client))).toEqual([]);
    // caught up when the last of them began (the full fetch, 40 ms earlier, is too old for this lag)
    const now = Date.now();
    const lagMaxMs = now - before + 1;
    for (const p of [0, 1, 2]) expect(replicas.leaderReplica('t', p).laggingReplicas(now, lagMaxMs)).toEqual([]);

    // an append after a long quiet spell: caught up at the session's last fetch, before the append
    await replicas.appendAsLeader('t', 0, testBatch('p0', 1, 1_000), 1, 1_000);
    const afterAppend = Date.now();
    expect(replicas.leaderReplica('t', 0).laggingReplicas(afterAppend, afterAppend - before + 1)).toEqual([]);
    // the next fetch reads the partition (the follower is behind now) and still counts it caught up then
    expect(answered(await fetch(sessionFetch(full?.sessionId, 3), client))).toEqual([0]);
    const later = Date.now();
    expect(replicas.leaderReplica('t', 0).laggingReplicas(later, later - before + 1)).toEqual([]);

    // while a long poll of the session is held at the log end, the follower is caught up at any time
    const polling = fetch(
      sessionFetch(full?.sessionId, 4, [position(0, 1)], { maxWaitMs: fetchWaitMsMax, minBytes: 1 }),
      client,
    );
    await sleep(50);
    const farAhead = Date.now() + 3_600_000;
    for (const p of [0, 1, 2]) expect(replicas.leaderReplica('t', p).laggingReplicas(farAhead, 1_000)).toEqual([]);
    await fetch({ replicaId: 2, sessionId: full?.sessionId, endPolls: true, topics: [] }, client);
    await polling;
  }, 10_000);

  it('the ISR shrinks when a session follower stops fetching or its connection closes', async () => {
    const { replicas, fetch } = await setUp(2);
    const { client, close } = followerConnection();
    const full = await fetch(fullFetch(2), client);
    expect(answered(await fetch(sessionFetch(full?.sessionId, 1), client))).toEqual([]);
    const stopped = Date.now();
    // the follower fetches no more: lagging once replica.lag.time.max.ms passed since its last fetch
    for (const p of [0, 1]) expect(replicas.leaderReplica('t', p).laggingReplicas(stopped + 1_000, 2_000)).toEqual([]);
    await sleep(60);
    for (const p of [0, 1]) expect(replicas.leaderReplica('t', p).laggingReplicas(Date.now(), 30)).toEqual([2]);
    // a held poll of a closed connection holds nothing: its session ends with it
    const polling = fetch(sessionFetch(full?.sessionId, 2, [], { maxWaitMs: fetchWaitMsMax, minBytes: 1 }), client);
    await sleep(50);
    close();
    await polling;
    const closed = Date.now();
    expect(replicas.leaderReplica('t', 0).laggingReplicas(closed + 3_600_000, 1_000)).toEqual([2]);
  }, 10_000);

  it('each broker counts its own sessions: one at fetchSessionsMax does not refuse another its first', async () => {
    const a = await setUp(1);
    const b = await setUp(1);
    for (let i = 0; i < fetchSessionsMax; i++) {
      const made = await a.fetch(fullFetch(1), followerConnection().client);
      expect(made?.sessionId).toBeGreaterThan(0);
    }
    // broker a is full: a full fetch is answered without a session
    expect((await a.fetch(fullFetch(1), followerConnection().client))?.sessionId).toBe(0);
    const other = await b.fetch(fullFetch(1), followerConnection().client);
    expect(other?.sessionId).toBeGreaterThan(0);
  }, 60_000);

  it('each broker keeps its own polling connections: one connection id on two brokers holds two sessions', async () => {
    const a = await setUp(2);
    const b = await setUp(2);
    // connection ids are per broker: the same id on two brokers in one process is two connections
    const onA = followerConnection();
    const onB: ClientInfo = { ...followerConnection().client, connectionId: onA.client.connectionId };
    const fullA = await a.fetch(fullFetch(2), onA.client);
    expect(fullA?.sessionId).toBeGreaterThan(0);
    // a full fetch on broker b must not replace (end) broker a's session of the same connection id
    const fullB = await b.fetch(fullFetch(2), onB);
    expect(fullB?.sessionId).toBeGreaterThan(0);
    await a.replicas.appendAsLeader('t', 1, testBatch('a1', 2, 1_000), 1, 1_000);
    const incrementalA = await a.fetch(sessionFetch(fullA?.sessionId, 1), onA.client);
    expect(incrementalA?.errorCode).toBe(0);
    expect(answered(incrementalA)).toEqual([1]);
    const incrementalB = await b.fetch(sessionFetch(fullB?.sessionId, 1), onB);
    expect(incrementalB?.errorCode).toBe(0);
    expect(answered(incrementalB)).toEqual([]);
  }, 60_000);
});
