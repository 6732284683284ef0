/**
 * The leader's ISR changes against acks=-1, on real logs (real files, real
 * LevelDB) with an in-memory coordinator that lets the test hold the answer
 * to the leader's ISR write. This is the race the chaos suite found (seeds 1,
 * 2 and 4): a restarted follower reaches the high watermark, the leader
 * writes it into the ISR, and the controller's preferred leader election
 * makes it leader at once, before the old leader has heard back. Records the
 * old leader acknowledged in between, counting only the ISR it had before,
 * were missing on the new leader and truncated everywhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PartitionState } from '../../../src/coordination/coordinator.js';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { isSluiceError } from '../../../src/shared/errors.js';
import { MemoryCoordinator, newReplicaManager } from '../../helpers/replica-manager.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const managers: ReplicaManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

/**
 * One topic 't' with one partition, replicas [1, 2, 3], in memory. An ISR
 * write lands in the state at once (as in ZooKeeper) and the controller may
 * act on it, but the writer's answer waits until the test releases it.
 */
class HeldIsrCoordinator extends MemoryCoordinator {
  readonly isrWrites: number[][] = [];
  private readonly heldAnswers: (() => void)[] = [];

  constructor() {
    super({ replicas: [1, 2, 3], isr: [1, 2] });
  }

  get state(): PartitionState {
    return this.states[0] as PartitionState;
  }
  set state(state: PartitionState) {
    this.states[0] = state;
  }

  override updateIsr(_topic: string, _partition: number, leaderEpoch: number, isr: number[]): Promise<boolean> {
    if (this.state.leader !== this.brokerId || this.state.leaderEpoch !== leaderEpoch) return Promise.resolve(false);
    this.state = { ...this.state, isr: [...isr] };
    this.isrWrites.push([...isr]);
    return new Promise((resolve) => this.heldAnswers.push(() => resolve(true)));
  }

  releaseIsrAnswers(): void {
    for (const answer of this.heldAnswers.splice(0)) answer();
  }

  /** The controller's preferred leader election on the ISR it reads: `leader` leads at the next epoch. */
  elect(leader: number): void {
    const previous = this.state;
    this.state = { ...previous, leader, leaderEpoch: previous.leaderEpoch + 1 };
    this.reportState(this.state, previous);
  }
}

async function leaderWithHeldIsrWrites(): Promise<{ coordinator: HeldIsrCoordinator; manager: ReplicaManager }> {
  const logs = await fx.open(fx.dir());
  const coordinator = new HeldIsrCoordinator();
  const manager = newReplicaManager(logs, coordinator, { 'min.insync.replicas': '2' });
  managers.push(manager);
  await manager.start();
  return { coordinator, manager };
}

const settled = async (p: Promise<unknown>): Promise<'pending' | 'acknowledged' | 'failed'> => {
  let outcome: 'pending' | 'acknowledged' | 'failed' = 'pending';
  p.then(
    () => {
      outcome = 'acknowledged';
    },
    () => {
      outcome = 'failed';
    },
  );
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return outcome;
};

describe('replica manager: ISR expand in flight', () => {
  it('an admitted follower holds acks=-1 from the moment its admission is written, before the write is answered', async () => {
    const { coordinator, manager } = await leaderWithHeldIsrWrites();
    const replica = manager.leaderReplica('t', 0);
    expect(replica.isr).toEqual([1, 2]);

    const first = manager.appendAsLeader('t', 0, testBatch('a', 5, 1000), -1, 10_000);
    manager.onFollowerFetch(replica, 2, 5);
    await first;
    // broker 3 (restarted) reaches the high watermark: the leader writes ISR [1, 2, 3]
    manager.onFollowerFetch(replica, 3, 5);
    expect(coordinator.isrWrites).toEqual([[1, 2, 3]]);

    // the write has landed; before the leader hears back, the next produce and broker 2's fetch come in
    const second = manager.appendAsLeader('t', 0, testBatch('b', 5, 2000), -1, 10_000);
    manager.onFollowerFetch(replica, 2, 10);
    // broker 3 has only the first 5 records: the ISR in the coordinator does not hold these yet
    expect(await settled(second)).toBe('pending');
    expect(replica.highWatermark).toBe(5);

    // the controller elects broker 3 (preferred, in the ISR it reads); the old leader learns it and fails the wait
    coordinator.elect(3);
    await expect(second).rejects.toSatisfy((err: unknown) => isSluiceError(err, 'SLUICE_ERR_NOT_LEADER'));
    coordinator.releaseIsrAnswers();
  });

  it('once the admission is confirmed, acks=-1 completes when every member of the new ISR has the records', async () => {
    const { coordinator, manager } = await leaderWithHeldIsrWrites();
    const replica = manager.leaderReplica('t', 0);
    await replica.log.append(testBatch('a', 5, 1000), { leaderEpoch: 0 });
    replica.onLeaderAppend();
    manager.onFollowerFetch(replica, 2, 5);
    manager.onFollowerFetch(replica, 3, 5);
    const second = manager.appendAsLeader('t', 0, testBatch('b', 5, 2000), -1, 10_000);
    manager.onFollowerFetch(replica, 2, 10);
    expect(await settled(second)).toBe('pending');
    coordinator.releaseIsrAnswers();
    await new Promise((r) => setImmediate(r));
    expect(replica.isr).toEqual([1, 2, 3]);
    expect(await settled(second)).toBe('pending');
    manager.onFollowerFetch(replica, 3, 10);
    expect(await settled(second)).toBe('acknowledged');
    expect(replica.highWatermark).toBe(10);
  });

  it('a proposed member that stops fetching is shrunk out again: the high watermark does not stay stuck', async () => {
    const { coordinator, manager } = await leaderWithHeldIsrWrites();
    const replica = manager.leaderReplica('t', 0);
    await replica.log.append(testBatch('a', 5, 1000), { leaderEpoch: 0 });
    replica.onLeaderAppend();
    manager.onFollowerFetch(replica, 2, 5);
    manager.onFollowerFetch(replica, 3, 5);
    expect(coordinator.isrWrites).toEqual([[1, 2, 3]]);
    // nobody fetches for longer than replica.lag.time.max.ms: the proposed member counts as lagging like broker 2
    expect(replica.laggingReplicas(Date.now() + 31_000, 30_000)).toEqual([2, 3]);
  });
});
