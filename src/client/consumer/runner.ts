/**
 * The consumer's runner (kafkajs's Runner): the run() loop that polls and
 * hands records to eachMessage (one at a time per partition) or eachBatch
 * (one poll's records of a partition at a time), in order per partition, up
 * to partitionsConsumedConcurrently partitions at once. Backpressure: the next
 * poll's records are delivered only when every handler of this one resolved
 * (the fetcher meanwhile fetches one round ahead, bounded).
 *
 * A throwing handler stops run() (which rejects with its error); its
 * partition is rewound to the failed record (to the first unresolved one for
 * eachBatch), so the next poll() or run() redelivers it. A record counts as
 * processed only when its handler resolved and its partition is still
 * assigned; nothing of a partition is delivered once it is sought, paused or
 * being revoked.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Cluster } from '../cluster.js';
import { isRetriableError } from '../errors.js';
import type { ConsumerRecord, EachBatchPayload, Message, RunOptions } from '../types.js';
import type { PartitionState, SubscriptionState } from './subscription-state.js';

/** Consecutive failed polls run() rides through (each after a backoff) before it gives up. */
const runFailuresMax = 100;

/** Which consumer's handler the current async context runs in (close() from inside must not wait for itself). */
const deliveryContext = new AsyncLocalStorage<object>();

/** True when called from inside one of `owner`'s handlers. */
export function insideHandlerOf(owner: object): boolean {
  return deliveryContext.getStore() === owner;
}

/** Records of one partition taken from one poll for delivery. */
interface DeliveryGroup {
  state: PartitionState;
  version: number;
  records: ConsumerRecord[];
}

/** What the runner asks of the consumer it works for. */
export interface RunnerContext {
  cluster: Cluster;
  subscription: SubscriptionState;
  /** The next poll's records (throws the group's fatal error). */
  poll(): Promise<ConsumerRecord[]>;
  closed(): boolean;
  closedPromise: Promise<void>;
  /** A rebalance is taking the partitions away: deliver nothing more. */
  revoking(): boolean;
  /** The group's fatal error, if any (run() does not retry it). */
  groupError(): Error | null;
  /** eachBatch's commitOffsetsIfNecessary. */
  commitProcessed(): Promise<void>;
  /** Moves a partition (bumping its version, dropping what was buffered for it). */
  invalidate(state: PartitionState): void;
}

export class Runner {
  private running = false;
  private runDone: Promise<void> | null = null;
  private activeDeliveries = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    /** The consumer: handlers run in its delivery context. */
    private readonly owner: object,
    private readonly context: RunnerContext,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Resolves when run() has returned (at once when it never ran). */
  finished(): Promise<void> {
    return this.runDone ?? Promise.resolve();
  }

  async run(options: RunOptions, concurrency: number): Promise<void> {
    this.running = true;
    let done: () => void = () => undefined;
    this.runDone = new Promise<void>((resolve) => {
      done = resolve;
    });
    const { context } = this;
    try {
      let failures = 0;
      while (!context.closed()) {
        let records: ConsumerRecord[];
        try {
          records = await context.poll();
          failures = 0;
        } catch (err) {
          if (context.closed()) break;
          if (err === context.groupError() || !isRetriableError(err) || ++failures > runFailuresMax) throw err;
          await Promise.race([
            context.cluster.pause(context.cluster.backoffMs(failures)).catch(() => undefined),
            context.closedPromise,
          ]);
          continue;
        }
        if (records.length > 0) await this.deliver(records, options, concurrency);
      }
    } finally {
      this.running = false;
      done();
    }
  }

