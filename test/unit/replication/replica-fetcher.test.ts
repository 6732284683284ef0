/**
 * The replica fetcher against a scripted leader on a real loopback socket:
 * an answer to a request made under an old leader epoch must not move the
 * entry that replaced it. Found by the chaos suite: a restarted follower was
 * told epoch 4, then 5, while its OffsetForLeaderEpoch under 4 was in flight;
 * the leader (already at 5) answered FENCED_LEADER_EPOCH, the fetcher applied
 * it to the epoch-5 entry and parked it as fenced for good: the follower never
 * fetched again and never rejoined the ISR.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import type { PartitionReplica } from '../../../src/replication/partition-replica.js';
import { ReplicaFetcher } from '../../../src/replication/replica-fetcher.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { fakeNativeBroker } from '../../helpers/fake-native-broker.js';

interface Seen {
  apiKey: number;
  epochs: number[];
}

/** A leader at `leaderEpoch` that answers OffsetForLeaderEpoch under an older epoch late, with FENCED_LEADER_EPOCH. */
async function scriptedLeader(
  leaderEpoch: number,
  staleAnswerDelayMs: number,
): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const broker = await fakeNativeBroker(async (apiKey, body) => {
    const topics = body.topics as { name: string; partitions: { partition: number; currentLeaderEpoch: number }[] }[];
    const epochs = topics.flatMap((t) => t.partitions.map((p) => p.currentLeaderEpoch));
    seen.push({ apiKey, epochs });
    const stale = epochs.some((e) => e < leaderEpoch);
    const answer = (p: { partition: number }): object =>
      apiKey === ApiKey.OffsetForLeaderEpoch
        ? stale
          ? { partition: p.partition, errorCode: WireError.FENCED_LEADER_EPOCH, leaderEpoch: -1, endOffset: -1 }
          : { partition: p.partition, errorCode: 0, leaderEpoch, endOffset: 0 }
        : { partition: p.partition, errorCode: 0, highWatermark: 0, logStartOffset: 0, records: Buffer.alloc(0) };
    await sleep(
      apiKey === ApiKey.OffsetForLeaderEpoch && stale ? staleAnswerDelayMs : apiKey === ApiKey.Fetch ? 20 : 0,
    );
    return { errorCode: 0, topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map(answer) })) };
  });
  return { port: broker.port, seen, close: broker.close };
}

/** The parts of a follower replica the fetcher uses: an empty log at `epoch` (its log end may be set). */
function followerReplica(
  epoch: number,
  partition = 0,
): PartitionReplica & { leaderEpoch: number; log: { logEndOffset: number } } {
  const log = {
    latestEpoch: 0,
    logEndOffset: 0,
    logStartOffset: 0,
    endOffsetForEpoch: () => undefined,
    truncateTo: async () => undefined,
    append: async () => undefined,
    deleteSegmentsBefore: async () => 0,
  };
  return {
    topic: 't',
    partition,
    name: `t-${partition}`,
    leaderEpoch: epoch,
    highWatermark: 0,
    log,
    capHighWatermark: () => undefined,
    updateFollowerHighWatermark: () => undefined,
  } as unknown as PartitionReplica & { leaderEpoch: number; log: { logEndOffset: number } };
}

const closers: (() => Promise<void>)[] = [];

