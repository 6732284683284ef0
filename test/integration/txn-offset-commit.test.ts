/**
 * TxnOffsetCommit against a real broker process (real files, real LevelDB):
 * offsets pending until a WriteTxnMarkers request to the offsets partition's
 * leader commits (OffsetFetch answers them) or aborts them (it never does),
 * require_stable's UNSTABLE_OFFSET_COMMIT before the marker, the replay after
 * kill -9 of a committed, an aborted and a still open transaction; refusals
 * as Kafka's group coordinator answers them (KIP-447 fencing, unknown
 * partitions, metadata too long), each per partition.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { offsetsPartitionFor, offsetsTopic } from '../../src/groups/offset-store.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { pollUntil } from '../helpers/poll.js';
import { RawClient } from '../helpers/raw-client.js';

interface Any {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

const brokers: BrokerProcess[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.destroy();
});

async function start(): Promise<{ broker: BrokerProcess; c: RawClient }> {
  const broker = await BrokerProcess.start({ overrides: ['group.initial.rebalance.delay.ms=0'] });
  brokers.push(broker);
  const c = await connect(broker);
  const created = await c.call<Any>(ApiKey.CreateTopics, { topics: [{ name: 't', numPartitions: 3 }] });
  expect(created.topics[0].errorCode).toBe(0);
  return { broker, c };
}

async function connect(broker: BrokerProcess): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  clients.push(c);
  return c;
}

/** A TxnOffsetCommit of a producer (1000 unless `extra` says) for group `groupId`, partition → offset of topic 't'. */
function txnCommit(c: RawClient, groupId: string, offsets: Record<number, number>, extra: Any = {}): Promise<Any> {
  return c.call<Any>(ApiKey.TxnOffsetCommit, {
    transactionalId: `tx${extra.producerId ?? 1000}`,
    groupId,
    producerId: 1000,
    producerEpoch: 0,
    topics: [
      {
        name: 't',
        partitions: Object.entries(offsets).map(([p, offset]) => ({ partition: Number(p), offset, metadata: 'm' })),
      },
    ],
    ...extra,
  });
}

const errorsOf = (r: Any): number[] => r.topics.flatMap((t: Any) => t.partitions.map((p: Any) => p.errorCode));

/** What a transaction coordinator sends: the producer's marker on the group's offsets partition. */
async function marker(c: RawClient, groupId: string, producerId: number, committed: boolean): Promise<void> {
  const r = await c.call<Any>(ApiKey.WriteTxnMarkers, {
    markers: [
      {
        producerId,
        producerEpoch: 0,
        committed,
        coordinatorEpoch: 0,
        topics: [{ name: offsetsTopic, partitions: [offsetsPartitionFor(groupId)] }],
      },
    ],
  });
  expect(r.markers[0].topics[0].partitions[0].errorCode).toBe(0);
}

/** OffsetFetch of topic 't' partitions 0-2: [offset, errorCode] each. */
async function fetched(c: RawClient, groupId: string, requireStable = false): Promise<[number, number][]> {
  const r = await c.call<Any>(ApiKey.OffsetFetch, {
    groupId,
    topics: [{ name: 't', partitions: [0, 1, 2] }],
    requireStable,
  });
  expect(r.errorCode).toBe(0);
  return r.topics[0].partitions.map((p: Any) => [p.offset, p.errorCode]);
}

const unstable = WireError.UNSTABLE_OFFSET_COMMIT;

