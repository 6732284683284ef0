/**
 * Group protocol details of issue 16 against a real standalone broker
 * process and real Kafka clients: kafkajs 2.2.4's admin.deleteGroups
 * (DeleteGroups, API 42) refuses a group with members (NON_EMPTY_GROUP),
 * deletes an empty one with its committed offsets, and answers an unknown
 * group GROUP_ID_NOT_FOUND.
 */
import { type Admin, type Consumer, Kafka, type KafkaConfig, logLevel, Partitioners } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WireError } from '../../src/protocol/error-codes.js';
import { BrokerProcess } from '../helpers/broker-process.js';

const groupTimeoutMs = 30_000;

let broker: BrokerProcess;
/** Every kafkajs client a test opened; afterEach disconnects them. */
const opened: { disconnect(): Promise<void> }[] = [];

beforeAll(async () => {
  broker = await BrokerProcess.start({
    overrides: ['default.replication.factor=1', 'group.initial.rebalance.delay.ms=0'],
  });
}, 60_000);

afterEach(async () => {
  const clients = opened.splice(0);
  await Promise.allSettled(clients.map((c) => c.disconnect()));
}, 30_000);

afterAll(async () => {
  await broker?.destroy();
}, 30_000);

function kafka(config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'sluice-groups-it',
    brokers: [broker.kafkaBrokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    ...config,
  });
}

async function admin(): Promise<Admin> {
  const a = kafka().admin();
  opened.push(a);
  await a.connect();
  return a;
}

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
    const a = await admin();
    expect(
      await a.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true }),
    ).toBe(true);
    const p = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    opened.push(p);
    await p.connect();
    await p.send({
      topic,
      acks: -1,
      messages: [
        { value: 'a', partition: 0 },
        { value: 'b', partition: 1 },
      ],
    });

    const c: Consumer = kafka().consumer({
      groupId: group,
      heartbeatInterval: 500,
      sessionTimeout: 10_000,
      maxWaitTimeInMs: 200,
    });
    opened.push(c);
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