/** Broker 3's fetcher from leader `leaderId`, listening on loopback `port`; closed after the test. */
function fetcherOf(leaderId: number, port: number): ReplicaFetcher {
  const fetcher = new ReplicaFetcher({
    brokerId: 3,
    leaderId,
    endpoint: () => ({ nodeId: leaderId, host: '127.0.0.1', port }),
    config: parseBrokerConfig(new Map([['replica.fetch.wait.max.ms', '50']])),
    logger: silentLogger,
    onIdle: () => undefined,
  });
  closers.push(() => fetcher.close());
  return fetcher;
}
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('replica fetcher', () => {
  it('applies an answer only to the entry it was asked for: a stale FENCED does not park the new epoch', async () => {
    const leader = await scriptedLeader(5, 300);
    closers.push(leader.close);
    const fetcher = fetcherOf(2, leader.port);
    const replica = followerReplica(4);
    fetcher.add(replica);
    // the coordinator's next state arrives while the epoch-4 question is in flight
    const deadline = Date.now() + 5000;
    while (!leader.seen.some((s) => s.apiKey === ApiKey.OffsetForLeaderEpoch) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    replica.leaderEpoch = 5;
    fetcher.add(replica);
    while (!leader.seen.some((s) => s.apiKey === ApiKey.Fetch) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const fetches = leader.seen.filter((s) => s.apiKey === ApiKey.Fetch);
    expect(fetches.length).toBeGreaterThan(0);
    expect(fetches.every((s) => s.epochs.every((e) => e === 5))).toBe(true);
  });

  it('never sends a fetch for a partition that moved to another leader while a truncation was in flight', async () => {
    // Found with a SIGSTOPped leader: the fetcher chose its partitions, asked the (stopped) leader where
    // a newly added one diverges, and meanwhile one of them moved to a new leader and took its records.
    // The fetch sent once the answer came named that partition under the old epoch with the new
    // leader's log end: the stale leader, not yet told of the new epoch, counted those records as
    // replicated and acknowledged a record of its own that the new epoch then overwrote.
    const requests: { apiKey: number; partitions: { partition: number; fetchOffset?: number }[] }[] = [];
    const broker = await fakeNativeBroker(async (apiKey, body) => {
      const topics = body.topics as { name: string; partitions: { partition: number; fetchOffset?: number }[] }[];
      const partitions = topics.flatMap((t) => t.partitions);
      requests.push({ apiKey, partitions });
      const answer = (p: { partition: number }): object =>
        apiKey === ApiKey.OffsetForLeaderEpoch
          ? { partition: p.partition, errorCode: 0, leaderEpoch: 0, endOffset: 0 }
          : { partition: p.partition, errorCode: 0, highWatermark: 0, logStartOffset: 0, records: Buffer.alloc(0) };
      // the question about partition 1 is answered late: the window in which partition 0 moves
      const slow = apiKey === ApiKey.OffsetForLeaderEpoch && partitions.some((p) => p.partition === 1);
      await sleep(slow ? 300 : apiKey === ApiKey.Fetch ? 20 : 0);
      return { errorCode: 0, topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map(answer) })) };
    });
    closers.push(broker.close);
    const fetcher = fetcherOf(1, broker.port);
    const moved = followerReplica(0, 0);
    const added = followerReplica(0, 1);
    const until = async (done: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!done() && Date.now() < deadline) await sleep(5);
      expect(done()).toBe(true);
    };
    const fetchesOf = (partition: number): number =>
      requests.filter((r) => r.apiKey === ApiKey.Fetch && r.partitions.some((p) => p.partition === partition)).length;
    fetcher.add(moved);
    await until(() => fetchesOf(0) > 0);
    fetcher.add(added);
    await until(() =>
      requests.some((r) => r.apiKey === ApiKey.OffsetForLeaderEpoch && r.partitions[0]?.partition === 1),
    );
    // partition 0 now follows (or leads) elsewhere, and its log grows with the new epoch's records
    const before = requests.length;
    fetcher.remove(moved);
    moved.log.logEndOffset = 70;
    await until(() => fetchesOf(1) > 0);
    const after = requests.slice(before).filter((r) => r.apiKey === ApiKey.Fetch);
    expect(after.length).toBeGreaterThan(0);
    expect(after.flatMap((r) => r.partitions.map((p) => p.partition))).not.toContain(0);
  });

  it('an idle follower polls longer after each empty answer, up to replica.lag.time.max.ms, and at its configured wait again once records come', async () => {
    const waits: number[] = [];
    const broker = await fakeNativeBroker(async (apiKey, body) => {
      const topics = body.topics as { name: string; partitions: { partition: number }[] }[];
      if (apiKey === ApiKey.Fetch) waits.push(body.maxWaitMs as number);
      // answered at once (no real long poll): the fifth fetch brings a record, the others nothing
      const records = apiKey === ApiKey.Fetch && waits.length === 5 ? Buffer.from([1]) : Buffer.alloc(0);
      const answer = (p: { partition: number }): object =>
        apiKey === ApiKey.OffsetForLeaderEpoch
          ? { partition: p.partition, errorCode: 0, leaderEpoch: 0, endOffset: 0 }
          : { partition: p.partition, errorCode: 0, highWatermark: 0, logStartOffset: 0, records };
      return { errorCode: 0, topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map(answer) })) };
    });
    closers.push(broker.close);
    const fetcher = new ReplicaFetcher({
      brokerId: 3,
      leaderId: 1,
      endpoint: () => ({ nodeId: 1, host: '127.0.0.1', port: broker.port }),
      config: parseBrokerConfig(
        new Map([
          ['replica.fetch.wait.max.ms', '50'],
          ['replica.lag.time.max.ms', '600'],
        ]),
      ),
      logger: silentLogger,
      onIdle: () => undefined,
    });
    closers.push(() => fetcher.close());
    fetcher.add(followerReplica(0));
    const deadline = Date.now() + 5000;
    while (waits.length < 7 && Date.now() < deadline) await sleep(5);
    expect(waits.slice(0, 7)).toEqual([50, 100, 200, 400, 600, 50, 100]);
  });
  it('within a fetch session names only what changed: an added partition alone; a lost session brings one full fetch', async () => {
    const fetches: { sessionId: number; sessionEpoch: number; partitions: number[]; forgotten?: number[] }[] = [];
    let refuseNext = false;
    const broker = await fakeNativeBroker(async (apiKey, body) => {
      const topics = body.topics as { name: string; partitions: { partition: number }[] }[];
      const answer = (p: { partition: number }): object =>
        apiKey === ApiKey.OffsetForLeaderEpoch
          ? { partition: p.partition, errorCode: 0, leaderEpoch: 0, endOffset: 0 }
          : { partition: p.partition, errorCode: 0, highWatermark: 0, logStartOffset: 0, records: Buffer.alloc(0) };
      if (apiKey !== ApiKey.Fetch || body.endPolls === true) {
        return { errorCode: 0, topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map(answer) })) };
      }
      const sessionId = body.sessionId as number;
      fetches.push({
        sessionId,
        sessionEpoch: body.sessionEpoch as number,
        partitions: topics.flatMap((t) => t.partitions.map((p) => p.partition)).sort((a, b) => a - b),
        ...(body.forgotten
          ? { forgotten: (body.forgotten as { partitions: number[] }[]).flatMap((t) => t.partitions) }
          : {}),
      });
      await sleep(10);
      if (refuseNext && sessionId !== 0) {
        // the leader restarted: it holds no session
        refuseNext = false;
        return { errorCode: WireError.FETCH_SESSION_ID_NOT_FOUND, topics: [], sessionId: 0 };
      }
      return {
        errorCode: 0,
        sessionId: 77,
        topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map(answer) })),
      };
    });
    closers.push(broker.close);
    const fetcher = fetcherOf(1, broker.port);
    const until = async (done: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!done() && Date.now() < deadline) await sleep(5);
      expect(done()).toBe(true);
    };
    fetcher.add(followerReplica(0, 0));
    fetcher.add(followerReplica(0, 1));
    await until(() => fetches.some((f) => f.sessionId === 77));
    expect(fetches[0]).toEqual({ sessionId: 0, sessionEpoch: 0, partitions: [0, 1] });
    // positions unchanged: incremental fetches name nothing
    expect(fetches.filter((f) => f.sessionId === 77).every((f) => f.partitions.length === 0)).toBe(true);

    const before = fetches.length;
    fetcher.add(followerReplica(0, 2));
    await until(() => fetches.slice(before).some((f) => f.partitions.length > 0));
    const named = fetches.slice(before).find((f) => f.partitions.length > 0);
    expect(named).toMatchObject({ sessionId: 77, partitions: [2] });

    // partition 1 moves to another leader: the session forgets it, nothing else is named
    const one = followerReplica(0, 1);
    const movedAt = fetches.length;
    fetcher.add(one);
    await until(() => fetches.slice(movedAt).some((f) => f.partitions.includes(1)));
    const removedAt = fetches.length;
    fetcher.remove(one);
    await until(() => fetches.slice(removedAt).some((f) => f.forgotten !== undefined));
    expect(fetches.slice(removedAt).find((f) => f.forgotten !== undefined)).toMatchObject({
      sessionId: 77,
      partitions: [],
      forgotten: [1],
    });

    refuseNext = true;
    const refusedAt = fetches.length;
    await until(() => fetches.slice(refusedAt).some((f) => f.sessionId === 0));
    const full = fetches.slice(refusedAt).find((f) => f.sessionId === 0);
    expect(full).toEqual({ sessionId: 0, sessionEpoch: 0, partitions: [0, 2] });
    expect(fetcher.fetchCounts.sessionErrors).toBe(1);
  });
});

