/**
 * Producer id blocks in a real ZooKeeper: Kafka's /latest_producer_id_block
 * znode and JSON, and allocators of different sessions racing for blocks never
 * getting overlapping ones; the ZooKeeper coordinator's allocateProducerId
 * hands out unique ids across brokers and across blocks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allocateProducerIdBlock,
  type ProducerIdBlock,
  producerIdBlockPath,
} from '../../src/coordination/zookeeper/producer-id-block.js';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { ZooKeeperCoordinator } from '../../src/coordination/zookeeper/zookeeper-coordinator.js';
import { producerIdBlockSize } from '../../src/shared/limits.js';
import { ZooKeeperServer } from '../helpers/zookeeper.js';

let server: ZooKeeperServer;
const sessions: ZkClient[] = [];
const coordinators: ZooKeeperCoordinator[] = [];

beforeAll(async () => {
  server = await ZooKeeperServer.start();
}, 60_000);

afterAll(async () => {
  for (const c of coordinators) await c.close();
  for (const s of sessions) await s.close();
  await server?.stop();
});

async function session(chroot: string): Promise<ZkClient> {
  const root = await ZkClient.connect({ connect: server.connect, sessionTimeoutMs: 6000, connectTimeoutMs: 10_000 });
  sessions.push(root);
  await root.ensurePath(chroot);
  const zk = await ZkClient.connect({
    connect: `${server.connect}${chroot}`,
    sessionTimeoutMs: 6000,
    connectTimeoutMs: 10_000,
  });
  sessions.push(zk);
  return zk;
}

function expectDisjoint(blocks: ProducerIdBlock[], size: number): void {
  const sorted = [...blocks].sort((a, b) => a.start - b.start);
  sorted.forEach((b, i) => {
    expect(b.end - b.start + 1).toBe(size);
    // contiguous and disjoint: each block starts right after the previous one ends
    expect(b.start).toBe(i === 0 ? 0 : (sorted[i - 1] as ProducerIdBlock).end + 1);
  });
}

describe('producer id blocks in ZooKeeper', () => {
  it("creates Kafka's znode on first use and continues from it", async () => {
    const zk = await session('/pid-first');
    expect(await allocateProducerIdBlock(zk, 4, 1000)).toEqual({ start: 0, end: 999 });
    expect(JSON.parse((await zk.get(producerIdBlockPath))?.data ?? '')).toEqual({
      version: 1,
      broker: 4,
      block_start: '0',
      block_end: '999',
    });
    expect(await allocateProducerIdBlock(zk, 5, 10)).toEqual({ start: 1000, end: 1009 });
    expect(JSON.parse((await zk.get(producerIdBlockPath))?.data ?? '')).toMatchObject({
      broker: 5,
      block_start: '1000',
      block_end: '1009',
    });
  });

  it('never gives two concurrent allocators overlapping blocks', async () => {
    const a = await session('/pid-race');
    const b = await session('/pid-race');
    const c = await session('/pid-race');
    const rounds = 25;
    const claim = async (zk: ZkClient, broker: number): Promise<ProducerIdBlock[]> => {
      const out: ProducerIdBlock[] = [];
      for (let i = 0; i < rounds; i++) out.push(await allocateProducerIdBlock(zk, broker, 100));
      return out;
    };
    // the first claims race to create the znode, the later ones to update it
    const results = await Promise.all([claim(a, 1), claim(b, 2), claim(c, 3)]);
    const all = results.flat();
    expect(all).toHaveLength(3 * rounds);
    expectDisjoint(all, 100);
  });

  it('hands out unique producer ids from two ZooKeeper coordinators, across blocks', async () => {
    const root = await session('/pid-coordinators');
    await root.close();
    const started: ZooKeeperCoordinator[] = [];
    for (const brokerId of [1, 2]) {
      const c = new ZooKeeperCoordinator({
        brokerId,
        connect: `${server.connect}/pid-coordinators`,
        endpoint: { host: '127.0.0.1', port: 19_000 + brokerId },
        sessionTimeoutMs: 6000,
        connectTimeoutMs: 10_000,
      });
      coordinators.push(c);
      await c.start();
      started.push(c);
    }
    const count = producerIdBlockSize + producerIdBlockSize / 2;
    const ids = await Promise.all(
      started.map(async (c) => {
        const out: number[] = [];
        // several calls at once: the block is claimed once, not once per call
        for (let i = 0; i < count; i += 10) {
          out.push(...(await Promise.all(Array.from({ length: 10 }, () => c.allocateProducerId()))));
        }
        return out;
      }),
    );
    const flat = ids.flat();
    expect(flat).toHaveLength(2 * count);
    expect(new Set(flat).size).toBe(flat.length);
    // each coordinator claimed exactly two blocks: four blocks in all
    expect(Math.max(...flat)).toBeLessThan(4 * producerIdBlockSize);
  });
});
