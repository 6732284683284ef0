/**
 * Wakes long-polling fetches when data arrives: a fetch waits on the
 * partitions it reads, produce notifies the partitions it appended to.
 * No polling loop anywhere; each waiter is removed when it fires or times out.
 */
type Waiter = () => void;

export class AppendNotifier {
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** Calls `wake` once, on the first append to any of `partitions`; returns a cancel function. */
  waitAny(partitions: readonly string[], wake: () => void): () => void {
    let fired = false;
    const waiter: Waiter = () => {
      if (fired) return;
      fired = true;
      cancel();
      wake();
    };
    const cancel = (): void => {
      for (const p of partitions) {
        const set = this.waiters.get(p);
        if (!set) continue;
        set.delete(waiter);
        if (set.size === 0) this.waiters.delete(p);
      }
    };
    for (const p of partitions) {
      let set = this.waiters.get(p);
      if (!set) {
        set = new Set();
        this.waiters.set(p, set);
      }
      set.add(waiter);
    }
    return cancel;
  }

  private readonly subscribers = new Map<string, Set<() => void>>();

  /** Calls `listener` on every notification of `partition` until the returned function is called. */
  subscribe(partition: string, listener: () => void): () => void {
    let set = this.subscribers.get(partition);
    if (!set) {
      set = new Set();
      this.subscribers.set(partition, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.subscribers.delete(partition);
    };
  }

  notify(partition: string): void {
    const subscribed = this.subscribers.get(partition);
    if (subscribed) for (const listener of [...subscribed]) listener();
    const set = this.waiters.get(partition);
    if (!set) return;
    for (const waiter of [...set]) waiter();
  }

  /** Wakes everyone (shutdown). */
  notifyAll(): void {
    for (const key of [...this.waiters.keys()]) this.notify(key);
  }
}
