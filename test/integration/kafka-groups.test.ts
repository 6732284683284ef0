/**
 * Group protocol details of issue 16 against a real standalone broker
 * process and real Kafka clients: kafkajs 2.2.4's admin.deleteGroups
 * (DeleteGroups, API 42) refuses a group with members (NON_EMPTY_GROUP),
 * deletes an empty one with its committed offsets, and answers an unknown
 * group GROUP_ID_NOT_FOUND. OffsetCommit v6 keeps the committed leader
 * epoch (KIP-320) and OffsetFetch v5 answers it, both laid out by hand
 * (kafkajs stops at v5 and v4), as does the native listener. ListGroups v4
 * filters by state (KIP-518) and `sluice group list --state` likewise.
 * Static membership (KIP-345) with kcat (librdkafka): a static member
 * restarted within its session timeout gets the same partitions back and the
 * other member sees no rebalance; once it stays away past its session
 * timeout the other member takes its partitions. The native client's
 * groupInstanceId option does the same: a restarted static consumer gets
 * its partitions back and the other member stays in its generation.
 */
import type { Admin } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerRecord } from '../../src/client/types.js';
import { Sluice } from '../../src/index.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { CliRunner } from '../helpers/cli-runner.js';
import { collect, waitFor as waitUntil } from '../helpers/group-consumers.js';
import { cs, hex, s } from '../helpers/kafka-api-check.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsClients } from '../helpers/kafkajs.js';
import { kafkajsRequest, kafkajsResponse } from '../helpers/kafkajs-protocol.js';
import { ensureKcat, Kcat, type KcatProcess } from '../helpers/kcat.js';
import { RawClient } from '../helpers/raw-client.js';

const groupTimeoutMs = 30_000;

let broker: BrokerProcess;
const cli = new CliRunner();
const kcat = new Kcat();
const clients = kafkajsClients({ clientId: 'sluice-groups-it', brokers: () => broker.kafkaBrokers, retries: 3 });
const { admin, producer, consumer: kafkajsConsumer, createTopic } = clients;

beforeAll(async () => {
  ensureKcat();
  broker = await BrokerProcess.start({
    overrides: ['default.replication.factor=1', 'group.initial.rebalance.delay.ms=0'],
  });
}, 60_000);

afterEach(async () => {
  await clients.disconnectAll();
  await kcat.stopAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await kcat.stopAll();
  await broker?.destroy();
}, 30_000);

async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = groupTimeoutMs,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The error kafkajs's admin.deleteGroups throws, with each group's code. */
async function deleteGroupsError(a: Admin, groups: string[]): Promise<{ groupId: string; errorCode: number }[]> {
  try {
    await a.deleteGroups(groups);
  } catch (err) {
    const groupsOf = (err as { groups?: { groupId: string; errorCode: number }[] }).groups;
    if (!groupsOf) throw err;
    return groupsOf.map((g) => ({ groupId: g.groupId, errorCode: g.errorCode }));
  }
  throw new Error(`deleteGroups(${groups.join(',')}) succeeded`);
}

describe('DeleteGroups on the Kafka listener (kafkajs admin.deleteGroups)', () => {
  it('refuses a group with members, deletes it and its offsets once empty, and knows no unknown group', async () => {
    const topic = 'dg-topic';
    const group = 'dg-group';
    await createTopic(topic, 2);
    const a = await admin();
    const p = await producer();
    await p.send({
      topic,
      acks: -1,
      messages: [
        { value: 'a', partition: 0 },
        { value: 'b', partition: 1 },
      ],
    });

    const c = kafkajsConsumer({ groupId: group, maxWaitTimeInMs: 200 });
    let seen = 0;
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({
      eachMessage: async () => {
        seen++;
      },
    });
    await waitFor('both records consumed', () => seen === 2);
    await waitFor('offsets committed', async () => {
      const [t] = await a.fetchOffsets({ groupId: group, topics: [topic] });
      return (t?.partitions ?? []).every((x) => x.offset === '1');
    });

    // a member is in the group: refused, and the offsets stay
    expect(await deleteGroupsError(a, [group])).toEqual([{ groupId: group, errorCode: WireError.NON_EMPTY_GROUP }]);
    const [kept] = await a.fetchOffsets({ groupId: group, topics: [topic] });
    expect(kept?.partitions.map((x) => x.offset)).toEqual(['1', '1']);

    await c.disconnect(); // LeaveGroup: the group is empty now
    expect(await a.deleteGroups([group])).toEqual([expect.objectContaining({ groupId: group, errorCode: 0 })]);
    const [gone] = await a.fetchOffsets({ groupId: group, topics: [topic] });
    expect(gone?.partitions.map((x) => x.offset)).toEqual(['-1', '-1']);
    expect((await a.listGroups()).groups.map((g) => g.groupId)).not.toContain(group);

    // gone, and never known: GROUP_ID_NOT_FOUND for each
    expect(await deleteGroupsError(a, [group, 'dg-never'])).toEqual([
      { groupId: group, errorCode: WireError.GROUP_ID_NOT_FOUND },
      { groupId: 'dg-never', errorCode: WireError.GROUP_ID_NOT_FOUND },
    ]);
  }, 90_000);
});