describe('TxnOffsetCommit', () => {
  it('holds the offsets until the marker: commit shows them, abort never does; require_stable answers UNSTABLE_OFFSET_COMMIT meanwhile', async () => {
    const { c } = await start();
    const plain = await c.call<Any>(ApiKey.OffsetCommit, {
      groupId: 'g',
      generationId: -1,
      memberId: '',
      topics: [{ name: 't', partitions: [{ partition: 0, offset: 1 }] }],
    });
    expect(errorsOf(plain)).toEqual([0]);
    expect(errorsOf(await txnCommit(c, 'g', { 0: 10, 1: 11 }, { producerId: 7 }))).toEqual([0, 0]);
    expect(errorsOf(await txnCommit(c, 'g', { 2: 12 }, { producerId: 8 }))).toEqual([0]);
    expect(await fetched(c, 'g')).toEqual([
      [1, 0],
      [-1, 0],
      [-1, 0],
    ]);
    expect(await fetched(c, 'g', true)).toEqual([
      [-1, unstable],
      [-1, unstable],
      [-1, unstable],
    ]);
    await marker(c, 'g', 7, true);
    expect(await fetched(c, 'g', true)).toEqual([
      [10, 0],
      [11, 0],
      [-1, unstable],
    ]);
    await marker(c, 'g', 8, false);
    expect(await fetched(c, 'g', true)).toEqual([
      [10, 0],
      [11, 0],
      [-1, 0],
    ]);
  });

  it('replays after kill -9: a committed transaction applied, an aborted one dropped, an open one still pending', async () => {
    const { broker, c } = await start();
    expect(errorsOf(await txnCommit(c, 'g', { 0: 10 }, { producerId: 7 }))).toEqual([0]);
    expect(errorsOf(await txnCommit(c, 'g', { 1: 11 }, { producerId: 8 }))).toEqual([0]);
    expect(errorsOf(await txnCommit(c, 'g', { 2: 12 }, { producerId: 9 }))).toEqual([0]);
    await marker(c, 'g', 7, true);
    await marker(c, 'g', 8, false);
    c.close();
    await broker.restart('SIGKILL');
    const d = await connect(broker);
    // the offsets partition is replayed before the group is answered (COORDINATOR_LOAD_IN_PROGRESS until then)
    const after = await pollUntil('the offsets partition replayed', 60_000, async () => {
      const r = await d.call<Any>(ApiKey.OffsetFetch, {
        groupId: 'g',
        topics: [{ name: 't', partitions: [0, 1, 2] }],
        requireStable: true,
      });
      if (r.errorCode === WireError.COORDINATOR_LOAD_IN_PROGRESS) return undefined;
      expect(r.errorCode).toBe(0);
      return r.topics[0].partitions.map((p: Any) => [p.offset, p.errorCode]);
    });
    expect(after).toEqual([
      [10, 0],
      [-1, 0],
      [-1, unstable],
    ]);
    expect(await fetched(d, 'g')).toEqual([
      [10, 0],
      [-1, 0],
      [-1, 0],
    ]);
    // the open transaction ends after the restart: its marker commits it
    await marker(d, 'g', 9, true);
    expect(await fetched(d, 'g', true)).toEqual([
      [10, 0],
      [-1, 0],
      [12, 0],
    ]);
  });

  it('refuses a stale generation, an unknown member and a fenced instance (KIP-447); unknown partitions and long metadata per partition', async () => {
    const { c } = await start();
    const joined = await c.call<Any>(ApiKey.JoinGroup, {
      groupId: 'g',
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      memberId: '',
      groupInstanceId: 'i1',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('x') }],
    });
    expect(joined.errorCode).toBe(0);
    const member = { generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: 'i1' };
    const synced = await c.call<Any>(ApiKey.SyncGroup, {
      groupId: 'g',
      ...member,
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from('a') }],
    });
    expect(synced.errorCode).toBe(0);
    expect(errorsOf(await txnCommit(c, 'g', { 0: 5 }, { ...member, generationId: member.generationId + 1 }))).toEqual([
      WireError.ILLEGAL_GENERATION,
    ]);
    expect(
      errorsOf(await txnCommit(c, 'g', { 0: 5 }, { ...member, memberId: 'nobody', groupInstanceId: null })),
    ).toEqual([WireError.UNKNOWN_MEMBER_ID]);
    expect(errorsOf(await txnCommit(c, 'g', { 0: 5 }, { ...member, memberId: 'old' }))).toEqual([
      WireError.FENCED_INSTANCE_ID,
    ]);
    // a group nobody joined: a member id it cannot know
    expect(errorsOf(await txnCommit(c, 'other', { 0: 5 }, { memberId: 'm', generationId: 1 }))).toEqual([
      WireError.UNKNOWN_MEMBER_ID,
    ]);
    const mixed = await c.call<Any>(ApiKey.TxnOffsetCommit, {
      transactionalId: 'tx',
      groupId: 'g',
      producerId: 1000,
      producerEpoch: 0,
      ...member,
      generationId: 99,
      topics: [
        { name: 'nope', partitions: [{ partition: 0, offset: 1 }] },
        {
          name: 't',
          partitions: [
            { partition: 7, offset: 1 },
            { partition: 1, offset: 1, metadata: 'x'.repeat(5000) },
            { partition: 0, offset: 1 },
          ],
        },
      ],
    });
    expect(errorsOf(mixed)).toEqual([
      WireError.UNKNOWN_TOPIC_OR_PARTITION,
      WireError.UNKNOWN_TOPIC_OR_PARTITION,
      WireError.OFFSET_METADATA_TOO_LARGE,
      WireError.ILLEGAL_GENERATION,
    ]);
    // nothing refused above was written
    const fetched = await c.call<Any>(ApiKey.OffsetFetch, { groupId: 'g', topics: null, requireStable: true });
    expect(fetched).toMatchObject({ errorCode: 0, topics: [] });
  });
});
