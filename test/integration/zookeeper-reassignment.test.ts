/**
 * What a controller that takes over finds in ZooKeeper after its predecessor
 * died in the middle of a reassignment (real ZooKeeper, three in-process
 * ZooKeeperCoordinators; the znodes are written by hand as the dead
 * controller left them):
 * - a reassignment recorded in the topic znode (adding/removing replicas,
 *   KIP-455) whose target is in the ISR already: the new controller completes
 *   it at once — replicas = target, leader moved into it, ISR shrunk, epoch
 *   bumped;
 * - a completion cut between its two writes (replicas = target written, the
 *   state still naming a removed leader and ISR member): the new controller's
 *   reconciliation fences them off the same way.
 * And CreatePartitions on a topic with a partition under reassignment is
 * refused (REASSIGNMENT_IN_PROGRESS), as Kafka refuses it. The periodic check
 * reads only the topics with a reassignment under way (none at idle), and a
 * reassignment written into a topic znode by hand while the controller runs
 * is still seen (the controller's topic data watch) and completed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Reassignments } from '../../src/coordination/zookeeper/reassignment.js';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { parsePartitionState, partitionStatePath, topicPath } from '../../src/coordination/zookeeper/zk-paths.js';
import { ZooKeeperCoordinator } from '../../src/coordination/zookeeper/zookeeper-coordinator.js';
import { ErrorCode, isSluiceError } from '../../src/shared/errors.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

let server: ZooKeeperServer;
let raw: ZkClient;
const coordinators = new Map<number, ZooKeeperCoordinator>();

beforeAll(async () => {
  server = await ZooKeeperServer.start();
  raw = await ZkClient.connect({ connect: server.connect, sessionTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
  for (const id of [1, 2, 3]) {
    const c = new ZooKeeperCoordinator({
      brokerId: id,
      connect: server.connect,
      endpoint: { host: '127.0.0.1', port: 19190 + id },
      sessionTimeoutMs: 3000,
      connectTimeoutMs: 10_000,
      autoLeaderRebalanceEnable: false,
    });
    await c.start();
    coordinators.set(id, c);
  }
}, 60_000);

afterAll(async () => {
  for (const c of coordinators.values()) await c.close();
  await raw?.close();
  await server?.stop();
}, 30_000);

async function poll<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function state(topic: string) {
  const node = await raw.get(partitionStatePath(topic, 0));
  if (!node) throw new Error('no state');
  return parsePartitionState(partitionStatePath(topic, 0), node.data);
}

/** The active controller's id and coordinator (waited for). */
async function activeController(): Promise<[number, ZooKeeperCoordinator]> {
  const id = await poll('a controller', async () => [...coordinators].find(([, c]) => c.isController())?.[0]);
  return [id, coordinators.get(id) as ZooKeeperCoordinator];
}

/** Closes the active controller (its /controller znode goes at once) and waits for another to take over. */
async function failOver(): Promise<number> {
  const old = [...coordinators].find(([, c]) => c.isController())?.[0];
  if (old === undefined) throw new Error('no controller');
  await coordinators.get(old)?.close();
  coordinators.delete(old);
  return poll('a new controller', async () => [...coordinators].find(([, c]) => c.isController())?.[0]);
}

