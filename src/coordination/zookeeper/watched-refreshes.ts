/**
 * The pattern of every ZooKeeper-fed cache (the coordinator's topics, brokers
 * and ACLs; the SCRAM credentials; the client quotas): refreshes run one at a
 * time on one queue, so two never interleave, and a failed one is reported
 * while the queue goes on; at most one one-shot watch is armed per key, and
 * its firing queues the refresh it names (a session event does not: the next
 * session reloads everything).
 */
import { ZkEvent } from './zk-client.js';

export class WatchedRefreshes {
  private readonly armed = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  /**
   * @param onError told of each failed refresh
   * @param skip true when queued refreshes must no longer run (the owner closed); never by default
   */
  constructor(
    private readonly onError: (err: unknown) => void,
    private readonly skip: () => boolean = () => false,
  ) {}

  /** Runs `step` after every refresh queued before it; resolves when it has run (or failed, reported). */
  enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(async () => {
      if (this.skip()) return;
      try {
        await step();
      } catch (err) {
        this.onError(err);
      }
    });
    this.queue = next;
    return next;
  }

  /**
   * Arms the watch `register` sets, unless one is armed under `key` already; when it
   * fires (not for a session event) and `wanted()` still holds, `onFire` is queued.
   */
  async arm(
    key: string,
    register: (cb: (type: number) => void) => Promise<unknown>,
    onFire: () => Promise<void>,
    wanted: () => boolean,
  ): Promise<void> {
    if (this.armed.has(key)) return;
    this.armed.add(key);
    try {
      await register((type) => {
        this.armed.delete(key);
        if (type !== ZkEvent.Session && wanted()) void this.enqueue(onFire);
      });
    } catch (err) {
      this.armed.delete(key);
      throw err;
    }
  }

  /** Forgets every armed watch (a new session has none). */
  disarmAll(): void {
    this.armed.clear();
  }

  /** Resolves once every refresh queued so far has run. */
  settled(): Promise<void> {
    return this.queue.catch(() => {});
  }
}
