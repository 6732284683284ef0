/**
 * TxnOffsetCommit against a real broker process (real files, real LevelDB):
 * refusals as Kafka's group coordinator answers them (KIP-447 fencing,
 * unknown partitions, metadata too long), each per partition.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { BrokerProcess } from '../helpers/broker-process.js';
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
  const created = await c.call<Any>(ApiKey.CreateTopics, { topics: [{ name: 't', numPartitions: 2 }] });
  expect(created.topics[0].errorCode).toBe(0);
  return { broker, c };
}

async function connect(broker: BrokerProcess): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  clients.push(c);
  return c;
}

/** A TxnOffsetCommit of producer 1000 (epoch 0) for group `groupId`, partition → offset of topic 't'. */
function txnCommit(c: RawClient, groupId: string, offsets: Record<number, number>, extra: Any = {}): Promise<Any> {
  return c.call<Any>(ApiKey.TxnOffsetCommit, {
    transactionalId: 'tx',
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

describe('TxnOffsetCommit', () => {
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