describe('committed leader epochs (KIP-320)', () => {
  it('OffsetCommit v6 keeps the leader epoch, OffsetFetch v5 and native OffsetFetch answer it', async () => {
    const topic = 'ep-topic';
    await createTopic(topic, 2);
    const raw = await KafkaRawClient.connect(broker.kafkaPort);
    const native = await RawClient.connect(broker.port);
    try {
      // OffsetCommit v6: group, generation -1, member '', [topic [partition 0, offset 5, epoch 3, metadata 'm']]
      const commit = await raw.call({
        apiKey: 8,
        apiVersion: 6,
        body: hex(
          `${s('ep-group')} ffffffff ${s('')} 00000001 ${s(topic)} 00000001 00000000 0000000000000005 00000003 ${s('m')}`,
        ),
      });
      // throttle, [topic [partition 0, error 0]]
      expect(commit.toString('hex')).toBe(hex(`00000000 00000001 ${s(topic)} 00000001 00000000 0000`).toString('hex'));
      // a native commit with an epoch, and one without (epoch unknown)
      const nativeCommit = await native.call<{ topics: { partitions: { errorCode: number }[] }[] }>(
        ApiKey.OffsetCommit,
        {
          groupId: 'ep-native',
          generationId: -1,
          memberId: '',
          topics: [
            {
              name: topic,
              partitions: [
                { partition: 0, offset: 11, leaderEpoch: 6 },
                { partition: 1, offset: 12 },
              ],
            },
          ],
        },
      );
      expect(nativeCommit.topics[0]?.partitions.map((p) => p.errorCode)).toEqual([0, 0]);

      // OffsetFetch v5: group, [topic [0, 1]]
      const fetched = await raw.call({
        apiKey: 9,
        apiVersion: 5,
        body: hex(`${s('ep-group')} 00000001 ${s(topic)} 00000002 00000000 00000001`),
      });
      // throttle, [topic [0: offset 5, epoch 3, 'm', error 0; 1: offset -1, epoch -1, '', error 0]], error 0
      expect(fetched.toString('hex')).toBe(
        hex(
          `00000000 00000001 ${s(topic)} 00000002 00000000 0000000000000005 00000003 ${s('m')} 0000` +
            ` 00000001 ffffffffffffffff ffffffff ${s('')} 0000 0000`,
        ).toString('hex'),
      );
      const nativeFetch = await native.call<{ topics: { partitions: { offset: number; leaderEpoch: number }[] }[] }>(
        ApiKey.OffsetFetch,
        { groupId: 'ep-native', topics: [{ name: topic, partitions: [0, 1] }] },
      );
      expect(nativeFetch.topics[0]?.partitions.map((p) => [p.offset, p.leaderEpoch])).toEqual([
        [11, 6],
        [12, -1],
      ]);
    } finally {
      raw.close();
      native.close();
    }
  }, 60_000);
});