  /** Waits until no handler runs (at most `ms`). */
  waitIdle(ms: number): Promise<void> {
    if (this.activeDeliveries === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.idleWaiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  private async deliver(records: ConsumerRecord[], options: RunOptions, concurrency: number): Promise<void> {
    const { subscription } = this.context;
    const groups = new Map<PartitionState, DeliveryGroup>();
    // records come in runs of one partition: one lookup and one slice per run, not a push per record
    for (let i = 0; i < records.length; ) {
      const { topic, partition } = records[i] as ConsumerRecord;
      let j = i + 1;
      while (j < records.length) {
        const r = records[j] as ConsumerRecord;
        if (r.partition !== partition || r.topic !== topic) break;
        j++;
      }
      const state = subscription.get(topic, partition);
      if (state) {
        const run = i === 0 && j === records.length ? records : records.slice(i, j);
        const g = groups.get(state);
        if (g) for (const r of run) g.records.push(r);
        else groups.set(state, { state, version: state.version, records: run });
      }
      i = j;
    }
    const queue = [...groups.values()];
    let failure: { err: unknown } | null = null;
    const worker = async (): Promise<void> => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        if (failure) {
          // not started: fetched again by the next run() or poll()
          this.rewind(g, (g.records[0] as ConsumerRecord).offset);
          continue;
        }
        try {
          if (options.eachBatch) await this.deliverBatch(g, options);
          else await this.deliverMessages(g, options);
        } catch (err) {
          failure ??= { err };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    if (failure) throw (failure as { err: unknown }).err;
  }

  /** Still this partition's current records: assigned, not sought or paused since, no rebalance or close under way. */
  private current(g: DeliveryGroup): boolean {
    const { state } = g;
    const { context } = this;
    return (
      !context.closed() &&
      !context.revoking() &&
      state.version === g.version &&
      context.subscription.isAssigned(state) &&
      !context.subscription.isPaused(state.topic, state.partition)
    );
  }

  /** Makes the partition fetch again from `offset` (when nothing else moved it meanwhile). */
  private rewind(g: DeliveryGroup, offset: number): void {
    if (!this.context.subscription.isAssigned(g.state) || g.state.version !== g.version) return;
    this.context.invalidate(g.state);
    g.state.position = offset;
    g.state.consumed = offset;
  }

  private beginDelivery(): void {
    this.activeDeliveries++;
  }

  private endDelivery(): void {
    this.activeDeliveries--;
    if (this.activeDeliveries === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async deliverMessages(g: DeliveryGroup, options: RunOptions): Promise<void> {
    const handler = options.eachMessage as NonNullable<RunOptions['eachMessage']>;
    const { subscription } = this.context;
    for (const r of g.records) {
      if (!this.current(g)) return;
      const message: Message = {
        offset: r.offset,
        key: r.key,
        value: r.value,
        headers: r.headers,
        timestamp: r.timestamp,
      };
      const { topic, partition } = r;
      g.state.consumed = r.offset + 1;
      this.beginDelivery();
      try {
        await deliveryContext.run(this.owner, () => handler({ topic, partition, message }));
      } catch (err) {
        this.rewind(g, r.offset);
        throw err;
      } finally {
        this.endDelivery();
      }
      if (subscription.isAssigned(g.state)) g.state.processed = r.offset + 1;
    }
  }

  private async deliverBatch(g: DeliveryGroup, options: RunOptions): Promise<void> {
    const handler = options.eachBatch as NonNullable<RunOptions['eachBatch']>;
    if (!this.current(g)) return;
    const { context } = this;
    const first = g.records[0] as ConsumerRecord;
    const last = g.records[g.records.length - 1] as ConsumerRecord;
    // the records themselves (each also names its topic and partition): no copy per record
    const messages: Message[] = g.records;
    let resolved: number | null = null;
    const payload: EachBatchPayload = {
      batch: {
        topic: g.state.topic,
        partition: g.state.partition,
        messages,
        firstOffset: () => first.offset,
        lastOffset: () => last.offset,
      },
      resolveOffset: (offset: number) => {
        if (!Number.isSafeInteger(offset) || offset < first.offset || offset > last.offset) return;
        if (resolved !== null && offset + 1 <= resolved) return;
        resolved = offset + 1;
        if (context.subscription.isAssigned(g.state)) g.state.processed = resolved;
      },
      heartbeat: async () => undefined,
      commitOffsetsIfNecessary: () => context.commitProcessed(),
      isRunning: () => !context.closed(),
      isStale: () => !this.current(g),
    };
    g.state.consumed = last.offset + 1;
    this.beginDelivery();
    try {
      await deliveryContext.run(this.owner, () => handler(payload));
    } catch (err) {
      this.rewind(g, resolved ?? first.offset);
      throw err;
    } finally {
      this.endDelivery();
    }
    if (options.eachBatchAutoResolve !== false) payload.resolveOffset(last.offset);
    else if (((resolved as number | null) ?? first.offset) <= last.offset) this.rewind(g, resolved ?? first.offset);
  }
}
