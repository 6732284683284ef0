/**
 * ACLs in a real ZooKeeper (issue 17): two ZooKeeperCoordinators of one
 * cluster (brokers 1 and 2, each with its own session, as two broker
 * processes have). ACLs written through broker 1 land in Kafka's znodes
 * (/kafka-acl/<Type>/<name>, /kafka-acl-extended/prefixed/<Type>/<name>, with
 * Kafka's JSON and change notifications) and broker 2's cache — the one its
 * authorizer reads on every request — shows them through the notification
 * watch, and decides with them; deletions travel the same way. ACLs a Kafka
 * tool wrote straight into ZooKeeper are read too.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Coordinator } from '../../src/coordination/coordinator.js';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { ZooKeeperCoordinator } from '../../src/coordination/zookeeper/zookeeper-coordinator.js';
import {
  type AclBinding,
  AclOperation,
  AclPermission,
  authorize,
  PatternType,
  ResourceType,
} from '../../src/security/acl.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

let server: ZooKeeperServer | undefined;
let raw: ZkClient | undefined;
const coordinators: ZooKeeperCoordinator[] = [];
const chroot = `/acls-${process.pid}`;

function coordinator(id: number): ZooKeeperCoordinator {
  if (!server) throw new Error('the ZooKeeper server did not start');
  const c = new ZooKeeperCoordinator({
    brokerId: id,
    connect: `${server.connect}${chroot}`,
    endpoint: { host: '127.0.0.1', port: 19190 + id },
    sessionTimeoutMs: 6000,
    connectTimeoutMs: 10_000,
  });
  coordinators.push(c);
  return c;
}

beforeAll(async () => {
  server = await ZooKeeperServer.start();
  raw = await ZkClient.connect({ connect: server.connect, sessionTimeoutMs: 6000, connectTimeoutMs: 10_000 });
  await raw.ensurePath(chroot);
}, 60_000);

afterAll(async () => {
  for (const c of coordinators) await c.close();
  await raw?.close();
  await server?.stop();
}, 30_000);

/** Waits (bounded) until `ok` holds; the watch-driven cache catches up within moments. */
async function eventually(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never: ${what}`);
}

const opts = { superUsers: new Set<string>(), allowEveryoneIfNoAclFound: false };
const can = (c: Coordinator, op: AclOperation, topic: string) =>
  authorize(c.acls?.() ?? [], opts, 'User:ANONYMOUS', '127.0.0.1', op, {
    resourceType: ResourceType.Topic,
    name: topic,
  });

const readOrders: AclBinding = {
  pattern: { resourceType: ResourceType.Topic, name: 'orders', patternType: PatternType.Literal },
  entry: {
    principal: 'User:ANONYMOUS',
    host: '127.0.0.1',
    operation: AclOperation.Read,
    permission: AclPermission.Allow,
  },
};
const writeSales: AclBinding = {
  pattern: { resourceType: ResourceType.Topic, name: 'sales.', patternType: PatternType.Prefixed },
  entry: { principal: 'User:*', host: '*', operation: AclOperation.Write, permission: AclPermission.Allow },
};

it("ACLs written through one broker are in Kafka's znodes and enforced by another", async () => {
  const one = coordinator(1);
  const two = coordinator(2);
  await Promise.all([one.start(), two.start()]);
  expect(can(two, AclOperation.Read, 'orders')).toBe(false);

  await one.createAcls([readOrders, writeSales, readOrders]);
  expect(one.acls()).toHaveLength(2);
  await eventually(() => two.acls().length === 2, 'broker 2 sees both ACLs');
  expect(can(two, AclOperation.Read, 'orders')).toBe(true);
  expect(can(two, AclOperation.Write, 'orders')).toBe(false);
  expect(can(two, AclOperation.Write, 'sales.eu')).toBe(true);

  const literal = await raw?.get(`${chroot}/kafka-acl/Topic/orders`);
  expect(JSON.parse(literal?.data ?? '')).toEqual({
    version: 1,
    acls: [{ principal: 'User:ANONYMOUS', permissionType: 'Allow', operation: 'Read', host: '127.0.0.1' }],
  });
  const prefixed = await raw?.get(`${chroot}/kafka-acl-extended/prefixed/Topic/sales.`);
  expect(JSON.parse(prefixed?.data ?? '').acls).toEqual([
    { principal: 'User:*', permissionType: 'Allow', operation: 'Write', host: '*' },
  ]);
  const changes = (await raw?.children(`${chroot}/kafka-acl-changes`)) ?? [];
  expect(changes.some((c) => c.startsWith('acl_changes_'))).toBe(true);
  const note = await raw?.get(`${chroot}/kafka-acl-changes/${changes.sort().at(-1)}`);
  expect(note?.data).toBe('Topic:orders');
  const extended = (await raw?.children(`${chroot}/kafka-acl-extended-changes`)) ?? [];
  const extendedNote = await raw?.get(`${chroot}/kafka-acl-extended-changes/${extended.sort().at(-1)}`);
  expect(JSON.parse(extendedNote?.data ?? '')).toEqual({
    version: 1,
    resourceType: 'Topic',
    name: 'sales.',
    patternType: 'PREFIXED',
  });

  // a deletion through broker 2 reaches broker 1; the emptied znode goes
  const deleted = await two.deleteAcls([
    {
      resourceType: ResourceType.Topic,
      name: 'orders',
      patternType: PatternType.Match,
      principal: null,
      host: null,
      operation: AclOperation.Any,
      permission: AclPermission.Any,
    },
  ]);
  expect(deleted).toEqual([[readOrders]]);
  await eventually(() => one.acls().length === 1, 'broker 1 sees the deletion');
  expect(can(one, AclOperation.Read, 'orders')).toBe(false);
  expect(await raw?.get(`${chroot}/kafka-acl/Topic/orders`)).toBeUndefined();
});

it('reads ACLs a Kafka tool wrote into ZooKeeper (znode, then a change notification)', async () => {
  const [one] = coordinators;
  if (!one) throw new Error('the first test did not start the coordinators');
  await raw?.ensurePath(`${chroot}/kafka-acl/Group`);
  await raw?.create(
    `${chroot}/kafka-acl/Group/readers`,
    JSON.stringify({
      version: 1,
      acls: [{ principal: 'User:alice', permissionType: 'Deny', operation: 'Read', host: '*' }],
    }),
    'persistent',
  );
  await raw?.createSequential(`${chroot}/kafka-acl-changes/acl_changes_`, 'Group:readers');
  await eventually(() => one.acls().some((b) => b.pattern.name === 'readers'), 'broker 1 reloads on the notification');
  expect(one.acls().find((b) => b.pattern.name === 'readers')).toEqual({
    pattern: { resourceType: ResourceType.Group, name: 'readers', patternType: PatternType.Literal },
    entry: { principal: 'User:alice', host: '*', operation: AclOperation.Read, permission: AclPermission.Deny },
  });
});
