/**
 * The Coordinator compliance suite, second half: ISR changes and leader
 * epochs (updateIsr is conditional on leadership at an epoch; a new leader
 * comes with a higher epoch), and what survives a close and reopen (topics,
 * partition states, producer ids never handed out twice).
 */
import { expect, it } from 'vitest';
import type { PartitionState } from '../../src/coordination/coordinator.js';
import { ErrorCode } from '../../src/shared/errors.js';
import {
  type ComplianceContext,
  type CoordinatorFactory,
  EventRecorder,
  eventually,
  expectWellFormed,
  itNeeds,
  spec,
} from './coordinator-harness.js';

function stateOf(ctx: ComplianceContext, topic: string, partition: number): PartitionState {
  const state = ctx.cluster.coordinator.partitionState(topic, partition);
  if (!state) throw new Error(`no state for ${topic}-${partition}`);
  return state;
}

export function registerIsrTests(ctx: ComplianceContext, factory: CoordinatorFactory): void {
  it('refuses an ISR change at any other leader epoch, or for a partition that does not exist, changing nothing', async () => {
    await ctx.cluster.coordinator.createTopic(spec('t'));
    const before = stateOf(ctx, 't', 0);
    const leader = ctx.member(before.leader);
    const { leaderEpoch: epoch, isr } = before;
    expect(await leader.updateIsr('t', 0, epoch + 1, isr)).toBe(false);
    expect(await leader.updateIsr('t', 0, epoch - 1, isr)).toBe(false);
    expect(await leader.updateIsr('t', 1, epoch, isr)).toBe(false);
    expect(await leader.updateIsr('no-such-topic', 0, epoch, isr)).toBe(false);
    expect(stateOf(ctx, 't', 0)).toEqual(before);
    expect(ctx.events.of('t')).toHaveLength(1);
  });

  itNeeds(
    factory.fixedIsr ?? factory.singleBroker,
    'the leader shrinks and expands the ISR at its leader epoch: the state and an event show it, at the same epoch',
    async () => {
      const rf = ctx.cluster.coordinator.brokers().length;
      await ctx.cluster.coordinator.createTopic(spec('t', 1, rf));
      const full = stateOf(ctx, 't', 0);
      const leader = ctx.member(full.leader);
      const dropped = full.isr.find((id) => id !== full.leader);
      const shrunk = full.isr.filter((id) => id !== dropped);
      expect(await leader.updateIsr('t', 0, full.leaderEpoch, shrunk)).toBe(true);
      await eventually(() => stateOf(ctx, 't', 0).isr.length === shrunk.length, 'the shrunk ISR here');
      expect(stateOf(ctx, 't', 0)).toEqual({ ...full, isr: shrunk });
      expect(ctx.events.of('t').at(-1)).toEqual({ state: { ...full, isr: shrunk }, previous: full });

      expect(await leader.updateIsr('t', 0, full.leaderEpoch, full.isr)).toBe(true);
      await eventually(() => stateOf(ctx, 't', 0).isr.length === full.isr.length, 'the expanded ISR here');
      expect(stateOf(ctx, 't', 0)).toEqual(full);
      expect(ctx.events.of('t').map((e) => e.state.isr)).toEqual([full.isr, shrunk, full.isr]);
    },
  );

  itNeeds(factory.singleBroker, 'refuses an ISR change from a broker that does not lead the partition', async () => {
    const rf = ctx.cluster.coordinator.brokers().length;
    await ctx.cluster.coordinator.createTopic(spec('t', 1, rf));
    const before = stateOf(ctx, 't', 0);
    const follower = ctx.member(before.isr.find((id) => id !== before.leader) ?? -1);
    const without = before.isr.filter((id) => id !== follower.brokerId);
    expect(await follower.updateIsr('t', 0, before.leaderEpoch, without)).toBe(false);
    expect(stateOf(ctx, 't', 0)).toEqual(before);
  });

  itNeeds(
    factory.singleBroker,
    'when a leader leaves, a new one from the ISR leads at a higher epoch, reported here; the old epoch is refused',
    async () => {
      const c = ctx.cluster.coordinator;
      const rf = c.brokers().length;
      await c.createTopic(spec('t', rf, rf));
      // a partition some other broker leads (with as many partitions as brokers, every broker leads one)
      const p = [...Array(rf).keys()].find((i) => stateOf(ctx, 't', i).leader !== c.brokerId) ?? -1;
      const before = stateOf(ctx, 't', p);
      await ctx.cluster.stopMember(before.leader);
      const after = await eventually(() => {
        const s = stateOf(ctx, 't', p);
        return s.leader !== before.leader && s.leader >= 0 && s;
      }, `a new leader of t-${p}`);
      expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
      expect(before.isr).toContain(after.leader);
      expect(after.isr).not.toContain(before.leader);
      expect(after.replicas).toEqual(before.replicas);
      expect(ctx.events.of('t', p).some((e) => e.previous?.leaderEpoch === before.leaderEpoch)).toBe(true);
      const leader = ctx.member(after.leader);
      expect(await leader.updateIsr('t', p, before.leaderEpoch, after.isr)).toBe(false);
      expect(await leader.updateIsr('t', p, after.leaderEpoch, after.isr)).toBe(true);
    },
  );
}

