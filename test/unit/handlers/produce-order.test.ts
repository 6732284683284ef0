/**
 * Produce requests pipelined on one connection append in the order they arrived, partition by
 * partition, whatever each append awaits. The handler used to await each partition's append
 * before starting the next partition of the same request, so a second request whose append to
 * the first partition completed sooner overtook the first request on the next partition: its
 * records landed before records sent earlier (seen as reordered sequence numbers in client.test
 * with acks 0, under load). The first tests (a fresh topic, whose first append writes its leader
 * epoch) pass on that code too; the slow-completion tests fail on it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../../src/handlers/context.js';
import { produceHandler } from '../../../src/handlers/produce.js';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { MemoryCoordinator, startedHandlerContext, testClient } from '../../helpers/replica-manager.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const managers: ReplicaManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

const client = testClient;

/** A produce request naming partitions 0 and 1 of 't', one record each, keyed `${tag}-p<partition>`. */
function request(tag: string, acks: 0 | 1 | -1) {
  return {
    acks,
    timeoutMs: 5_000,
    topics: [
      {
        name: 't',
        partitions: [0, 1].map((partition) => ({ partition, records: testBatch(`${tag}-p${partition}`, 1, 1_000) })),
      },
    ],
  };
}

/**
 * Dispatches requests 'first' and 'second' at once, as the connection does with pipelined
 * frames, and expects both partitions to hold first's record, then second's.
 */
async function expectInOrder(replicas: ReplicaManager, ctx: HandlerContext, acks: 0 | 1 | -1): Promise<void> {
  await Promise.all([
    produceHandler.handle(request('first', acks), ctx, client),
    produceHandler.handle(request('second', acks), ctx, client),
  ]);
  for (const partition of [0, 1]) {
    const read = await replicas.leaderReplica('t', partition).log.read(0, 1 << 20);
    const keys = decodeRecords(read.records).map((r) => r.key?.toString().split('-')[0]);
    expect(keys, `partition ${partition}`).toEqual(['first', 'second']);
  }
}

describe('produce handler: order across pipelined requests', () => {
  for (const acks of [0, 1, -1] as const) {
    it(`acks ${acks}: two requests of one connection, each naming partitions 0 and 1 of a fresh topic, land in order on both`, async () => {
      const logs = await fx.open(fx.dir());
      const coordinator = new MemoryCoordinator({ partitions: 2 });
      const { replicas, ctx } = await startedHandlerContext(logs, coordinator, (r) => managers.push(r));
      await expectInOrder(replicas, ctx, acks);
    });
  }

  for (const acks of [0, 1] as const) {
    it(`acks ${acks}: a request whose first append is slow to complete is not overtaken on its next partition`, async () => {
      const logs = await fx.open(fx.dir());
      const coordinator = new MemoryCoordinator({ partitions: 2 });
      const { replicas, ctx } = await startedHandlerContext(logs, coordinator, (r) => managers.push(r));
      // the first append's bytes are written at once, but it completes late, as one that waits
      // for its index backlog or a metadata write does; every later append completes at once
      const append = replicas.appendAsLeaderNow.bind(replicas);
      let calls = 0;
      replicas.appendAsLeaderNow = async (...args) => {
        const result = await append(...args);
        if (calls++ === 0) await new Promise((r) => setTimeout(r, 50));
        return result;
      };
      await expectInOrder(replicas, ctx, acks);
    });
  }
});