describe('a new controller and the reassignments its predecessor left', () => {
  it('completes a recorded reassignment, and fences a completion cut half-way', async () => {
    const any = [...coordinators.values()][0] as ZooKeeperCoordinator;
    await any.createTopic({ name: 'resumed', partitions: 1, replicationFactor: 3, configs: {} });
    await any.createTopic({ name: 'half-done', partitions: 1, replicationFactor: 3, configs: {} });
    // the controller-to-be (after the failover) stays in both targets, so they can complete under it
    const controller = [...coordinators].find(([, c]) => c.isController())?.[0] as number;
    const survivors = [1, 2, 3].filter((id) => id !== controller);

    // 'resumed': replicas R (all three) being reduced to the survivors, as the dead controller recorded it
    const resumedNode = await raw.get(topicPath('resumed'));
    const resumedReplicas = (JSON.parse(resumedNode?.data ?? '{}') as { partitions: Record<string, number[]> })
      .partitions['0'] as number[];
    const target = survivors;
    await raw.set(
      topicPath('resumed'),
      JSON.stringify({
        version: 2,
        partitions: { '0': [...target, controller] },
        removing_replicas: { '0': [controller] },
      }),
      resumedNode?.version ?? -1,
    );
    expect(resumedReplicas).toHaveLength(3);
    // the state's leader: make it the broker that leaves, so leadership has to move
    const before = await state('resumed');
    const leaving: typeof before = { ...before, leader: controller, isr: [controller, ...target] };
    const stateNode = await raw.get(partitionStatePath('resumed', 0));
    await raw.set(partitionStatePath('resumed', 0), JSON.stringify(leaving), stateNode?.version ?? -1);

    // 'half-done': replicas = target written, the state still led by the broker that left
    const halfNode = await raw.get(topicPath('half-done'));
    await raw.set(
      topicPath('half-done'),
      JSON.stringify({ version: 2, partitions: { '0': target } }),
      halfNode?.version ?? -1,
    );
    const halfBefore = await state('half-done');
    const halfState = { ...halfBefore, leader: controller, isr: [controller, ...target] };
    const halfStateNode = await raw.get(partitionStatePath('half-done', 0));
    await raw.set(partitionStatePath('half-done', 0), JSON.stringify(halfState), halfStateNode?.version ?? -1);

    const next = await failOver();
    expect(target).toContain(next);

    const resumed = await poll('the reassignment completed by the new controller', async () => {
      const node = await raw.get(topicPath('resumed'));
      const znode = JSON.parse(node?.data ?? '{}') as Record<string, unknown>;
      return znode.removing_replicas === undefined ? znode : undefined;
    });
    expect(resumed).toEqual({ version: 3, topic_id: expect.any(String), partitions: { '0': target } });
    const done = await poll('the state fenced', async () => {
      const s = await state('resumed');
      return s.leader !== controller ? s : undefined;
    });
    expect(target).toContain(done.leader);
    expect([...done.isr].sort()).toEqual([...target].sort());
    expect(done.leader_epoch).toBeGreaterThan(leaving.leader_epoch);

    const fenced = await poll('the half-done completion fenced', async () => {
      const s = await state('half-done');
      return s.leader !== controller ? s : undefined;
    });
    expect(target).toContain(fenced.leader);
    expect([...fenced.isr].sort()).toEqual([...target].sort());
    expect(fenced.leader_epoch).toBeGreaterThan(halfState.leader_epoch);
    // the coordinators' caches see it: the replicas are the target, no reassignment is left
    const c = coordinators.get(next) as ZooKeeperCoordinator;
    await poll('the caches', async () =>
      c.partitionState('resumed', 0)?.replicas.join() === target.join() ? true : undefined,
    );
    expect(await c.listPartitionReassignments()).toEqual([]);
  }, 90_000);
});

describe('CreatePartitions and a reassignment under way', () => {
  it('refuses to add partitions to a topic while one of its partitions moves (REASSIGNMENT_IN_PROGRESS), as Kafka', async () => {
    const [controllerId, controller] = await activeController();
    const other = [...coordinators.keys()].find((id) => id !== controllerId) as number;
    await controller.createTopic({ name: 'grown-while-moving', partitions: 1, replicationFactor: 1, configs: {} });
    const [from] = controller.partitionState('grown-while-moving', 0)?.replicas ?? [];
    const to = from === controllerId ? other : controllerId;
    // nothing fetches here (coordinators alone), so the added replica never catches up: it stays under way
    await controller.alterPartitionReassignment?.('grown-while-moving', 0, [to]);
    expect(await controller.listPartitionReassignments?.()).toHaveLength(1);
    for (const c of coordinators.values()) {
      await expect(c.createPartitions?.('grown-while-moving', 2)).rejects.toSatisfy(
        (err) => isSluiceError(err) && err.code === ErrorCode.ReassignmentInProgress,
      );
    }
    const node = await raw.get(topicPath('grown-while-moving'));
    expect(Object.keys((JSON.parse(node?.data ?? '{}') as { partitions: object }).partitions)).toEqual(['0']);

    // cancelled (the origin replicas are the target again: done at once), the topic grows
    await controller.alterPartitionReassignment?.('grown-while-moving', 0, null);
    await poll('the cancellation to complete', async () =>
      (await controller.listPartitionReassignments?.())?.length === 0 ? true : undefined,
    );
    await controller.createPartitions?.('grown-while-moving', 2);
    expect(controller.partitionState('grown-while-moving', 1)).toBeDefined();
  }, 60_000);
});