export function registerPersistenceTests(ctx: ComplianceContext, factory: CoordinatorFactory): void {
  it('keeps topics, configs, deletions and partition states across close and reopen; leader epochs do not go back', async () => {
    const first = ctx.cluster.coordinator;
    const rf = first.brokers().length;
    await first.createTopic(spec('kept', 2, 1, { 'retention.ms': '1000' }));
    await first.createTopic(spec('wide', 1, rf));
    await first.createTopic(spec('dropped'));
    await first.deleteTopic('dropped');
    const topics = first.topics();
    const states = [0, 1].map((p) => stateOf(ctx, 'kept', p)).concat(stateOf(ctx, 'wide', 0));

    const reopened = await ctx.cluster.reopen();
    const events = new EventRecorder(reopened);
    try {
      await first.close(); // a second close is harmless
      expect(reopened.brokerId).toBe(first.brokerId);
      expect(reopened.topics()).toEqual(topics);
      expect(reopened.topic('dropped')).toBeUndefined();
      for (const before of states) {
        const now = expectWellFormed(reopened.partitionState(before.topic, before.partition), before.replicas.length);
        expect(now.replicas).toEqual(before.replicas);
        expect(now.leaderEpoch).toBeGreaterThanOrEqual(before.leaderEpoch);
      }
      // a partition whose only replica is back is led by it again
      for (const p of [0, 1]) {
        await eventually(() => {
          const s = reopened.partitionState('kept', p);
          return s?.leader === s?.replicas[0];
        }, `kept-${p} led by its replica`);
      }
      await expect(reopened.createTopic(spec('kept'))).rejects.toMatchObject({ code: ErrorCode.TopicExists });
    } finally {
      events.stop();
    }
    events.expectNoProblems();
  });

  it('hands out producer ids once: unique one after another and concurrently, and never again after reopen', async () => {
    const c = ctx.cluster.coordinator;
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push(await c.allocateProducerId());
    ids.push(...(await Promise.all(Array.from({ length: 20 }, () => c.allocateProducerId()))));
    const reopened = await ctx.cluster.reopen();
    ids.push(...(await Promise.all(Array.from({ length: 20 }, () => reopened.allocateProducerId()))));
    for (const id of ids) expect(Number.isSafeInteger(id) && id >= 0).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  itNeeds(factory.singleBroker, 'never hands the same producer id to two brokers', async () => {
    const all = await Promise.all(
      ctx.cluster.members().map((m) => Promise.all(Array.from({ length: 10 }, () => m.allocateProducerId()))),
    );
    const ids = all.flat();
    expect(new Set(ids).size).toBe(ids.length);
  });
}
