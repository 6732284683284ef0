/**
 * How long the broker worked on each request, for request_percentage (Kafka's
 * request quota, KIP-124). Kafka counts the time a request held a request
 * handler thread (and the network thread), not the time it waited in a
 * purgatory; Sluice handles every request on one event loop, so the
 * equivalent is the event-loop time spent running the request's own code:
 * its synchronous start, and every callback and promise continuation that
 * descends from it (async_hooks before/after, the request found through an
 * AsyncLocalStorage), while a long poll, a wait for replicas or a disk read
 * in flight costs nothing. Time is exclusive: a callback that runs inside
 * another (nested) is taken out of the outer one.
 *
 * The hooks slow every promise a little, so they are enabled only while
 * some quota sets request_percentage (`setEnabled`), as Kafka records request
 * time only while quotas are configured.
 */
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { requestTimeNestingMax } from '../shared/limits.js';

/** One request's handling time so far (ms). */
export interface RequestMeter {
  ms: number;
}

export class RequestTimer {
  private readonly storage = new AsyncLocalStorage<RequestMeter>();
  private readonly hook = createHook({
    before: () => this.enter(this.storage.getStore()),
    after: () => this.leave(),
  });
  private enabled = false;
  /** The meter the running code is charged to (undefined: none) and the meters it interrupted. */
  private current: RequestMeter | undefined;
  private readonly interrupted: (RequestMeter | undefined)[] = [];
  private since = 0;

  get active(): boolean {
    return this.enabled;
  }

  setEnabled(on: boolean): void {
    if (on === this.enabled) return;
    this.enabled = on;
    this.current = undefined;
    this.interrupted.length = 0;
    if (on) this.hook.enable();
    else {
      this.hook.disable();
      this.storage.disable();
    }
  }

  /** Runs `fn` charged to `meter`, with everything it starts (its callbacks and continuations). */
  run<T>(meter: RequestMeter, fn: () => T): T {
    if (!this.enabled) return fn();
    this.enter(meter);
    try {
      return this.storage.run(meter, fn);
    } finally {
      this.leave();
    }
  }

  private enter(meter: RequestMeter | undefined): void {
    const now = performance.now();
    if (this.current) this.current.ms += now - this.since;
    if (this.interrupted.length >= requestTimeNestingMax) this.interrupted.length = 0;
    this.interrupted.push(this.current);
    this.current = meter;
    this.since = now;
  }

  private leave(): void {
    const now = performance.now();
    if (this.current) this.current.ms += now - this.since;
    this.current = this.interrupted.pop();
    this.since = now;
  }
}

/** The broker's one timer: async hooks are process-wide, so both listeners share it. */
export const requestTimer = new RequestTimer();
