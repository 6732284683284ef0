/**
 * The Coordinator compliance suite (as Level's abstract-level ships one every
 * backend runs, and nats-server runs its store tests against both stores):
 * `coordinatorCompliance(name, factory)` registers one describe block of
 * tests against the interface contract in src/coordination/coordinator.ts.
 * Each implementation's test file calls it with a factory that builds a
 * fresh cluster per test on real storage (LevelDB, a ZooKeeper server).
 *
 * Where implementations legitimately differ, the factory names the missing
 * capability with its reason (a standalone broker is alone; its ISR never
 * changes) and the tests that need it are skipped with that reason in their
 * name. Every state event any test causes is checked by an EventRecorder.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/shared/errors.js';
import { registerAclTests } from './coordinator-compliance-acls.js';
import { registerScramTests } from './coordinator-compliance-scram.js';
import { registerIsrTests, registerPersistenceTests } from './coordinator-compliance-state.js';
import {
  ComplianceContext,
  type CoordinatorFactory,
  EventRecorder,
  eventually,
  expectWellFormed,
  itNeeds,
  spec,
  stored,
} from './coordinator-harness.js';

export type { CoordinatorCluster, CoordinatorFactory } from './coordinator-harness.js';

export function coordinatorCompliance(name: string, factory: CoordinatorFactory): void {
  describe(`Coordinator compliance: ${name}`, () => {
    const ctx = new ComplianceContext();
    beforeEach(async () => {
      const cluster = await factory.create();
      ctx.set(cluster, new EventRecorder(cluster.coordinator));
    });
    afterEach(async () => {
      ctx.events.stop();
      await ctx.cluster.dispose();
      ctx.events.expectNoProblems();
    });
    registerBrokerTests(ctx, factory);
    registerTopicTests(ctx, factory);
    registerTopicConfigTests(ctx);
    registerIsrTests(ctx, factory);
    registerPersistenceTests(ctx, factory);
    registerAclTests(ctx);
    registerScramTests(ctx);
  });
}

function registerBrokerTests(ctx: ComplianceContext, factory: CoordinatorFactory): void {
  it('lists its own registered endpoint among the brokers, and a live controller', async () => {
    const { coordinator, endpoint } = ctx.cluster;
    expect(endpoint.nodeId).toBe(coordinator.brokerId);
    expect(coordinator.brokers()).toContainEqual(endpoint);
    expect(coordinator.brokers().map((b) => b.nodeId)).toContain(coordinator.controllerId());
  });

  it("has a cluster id of Kafka's form (22 characters of URL-safe base64), the same on every broker and after reopen", async () => {
    const id = ctx.cluster.coordinator.clusterId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // 16 bytes in 22 base64 characters: the last character's low 4 bits are padding zeros
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    expect(Buffer.from(id, 'base64url').toString('base64url')).toBe(id);
    for (const member of ctx.cluster.members()) expect(member.clusterId()).toBe(id);
    const reopened = await ctx.cluster.reopen();
    expect(reopened.clusterId()).toBe(id);
  });

  itNeeds(factory.singleBroker, 'lists every live broker sorted by id, and drops one that leaves', async () => {
    const { coordinator } = ctx.cluster;
    const ids = ctx.cluster
      .members()
      .map((m) => m.brokerId)
      .sort((a, b) => a - b);
    expect(ids.length).toBeGreaterThan(1);
    expect(coordinator.brokers().map((b) => b.nodeId)).toEqual(ids);
    const leaving = ctx.other().brokerId;
    await ctx.cluster.stopMember(leaving);
    const rest = ids.filter((id) => id !== leaving);
    await eventually(
      () => JSON.stringify(coordinator.brokers().map((b) => b.nodeId)) === JSON.stringify(rest),
      `broker ${leaving} to leave the list`,
    );
    await eventually(() => rest.includes(coordinator.controllerId()), 'a live controller');
  });
}

function registerTopicTests(ctx: ComplianceContext, factory: CoordinatorFactory): void {
  it('creates topics: topic(), topics() sorted by name, one well-formed state per partition, each reported once before createTopic resolves', async () => {
    const c = ctx.cluster.coordinator;
    const given = spec('b-topic', 3, 1, { 'retention.ms': '60000' });
    await c.createTopic(given);
    await c.createTopic(spec('a-topic'));
    given.configs['retention.ms'] = 'changed by the caller afterwards';
    expect(c.topic('b-topic')).toEqual(stored(spec('b-topic', 3, 1, { 'retention.ms': '60000' })));
    expect(c.topics().map((t) => t.name)).toEqual(['a-topic', 'b-topic']);
    for (let p = 0; p < 3; p++) {
      const state = expectWellFormed(c.partitionState('b-topic', p), 1);
      expect(state).toMatchObject({ topic: 'b-topic', partition: p, leaderEpoch: 0 });
      expect(state.leader).toBe(state.replicas[0]);
      expect(ctx.events.of('b-topic', p)).toEqual([{ state, previous: undefined }]);
    }
    expect(c.partitionState('b-topic', 3)).toBeUndefined();
    expect(c.partitionState('b-topic', -1)).toBeUndefined();
    expect(c.partitionState('no-such-topic', 0)).toBeUndefined();
    expect(c.topic('no-such-topic')).toBeUndefined();
  });

  it('refuses a second topic of the same name with TopicExists and keeps the first', async () => {
    const c = ctx.cluster.coordinator;
    await c.createTopic(spec('t', 2));
    await expect(c.createTopic(spec('t', 1))).rejects.toMatchObject({ code: ErrorCode.TopicExists });
    expect(c.topic('t')).toEqual(stored(spec('t', 2)));
    expect(ctx.events.of('t')).toHaveLength(2);
  });

  it('refuses partitions < 1 (InvalidPartitions) and a replication factor < 1 or above the brokers (InvalidReplicationFactor), storing nothing', async () => {
    const c = ctx.cluster.coordinator;
    const brokers = c.brokers().length;
    await expect(c.createTopic(spec('t', 0))).rejects.toMatchObject({ code: ErrorCode.InvalidPartitions });
    await expect(c.createTopic(spec('t', -1))).rejects.toMatchObject({ code: ErrorCode.InvalidPartitions });
    await expect(c.createTopic(spec('t', 1, 0))).rejects.toMatchObject({ code: ErrorCode.InvalidReplicationFactor });
    await expect(c.createTopic(spec('t', 1, brokers + 1))).rejects.toMatchObject({
      code: ErrorCode.InvalidReplicationFactor,
    });
    expect(c.topic('t')).toBeUndefined();
    expect(c.topics()).toEqual([]);
    expect(ctx.events.states).toEqual([]);
    // and the name is still free
    await c.createTopic(spec('t'));
    expect(c.topic('t')).toEqual(stored(spec('t')));
  });

  it('deletes a topic: gone from topic(), topics() and partitionState(), reported once before deleteTopic resolves', async () => {
    const c = ctx.cluster.coordinator;
    await c.createTopic(spec('gone', 2));
    await c.createTopic(spec('kept'));
    await c.deleteTopic('gone');
    expect(ctx.events.deleted).toEqual(['gone']);
    expect(c.topic('gone')).toBeUndefined();
    expect(c.topics().map((t) => t.name)).toEqual(['kept']);
    expect(c.partitionState('gone', 0)).toBeUndefined();
    expect(c.partitionState('kept', 0)).toBeDefined();
  });

  it('refuses to delete a topic that does not exist with UnknownPartition', async () => {
    const c = ctx.cluster.coordinator;
    await expect(c.deleteTopic('never-was')).rejects.toMatchObject({ code: ErrorCode.UnknownPartition });
    expect(ctx.events.deleted).toEqual([]);
  });

  it("reuses a deleted topic's name afresh: new states at leader epoch 0, reported with no previous state", async () => {
    const c = ctx.cluster.coordinator;
    await c.createTopic(spec('again', 1));
    await c.deleteTopic('again');
    await c.createTopic(spec('again', 2, 1, { 'cleanup.policy': 'delete' }));
    expect(c.topic('again')).toEqual(stored(spec('again', 2, 1, { 'cleanup.policy': 'delete' })));
    expect(ctx.events.deleted).toEqual(['again']);
    const second = ctx.events.of('again').slice(1);
    expect(second.map((e) => [e.state.partition, e.state.leaderEpoch, e.previous])).toEqual([
      [0, 0, undefined],
      [1, 0, undefined],
    ]);
  });

  it('gives every topic its own topic id, kept across reopen; a deleted and recreated topic gets a new one', async () => {
    const c = ctx.cluster.coordinator;
    await c.createTopic({ ...spec('ided', 1), topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }); // a caller's id is ignored
    await c.createTopic(spec('other'));
    const first = c.topic('ided')?.topicId;
    expect(first).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(first as string, 'base64url')).toHaveLength(16);
    expect(first).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');
    expect(c.topic('other')?.topicId).not.toBe(first);
    for (const member of ctx.cluster.members()) {
      await eventually(() => member.topic('ided'), `broker ${member.brokerId} to see topic ided`);
      expect(member.topic('ided')?.topicId).toBe(first);
    }
    await c.deleteTopic('ided');
    await c.createTopic(spec('ided', 1));
    const second = c.topic('ided')?.topicId;
    expect(second).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(second).not.toBe(first);
    const reopened = await ctx.cluster.reopen();
    expect(reopened.topic('ided')?.topicId).toBe(second);
  });

  it('grows a topic (createPartitions): new states reported once before it resolves, old ones untouched; never shrinks', async () => {
    const c = ctx.cluster.coordinator;
    const rf = c.brokers().length;
    await c.createTopic(spec('grows', 2, rf));
    const id = c.topic('grows')?.topicId;
    const before = [0, 1].map((p) => c.partitionState('grows', p));
    await c.createPartitions?.('grows', 5);
    expect(c.topic('grows')).toEqual({ ...stored(spec('grows', 5, rf)), topicId: id });
    for (let p = 0; p < 5; p++) {
      const state = expectWellFormed(c.partitionState('grows', p), rf);
      expect(ctx.events.of('grows', p)).toEqual([{ state, previous: undefined }]);
      if (p < 2) expect(state).toEqual(before[p]);
      else expect(state).toMatchObject({ leaderEpoch: 0, leader: state.replicas[0] });
    }
    for (const member of ctx.cluster.members()) {
      await eventually(() => member.partitionState('grows', 4), `broker ${member.brokerId} to see partition 4`);
      expect(member.topic('grows')?.partitions).toBe(5);
    }
    for (const count of [5, 3, 0, -1, 1.5]) {
      await expect(c.createPartitions?.('grows', count)).rejects.toMatchObject({ code: ErrorCode.InvalidPartitions });
    }
    await expect(c.createPartitions?.('no-such-topic', 3)).rejects.toMatchObject({ code: ErrorCode.UnknownPartition });
    expect(c.topic('grows')?.partitions).toBe(5);
    const reopened = await ctx.cluster.reopen();
    expect(reopened.topic('grows')).toEqual({ ...stored(spec('grows', 5, rf)), topicId: id });
  });

  it('stops calling listeners once they unsubscribe', async () => {
    const c = ctx.cluster.coordinator;
    let states = 0;
    let deletions = 0;
    const offState = c.onPartitionStateChanged(() => states++);
    const offDeleted = c.onTopicDeleted(() => deletions++);
    await c.createTopic(spec('heard'));
    await c.deleteTopic('heard');
    expect([states, deletions]).toEqual([1, 1]);
    offState();
    offDeleted();
    await c.createTopic(spec('unheard'));
    await c.deleteTopic('unheard');
    expect([states, deletions]).toEqual([1, 1]);
  });

  itNeeds(factory.singleBroker, 'sees topics another broker creates and deletes, with their events', async () => {
    const c = ctx.cluster.coordinator;
    const other = ctx.other();
    const rf = c.brokers().length;
    await other.createTopic(spec('elsewhere', 2, rf));
    await eventually(() => ctx.events.of('elsewhere').length === 2, 'both partitions reported here');
    expect(c.topic('elsewhere')).toEqual(stored(spec('elsewhere', 2, rf)));
    for (let p = 0; p < 2; p++) expectWellFormed(c.partitionState('elsewhere', p), rf);
    await other.deleteTopic('elsewhere');
    await eventually(() => ctx.events.deleted.includes('elsewhere'), 'the deletion reported here');
    expect(c.topic('elsewhere')).toBeUndefined();
    expect(c.partitionState('elsewhere', 0)).toBeUndefined();
  });

  // the recorder's checks make the order visible: a new state reported before the old topic's deletion
  // would carry the old state as `previous` (or go back in leader epoch)
  itNeeds(
    factory.singleBroker,
    "sees a topic another broker deletes and creates again at once as a new topic: the old one's deletion first, then states from epoch 0",
    async () => {
      const c = ctx.cluster.coordinator;
      const other = ctx.other();
      await other.createTopic(spec('reborn'));
      await eventually(() => c.partitionState('reborn', 0), 'the first topic reborn seen here');
      await other.deleteTopic('reborn');
      await other.createTopic(spec('reborn', 2, 1, { 'retention.ms': '1000' }));
      await eventually(() => c.partitionState('reborn', 1), 'the second topic reborn seen here');
      expect(ctx.events.deleted).toEqual(['reborn']);
      expect(c.topic('reborn')).toEqual(stored(spec('reborn', 2, 1, { 'retention.ms': '1000' })));
      const second = ctx.events.of('reborn').slice(1);
      expect(second.map((e) => [e.state.partition, e.state.leaderEpoch, e.previous]).sort()).toEqual([
        [0, 0, undefined],
        [1, 0, undefined],
      ]);
    },
  );
}

const sameEntries = (a: Record<string, string> | undefined, b: Record<string, string>): boolean =>
  a !== undefined && JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

function registerTopicConfigTests(ctx: ComplianceContext): void {
  it("alters a topic's configs: set and removed (null) keys, on every broker, reported once each, kept across reopen, partition states untouched", async () => {
    const c = ctx.cluster.coordinator;
    await c.createTopic(spec('conf', 2, 1, { 'retention.ms': '60000', 'segment.ms': '1000' }));
    const heard = new Map<number, Record<string, string>[]>();
    const offs = ctx.cluster.members().map((m) =>
      m.onTopicConfigChanged((topic, configs) => {
        expect(topic).toBe('conf');
        heard.set(m.brokerId, [...(heard.get(m.brokerId) ?? []), configs]);
      }),
    );
    const statesBefore = ctx.events.states.length;
    const changed = { 'retention.ms': '1000', 'min.insync.replicas': '2' };
    await expect(
      c.alterTopicConfigs('conf', { 'retention.ms': '1000', 'min.insync.replicas': '2', 'segment.ms': null }),
    ).resolves.toEqual(changed);
    // this broker's view has it when the call resolves; every other broker's soon after
    expect(c.topic('conf')).toEqual({ ...spec('conf', 2, 1, changed), topicId: c.topic('conf')?.topicId });
    for (const m of ctx.cluster.members()) {
      await eventually(
        () => sameEntries(m.topic('conf')?.configs, changed),
        `broker ${m.brokerId} to see the new configs`,
      );
      await eventually(() => heard.get(m.brokerId)?.length === 1, `broker ${m.brokerId} to report the change`);
      expect(heard.get(m.brokerId)).toEqual([changed]);
    }
    expect(ctx.events.states.length).toBe(statesBefore);
    for (const off of offs) off();
    const reopened = await ctx.cluster.reopen();
    expect(reopened.topic('conf')?.configs).toEqual(changed);
    await expect(
      reopened.alterTopicConfigs('conf', { 'retention.ms': null, 'min.insync.replicas': null }),
    ).resolves.toEqual({});
    expect(reopened.topic('conf')?.configs).toEqual({});
  });

  it('keeps concurrent alterations of different keys (none lost), and refuses an unknown topic with UnknownPartition', async () => {
    const c = ctx.cluster.coordinator;
    await c.createTopic(spec('both'));
    const members = ctx.cluster.members();
    const alterations = Array.from({ length: 6 }, (_, i) =>
      (members[i % members.length] ?? c).alterTopicConfigs('both', { [`k${i}`]: String(i) }),
    );
    await Promise.all(alterations);
    const expected = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, String(i)]));
    // each resolved once its own broker saw it: the coordinator under test sees the last one soon after
    await eventually(() => sameEntries(c.topic('both')?.configs, expected), 'every alteration to be seen here');
    expect(c.topic('both')?.configs).toEqual(expected);
    await expect(c.alterTopicConfigs('never-was', { 'retention.ms': '1' })).rejects.toMatchObject({
      code: ErrorCode.UnknownPartition,
    });
    expect(c.topic('never-was')).toBeUndefined();
    await c.deleteTopic('both');
    await expect(c.alterTopicConfigs('both', { 'retention.ms': '1' })).rejects.toMatchObject({
      code: ErrorCode.UnknownPartition,
    });
    expect(c.topic('both')).toBeUndefined();
  });
}
