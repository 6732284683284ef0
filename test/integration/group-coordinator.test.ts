/**
 * The group coordinator over real TCP against a real Broker: Kafka's
 * join/sync/heartbeat/leave protocol with generations, session expiry,
 * commit fencing, committed offsets kept in __consumer_offsets across a
 * restart, list/describe, and admin commits only for empty groups.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { parseBrokerConfig } from '../../src/config/broker-config.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { silentLogger } from '../../src/shared/logger.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';

interface Any {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

let broker: Broker;
let port: number;
let dir: string;
let cleanup: () => void;
const clients: RawClient[] = [];

async function startBroker(): Promise<void> {
  broker = new Broker(
    parseBrokerConfig(
      new Map([
        ['port', '0'],
        ['http.port', '0'],
        ['log.dirs', dir],
      ]),
    ),
    silentLogger,
  );
  port = (await broker.start()).port;
}

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

const join = (
  c: RawClient,
  groupId: string,
  memberId = '',
  sessionTimeoutMs = 2000,
  rebalanceTimeoutMs = 2000,
): Promise<Any> =>
  c.call<Any>(ApiKey.JoinGroup, {
    groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    memberId,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from(memberId || 'new') }],
  });

const sync = (
  c: RawClient,
  groupId: string,
  generationId: number,
  memberId: string,
  assignments: Any[] = [],
): Promise<Any> => c.call<Any>(ApiKey.SyncGroup, { groupId, generationId, memberId, assignments });

const heartbeat = (c: RawClient, groupId: string, generationId: number, memberId: string): Promise<Any> =>
  c.call<Any>(ApiKey.Heartbeat, { groupId, generationId, memberId });

const commit = (c: RawClient, groupId: string, generationId: number, memberId: string, offset: number): Promise<Any> =>
  c.call<Any>(ApiKey.OffsetCommit, {
    groupId,
    generationId,
    memberId,
    topics: [{ name: 't', partitions: [{ partition: 0, offset, metadata: 'm' }] }],
  });

beforeEach(async () => {
  const t = tempDir();
  dir = t.dir;
  cleanup = t.cleanup;
  await startBroker();
  // commits name topic 't': a commit to a topic the cluster does not know is refused
  const c = await client();
  const created = await c.call<Any>(ApiKey.CreateTopics, { topics: [{ name: 't', numPartitions: 2 }] });
  expect(created.topics[0].errorCode).toBe(0);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await broker.stop();
  cleanup();
});

describe('group coordinator', () => {
  it('finds itself as coordinator and runs one member through join, sync, heartbeat and leave', async () => {
    const c = await client();
    const found = await c.call<Any>(ApiKey.FindCoordinator, { key: 'g1' });
    expect(found).toMatchObject({ errorCode: 0, nodeId: 0, port });
    const joined = await join(c, 'g1');
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    expect(joined.leader).toBe(joined.memberId);
    expect(joined.members.map((m: Any) => m.memberId)).toEqual([joined.memberId]);
    const synced = await sync(c, 'g1', 1, joined.memberId, [
      { memberId: joined.memberId, assignment: Buffer.from('all') },
    ]);
    expect(synced.errorCode).toBe(0);
    expect(Buffer.from(synced.assignment).toString()).toBe('all');
    expect((await heartbeat(c, 'g1', 1, joined.memberId)).errorCode).toBe(0);
    expect((await heartbeat(c, 'g1', 0, joined.memberId)).errorCode).toBe(WireError.ILLEGAL_GENERATION);
    expect((await heartbeat(c, 'g1', 1, 'nobody')).errorCode).toBe(WireError.UNKNOWN_MEMBER_ID);
    const described = await c.call<Any>(ApiKey.DescribeGroups, { groups: ['g1', 'nope'] });
    expect(described.groups[0]).toMatchObject({ groupId: 'g1', state: 'Stable', protocol: 'range' });
    expect(described.groups[0].members[0].memberId).toBe(joined.memberId);
    expect(described.groups[1].errorCode).toBe(WireError.GROUP_ID_NOT_FOUND);
    expect((await c.call<Any>(ApiKey.LeaveGroup, { groupId: 'g1', memberId: joined.memberId })).errorCode).toBe(0);
    const after = await c.call<Any>(ApiKey.DescribeGroups, { groups: ['g1'] });
    expect(after.groups[0]).toMatchObject({ state: 'Empty', members: [] });
  });

  it('a second member triggers a rebalance: both rejoin into the next generation and the leader assigns', async () => {
    const a = await client();
    const b = await client();
    const first = await join(a, 'g2');
    await sync(a, 'g2', first.generationId, first.memberId, [
      { memberId: first.memberId, assignment: Buffer.from('p0,p1') },
    ]);
    const bJoining = join(b, 'g2');
    // the existing member learns of the rebalance from its heartbeat and rejoins
    await new Promise((r) => setTimeout(r, 50));
    expect((await heartbeat(a, 'g2', first.generationId, first.memberId)).errorCode).toBe(
      WireError.REBALANCE_IN_PROGRESS,
    );
    const [aJoined, bJoined] = await Promise.all([join(a, 'g2', first.memberId), bJoining]);
    expect(aJoined.generationId).toBe(2);
    expect(bJoined.generationId).toBe(2);
    expect(aJoined.leader).toBe(first.memberId);
    expect(aJoined.members).toHaveLength(2);
    expect(bJoined.members).toHaveLength(0);
    const assignments = [
      { memberId: aJoined.memberId, assignment: Buffer.from('p0') },
      { memberId: bJoined.memberId, assignment: Buffer.from('p1') },
    ];
    const [aSync, bSync] = await Promise.all([
      sync(a, 'g2', 2, aJoined.memberId, assignments),
      sync(b, 'g2', 2, bJoined.memberId),
    ]);
    expect(Buffer.from(aSync.assignment).toString()).toBe('p0');
    expect(Buffer.from(bSync.assignment).toString()).toBe('p1');
    // a commit from the old generation is fenced; the current one is accepted
    expect((await commit(a, 'g2', 1, aJoined.memberId, 5)).topics[0].partitions[0].errorCode).toBe(
      WireError.ILLEGAL_GENERATION,
    );
    expect((await commit(a, 'g2', 2, aJoined.memberId, 5)).topics[0].partitions[0].errorCode).toBe(0);
    // so is a fetch that names an old generation
    const fenced = await a.call<Any>(ApiKey.Fetch, {
      groupId: 'g2',
      generationId: 1,
      memberId: aJoined.memberId,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1024,
      topics: [],
    });
    expect(fenced.errorCode).toBe(WireError.ILLEGAL_GENERATION);
  });

  it('drops a member whose session expires; the survivor rebalances alone', async () => {
    const a = await client();
    const b = await client();
    const aJoin = join(a, 'g3', '', 1500, 1500);
    const bJoin = join(b, 'g3', '', 1500, 1500);
    const [first, second] = await Promise.all([aJoin, bJoin]);
    const gen = first.generationId;
    const leader = first.leader === first.memberId ? { c: a, j: first } : { c: b, j: second };
    const other = leader.c === a ? { c: b, j: second } : { c: a, j: first };
    await Promise.all([sync(leader.c, 'g3', gen, leader.j.memberId, []), sync(other.c, 'g3', gen, other.j.memberId)]);
    // only `leader` keeps heartbeating; `other` goes silent (as after kill -9)
    let rebalancing = false;
    const deadline = Date.now() + 6000;
    while (Date.now() < deadline && !rebalancing) {
      await new Promise((r) => setTimeout(r, 300));
      rebalancing =
        (await heartbeat(leader.c, 'g3', gen, leader.j.memberId)).errorCode === WireError.REBALANCE_IN_PROGRESS;
    }
    expect(rebalancing).toBe(true);
    const rejoined = await join(leader.c, 'g3', leader.j.memberId, 1500, 1500);
    expect(rejoined.generationId).toBe(gen + 1);
    expect(rejoined.members.map((m: Any) => m.memberId)).toEqual([leader.j.memberId]);
    expect((await heartbeat(other.c, 'g3', gen, other.j.memberId)).errorCode).toBe(WireError.UNKNOWN_MEMBER_ID);
  });

  it('keeps committed offsets in __consumer_offsets across a restart; admin commits only for empty groups', async () => {
    const c = await client();
    const joined = await join(c, 'g4');
    await sync(c, 'g4', joined.generationId, joined.memberId, []);
    expect((await commit(c, 'g4', joined.generationId, joined.memberId, 42)).topics[0].partitions[0].errorCode).toBe(0);
    // a topic the cluster does not know, or a partition past the topic's count, is refused per partition;
    // the others are committed (Kafka's answer)
    const mixed = await c.call<Any>(ApiKey.OffsetCommit, {
      groupId: 'g4',
      generationId: joined.generationId,
      memberId: joined.memberId,
      topics: [
        { name: 'nope', partitions: [{ partition: 0, offset: 1 }] },
        {
          name: 't',
          partitions: [
            { partition: 2, offset: 1 },
            { partition: 1, offset: 9, metadata: 'k' },
          ],
        },
      ],
    });
    expect(mixed.topics.map((t: Any) => [t.name, t.partitions.map((p: Any) => [p.partition, p.errorCode])])).toEqual([
      ['nope', [[0, WireError.UNKNOWN_TOPIC_OR_PARTITION]]],
      [
        't',
        [
          [2, WireError.UNKNOWN_TOPIC_OR_PARTITION],
          [1, 0],
        ],
      ],
    ]);
    // an admin reset while a member is active is refused
    expect((await commit(c, 'g4', -1, '', 0)).topics[0].partitions[0].errorCode).toBe(WireError.NON_EMPTY_GROUP);
    const md = await c.call<Any>(ApiKey.Metadata, { topics: ['__consumer_offsets'], allowAutoTopicCreation: false });
    expect(md.topics[0].partitions).toHaveLength(50);
    c.close();
    await broker.stop();
    await startBroker();
    const d = await client();
    const fetched = await d.call<Any>(ApiKey.OffsetFetch, {
      groupId: 'g4',
      topics: [{ name: 't', partitions: [0, 1] }],
    });
    expect(fetched.topics[0].partitions.map((p: Any) => [p.partition, p.offset, p.metadata])).toEqual([
      [0, 42, 'm'],
      [1, 9, 'k'],
    ]);
    const all = await d.call<Any>(ApiKey.OffsetFetch, { groupId: 'g4', topics: null });
    expect(all.topics).toEqual([
      {
        name: 't',
        partitions: [
          { partition: 0, errorCode: 0, offset: 42, metadata: 'm', leaderEpoch: -1 },
          { partition: 1, errorCode: 0, offset: 9, metadata: 'k', leaderEpoch: -1 },
        ],
      },
    ]);
    // after the restart nobody is in the group: an admin reset is allowed
    expect((await commit(d, 'g4', -1, '', 7)).topics[0].partitions[0].errorCode).toBe(0);
    const listed = await d.call<Any>(ApiKey.ListGroups, {});
    expect(listed.groups).toEqual([{ groupId: 'g4', protocolType: 'consumer', state: 'Empty' }]);
    const reset = await d.call<Any>(ApiKey.OffsetFetch, { groupId: 'g4', topics: [{ name: 't', partitions: [0] }] });
    expect(reset.topics[0].partitions[0].offset).toBe(7);
  });

  it('refuses bad joins with typed errors', async () => {
    const c = await client();
    expect((await join(c, '')).errorCode).toBe(WireError.INVALID_GROUP_ID);
    expect((await join(c, 'g5', '', 10)).errorCode).toBe(WireError.INVALID_SESSION_TIMEOUT);
    expect((await join(c, 'g5', 'ghost')).errorCode).toBe(WireError.UNKNOWN_MEMBER_ID);
    const bad = await c.call<Any>(ApiKey.JoinGroup, { groupId: 'g5', protocols: 'x' });
    expect(bad.errorCode).toBe(WireError.INVALID_REQUEST);
  });
});
