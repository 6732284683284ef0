/** The pure steps of a partition reassignment (KIP-455's topic-znode form): start, cancel, checks, fencing. */
import { describe, expect, it } from 'vitest';
import {
  checkTarget,
  fenceNonReplicas,
  isReassigning,
  originReplicas,
  startReassignment,
  targetReplicas,
  withPartition,
} from '../../../src/coordination/zookeeper/reassignment.js';
import type { TopicAssignment } from '../../../src/coordination/zookeeper/zk-paths.js';
import { ErrorCode } from '../../../src/shared/errors.js';

const topic: TopicAssignment = { version: 2, partitions: { '0': [1, 2], '1': [2, 3] } };

describe('reassignment in the topic znode', () => {
  it('starts with replicas = target then origin, adding = target - origin, removing = origin - target', () => {
    const next = startReassignment(topic, 0, [2, 3]);
    expect(next).toEqual({
      version: 2,
      partitions: { '0': [2, 3, 1], '1': [2, 3] },
      adding_replicas: { '0': [3] },
      removing_replicas: { '0': [1] },
    });
    expect(isReassigning(next, 0)).toBe(true);
    expect(isReassigning(next, 1)).toBe(false);
    // the origin is the replicas less the adding ones, in the full set's order (as Kafka's originReplicas)
    expect(originReplicas(next, 0)).toEqual([2, 1]);
    expect(targetReplicas(next, 0)).toEqual([2, 3]);
  });

  it('keeps the rest of the znode (version 3, the topic id) through start and completion', () => {
    const withId: TopicAssignment = { ...topic, version: 3, topic_id: 'AAAAAAAAAAAAAAAAAAAAAQ' };
    const started = startReassignment(withId, 0, [2, 3]);
    expect(started.version).toBe(3);
    expect(started.topic_id).toBe('AAAAAAAAAAAAAAAAAAAAAQ');
    const done = withPartition(started, 0, [2, 3], [], []);
    expect(done).toEqual({ version: 3, topic_id: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: { '0': [2, 3], '1': [2, 3] } });
  });

  it('keeps the original replicas as the origin when a new target replaces an ongoing reassignment', () => {
    const first = startReassignment(topic, 0, [2, 3]);
    const second = startReassignment(first, 0, [4, 1]);
    expect(second.partitions['0']).toEqual([4, 1, 2]);
    expect(second.adding_replicas).toEqual({ '0': [4] });
    expect(second.removing_replicas).toEqual({ '0': [2] });
  });

  it('cancels by reassigning to the origin: the fields go, the order is the original', () => {
    const started = startReassignment(topic, 0, [3, 4], 1000);
    expect(started.sluice_throttle_bytes_per_sec).toEqual({ '0': 1000 });
    const cancelled = startReassignment(started, 0, originReplicas(started, 0));
    expect(cancelled).toEqual({ version: 2, partitions: { '0': [1, 2], '1': [2, 3] } });
  });

  it('a reorder only is no reassignment at all', () => {
    expect(startReassignment(topic, 0, [2, 1])).toEqual({ version: 2, partitions: { '0': [2, 1], '1': [2, 3] } });
  });

  it('completes with replicas = target and the partition fields dropped, others kept', () => {
    const both = startReassignment(startReassignment(topic, 0, [2, 3]), 1, [1, 3]);
    expect(withPartition(both, 0, [2, 3], [], [])).toEqual({
      version: 2,
      partitions: { '0': [2, 3], '1': [1, 3, 2] },
      adding_replicas: { '1': [1] },
      removing_replicas: { '1': [2] },
    });
  });
});

describe('checkTarget (INVALID_REPLICA_ASSIGNMENT)', () => {
  const live = new Set([1, 2, 3]);
  it.each([
    [[], /empty replica list/],
    [[1, 1], /duplicate/],
    [[1, 4], /not alive: 4/],
    [[-1], /not alive: -1/],
  ])('refuses %j', (target, message) => {
    expect(() => checkTarget(target, live)).toThrow(message);
    try {
      checkTarget(target, live);
    } catch (err) {
      expect(err).toMatchObject({ code: ErrorCode.InvalidReplicaAssignment });
    }
  });
  it('accepts live, distinct brokers', () => {
    expect(() => checkTarget([3, 1], live)).not.toThrow();
  });
});

describe('fenceNonReplicas (the last step, and its repair after a failover)', () => {
  const live = new Set([1, 2, 3]);
  const state = { controller_epoch: 1, leader: 1, version: 1 as const, leader_epoch: 4, isr: [1, 2, 3] };

  it('moves leadership into the replicas when the leader left, shrinks the ISR, bumps the epoch', () => {
    expect(fenceNonReplicas(state, [2, 3], live, 7)).toEqual({
      controller_epoch: 7,
      leader: 2,
      version: 1,
      leader_epoch: 5,
      isr: [2, 3],
    });
  });

  it('keeps a leader that stays (Kafka moves leadership only when the leader is not in the target)', () => {
    expect(fenceNonReplicas({ ...state, leader: 3 }, [2, 3], live, 7)).toMatchObject({ leader: 3, isr: [2, 3] });
  });

  it('picks a live target replica in the ISR, and waits when there is none', () => {
    expect(fenceNonReplicas(state, [2, 3], new Set([1, 3]), 7)).toMatchObject({ leader: 3 });
    expect(fenceNonReplicas({ ...state, isr: [1] }, [2, 3], live, 7)).toBeUndefined();
  });

  it('leaves a state within its replicas alone', () => {
    expect(fenceNonReplicas(state, [1, 2, 3], live, 7)).toBeUndefined();
  });
});
