/**
 * A topic deleted and created again at once, as the replica manager hears of
 * it: onTopicDeleted, and right after it the new topic's partition states
 * (the ZooKeeper coordinator reports them in one refresh step). On real logs
 * (real files, real LevelDB) with an in-memory coordinator. The new topic's
 * partitions must get new, empty logs — not an old log the log manager has
 * not deleted yet (it deletes a topic's partitions one after another).
 */
import { afterEach, expect, it } from 'vitest';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { MemoryCoordinator, newReplicaManager } from '../../helpers/replica-manager.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const managers: ReplicaManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

const partitions = 4;

/** Topic 't' of four partitions, each led by broker 1 alone; recreate() deletes and creates it again. */
class RecreatingCoordinator extends MemoryCoordinator {
  constructor() {
    super({ partitions });
  }

  /** The old 't' reported deleted, then at once every state of the new 't' (the same states: epoch 0 again). */
  recreate(): void {
    this.reportDeleted('t');
    this.states = this.freshStates();
    for (const state of this.states) this.reportState(state, undefined);
  }
}

it("a topic created again right after its deletion gets new, empty logs on every partition, none of the old one's", async () => {
  const logs = await fx.open(fx.dir());
  const coordinator = new RecreatingCoordinator();
  const manager = newReplicaManager(logs, coordinator);
  managers.push(manager);
  await manager.start();
  for (let p = 0; p < partitions; p++) await manager.appendAsLeader('t', p, testBatch(`old-${p}`, 5, 1000), 1, 10_000);
  expect(logs.all().map((log) => log.logEndOffset)).toEqual([5, 5, 5, 5]);

  coordinator.recreate();
  // (each partition's state changes apply in order: these come after the ones recreate() reported)
  await manager.removeTopic('t');
  await manager.applyTopic('t');

  for (let p = 0; p < partitions; p++) {
    const replica = manager.leaderReplica('t', p);
    expect(replica.log.logEndOffset, `t-${p}`).toBe(0);
    expect(logs.get('t', p)).toBe(replica.log);
    const appended = await manager.appendAsLeader('t', p, testBatch(`new-${p}`, 2, 2000), 1, 10_000);
    expect(appended.baseOffset, `t-${p}`).toBe(0);
  }
});
