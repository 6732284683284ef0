/**
 * A topic deleted and created again under the same name faster than a
 * broker's ZooKeeper watches refresh (found by the Coordinator compliance
 * work, on a real ZooKeeper server): the broker's cache then sees only
 * "changed" znodes. It must still report the old topic deleted before any
 * state of the new one, and the new topic's states as new (leader epoch from
 * 0, no previous state, replicas from the new assignment) — otherwise the
 * broker keeps the old topic's logs and serves them as the new topic's.
 *
 * The lag is made certain rather than hoped for: the znodes are rewritten by
 * a child process run with spawnSync, so this process (and the coordinator's
 * ZooKeeper session in it) handles none of the watch events until the whole
 * delete and re-create is done.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { PartitionState } from '../../src/coordination/coordinator.js';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { ZooKeeperCoordinator } from '../../src/coordination/zookeeper/zookeeper-coordinator.js';
import { EventRecorder, eventually, spec } from '../compliance/coordinator-harness.js';
import { repoRoot } from '../helpers/broker-process.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

// the longest session the test server grants (20 ticks of 500 ms): the event loop is blocked a while
const sessionTimeoutMs = 10_000;

let server: ZooKeeperServer;
let raw: ZkClient;
let coordinator: ZooKeeperCoordinator | undefined;
let chroots = 0;
const backgroundErrors: unknown[] = [];

beforeAll(async () => {
  server = await ZooKeeperServer.start();
  raw = await ZkClient.connect({ connect: server.connect, sessionTimeoutMs, connectTimeoutMs: 10_000 });
}, 60_000);

afterEach(async () => {
  await coordinator?.close();
  coordinator = undefined;
  expect(backgroundErrors.map(String)).toEqual([]);
  backgroundErrors.length = 0;
});

afterAll(async () => {
  await raw?.close();
  await server?.stop();
});

type ZnodeStep = { op: 'delete'; path: string } | { op: 'create'; path: string; data: string };

/**
 * Applies the steps in order from another process, blocking this one (its
 * event loop) until they are done and then `holdMs` longer.
 */
function rewriteFromElsewhere(connect: string, steps: ZnodeStep[], holdMs = 0): void {
  const script = `
    const ZooKeeper = require('zookeeper');
    const [connect, steps] = [process.argv[1], JSON.parse(process.argv[2])];
    const zk = new ZooKeeper({ connect, timeout: 10000, debug_level: ZooKeeper.constants.ZOO_LOG_LEVEL_ERROR });
    zk.on('connect', async () => {
      for (const s of steps) {
        if (s.op === 'delete') await zk.delete_(s.path, -1);
        else await zk.create(s.path, s.data, ZooKeeper.constants.ZOO_PERSISTENT);
      }
      zk.close();
      setTimeout(() => process.exit(0), Number(process.argv[3]));
    });
    zk.init({});
    setTimeout(() => { console.error('no ZooKeeper session within 5 s'); process.exit(2); }, 5000).unref();
  `;
  const run = spawnSync(process.execPath, ['-e', script, connect, JSON.stringify(steps), String(holdMs)], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 8000 + holdMs,
  });
  expect(run.status, `${run.stderr}${run.error ? String(run.error) : ''}`).toBe(0);
}

const stateZnode = (leader: number, leaderEpoch: number, isr: number[]): string =>
  JSON.stringify({ controller_epoch: 1, leader, version: 1, leader_epoch: leaderEpoch, isr });

/** Topic `name` as createTopic and then the controller make it (every leader its first replica, at epoch 0). */
function createSteps(name: string, assignment: number[][], config: Record<string, string>): ZnodeStep[] {
  const topic = `/brokers/topics/${name}`;
  const partitions = Object.fromEntries(assignment.map((replicas, p) => [String(p), replicas]));
  const steps: ZnodeStep[] = [
    { op: 'create', path: `/config/topics/${name}`, data: JSON.stringify({ version: 1, config }) },
    { op: 'create', path: topic, data: JSON.stringify({ version: 2, partitions }) },
    { op: 'create', path: `${topic}/partitions`, data: '' },
  ];
  assignment.forEach((replicas, p) => {
    const leader = replicas[0] ?? -1;
    steps.push({ op: 'create', path: `${topic}/partitions/${p}`, data: '' });
    steps.push({ op: 'create', path: `${topic}/partitions/${p}/state`, data: stateZnode(leader, 0, [leader]) });
  });
  return steps;
}

