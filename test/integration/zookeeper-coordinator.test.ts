/**
 * ZooKeeperCoordinator against a real ZooKeeper server (Debian's package):
 * three in-process coordinators (broker ids 1, 2, 3 with fake endpoints)
 * register, elect one controller, create topics with Kafka's znode layout,
 * and react to a broker's session ending: leader election from the ISR,
 * controller failover, and no unclean election unless enabled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { PartitionState } from '../../src/coordination/coordinator.js';
import { assignReplicas, electLeader } from '../../src/coordination/zookeeper/controller.js';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { ZooKeeperCoordinator } from '../../src/coordination/zookeeper/zookeeper-coordinator.js';
import { ErrorCode, isRetriable, isSluiceError, WireError, wireErrorOf } from '../../src/shared/errors.js';
import { zookeeperRegistrationWaitMarginMs } from '../../src/shared/limits.js';
import { repoRoot } from '../helpers/broker-process.js';
import { killAndWait } from '../helpers/child-process.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

const sessionTimeoutMs = 3000;
/** Every reaction to a closed session must land within this (close ends the session at once). */
const reactionMs = sessionTimeoutMs + 2000;

let server: ZooKeeperServer;
let raw: ZkClient;
const live = new Map<number, ZooKeeperCoordinator>();
const extra: ZooKeeperCoordinator[] = [];
const backgroundErrors: unknown[] = [];
const children: ChildProcess[] = [];

