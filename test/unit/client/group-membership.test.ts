/**
 * The membership state machine against a tiny in-test coordinator speaking
 * the native frame format: the leader assigns every member's partitions,
 * REBALANCE_IN_PROGRESS leads to revoke → join → sync → assign,
 * UNKNOWN_MEMBER_ID to a rejoin with memberId '', stop() leaves the group.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rangeAssignor } from '../../../src/client/assignors/index.js';
import { parseBrokers } from '../../../src/client/brokers.js';
import { Cluster } from '../../../src/client/cluster.js';
import { GroupMembership } from '../../../src/client/group-membership.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type TopicPartitions,
} from '../../../src/protocol/native/consumer-protocol.js';
import { type AnyBody, type FakeHandler, fakeNativeBroker } from '../../helpers/fake-native-broker.js';

type Any = AnyBody;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A broker that answers each request with `handler`'s result (its own port passed in). */
async function fakeCoordinator(handler: FakeHandler): Promise<number> {
  const broker = await fakeNativeBroker(handler);
  cleanups.push(broker.close);
  return broker.port;
}

function cluster(port: number): Cluster {
  const c = new Cluster({
    brokers: parseBrokers(`127.0.0.1:${port}`),
    clientId: 'membership-test',
    connectTimeoutMs: 2000,
    requestTimeoutMs: 2000,
    maxInFlight: 5,
    retries: 3,
    retryBackoffMs: 10,
    emit: () => undefined,
  });
  cleanups.push(() => c.close());
  return c;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('GroupMembership', () => {
  it('joins as leader, assigns every member, rejoins on REBALANCE_IN_PROGRESS and UNKNOWN_MEMBER_ID, leaves on stop', async () => {
    const log: string[] = [];
    const joins: Any[] = [];
    const syncs: Any[] = [];
    let generation = 0;
    let heartbeats = 0;
    const other = encodeSubscription({ version: 0, topics: ['t'], ownedPartitions: [] });
    const port = await fakeCoordinator((apiKey, body, p) => {
      switch (apiKey) {
        case ApiKey.Metadata:
          return {
            errorCode: 0,
            controllerId: 0,
            brokers: [{ nodeId: 0, host: '127.0.0.1', port: p }],
            topics: [
              {
                name: 't',
                errorCode: 0,
                partitions: [0, 1, 2, 3].map((partition) => ({
                  partition,
                  errorCode: 0,
                  leader: 0,
                  leaderEpoch: 0,
                  replicas: [0],
                  isr: [0],
                })),
              },
            ],
          };
        case ApiKey.FindCoordinator:
          return { errorCode: 0, nodeId: 0, host: '127.0.0.1', port: p };
        case ApiKey.JoinGroup: {
          joins.push(body);
          generation++;
          const memberId = body.memberId === '' ? `m1-${generation}` : body.memberId;
          return {
            errorCode: 0,
            generationId: generation,
            protocolName: 'range',
            leader: memberId,
            memberId,
            members: [
              { memberId, metadata: body.protocols[0].metadata },
              { memberId: 'zz-other', metadata: other },
            ],
          };
        }
        case ApiKey.SyncGroup: {
          syncs.push(body);
          const mine = body.assignments.find((a: Any) => a.memberId === body.memberId);
          return { errorCode: 0, assignment: mine.assignment };
        }
        case ApiKey.Heartbeat:
          heartbeats++;
          if (heartbeats === 2) return { errorCode: WireError.REBALANCE_IN_PROGRESS };
          if (heartbeats === 4) return { errorCode: WireError.UNKNOWN_MEMBER_ID };
          return { errorCode: 0 };
        case ApiKey.LeaveGroup:
          log.push(`leave ${body.memberId}`);
          return { errorCode: 0 };
        default:
          return { errorCode: WireError.INVALID_REQUEST };
      }
    });
    const assigned: TopicPartitions[][] = [];
    const m = new GroupMembership(
      cluster(port),
      {
        groupId: 'g',
        sessionTimeoutMs: 3000,
        rebalanceTimeoutMs: 3000,
        heartbeatIntervalMs: 20,
        assignors: [rangeAssignor],
      },
      {
        topics: async () => ['t'],
        dynamicTopics: () => false,
        revoke: async (partitions) => {
          log.push(`revoke ${partitions.map((tp) => tp.partitions.join(',')).join(';')}`);
        },
        assign: async (partitions, gen) => {
          assigned.push(partitions);
          log.push(`assign gen ${gen}: ${partitions.map((tp) => tp.partitions.join(',')).join(';')}`);
        },
        fatal: (err) => log.push(`fatal ${err.message}`),
      },
    );
    m.start();
    await waitFor('three generations', () => assigned.length >= 3 && heartbeats >= 5);
    await m.stop();

    // the leader's SyncGroup carries every member's assignment, range-split
    const first = syncs[0] as Any;
    expect(first.assignments.map((a: Any) => a.memberId).sort()).toEqual(['m1-1', 'zz-other']);
    const theirs = first.assignments.find((a: Any) => a.memberId === 'zz-other');
    expect(decodeAssignment(Buffer.from(theirs.assignment)).partitions).toEqual([{ topic: 't', partitions: [2, 3] }]);
    // the subscription names the topics and (from the second join) the partitions owned
    expect(decodeSubscription(Buffer.from((joins[0] as Any).protocols[0].metadata)).topics).toEqual(['t']);
    expect(decodeSubscription(Buffer.from((joins[1] as Any).protocols[0].metadata)).ownedPartitions).toEqual([
      { topic: 't', partitions: [0, 1] },
    ]);
    // REBALANCE_IN_PROGRESS: rejoin with the same member id; UNKNOWN_MEMBER_ID: with ''
    expect(joins.map((j) => j.memberId)).toEqual(['', 'm1-1', '']);
    expect(joins[0]).toMatchObject({
      groupId: 'g',
      sessionTimeoutMs: 3000,
      rebalanceTimeoutMs: 3000,
      protocolType: 'consumer',
    });
    expect(log).toEqual([
      'assign gen 1: 0,1',
      'revoke 0,1',
      'assign gen 2: 0,1',
      'revoke 0,1',
      'assign gen 3: 0,1',
      'leave m1-3',
    ]);
  });

  it('commits with its generation, and a fenced commit asks for a rejoin and rejects', async () => {
    const commits: Any[] = [];
    let joins = 0;
    const port = await fakeCoordinator((apiKey, body, p) => {
      if (apiKey === ApiKey.FindCoordinator) return { errorCode: 0, nodeId: 0, host: '127.0.0.1', port: p };
      if (apiKey === ApiKey.JoinGroup) {
        joins++;
        return { errorCode: 0, generationId: joins, protocolName: 'range', leader: 'x', memberId: 'me', members: [] };
      }
      if (apiKey === ApiKey.SyncGroup)
        return {
          errorCode: 0,
          assignment: encodeAssignment({ version: 0, partitions: [{ topic: 't', partitions: [0] }] }),
        };
      if (apiKey === ApiKey.Heartbeat) return { errorCode: 0 };
      if (apiKey === ApiKey.OffsetCommit) {
        commits.push(body);
        const code = commits.length === 2 ? WireError.ILLEGAL_GENERATION : 0;
        return {
          errorCode: 0,
          topics: body.topics.map((t: Any) => ({
            name: t.name,
            partitions: t.partitions.map((x: Any) => ({ partition: x.partition, errorCode: code })),
          })),
        };
      }
      return { errorCode: 0 };
    });
    let assigns = 0;
    const m = new GroupMembership(
      cluster(port),
      {
        groupId: 'g',
        sessionTimeoutMs: 3000,
        rebalanceTimeoutMs: 3000,
        heartbeatIntervalMs: 50,
        assignors: [rangeAssignor],
      },
      {
        topics: async () => ['t'],
        dynamicTopics: () => false,
        revoke: async () => undefined,
        assign: async () => {
          assigns++;
        },
        fatal: () => undefined,
      },
    );
    m.start();
    await waitFor('joined', () => assigns === 1);
    await m.commit([{ topic: 't', partition: 0, offset: 5 }]);
    expect(commits[0]).toMatchObject({
      groupId: 'g',
      generationId: 1,
      memberId: 'me',
      topics: [{ name: 't', partitions: [{ partition: 0, offset: 5 }] }],
    });
    await expect(m.commit([{ topic: 't', partition: 0, offset: 6 }])).rejects.toThrow(/ILLEGAL_GENERATION/);
    await waitFor('rejoined', () => assigns === 2);
    expect(m.generationId).toBe(2);
    await m.stop();
  });

  it('looks the coordinator up again when it stops answering (a paused broker still accepts connections)', async () => {
    // the old coordinator: accepts connections, reads requests, never answers
    const paused = await fakeCoordinator(() => undefined);
    let finds = 0;
    let joinsHere = 0;
    const port = await fakeCoordinator((apiKey, body, p) => {
      switch (apiKey) {
        case ApiKey.FindCoordinator:
          finds++;
          // first the paused broker; once its session expired the group moved here
          return { errorCode: 0, nodeId: 0, host: '127.0.0.1', port: finds === 1 ? paused : p };
        case ApiKey.Metadata:
          return {
            errorCode: 0,
            controllerId: 0,
            brokers: [{ nodeId: 0, host: '127.0.0.1', port: p }],
            topics: [
              {
                name: 't',
                errorCode: 0,
                partitions: [{ partition: 0, errorCode: 0, leader: 0, replicas: [0], isr: [0] }],
              },
            ],
          };
        case ApiKey.JoinGroup:
          joinsHere++;
          return {
            errorCode: 0,
            generationId: 1,
            protocolName: 'range',
            leader: 'me',
            memberId: 'me',
            members: [{ memberId: 'me', metadata: body.protocols[0].metadata }],
          };
        case ApiKey.SyncGroup:
          return { errorCode: 0, assignment: body.assignments[0].assignment };
        default:
          return { errorCode: 0 };
      }
    });
    const assigned: TopicPartitions[][] = [];
    const fatal: Error[] = [];
    const m = new GroupMembership(
      cluster(port),
      {
        groupId: 'g',
        sessionTimeoutMs: 3000,
        // JoinGroup waits rebalanceTimeoutMs + the request timeout: keep the wait on the paused one short
        rebalanceTimeoutMs: 200,
        heartbeatIntervalMs: 50,
        assignors: [rangeAssignor],
      },
      {
        topics: async () => ['t'],
        dynamicTopics: () => false,
        revoke: async () => undefined,
        assign: async (partitions) => {
          assigned.push(partitions);
        },
        fatal: (err) => fatal.push(err),
      },
    );
    m.start();
    await waitFor('assigned by the new coordinator', () => assigned.length > 0 || fatal.length > 0, 15_000);
    await m.stop();
    expect(fatal).toEqual([]);
    expect(finds).toBeGreaterThanOrEqual(2);
    expect(joinsHere).toBeGreaterThanOrEqual(1);
    expect(assigned[0]).toEqual([{ topic: 't', partitions: [0] }]);
  }, 30_000);
});