/** Topic `name` (of `partitions` partitions) as the controller deletes it: children first, the config last. */
function deleteSteps(name: string, partitions: number): ZnodeStep[] {
  const topic = `/brokers/topics/${name}`;
  const steps: ZnodeStep[] = [];
  for (let p = 0; p < partitions; p++) {
    steps.push({ op: 'delete', path: `${topic}/partitions/${p}/state` });
    steps.push({ op: 'delete', path: `${topic}/partitions/${p}` });
  }
  steps.push({ op: 'delete', path: `${topic}/partitions` }, { op: 'delete', path: topic });
  steps.push({ op: 'delete', path: `/config/topics/${name}` });
  return steps;
}

/** The steps in order, from this process's own session (the coordinator sees each as it happens). */
async function applyHere(chroot: string, steps: ZnodeStep[]): Promise<void> {
  for (const s of steps) {
    if (s.op === 'delete') await raw.delete(`${chroot}${s.path}`);
    else await raw.create(`${chroot}${s.path}`, s.data, 'persistent');
  }
}

/**
 * The coordinator under test (broker 1) in a chroot of its own where the test
 * plays the controller: /controller names a broker 9 that never acts, so
 * every topic znode is written by the test and nothing else.
 */
async function startCoordinator(
  timeoutMs = sessionTimeoutMs,
  serverAddress = server.connect,
): Promise<{ c: ZooKeeperCoordinator; chroot: string; connect: string }> {
  const chroot = `/recreate-${++chroots}`;
  await raw.ensurePath(chroot);
  await raw.create(`${chroot}/controller`, JSON.stringify({ version: 1, brokerid: 9, timestamp: '0' }), 'ephemeral');
  const connect = `${server.connect}${chroot}`;
  const c = new ZooKeeperCoordinator({
    brokerId: 1,
    connect: `${serverAddress}${chroot}`,
    endpoint: { host: '127.0.0.1', port: 19001 },
    sessionTimeoutMs: timeoutMs,
    connectTimeoutMs: 10_000,
    onError: (err) => backgroundErrors.push(err),
  });
  coordinator = c;
  await c.start();
  expect(c.controllerId()).toBe(9);
  return { c, chroot, connect };
}

/** Every event in the order it came: `deleted <topic>`, or a state with its previous state's epoch. */
function recordInOrder(c: ZooKeeperCoordinator): string[] {
  const log: string[] = [];
  const show = (s: PartitionState): string =>
    `${s.topic}-${s.partition} leader ${s.leader} epoch ${s.leaderEpoch} replicas ${s.replicas} isr ${s.isr}`;
  c.onPartitionStateChanged((s, previous) => log.push(`${show(s)} previous ${previous ? previous.leaderEpoch : '-'}`));
  c.onTopicDeleted((t) => log.push(`deleted ${t}`));
  return log;
}

it('a topic deleted and created again before the watches fire is reported deleted, then new from epoch 0 with its own replicas', async () => {
  const { c, chroot, connect } = await startCoordinator();
  await applyHere(chroot, createSteps('x', [[1], [1]], {}));
  await eventually(() => c.partitionState('x', 1), 'the old x loaded');
  // the old x has moved on: leader epoch 5 on partition 0
  const statePath = `${chroot}/brokers/topics/x/partitions/0/state`;
  const node = await raw.get(statePath);
  if (!node) throw new Error('no state znode for x-0');
  await raw.set(statePath, stateZnode(1, 5, [1]), node.version);
  await eventually(() => c.partitionState('x', 0)?.leaderEpoch === 5, 'epoch 5 seen');

  const recorder = new EventRecorder(c);
  const log = recordInOrder(c);
  // the new x: three partitions, partition 0 on a broker (2) the old x did not use, another config
  rewriteFromElsewhere(connect, [
    ...deleteSteps('x', 2),
    ...createSteps('x', [[2], [1], [1]], { 'retention.ms': '1000' }),
  ]);

  await eventually(() => c.topic('x')?.partitions === 3 && c.partitionState('x', 2), 'the new x loaded');
  await new Promise((r) => setTimeout(r, 300)); // nothing more comes
  recorder.stop();
  expect(recorder.problems).toEqual([]);
  expect(recorder.deleted).toEqual(['x']);
  // nothing of the new x before the old one's deletion, and each new partition reported afresh
  expect(log[0]).toBe('deleted x');
  expect(log.slice(1).sort()).toEqual([
    'x-0 leader 2 epoch 0 replicas 2 isr 2 previous -',
    'x-1 leader 1 epoch 0 replicas 1 isr 1 previous -',
    'x-2 leader 1 epoch 0 replicas 1 isr 1 previous -',
  ]);
  expect(c.topic('x')).toEqual(spec('x', 3, 1, { 'retention.ms': '1000' }));
  expect(c.partitionState('x', 0)).toEqual({
    topic: 'x',
    partition: 0,
    leader: 2,
    leaderEpoch: 0,
    replicas: [2],
    isr: [2],
  });
}, 60_000);