/** A coordinator in its own process, so SIGKILL leaves its session to expire (no clean close). */
function spawnCoordinatorProcess(id: number): Promise<ChildProcess> {
  const script = [
    "const { ZooKeeperCoordinator } = await import('./src/coordination/zookeeper/zookeeper-coordinator.ts');",
    'const c = new ZooKeeperCoordinator(JSON.parse(process.env.SLUICE_ZK_TEST_OPTIONS));',
    "await c.start(); console.log('started'); setInterval(() => {}, 60_000);",
  ].join('\n');
  const options = {
    brokerId: id,
    connect: server.connect,
    endpoint: { host: '127.0.0.1', port: 19090 + id },
    sessionTimeoutMs,
    connectTimeoutMs: 10_000,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, SLUICE_ZK_TEST_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coordinator process did not start:\n${output}`)), 20_000);
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('started')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`coordinator process exited with ${code}:\n${output}`));
    });
  });
}

function coordinator(id: number, uncleanLeaderElectionEnable = false): ZooKeeperCoordinator {
  return new ZooKeeperCoordinator({
    brokerId: id,
    connect: server.connect,
    endpoint: { host: '127.0.0.1', port: 19090 + id },
    httpPort: 18080 + id,
    sessionTimeoutMs,
    connectTimeoutMs: 10_000,
    uncleanLeaderElectionEnable,
    onError: (err) => backgroundErrors.push(err),
  });
}

async function startBroker(id: number): Promise<ZooKeeperCoordinator> {
  const c = coordinator(id);
  await c.start();
  live.set(id, c);
  return c;
}

async function stopBroker(id: number): Promise<void> {
  await live.get(id)?.close();
  live.delete(id);
}

async function eventually<T>(probe: () => T | undefined | false, what: string, timeoutMs = reactionMs): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rawJson(path: string): Promise<Record<string, unknown>> {
  const node = await raw.get(path);
  if (!node) throw new Error(`znode ${path} missing`);
  return JSON.parse(node.data) as Record<string, unknown>;
}

interface StateJson {
  controller_epoch: number;
  leader: number;
  version: number;
  leader_epoch: number;
  isr: number[];
}

const statePath = (t: string, p: number): string => `/brokers/topics/${t}/partitions/${p}/state`;

async function rawState(topic: string, partition: number): Promise<StateJson> {
  return (await rawJson(statePath(topic, partition))) as unknown as StateJson;
}

async function rawStateEventually(
  topic: string,
  partition: number,
  ok: (s: StateJson) => boolean,
  what: string,
): Promise<StateJson> {
  const deadline = Date.now() + reactionMs;
  for (;;) {
    const s = await rawState(topic, partition);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last state ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function anyLive(): ZooKeeperCoordinator {
  return [...live.values()][0]!;
}

beforeAll(async () => {
  server = await ZooKeeperServer.start();
  raw = await ZkClient.connect({ connect: server.connect, sessionTimeoutMs, connectTimeoutMs: 10_000 });
}, 60_000);

afterAll(async () => {
  for (const child of children) await killAndWait(child);
  for (const c of [...live.values(), ...extra]) await c.close();
  await raw?.close();
  await server?.stop();
});

describe('replica assignment and election rules', () => {
  it("assigns like Kafka's rack-unaware AdminUtils (5 brokers, 10 partitions, RF 3, start 0, shift 0)", () => {
    const a = assignReplicas([4, 3, 2, 1, 0], 10, 3, 0, 0);
    expect(a[0]).toEqual([0, 1, 2]);
    expect(a[1]).toEqual([1, 2, 3]);
    expect(a[4]).toEqual([4, 0, 1]);
    expect(a[5]).toEqual([0, 2, 3]);
    expect(a[9]).toEqual([4, 1, 2]);
    expect(() => assignReplicas([1, 2], 1, 3)).toThrow(/replication factor 3/);
  });

  it('elects from the ISR in assignment order, and unclean only when allowed', () => {
    const s = { controller_epoch: 1, leader: 1, version: 1 as const, leader_epoch: 4, isr: [1, 3] };
    expect(electLeader(s, [1, 2, 3], new Set([2, 3]), false, 2)).toEqual({
      ...s,
      controller_epoch: 2,
      leader: 3,
      leader_epoch: 5,
      isr: [3],
    });
    expect(electLeader(s, [1, 2, 3], new Set([1, 2, 3]), false, 2)).toBeUndefined();
    expect(electLeader(s, [1, 2, 3], new Set([1, 2]), false, 2)).toMatchObject({
      leader: 1,
      isr: [1],
      leader_epoch: 5,
    });
    expect(electLeader(s, [1, 2, 3], new Set([2]), false, 2)).toMatchObject({ leader: -1, isr: [1] });
    expect(electLeader(s, [1, 2, 3], new Set([2]), true, 2)).toMatchObject({ leader: 2, isr: [2] });
  });
});

describe('ZooKeeperCoordinator', () => {
  let controllerEpoch = 0;

  it('registers three brokers that see each other, with Kafka-layout registrations', async () => {
    await Promise.all([1, 2, 3].map((id) => startBroker(id)));
    for (const c of live.values()) {
      await eventually(() => c.brokers().length === 3, `broker ${c.brokerId} to see 3 brokers`);
      expect(c.brokers()).toEqual([
        { nodeId: 1, host: '127.0.0.1', port: 19091 },
        { nodeId: 2, host: '127.0.0.1', port: 19092 },
        { nodeId: 3, host: '127.0.0.1', port: 19093 },
      ]);
    }
    const reg = await rawJson('/brokers/ids/2');
    expect(reg).toMatchObject({
      version: 5,
      host: '127.0.0.1',
      port: 19092,
      endpoints: ['PLAINTEXT://127.0.0.1:19092'],
      jmx_port: -1,
      http_port: 18082,
    });
    expect(typeof reg.timestamp).toBe('string');
    expect((await raw.children('/brokers/ids')).sort()).toEqual(['1', '2', '3']);
  });

  it('answers a retriable LEADER_NOT_AVAILABLE before it has joined, not UNKNOWN_SERVER_ERROR', async () => {
    // a restarted broker's listeners open before its coordinator runs: a client told a non-retriable
    // error gives up (a kafkajs idempotent producer then reuses the batch's sequence numbers)
    const notStarted = coordinator(9);
    const err = await notStarted.createTopic({ name: 'early', partitions: 1, replicationFactor: 1, configs: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSluiceError(err, ErrorCode.BrokerNotReady)).toBe(true);
    // a Metadata request in that window asks for the cluster id: a retriable error too, not a failed
    // assertion (which would crash the broker)
    let idErr: unknown;
    try {
      notStarted.clusterId();
    } catch (e) {
      idErr = e;
    }
    expect(isSluiceError(idErr, ErrorCode.BrokerNotReady)).toBe(true);
    expect(wireErrorOf(ErrorCode.BrokerNotReady)).toBe(WireError.LEADER_NOT_AVAILABLE);
    expect(isRetriable(wireErrorOf(ErrorCode.BrokerNotReady))).toBe(true);
  });

  it('refuses a duplicate broker.id on another address with a clear error, without waiting', async () => {
    const waits: unknown[] = [];
    const dup = new ZooKeeperCoordinator({
      brokerId: 2,
      connect: server.connect,
      endpoint: { host: '127.0.0.1', port: 19192 },
      sessionTimeoutMs,
      connectTimeoutMs: 10_000,
      onWaitingForPreviousSession: (info) => waits.push(info),
    });
    extra.push(dup);
    const err = await dup.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSluiceError(err, ErrorCode.InvalidConfig)).toBe(true);
    expect((err as Error).message).toMatch(/broker\.id 2 is already registered in ZooKeeper at \/brokers\/ids\/2/);
    expect((err as Error).message).toContain('by a live broker at 127.0.0.1:19092');
    expect(waits).toEqual([]);
    // the live registration is untouched
    expect(await rawJson('/brokers/ids/2')).toMatchObject({ port: 19092 });
  });

  it("waits for a registration of its own address (a quick restart's old session) to go, then registers", async () => {
    // the old session's znode, held here by the raw session: this broker's address, another session
    const path = '/brokers/ids/7';
    const own = { host: '127.0.0.1', port: 19097 };
    await raw.create(
      path,
      JSON.stringify({ version: 5, ...own, endpoints: [], jmx_port: -1, timestamp: '1' }),
      'ephemeral',
    );
    const waits: { path: string; waitMs: number }[] = [];
    const restarted = new ZooKeeperCoordinator({
      brokerId: 7,
      connect: server.connect,
      endpoint: own,
      sessionTimeoutMs,
      connectTimeoutMs: 10_000,
      onWaitingForPreviousSession: (info) => waits.push(info),
    });
    extra.push(restarted);
    const starting = restarted.start();
    // no registration of broker 7 may outlive a failure here (a live broker 7 for the tests after it)
    onTestFailed(async () => {
      await restarted.close();
      await raw.delete(path).catch(() => undefined);
    });
    await eventually(() => waits.length > 0, 'the restarted broker to wait');
    expect(waits).toHaveLength(1);
    expect(waits[0]?.path).toBe(path);
    // the session timeout (or the larger one the server granted) plus the margin
    expect(waits[0]?.waitMs).toBeGreaterThanOrEqual(sessionTimeoutMs + zookeeperRegistrationWaitMarginMs);
    // while it waits it is not in the cluster: no registration of its own, no coordinator service (a retriable refusal)
    expect(await rawJson(path)).toMatchObject({ timestamp: '1' });
    await expect(restarted.allocateProducerId()).rejects.toMatchObject({ code: ErrorCode.BrokerNotReady });
    // the old session ends: the waiting broker registers at once (the deletion watch) and joins
    await raw.delete(path);
    await starting;
    expect(await rawJson(path)).toMatchObject({ ...own });
    expect((await rawJson(path)).timestamp).not.toBe('1');
    expect(restarted.controllerId()).toBeGreaterThan(0);
    await restarted.close();
    expect(await raw.get(path)).toBeUndefined();
  });

  it('gives up waiting with a Timeout when its own address stays registered past the session timeout', async () => {
    const path = '/brokers/ids/8';
    const own = { host: '127.0.0.1', port: 19098 };
    await raw.create(
      path,
      JSON.stringify({ version: 5, ...own, endpoints: [], jmx_port: -1, timestamp: '1' }),
      'ephemeral',
    );
    const stuck = new ZooKeeperCoordinator({
      brokerId: 8,
      connect: server.connect,
      endpoint: own,
      sessionTimeoutMs,
      connectTimeoutMs: 10_000,
    });
    extra.push(stuck);
    let err: unknown;
    try {
      err = await stuck.start().then(
        () => undefined,
        (e: unknown) => e,
      );
    } finally {
      // a registration left behind would be a live broker 8 for the tests after this one
      await raw.delete(path).catch(() => undefined);
    }
    expect(isSluiceError(err, ErrorCode.Timeout), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/previous session of broker\.id 8 still holds \/brokers\/ids\/8/);
  });

  it('elects exactly one controller and sets /controller_epoch', async () => {
    const controllers = [...live.values()].filter((c) => c.isController());
    expect(controllers).toHaveLength(1);
    const id = controllers[0]!.brokerId;
    for (const c of live.values()) await eventually(() => c.controllerId() === id, 'all to agree on the controller');
    expect(await rawJson('/controller')).toMatchObject({ version: 1, brokerid: id });
    controllerEpoch = Number((await raw.get('/controller_epoch'))!.data);
    expect(controllerEpoch).toBeGreaterThanOrEqual(1);
    expect(controllers[0]!.controllerEpoch()).toBe(controllerEpoch);
  });

  it('creates a topic with Kafka-layout JSON znodes, replicas round-robin and leaders spread', async () => {
    const nonController = [...live.values()].find((c) => !c.isController())!;
    await nonController.createTopic({
      name: 'orders',
      partitions: 3,
      replicationFactor: 3,
      configs: { 'retention.ms': '60000' },
    });
    const topic = (await rawJson('/brokers/topics/orders')) as {
      version: number;
      partitions: Record<string, number[]>;
      topic_id: string;
    };
    // Kafka 2.8+'s TopicZNode: version 3 with the reassignment fields and the topic id
    expect(topic).toMatchObject({ version: 3, adding_replicas: {}, removing_replicas: {} });
    expect(topic.topic_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Object.keys(topic.partitions).sort()).toEqual(['0', '1', '2']);
    const firsts = [0, 1, 2].map((p) => topic.partitions[String(p)]![0]!);
    for (const replicas of Object.values(topic.partitions)) expect([...replicas].sort()).toEqual([1, 2, 3]);
    expect([...firsts].sort()).toEqual([1, 2, 3]); // preferred leaders spread over all brokers
    // round-robin: partition p's first replica is the next broker after p-1's
    expect(firsts[1]).toBe((firsts[0]! % 3) + 1);
    expect(firsts[2]).toBe((firsts[1]! % 3) + 1);
    expect(await rawJson('/config/topics/orders')).toEqual({ version: 1, config: { 'retention.ms': '60000' } });
    for (let p = 0; p < 3; p++) {
      const state = await rawJson(statePath('orders', p));
      expect(Object.keys(state).sort()).toEqual(['controller_epoch', 'isr', 'leader', 'leader_epoch', 'version']);
      expect(state).toEqual({
        controller_epoch: controllerEpoch,
        leader: firsts[p],
        version: 1,
        leader_epoch: 0,
        isr: topic.partitions[String(p)],
      });
    }
    for (const c of live.values()) {
      await eventually(() => c.partitionState('orders', 2), `broker ${c.brokerId} to cache orders-2`);
      expect(c.topic('orders')).toEqual({
        name: 'orders',
        partitions: 3,
        replicationFactor: 3,
        configs: { 'retention.ms': '60000' },
        topicId: topic.topic_id,
      });
      expect(c.partitionState('orders', 0)).toMatchObject({
        leader: firsts[0],
        leaderEpoch: 0,
        isr: topic.partitions['0'],
      });
    }
    await expect(
      anyLive().createTopic({ name: 'orders', partitions: 1, replicationFactor: 1, configs: {} }),
    ).rejects.toMatchObject({
      code: ErrorCode.TopicExists,
    });
    await expect(
      anyLive().createTopic({ name: 'big', partitions: 1, replicationFactor: 4, configs: {} }),
    ).rejects.toMatchObject({
      code: ErrorCode.InvalidReplicationFactor,
    });
  });

  it("elects new leaders from the ISR when a leader's session ends, bumping the leader epoch", async () => {
    const controllerId = anyLive().controllerId();
    const before = await Promise.all([0, 1, 2].map((p) => rawState('orders', p)));
    const victim = before.map((s) => s.leader).find((l) => l !== controllerId)!;
    const survivor = [...live.values()].find((c) => c.brokerId !== victim)!;
    const seen: PartitionState[] = [];
    const unsubscribe = survivor.onPartitionStateChanged((s) => seen.push(s));
    const started = Date.now();
    await stopBroker(victim);
    for (let p = 0; p < 3; p++) {
      const after = await rawStateEventually(
        'orders',
        p,
        (s) => !s.isr.includes(victim),
        `orders-${p} ISR to drop ${victim}`,
      );
      expect(after.leader_epoch).toBe(before[p]!.leader_epoch + 1);
      expect(after.isr).toEqual(before[p]!.isr.filter((r) => r !== victim));
      expect(after.controller_epoch).toBe(controllerEpoch);
      if (before[p]!.leader === victim) expect(before[p]!.isr).toContain(after.leader);
      else expect(after.leader).toBe(before[p]!.leader);
      expect(after.leader).not.toBe(victim);
    }
    expect(Date.now() - started).toBeLessThan(reactionMs);
    const led = before.findIndex((s) => s.leader === victim);
    const event = await eventually(
      () => seen.find((s) => s.partition === led && s.leader !== victim),
      'partitionStateChanged on a survivor',
    );
    expect(event.leaderEpoch).toBe(before[led]!.leader_epoch + 1);
    for (const c of live.values()) await eventually(() => c.brokers().length === 2, 'survivors to see 2 brokers');
    unsubscribe();
    // the id is free again once its session ended: the broker can come back
    await startBroker(victim);
    for (const c of live.values()) await eventually(() => c.brokers().length === 3, 'all to see 3 brokers again');
  });

  it('fails the controller over to another broker with a higher controller epoch', async () => {
    const oldId = anyLive().controllerId();
    const oldEpoch = Number((await raw.get('/controller_epoch'))!.data);
    const started = Date.now();
    await stopBroker(oldId);
    const next = await eventually(() => [...live.values()].find((c) => c.isController()), 'a new controller');
    expect(next.brokerId).not.toBe(oldId);
    expect(Date.now() - started).toBeLessThan(reactionMs);
    const newEpoch = Number((await raw.get('/controller_epoch'))!.data);
    expect(newEpoch).toBe(oldEpoch + 1);
    expect(next.controllerEpoch()).toBe(newEpoch);
    expect(await rawJson('/controller')).toMatchObject({ brokerid: next.brokerId });
    for (const c of live.values()) await eventually(() => c.controllerId() === next.brokerId, 'all to follow');
    // the new controller handled the old one's death: it left every ISR, with the new epoch stamped
    for (let p = 0; p < 3; p++) {
      const s = await rawStateEventually(
        'orders',
        p,
        (x) => !x.isr.includes(oldId),
        `orders-${p} ISR to drop ${oldId}`,
      );
      expect(s.controller_epoch).toBe(newEpoch);
      expect(s.leader).not.toBe(oldId);
    }
    controllerEpoch = newEpoch;
    await startBroker(oldId);
    for (const c of live.values()) await eventually(() => c.brokers().length === 3, 'all to see 3 brokers again');
  });

  it('takes an RF 1 partition offline (leader -1) when its only replica dies, and back when it returns', async () => {
    await anyLive().createTopic({ name: 'lonely', partitions: 1, replicationFactor: 1, configs: {} });
    const replica = (await rawState('lonely', 0)).leader;
    expect(replica).toBeGreaterThan(0);
    await stopBroker(replica);
    const offline = await rawStateEventually('lonely', 0, (s) => s.leader === -1, 'lonely-0 to go offline');
    expect(offline).toMatchObject({ leader: -1, leader_epoch: 1, isr: [replica] });
    await eventually(() => anyLive().partitionState('lonely', 0)?.leader === -1, 'cache to show leader -1');
    await startBroker(replica);
    const back = await rawStateEventually('lonely', 0, (s) => s.leader === replica, 'lonely-0 to come back');
    expect(back).toMatchObject({ leader_epoch: 2, isr: [replica] });
  });

  it('handles a broker that re-registered before the controller looked as restarted: new leader epoch, out of the ISR first', async () => {
    await anyLive().createTopic({ name: 'bounce', partitions: 1, replicationFactor: 3, configs: {} });
    const before = await rawStateEventually('bounce', 0, (s) => s.isr.length === 3, 'bounce-0 with a full ISR');
    const controllerId = anyLive().controllerId();
    const victim = before.leader === controllerId ? before.isr.find((r) => r !== controllerId)! : before.leader;
    const path = `/brokers/ids/${victim}`;
    const registration = JSON.parse((await raw.get(path))!.data) as Record<string, unknown>;
    // the old session's znode goes and the restarted broker's comes, back to back: by the time the
    // controller reads the children after the deletion's watch fired, the id is there again
    await Promise.all([
      raw.delete(path),
      raw.create(path, JSON.stringify({ ...registration, timestamp: String(Date.now()) }), 'ephemeral'),
    ]);
    const after = await rawStateEventually(
      'bounce',
      0,
      (s) => s.leader_epoch > before.leader_epoch && !s.isr.includes(victim),
      `bounce-0 to drop the restarted broker ${victim} from its ISR with a new leader epoch`,
    );
    expect(after.leader).not.toBe(victim);
    expect(after.leader).toBeGreaterThan(0);
    // put broker `victim` back as it was: its own coordinator registered again
    await raw.delete(path);
    await stopBroker(victim);
    await startBroker(victim);
    for (const c of live.values()) await eventually(() => c.brokers().length === 3, 'all to see 3 brokers again');
  });

  it('elects an out-of-sync replica only when unclean.leader.election.enable=true', async () => {
    const c = anyLive();
    await c.createTopic({ name: 'clean', partitions: 1, replicationFactor: 3, configs: {} });
    await c.createTopic({
      name: 'unclean',
      partitions: 1,
      replicationFactor: 3,
      configs: { 'unclean.leader.election.enable': 'true' },
    });
    // the leaders shrank their ISRs to themselves (followers fell behind): write it as a leader would
    const leaders = new Set<number>();
    for (const t of ['clean', 'unclean']) {
      const node = (await raw.get(statePath(t, 0)))!;
      const s = JSON.parse(node.data) as StateJson;
      await raw.set(
        statePath(t, 0),
        JSON.stringify({ ...s, leader_epoch: s.leader_epoch + 1, isr: [s.leader] }),
        node.version,
      );
      leaders.add(s.leader);
    }
    for (const id of leaders) await stopBroker(id);
    const clean = await rawStateEventually('clean', 0, (s) => s.leader === -1, 'clean-0 to go offline');
    expect(clean.isr).toHaveLength(1);
    expect(leaders.has(clean.isr[0]!)).toBe(true);
    const unclean = await rawStateEventually(
      'unclean',
      0,
      (s) => s.leader !== -1 && !leaders.has(s.leader),
      'unclean-0 to elect a live out-of-sync replica',
    );
    expect(live.has(unclean.leader)).toBe(true);
    expect(unclean.isr).toEqual([unclean.leader]);
    expect(unclean.leader_epoch).toBeGreaterThanOrEqual(2);
    // and topic deletion goes through the controller
    await anyLive().deleteTopic('clean');
    expect(anyLive().topic('clean')).toBeUndefined();
    expect(await raw.get('/brokers/topics/clean')).toBeUndefined();
    expect(await raw.get('/config/topics/clean')).toBeUndefined();
    expect(await raw.children('/admin/delete_topics')).toEqual([]);
    expect(backgroundErrors).toEqual([]);
  });

  it('fails over within the session timeout when the controller dies without closing its session', async () => {
    // Broker 4 runs alone in the cluster so it becomes the controller; then broker 1 comes back.
    // (The in-process coordinators stop before the spawn: with zookeeper 7.3.0, closing a client after
    // the process has spawned a child makes the next new client spin on empty reads until it gives up.)
    for (const id of [...live.keys()]) await stopBroker(id);
    const child = await spawnCoordinatorProcess(4);
    const deadline = Date.now() + reactionMs;
    while ((await raw.get('/controller'))?.data.includes('"brokerid":4') !== true) {
      if (Date.now() > deadline) throw new Error('broker 4 did not become the controller');
      await new Promise((r) => setTimeout(r, 20));
    }
    const survivor = await startBroker(1);
    await eventually(() => survivor.controllerId() === 4, 'broker 1 to see controller 4');
    const epoch = Number((await raw.get('/controller_epoch'))!.data);
    const killedAt = Date.now();
    await killAndWait(child);
    await eventually(() => survivor.isController(), 'broker 1 to take over', sessionTimeoutMs + 3000);
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(sessionTimeoutMs + 3000);
    expect(Number((await raw.get('/controller_epoch'))!.data)).toBe(epoch + 1);
    expect(await raw.get('/brokers/ids/4')).toBeUndefined();
    // the new controller also reconciled broker 4's death
    await rawStateEventually('orders', 0, (s) => !s.isr.includes(4), 'orders-0 ISR without 4');
    expect(backgroundErrors).toEqual([]);
  });
});