describe('ListGroups v4 states (KIP-518)', () => {
  it('filters by state case-insensitively and answers each state; sluice group list --state likewise', async () => {
    const topic = 'lg-topic';
    await createTopic(topic, 1);
    const a = await admin();
    // an empty group (offsets only) and a stable one (a running kafkajs consumer)
    const native = await RawClient.connect(broker.port);
    try {
      const committed = await native.call<{ topics: { partitions: { errorCode: number }[] }[] }>(ApiKey.OffsetCommit, {
        groupId: 'lg-empty',
        generationId: -1,
        memberId: '',
        topics: [{ name: topic, partitions: [{ partition: 0, offset: 0 }] }],
      });
      expect(committed.topics[0]?.partitions[0]?.errorCode).toBe(0);
    } finally {
      native.close();
    }
    const c = kafkajsConsumer({ groupId: 'lg-stable', maxWaitTimeInMs: 200 });
    let joined = false;
    c.on(c.events.GROUP_JOIN, () => {
      joined = true;
    });
    await c.connect();
    await c.subscribe({ topics: [topic] });
    await c.run({ eachMessage: async () => undefined });
    await waitFor('the consumer joined', () => joined);
    await waitFor('lg-stable is Stable', async () => {
      const d = await a.describeGroups(['lg-stable']);
      return d.groups[0]?.state === 'Stable';
    });

    const raw = await KafkaRawClient.connect(broker.kafkaPort);
    try {
      const listed = async (states: string[]): Promise<string> => {
        const filter = states.map((x) => cs(x)).join('');
        const body = await raw.call({
          apiKey: 16,
          apiVersion: 4,
          // request header tags, [states], body tags
          body: hex(`00 ${(states.length + 1).toString(16).padStart(2, '0')} ${filter} 00`),
        });
        return body.toString('hex');
      };
      // response header tags, throttle, error, [group, protocol type, state]
      const stable = `${cs('lg-stable')} ${cs('consumer')} ${cs('Stable')} 00`;
      const empty = `${cs('lg-empty')} ${cs('consumer')} ${cs('Empty')} 00`;
      expect(await listed(['STABLE'])).toBe(hex(`00 00000000 0000 02 ${stable} 00`).toString('hex'));
      const emptyOnes = await listed(['empty', 'Dead']);
      expect(emptyOnes).toContain(hex(empty).toString('hex'));
      expect(emptyOnes).not.toContain(hex(stable).toString('hex'));
      const all = await listed([]);
      expect(all).toContain(hex(stable).toString('hex'));
      expect(all).toContain(hex(empty).toString('hex'));
    } finally {
      raw.close();
    }

    const r = await cli.run(['group', 'list', '--state', 'stable'], { brokers: broker.address });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('lg-'))).toEqual(['lg-stable']);
    const all = await cli.run(['group', 'list'], { brokers: broker.address });
    expect(all.stdout.split('\n').filter((l) => l.startsWith('lg-'))).toEqual(['lg-empty', 'lg-stable']);
    const bad = await cli.run(['group', 'list', '--state', 'sleepy'], { brokers: broker.address });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown group state 'sleepy'");
  }, 90_000);
});

/** kcat's "Group ... rebalanced (memberid ...): assigned|revoked: ..." lines (stderr), in order. */
function rebalances(c: KcatProcess): { kind: string; partitions: number[] }[] {
  return [...c.stderr.matchAll(/rebalanced \(memberid [^)]*\): (assigned|revoked): ([^\n]*)\n/g)].map((m) => ({
    kind: m[1] ?? '',
    partitions: [...(m[2] ?? '').matchAll(/\[(\d+)\]/g)].map((p) => Number(p[1])).sort((x, y) => x - y),
  }));
}

/** The partitions of the consumer's latest assignment; undefined before the first or after a revoke. */
function assigned(c: KcatProcess): number[] | undefined {
  const last = rebalances(c).at(-1);
  return last?.kind === 'assigned' ? last.partitions : undefined;
}