it('deleteTopic returns once its topic is gone here, even when the name was created again meanwhile', async () => {
  const { c, chroot, connect } = await startCoordinator();
  await applyHere(chroot, createSteps('y', [[1]], {}));
  await eventually(() => c.partitionState('y', 0), 'the old y loaded');
  const deleted: string[] = [];
  c.onTopicDeleted((t) => deleted.push(t));
  const deleting = c.deleteTopic('y');
  const marker = `${chroot}/admin/delete_topics/y`;
  for (let i = 0; !(await raw.get(marker)); i++) {
    if (i > 500) throw new Error('deleteTopic did not mark y for deletion');
    await new Promise((r) => setTimeout(r, 10));
  }
  // the controller deletes y and another broker's createTopic makes y again, before this broker looks
  rewriteFromElsewhere(connect, [
    ...deleteSteps('y', 1),
    { op: 'delete', path: '/admin/delete_topics/y' },
    ...createSteps('y', [[1]], { 'cleanup.policy': 'delete' }),
  ]);
  await deleting;
  expect(deleted).toEqual(['y']);
  await eventually(() => c.partitionState('y', 0), 'the new y loaded');
  expect(c.topic('y')).toEqual(spec('y', 1, 1, { 'cleanup.policy': 'delete' }));
  expect(c.partitionState('y', 0)).toMatchObject({ leader: 1, leaderEpoch: 0, replicas: [1], isr: [1] });
}, 60_000);

it('after a lost session, topics deleted meanwhile (or deleted and created again) are reported deleted before the new states', async () => {
  // the shortest session the test server grants; the coordinator reaches the server through a proxy
  const proxy = await TcpProxy.start(server.port);
  try {
    const { c, chroot, connect } = await startCoordinator(1000, `127.0.0.1:${proxy.port}`);
    await afterLostSession(c, chroot, connect, proxy);
  } finally {
    await proxy.close();
  }
}, 60_000);

async function afterLostSession(c: ZooKeeperCoordinator, chroot: string, connect: string, proxy: TcpProxy) {
  await applyHere(chroot, [
    ...createSteps('kept', [[1]], {}),
    ...createSteps('gone', [[1]], {}),
    ...createSteps('again', [[1]], {}),
  ]);
  await eventually(() => c.topics().length === 3 && c.partitionState('again', 0), 'three topics loaded');
  const lost = new Promise<void>((resolve) => c.onSessionLost(resolve));
  const log = recordInOrder(c);
  // The session expires: the coordinator is cut off from the running server until the server has
  // ended the session (its ephemeral registration is gone), then reconnects and is told so.
  // (Not by pausing the server: on resume the reconnect can beat the server's session tracker and
  // revive the session, which a CI run under load did. Not by blocking this process: that would hold
  // the test's own ZooKeeper clients too.)
  proxy.partition();
  try {
    const registration = `${chroot}/brokers/ids/1`;
    for (let i = 0; await raw.stat(registration); i++) {
      if (i > 300) throw new Error('the server did not end the cut-off session within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    proxy.heal();
  }
  await lost;
  // while this broker is away: gone is deleted, again deleted and created again
  rewriteFromElsewhere(connect, [
    ...deleteSteps('gone', 1),
    ...deleteSteps('again', 1),
    ...createSteps('again', [[1], [1]], {}),
  ]);
  await c.reconnect();
  // (watch events the old session delivered before it ended fail their reads: reported, and harmless)
  const closing = backgroundErrors.filter((err) => String(err).includes('zookeeper is closing'));
  backgroundErrors.splice(0, backgroundErrors.length, ...backgroundErrors.filter((err) => !closing.includes(err)));
  // each topic's deletion before any state of its new life
  expect(log.filter((e) => e.startsWith('deleted')).sort()).toEqual(['deleted again', 'deleted gone']);
  expect(log.findIndex((e) => e.startsWith('again-'))).toBeGreaterThan(log.indexOf('deleted again'));
  // every state is reported again after a new session (as before), the new again's afresh
  expect(log.filter((e) => !e.startsWith('deleted')).sort()).toEqual([
    'again-0 leader 1 epoch 0 replicas 1 isr 1 previous -',
    'again-1 leader 1 epoch 0 replicas 1 isr 1 previous -',
    'kept-0 leader 1 epoch 0 replicas 1 isr 1 previous -',
  ]);
  expect(c.topics().map((t) => t.name)).toEqual(['again', 'kept']);
}
