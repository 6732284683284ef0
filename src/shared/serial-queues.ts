/**
 * Tasks run one at a time per key, in the order they were handed in: what the stores of the
 * internal compacted topics (groups/offset-store.ts, transactions/txn-state-store.ts) need per
 * partition, so that a replay, an append and a compaction of one partition never interleave.
 * A task's failure is its caller's (its promise rejects); the next task of the key runs anyway.
 * One entry a key ever used: callers key by something bounded (a partition number).
 */
export class SerialQueues<K> {
  private readonly tails = new Map<K, Promise<unknown>>();

  /** Runs `task` once every task handed in before for `key` has settled; resolves or rejects as it does. */
  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(task);
    this.tails.set(
      key,
      next.catch(() => undefined),
    );
    return next;
  }
}