describe('static membership (KIP-345) with kcat (librdkafka)', () => {
  it('a static member restarted within its session timeout gets its partitions back with no rebalance of the other', async () => {
    const topic = 'static-topic';
    const group = 'static-group';
    await createTopic(topic, 4);
    const consumer = (...extra: string[]): KcatProcess =>
      kcat.spawn(['-b', broker.kafkaBrokers, '-u', '-X', 'auto.offset.reset=earliest', ...extra, '-G', group, topic]);
    // the static member: its session outlives a restart; the other member is dynamic
    const staticArgs = ['-X', 'group.instance.id=static-a', '-X', 'session.timeout.ms=10000'];
    const first = consumer(...staticArgs);
    const other = consumer('-X', 'session.timeout.ms=10000');
    const split = (cs: KcatProcess[]) => (): boolean => {
      const sets = cs.map(assigned);
      if (sets.some((x) => x === undefined || x.length === 0)) return false;
      const all = sets.flatMap((x) => x ?? []);
      return all.length === 4 && new Set(all).size === 4;
    };
    await first.waitUntil('the group to split 4 partitions', split([first, other]), groupTimeoutMs);
    const before = assigned(first);
    const otherEvents = rebalances(other).length;
    const described = await cli.run(['group', 'describe', group, '--json'], { brokers: broker.address });
    expect(described.code, described.stderr).toBe(0);
    const firstMember = (JSON.parse(described.stdout) as { members: { memberId: string }[] }).members.map(
      (m) => m.memberId,
    );
    expect(firstMember).toHaveLength(2);

    // a restart: SIGTERM (a static librdkafka member does not send LeaveGroup), then the same instance id again
    await first.stop();
    const second = consumer(...staticArgs);
    await second.waitUntil(
      'the restarted static member to be assigned',
      () => assigned(second) !== undefined,
      groupTimeoutMs,
    );
    expect(assigned(second)).toEqual(before);
    // the other member was never revoked nor reassigned, and the group still has two members (one a new id)
    expect(rebalances(other)).toHaveLength(otherEvents);
    const after = await cli.run(['group', 'describe', group, '--json'], { brokers: broker.address });
    const members = (JSON.parse(after.stdout) as { members: { memberId: string }[] }).members.map((m) => m.memberId);
    expect(members).toHaveLength(2);
    expect(members.filter((m) => !firstMember.includes(m))).toHaveLength(1);

    // the records of every partition still reach the two members: the restarted one reads its own
    const p = await producer();
    await p.send({
      topic,
      acks: -1,
      messages: [0, 1, 2, 3].map((partition) => ({ partition, value: `v${partition}` })),
    });
    await second.waitUntil(
      'its partitions records',
      () => second.lines.length >= (before?.length ?? 0),
      groupTimeoutMs,
    );
    await other.waitUntil(
      'its partitions records',
      () => other.lines.length >= 4 - (before?.length ?? 0),
      groupTimeoutMs,
    );

    // gone for good: after its session timeout the other member takes every partition
    await second.stop();
    await other.waitUntil(
      'the other member to take all 4 partitions',
      () => assigned(other)?.length === 4,
      groupTimeoutMs,
    );
  }, 120_000);
});

describe('static membership with the native client (groupInstanceId)', () => {
  it('a static consumer closed and started again gets its partitions back; the other stays in its generation', async () => {
    const topic = 'native-static';
    const group = 'native-static-g';
    const clients: Sluice[] = [];
    const client = (): Sluice => {
      const c = new Sluice({ brokers: broker.address, clientId: 'static-it' });
      clients.push(c);
      return c;
    };
    try {
      await client().admin().createTopic({ topic, partitions: 4 });
      const options = {
        groupId: group,
        autoOffsetReset: 'earliest' as const,
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 300,
        maxWaitMs: 100,
      };
      const first = client().consumer({ ...options, groupInstanceId: 'native-a' });
      const other = client().consumer(options);
      const got: ConsumerRecord[] = [];
      await first.subscribe({ topics: [topic] });
      await other.subscribe({ topics: [topic] });
      void collect(first, got);
      void collect(other, got);
      const generation = () => other.groupGeneration()?.generationId;
      await waitUntil(
        'both members assigned in one generation',
        () =>
          first.assignment().length + other.assignment().length === 4 &&
          first.assignment().length > 0 &&
          other.assignment().length > 0 &&
          first.groupGeneration()?.generationId === generation(),
      );
      const before = first.assignment();
      const otherBefore = other.assignment();
      const otherGeneration = generation();

      await first.close(); // a static member does not leave: its place waits for it
      const second = client().consumer({ ...options, groupInstanceId: 'native-a' });
      await second.subscribe({ topics: [topic] });
      void collect(second, got);
      await waitUntil('the restarted static consumer assigned', () => second.assignment().length > 0);
      expect(second.assignment()).toEqual(before);
      expect(second.groupGeneration()?.generationId).toBe(otherGeneration);
      expect(generation()).toBe(otherGeneration);
      expect(other.assignment()).toEqual(otherBefore);
      expect(() => client().consumer({ ...options, groupInstanceId: '' })).toThrow(/groupInstanceId/);
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
    }
  }, 90_000);
});