describe('the periodic reassignment check', () => {
  it('completes a reassignment written into a topic znode by hand while the controller runs', async () => {
    const [, controller] = await activeController();
    await controller.createTopic({ name: 'by-hand', partitions: 1, replicationFactor: 2, configs: {} });
    const replicas = controller.partitionState('by-hand', 0)?.replicas ?? [];
    expect(replicas).toHaveLength(2);
    const [kept, removed] = replicas as [number, number];
    await poll('both replicas in the ISR', async () => ((await state('by-hand')).isr.length === 2 ? true : undefined));
    // a tool writing KIP-455's fields itself (no AlterPartitionReassignments): the target [kept] is in the ISR
    const node = await raw.get(topicPath('by-hand'));
    const znode = JSON.parse(node?.data ?? '{}') as Record<string, unknown>;
    await raw.set(
      topicPath('by-hand'),
      JSON.stringify({ ...znode, partitions: { '0': [kept, removed] }, removing_replicas: { '0': [removed] } }),
      node?.version ?? -1,
    );
    const done = await poll('the hand-written reassignment completed', async () => {
      const after = JSON.parse((await raw.get(topicPath('by-hand')))?.data ?? '{}') as Record<string, unknown>;
      return after.removing_replicas === undefined ? after : undefined;
    });
    expect(done.partitions).toEqual({ '0': [kept] });
    // the completion writes the topic znode first and fences the state after it (reassignment.ts)
    const isr = await poll('the removed replica out of the ISR', async () => {
      const now = (await state('by-hand')).isr;
      return now.includes(removed) ? undefined : now;
    });
    expect(isr).toEqual([kept]);
  }, 60_000);

  it('reads no topic znode at idle, and only the topics known to have a reassignment otherwise', async () => {
    for (const name of ['idle-a', 'idle-b', 'idle-c']) {
      await [...coordinators.values()][0]?.createTopic({ name, partitions: 2, replicationFactor: 1, configs: {} });
    }
    // a second, standalone driver over the test's own client: its reads can be counted
    const reassignments = new Reassignments(raw, { active: () => true, epoch: () => 0, enqueue: (step) => step() });
    const get = vi.spyOn(raw, 'get');
    try {
      await reassignments.checkAll();
      expect(get.mock.calls.map(([path]) => path)).toContain(topicPath('idle-b'));
      expect(reassignments.underWay).toBe(false);
      get.mockClear();
      await reassignments.checkOngoing();
      expect(get).not.toHaveBeenCalled();

      // a topic noted with a reassignment (as alter or the controller's reconcile would): read, found done, dropped
      reassignments.note('idle-b', { version: 2, partitions: { '0': [1, 2] }, adding_replicas: { '0': [2] } });
      expect(reassignments.underWay).toBe(true);
      await reassignments.checkOngoing();
      expect(get.mock.calls.map(([path]) => path)).toEqual([topicPath('idle-b')]);
      expect(reassignments.underWay).toBe(false);
      get.mockClear();
      await reassignments.checkOngoing();
      expect(get).not.toHaveBeenCalled();
    } finally {
      get.mockRestore();
    }
  }, 60_000);
});