/** A follower replica whose log moves as the fetcher drives it (append, truncations, log start). */
function movingReplica(
  partition: number,
): PartitionReplica & { log: { logEndOffset: number; logStartOffset: number } } {
  const log = {
    latestEpoch: 0,
    logEndOffset: 20,
    logStartOffset: 0,
    diskFull: false,
    endOffsetForEpoch: () => undefined,
    truncateTo: async (offset: number) => {
      log.logEndOffset = offset;
    },
    truncateFullyAndStartAt: async (offset: number) => {
      log.logStartOffset = offset;
      log.logEndOffset = offset;
    },
    advanceLogStartOffset: async (offset: number) => {
      log.logStartOffset = offset;
    },
    append: async () => {
      log.logEndOffset += 5;
    },
  };
  return {
    topic: 't',
    partition,
    name: `t-${partition}`,
    leaderEpoch: 0,
    highWatermark: 0,
    isr: [],
    log,
    capHighWatermark: () => undefined,
    updateFollowerHighWatermark: () => undefined,
  } as unknown as PartitionReplica & { log: { logEndOffset: number; logStartOffset: number } };
}

describe('replica fetcher: fetches built from what changed', () => {
  it('within a session names only the partitions appended to, truncated or refused (the others untouched); a refused session names all', async () => {
    type Named = { partition: number; fetchOffset: number };
    const fetches: { sessionId: number; partitions: Named[] }[] = [];
    /** What the leader answers for a partition on the next fetch (then the usual quiet answer). */
    const script = new Map<number, object>();
    let refuseNext = false;
    let truncateTo = 20;
    /** The index of the fetch that the last scripted answer answered. */
    let carried = -1;
    const broker = await fakeNativeBroker(async (apiKey, body) => {
      const topics = body.topics as { name: string; partitions: Named[] }[];
      if (apiKey === ApiKey.OffsetForLeaderEpoch) {
        const answer = (p: { partition: number }) => ({
          partition: p.partition,
          errorCode: 0,
          leaderEpoch: 0,
          endOffset: truncateTo,
        });
        return { errorCode: 0, topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map(answer) })) };
      }
      if (body.endPolls === true) return { errorCode: 0, topics: [] };
      const sessionId = body.sessionId as number;
      fetches.push({
        sessionId,
        partitions: topics.flatMap((t) =>
          t.partitions.map((p) => ({ partition: p.partition, fetchOffset: p.fetchOffset })),
        ),
      });
      await sleep(5);
      if (refuseNext && sessionId !== 0) {
        refuseNext = false;
        return { errorCode: WireError.FETCH_SESSION_ID_NOT_FOUND, topics: [], sessionId: 0 };
      }
      const answers = [...script].map(([partition, a]) => ({
        partition,
        errorCode: 0,
        highWatermark: 0,
        logStartOffset: 0,
        records: Buffer.alloc(0),
        ...a,
      }));
      if (script.size > 0) carried = fetches.length - 1;
      script.clear();
      return { errorCode: 0, sessionId: 78, topics: answers.length > 0 ? [{ name: 't', partitions: answers }] : [] };
    });
    closers.push(broker.close);
    const fetcher = fetcherOf(1, broker.port);
    const until = async (done: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!done() && Date.now() < deadline) await sleep(2);
      expect(done()).toBe(true);
    };
    const replicas = [0, 1, 2, 3].map(movingReplica);
    for (const r of replicas) fetcher.add(r);
    await until(() => fetches.filter((f) => f.sessionId === 78).length >= 2);
    expect(fetches[0]?.sessionId).toBe(0);
    expect(fetches[0]?.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    expect(fetcher.passCounts.incremental).toBeGreaterThan(0);

    /** Scripts an answer, then returns the first fetch sent after the one that carried it. */
    const nextAfter = async (
      partition: number,
      answer: object,
    ): Promise<{ sessionId: number; partitions: Named[] }> => {
      script.set(partition, answer);
      await until(() => script.size === 0 && fetches.length > carried + 1);
      const next = fetches[carried + 1];
      if (!next) throw new Error('no fetch');
      return next;
    };

    // records appended to partition 1: the next fetch names it alone, at its new log end
    expect(await nextAfter(1, { records: Buffer.from('x'.repeat(64)) })).toEqual({
      sessionId: 78,
      partitions: [{ partition: 1, fetchOffset: 25 }],
    });
    // partition 2 is behind the leader's log start: truncated fully, named at the new start
    expect(await nextAfter(2, { errorCode: WireError.OFFSET_OUT_OF_RANGE, logStartOffset: 40 })).toEqual({
      sessionId: 78,
      partitions: [{ partition: 2, fetchOffset: 40 }],
    });
    // partition 3 is refused (NOT_LEADER_OR_FOLLOWER): it truncates again (to 12) and is named there
    truncateTo = 12;
    const afterError = await nextAfter(3, { errorCode: WireError.NOT_LEADER_OR_FOLLOWER });
    expect(afterError).toEqual({ sessionId: 78, partitions: [{ partition: 3, fetchOffset: 12 }] });

    // partition 4 is added mid-session: the fetch under way is cut, and the next one names it
    const addedAt = fetches.length;
    fetcher.add(movingReplica(4));
    await until(() => fetches.length > addedAt + 1);
    expect(fetches.slice(addedAt, addedAt + 2).some((f) => f.partitions.some((p) => p.partition === 4))).toBe(true);

    // the session is refused: the full fetch names every partition at its position
    refuseNext = true;
    const refusedAt = fetches.length;
    await until(() => fetches.slice(refusedAt).some((f) => f.sessionId === 0));
    expect(fetches.slice(refusedAt).find((f) => f.sessionId === 0)?.partitions).toEqual([
      { partition: 0, fetchOffset: 20 },
      { partition: 1, fetchOffset: 25 },
      { partition: 2, fetchOffset: 40 },
      { partition: 3, fetchOffset: 12 },
      { partition: 4, fetchOffset: 12 },
    ]);
  });
});