describe('static membership requests on the Kafka listener (kafkajs encoders, hand-laid bytes)', () => {
  it('fences the replaced member id on heartbeat and commit, leaves by instance id, and finds batched coordinators', async () => {
    const group = 'raw-static';
    const topic = 'raw-static-t';
    await createTopic(topic, 1);
    const raw = await KafkaRawClient.connect(broker.kafkaPort);
    const call = async <T>(api: string, version: number, args: object): Promise<T> => {
      const request = await kafkajsRequest(api, version, args);
      return (await kafkajsResponse<T>(api, version, await raw.call(request))).decoded;
    };
    try {
      type Joined = { errorCode: number; generationId: number; memberId: string };
      const join = () =>
        call<Joined>('joinGroup', 5, {
          groupId: group,
          sessionTimeout: 10_000,
          rebalanceTimeout: 10_000,
          memberId: '',
          groupInstanceId: 'ri',
          protocolType: 'consumer',
          groupProtocols: [{ name: 'range', metadata: Buffer.from('sub') }],
        });
      // a static member is not asked for a member id first (KIP-394 does not apply to it)
      const first = await join();
      expect(first).toMatchObject({ errorCode: 0, generationId: 1 });
      const synced = await call<{ errorCode: number; memberAssignment: Buffer }>('syncGroup', 3, {
        groupId: group,
        generationId: 1,
        memberId: first.memberId,
        groupInstanceId: 'ri',
        groupAssignment: [{ memberId: first.memberId, memberAssignment: Buffer.from('mine') }],
      });
      expect(synced.memberAssignment.toString()).toBe('mine');

      const second = await join();
      expect(second).toMatchObject({ errorCode: 0, generationId: 1 });
      expect(second.memberId).not.toBe(first.memberId);
      const heartbeat = (memberId: string) =>
        call<{ errorCode: number }>('heartbeat', 3, {
          groupId: group,
          groupGenerationId: 1,
          memberId,
          groupInstanceId: 'ri',
        });
      expect((await heartbeat(first.memberId)).errorCode).toBe(WireError.FENCED_INSTANCE_ID);
      expect((await heartbeat(second.memberId)).errorCode).toBe(0);
      // OffsetCommit v7 (hand-laid: kafkajs stops at v5): group, generation, member, instance, [topic [0, 3, -1, null]]
      const commit = (memberId: string) =>
        raw.call({
          apiKey: 8,
          apiVersion: 7,
          body: hex(
            `${s(group)} 00000001 ${s(memberId)} ${s('ri')} 00000001 ${s(topic)} 00000001 00000000 0000000000000003 ffffffff ffff`,
          ),
        });
      const errorOfCommit = (body: Buffer): number => body.readInt16BE(body.length - 2);
      expect(errorOfCommit(await commit(first.memberId))).toBe(WireError.FENCED_INSTANCE_ID);
      expect(errorOfCommit(await commit(second.memberId))).toBe(0);

      // LeaveGroup v3: the instance (by instance id alone) and a member nobody knows, answered one by one
      const left = await call<{
        errorCode: number;
        members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
      }>('leaveGroup', 3, {
        groupId: group,
        members: [{ memberId: '', groupInstanceId: 'ri' }, { memberId: 'ghost' }],
      });
      expect(left.errorCode).toBe(0);
      expect(left.members.map((m) => [m.memberId, m.groupInstanceId, m.errorCode])).toEqual([
        ['', 'ri', 0],
        ['ghost', null, WireError.UNKNOWN_MEMBER_ID],
      ]);
      expect((await heartbeat(second.memberId)).errorCode).toBe(WireError.UNKNOWN_MEMBER_ID);

      // FindCoordinator v4 (KIP-699), hand-laid: request header tags, key type 0, [two groups], tags
      const found = await raw.call({ apiKey: 10, apiVersion: 4, body: hex(`00 00 03 ${cs(group)} ${cs('other')} 00`) });
      const port = Number(broker.kafkaBrokers.split(':').at(-1));
      const entry = (key: string) =>
        `${cs(key)} 00000000 ${cs('127.0.0.1')} ${port.toString(16).padStart(8, '0')} 0000 00 00`;
      expect(found.toString('hex')).toBe(hex(`00 00000000 03 ${entry(group)} ${entry('other')} 00`).toString('hex'));
    } finally {
      raw.close();
    }
  }, 60_000);
});
