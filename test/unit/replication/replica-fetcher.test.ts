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

/** The parts of a follower replica the fetcher uses: an empty log at `epoch`. */
function followerReplica(epoch: number): PartitionReplica & { leaderEpoch: number } {
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
    partition: 0,
    name: 't-0',
    leaderEpoch: epoch,
    highWatermark: 0,
    log,
    capHighWatermark: () => undefined,
    updateFollowerHighWatermark: () => undefined,
  } as unknown as PartitionReplica & { leaderEpoch: number };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('replica fetcher', () => {
  it('applies an answer only to the entry it was asked for: a stale FENCED does not park the new epoch', async () => {
    const leader = await scriptedLeader(5, 300);
    closers.push(leader.close);
    const fetcher = new ReplicaFetcher({
      brokerId: 3,
      leaderId: 2,
      endpoint: () => ({ nodeId: 2, host: '127.0.0.1', port: leader.port }),
      config: parseBrokerConfig(new Map([['replica.fetch.wait.max.ms', '50']])),
      logger: silentLogger,
      onIdle: () => undefined,
    });
    closers.push(() => fetcher.close());
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
});
