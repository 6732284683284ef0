/**
 * The consumer's offset committer (the Java client's ConsumerCoordinator
 * commit half, kafkajs's offsetManager): commits each partition's processed
 * offset (last processed + 1) through the group membership, one commit at a
 * time; the auto-commit timer; what poll() returned becoming processed at the
 * next poll(), commit() or close(); and offsets a revocation could not commit,
 * carried into the next generation when it gives the partition back.
 *
 * Delivery is at-least-once: only offsets whose records were processed are
 * committed, and only for partitions still assigned (a revoked partition's
 * state is no longer in the subscription, so nothing of it is committed after).
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { topicPartitionKey } from '../../shared/topic-partition.js';
import type { GroupMembership, OffsetToCommit } from '../group-membership.js';
import type { PartitionState, SubscriptionState } from './subscription-state.js';

export class OffsetCommitter {
  private chain: Promise<void> = Promise.resolve();
  /** poll() users: the next offset after what the last poll() returned, per partition. */
  private lastPolled = new Map<PartitionState, number>();
  /**
   * Processed offsets the revocation could not commit (e.g. the coordinator
   * refuses commits while rebalancing): when the next generation gives the
   * partition back to this member, it resumes (and commits) from there.
   */
  private carryOver = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly subscription: SubscriptionState,
    private readonly membership: () => GroupMembership | null,
    private readonly groupId: string | undefined,
  ) {}

  /** Commits every `intervalMs` while `due()` says so (group stable, no rebalance under way). */
  startAutoCommit(intervalMs: number, due: () => boolean): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (due()) this.commitProcessed().catch(() => undefined);
    }, intervalMs);
    this.timer.unref?.();
  }

  stopAutoCommit(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** poll() returned records of `state` up to `next` - 1: processed at the next poll(), commit() or close(). */
  notePolled(state: PartitionState, next: number): void {
    this.lastPolled.set(state, next);
  }

  forgetPolled(state: PartitionState): void {
    this.lastPolled.delete(state);
  }

  /** Forgets what was polled from partitions no longer assigned. */
  retainAssigned(): void {
    for (const s of this.lastPolled.keys()) if (!this.subscription.isAssigned(s)) this.lastPolled.delete(s);
  }

  /** What the last poll() returned becomes processed. */
  promotePolled(): void {
    for (const [state, next] of this.lastPolled) {
      if (this.subscription.isAssigned(state)) state.processed = next;
    }
    this.lastPolled.clear();
  }

  /** Runs commits one after another. */
  serialized(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  notMember(): SluiceError {
    return new SluiceError(
      ErrorCode.BrokerError,
      `not a member of group '${this.groupId}' right now (joining or rebalancing): nothing committed`,
    );
  }

  /**
   * Commits every assigned partition whose processed offset moved since its
   * last commit. Outside a generation: rejects when `explicit` (commit()),
   * else commits nothing.
   */
  commitProcessed(explicit = false): Promise<void> {
    return this.serialized(async () => {
      const m = this.membership();
      if (!m) return;
      const todo: { state: PartitionState; offset: number }[] = [];
      for (const s of this.subscription.states())
        if (s.processed !== null && s.processed !== s.committed) todo.push({ state: s, offset: s.processed });
      if (todo.length === 0) return;
      if (m.generationId < 0) {
        if (explicit) throw this.notMember();
        return;
      }
      await m.commit(todo.map(({ state, offset }) => ({ topic: state.topic, partition: state.partition, offset })));
      for (const { state, offset } of todo) state.committed = offset;
    });
  }

  /** Commits exactly these offsets (next offsets to consume). */
  commitExact(list: OffsetToCommit[]): Promise<void> {
    return this.serialized(async () => {
      const m = this.membership();
      if (!m || m.generationId < 0) throw this.notMember();
      await m.commit(list);
      for (const o of list) {
        const s = this.subscription.get(o.topic, o.partition);
        if (s) s.committed = o.offset;
      }
    });
  }

  /** Before a revocation drops the states: keeps the processed offsets not committed. */
  keepUncommitted(): void {
    this.carryOver = new Map();
    for (const st of this.subscription.states()) {
      if (st.processed !== null && st.processed !== st.committed)
        this.carryOver.set(topicPartitionKey(st.topic, st.partition), st.processed);
    }
  }

  /** The processed offset a revocation kept for this partition, if any. */
  carried(topic: string, partition: number): number | undefined {
    return this.carryOver.get(topicPartitionKey(topic, partition));
  }

  clearCarryOver(): void {
    this.carryOver.clear();
  }
}
