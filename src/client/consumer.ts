/**
 * The consumer without a group: it reads the partitions it is given
 * (assign(), or subscribe() meaning every partition of the topics) from
 * positions it keeps itself — an offset, earliest/latest, or a timestamp —
 * in order per partition, so a reader can replay from any offset.
 *
 * Groups plug in through applyAssignment(): a group coordinator (next
 * version) replaces the assignment and supplies committed offsets; fetching,
 * positions and delivery stay as they are.
 *
 * Bounds: one fetch round in flight (one request per leader), each bounded
 * by maxBytes / maxBytesPerPartition; poll() returns at most maxRecords and
 * keeps the rest of that one round buffered.
 */

import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { FetchRequest, FetchResponse } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  batchBytesMax,
  batchHeaderBytes,
  consumerPollRecordsMax,
  fetchMaxBytesDefault,
  fetchMaxWaitMsDefault,
  fetchPartitionMaxBytesDefault,
} from '../shared/limits.js';
import type { DecodedRecord } from '../wire/record.js';
import { batchSizeOf, lastOffsetOf, logOverheadBytes } from '../wire/record-batch.js';
import { decodeBatchRecords } from '../wire/record-batch-decoder.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, closedError, invalidArgument, isRetriableError, wireError } from './errors.js';
import { earliestTimestamp, latestTimestamp, listOffsets } from './offsets.js';
import type {
  AutoOffsetReset,
  ConsumerOptions,
  ConsumerRecord,
  Message,
  OffsetSpec,
  PollOptions,
  RunOptions,
  TopicPartitionOffset,
} from './types.js';

type Reset = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'timestamp'; timestamp: number };

interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset to fetch; null until `reset` is resolved. */
  position: number | null;
  reset: Reset;
  maxBytes: number;
}

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Consecutive failed polls run() rides through (each after a backoff) before it gives up. */
const runFailuresMax = 100;

function resetOf(policy: AutoOffsetReset | undefined): Reset {
  switch (policy ?? 'largest') {
    case 'smallest':
    case 'earliest':
      return { kind: 'earliest' };
    case 'largest':
    case 'latest':
      return { kind: 'latest' };
    default:
      throw invalidArgument(`autoOffsetReset must be smallest, largest, earliest or latest, not '${String(policy)}'`);
  }
}

/** An OffsetSpec as a position (number) or a reset. */
function parseOffset(spec: OffsetSpec): number | Reset {
  if (spec === 'earliest' || spec === 'smallest' || spec === 'beginning') return { kind: 'earliest' };
  if (spec === 'latest' || spec === 'largest' || spec === 'end') return { kind: 'latest' };
  let n: number;
  if (typeof spec === 'bigint') n = Number(spec);
  else if (typeof spec === 'string' && /^-?\d+$/.test(spec.trim())) n = Number(spec.trim());
  else if (typeof spec === 'number') n = spec;
  else throw invalidArgument(`offset must be a number, 'earliest' or 'latest', not '${String(spec)}'`);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`offset ${String(spec)} is not a safe integer`);
  // Kafka's special values: -2 earliest, -1 latest
  if (n === earliestTimestamp) return { kind: 'earliest' };
  if (n === latestTimestamp) return { kind: 'latest' };
  if (n < 0) throw invalidArgument(`offset ${n} is negative`);
  return n;
}

function checkTopicPartition(topic: unknown, partition: unknown): void {
  if (typeof topic !== 'string' || topic.length === 0) throw invalidArgument('topic must be a non-empty string');
  if (!Number.isInteger(partition) || (partition as number) < 0)
    throw invalidArgument('partition must be a non-negative integer');
}

function messageOf(r: DecodedRecord): Message {
  const headers: Record<string, Buffer> = {};
  for (const h of r.headers) headers[h.key] = h.value ?? Buffer.alloc(0);
  return { offset: r.offset, key: r.key, value: r.value, headers, timestamp: r.timestamp };
}

export class Consumer {
  readonly groupId: string | undefined;
  private readonly defaultReset: Reset;
  private readonly maxWaitMs: number;
  private readonly minBytes: number;
  private readonly maxBytes: number;
  private readonly maxBytesPerPartition: number;
  private readonly partitions = new Map<string, PartitionState>();
  private buffered: ConsumerRecord[] = [];
  private polling: Promise<void> | null = null;
  private running = false;
  private closed = false;
  private closeSignal: () => void = () => undefined;
  private readonly closedPromise: Promise<void>;
  private runDone: Promise<void> | null = null;
  /** True while eachMessage runs: a close() from inside it must not wait for run() (it would wait for itself). */
  private delivering = false;

  constructor(
    private readonly cluster: Cluster,
    options: ConsumerOptions = {},
    private readonly onClose: (c: Consumer) => void = () => undefined,
  ) {
    this.groupId = options.groupId;
    this.defaultReset = resetOf(options.autoOffsetReset);
    this.maxWaitMs = options.maxWaitMs ?? fetchMaxWaitMsDefault;
    this.minBytes = options.minBytes ?? 1;
    this.maxBytes = Math.min(options.maxBytes ?? fetchMaxBytesDefault, batchBytesMax * 2);
    this.maxBytesPerPartition = Math.min(options.maxBytesPerPartition ?? fetchPartitionMaxBytesDefault, this.maxBytes);
    if (!Number.isInteger(this.maxWaitMs) || this.maxWaitMs < 0 || this.maxWaitMs > 600_000) {
      throw invalidArgument('maxWaitMs must be an integer in 0..600000');
    }
    this.closedPromise = new Promise<void>((resolve) => {
      this.closeSignal = resolve;
    });
  }

  private requireNoGroup(what: string): void {
    if (this.groupId !== undefined) {
      throw new SluiceError(
        ErrorCode.Unsupported,
        `${what} with groupId '${this.groupId}': consumer groups are not available in this version; omit groupId`,
      );
    }
  }

  /** Every partition of `topics`, each starting per autoOffsetReset (or earliest with fromBeginning). */
  async subscribe(
    options: { topics: string[]; fromBeginning?: boolean } | { topic: string; fromBeginning?: boolean },
  ): Promise<void> {
    if (this.closed) throw closedError('the consumer');
    this.requireNoGroup('subscribe()');
    const topics = 'topics' in options ? options.topics : [options.topic];
    if (!Array.isArray(topics) || topics.length === 0) throw invalidArgument('subscribe() needs topics: [...]');
    const reset = options.fromBeginning ? { kind: 'earliest' as const } : this.defaultReset;
    const assignment: PartitionState[] = [];
    for (const topic of topics) {
      const info = await this.cluster.retry(() => this.cluster.topic(topic));
      for (const p of info.partitions) {
        assignment.push({ topic, partition: p.partition, position: null, reset, maxBytes: this.maxBytesPerPartition });
      }
    }
    for (const s of assignment) {
      const key = keyOf(s.topic, s.partition);
      if (!this.partitions.has(key)) this.partitions.set(key, s);
    }
  }

  /** Reads exactly these partitions, each from its offset (default: autoOffsetReset). Replaces the assignment. */
  assign(partitions: TopicPartitionOffset[]): void {
    if (this.closed) throw closedError('the consumer');
    this.requireNoGroup('assign()');
    if (!Array.isArray(partitions)) throw invalidArgument('assign() needs [{ topic, partition, offset? }]');
    const next = partitions.map((tp) => {
      checkTopicPartition(tp?.topic, tp?.partition);
      const state: PartitionState = {
        topic: tp.topic,
        partition: tp.partition,
        position: null,
        reset: this.defaultReset,
        maxBytes: this.maxBytesPerPartition,
      };
      if (tp.offset !== undefined && tp.offset !== null) {
        const o = parseOffset(tp.offset);
        if (typeof o === 'number') state.position = o;
        else state.reset = o;
      }
      return state;
    });
    this.applyAssignment(next);
  }

  /** For a group coordinator as well: replaces the assignment, keeping nothing buffered for dropped partitions. */
  protected applyAssignment(next: PartitionState[]): void {
    this.partitions.clear();
    for (const s of next) this.partitions.set(keyOf(s.topic, s.partition), s);
    this.buffered = this.buffered.filter((r) => this.partitions.has(keyOf(r.topic, r.partition)));
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.partitions.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** The next offset to be fetched for a partition (null until resolved); buffered records come first. */
  position(topic: string, partition: number): number | null {
    const first = this.buffered.find((r) => r.topic === topic && r.partition === partition);
    if (first) return first.offset;
    return this.partitions.get(keyOf(topic, partition))?.position ?? null;
  }

  /** Moves a partition to an offset, or to 'earliest' / 'latest'. Assigns the partition when it is not. */
  seek(target: { topic: string; partition: number; offset: OffsetSpec }): void {
    if (this.closed) throw closedError('the consumer');
    checkTopicPartition(target?.topic, target?.partition);
    const o = parseOffset(target.offset);
    const state = this.stateFor(target.topic, target.partition);
    if (typeof o === 'number') state.position = o;
    else {
      state.position = null;
      state.reset = o;
    }
  }

  /** Moves a partition to the first record with a timestamp at or after `timestamp` (ms or Date); the end when none. */
  async seekToTimestamp(target: { topic: string; partition: number; timestamp: number | Date }): Promise<void> {
    if (this.closed) throw closedError('the consumer');
    checkTopicPartition(target?.topic, target?.partition);
    const ts = target.timestamp instanceof Date ? target.timestamp.getTime() : target.timestamp;
    if (!Number.isSafeInteger(ts) || ts < 0)
      throw invalidArgument(`timestamp must be milliseconds since the epoch, not ${String(ts)}`);
    const state = this.stateFor(target.topic, target.partition);
    state.position = null;
    state.reset = { kind: 'timestamp', timestamp: ts };
    await this.resolvePositions();
  }

  private stateFor(topic: string, partition: number): PartitionState {
    const key = keyOf(topic, partition);
    let state = this.partitions.get(key);
    if (!state) {
      this.requireNoGroup('seek() of an unassigned partition');
      state = { topic, partition, position: null, reset: this.defaultReset, maxBytes: this.maxBytesPerPartition };
      this.partitions.set(key, state);
    }
    this.buffered = this.buffered.filter((r) => r.topic !== topic || r.partition !== partition);
    return state;
  }

  /** Turns every pending reset into an offset (ListOffsets at the leaders). */
  private async resolvePositions(): Promise<void> {
    const pending = [...this.partitions.values()].filter((s) => s.position === null);
    if (pending.length === 0) return;
    const queries = pending.map((s) => ({
      topic: s.topic,
      partition: s.partition,
      timestamp:
        s.reset.kind === 'earliest'
          ? earliestTimestamp
          : s.reset.kind === 'latest'
            ? latestTimestamp
            : s.reset.timestamp,
    }));
    const answers = await listOffsets(this.cluster, queries);
    answers.forEach((a, i) => {
      const s = pending[i] as PartitionState;
      // only when nobody moved the partition meanwhile
      if (s.position === null && this.partitions.get(keyOf(s.topic, s.partition)) === s) s.position = a.offset;
    });
  }

  /**
   * Returns the next records (in order per partition), waiting up to maxWaitMs
   * for some when none is buffered; [] when none arrived.
   */
  async poll(options: PollOptions = {}): Promise<ConsumerRecord[]> {
    if (this.closed) throw closedError('the consumer');
    const maxRecords = Math.max(1, Math.min(options.maxRecords ?? consumerPollRecordsMax, consumerPollRecordsMax));
    if (this.buffered.length === 0) {
      if (!this.polling) {
        this.polling = this.fetchRound(options.maxWaitMs ?? this.maxWaitMs).finally(() => {
          this.polling = null;
        });
      }
      await Promise.race([this.polling, this.closedPromise]);
      if (this.closed) return [];
    }
    return this.buffered.splice(0, maxRecords);
  }

  /** One fetch from every leader of the assigned partitions; what arrives is buffered. */
  private async fetchRound(maxWaitMs: number): Promise<void> {
    if (this.partitions.size === 0) {
      await Promise.race([this.cluster.pause(maxWaitMs), this.closedPromise]);
      return;
    }
    await this.resolvePositions();
    const byLeader = new Map<number, PartitionState[]>();
    for (const s of this.partitions.values()) {
      if (s.position === null) continue;
      const leader = await this.cluster.leaderOf(s.topic, s.partition);
      const list = byLeader.get(leader) ?? [];
      list.push(s);
      byLeader.set(leader, list);
    }
    const results = await Promise.allSettled(
      [...byLeader].map(([leader, states]) => this.fetchFrom(leader, states, maxWaitMs)),
    );
    let got = 0;
    let firstError: unknown = null;
    for (const r of results) {
      if (r.status === 'fulfilled') {
        got += r.value.length;
        for (const rec of r.value) this.buffered.push(rec);
      } else firstError ??= r.reason;
    }
    if (got === 0 && firstError !== null) throw firstError;
  }

  private async fetchFrom(leader: number, states: PartitionState[], maxWaitMs: number): Promise<ConsumerRecord[]> {
    const asked = states.map((s) => ({ state: s, offset: s.position as number }));
    const topics = new Map<string, { partition: number; fetchOffset: number; partitionMaxBytes: number }[]>();
    for (const { state, offset } of asked) {
      const list = topics.get(state.topic) ?? [];
      list.push({ partition: state.partition, fetchOffset: offset, partitionMaxBytes: state.maxBytes });
      topics.set(state.topic, list);
    }
    const body: FetchRequest = {
      maxWaitMs,
      minBytes: this.minBytes,
      maxBytes: this.maxBytes,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    };
    const conn = await this.cluster.brokerConnection(leader);
    const res = await conn.request<FetchResponse>(ApiKey.Fetch, body, {
      timeoutMs: this.cluster.requestTimeoutMs + maxWaitMs,
    });
    checkTopLevel(res, 'fetch');
    const out: ConsumerRecord[] = [];
    let retriable: unknown = null;
    for (const { state, offset } of asked) {
      // a seek or a new assignment during the fetch wins over what it brought
      if (this.partitions.get(keyOf(state.topic, state.partition)) !== state || state.position !== offset) continue;
      const p = res.topics
        ?.find((t) => t.name === state.topic)
        ?.partitions?.find((x) => x.partition === state.partition);
      if (!p) continue;
      const ctx = `fetch ${state.topic}-${state.partition} at offset ${offset}`;
      if (p.errorCode === WireError.OFFSET_OUT_OF_RANGE) {
        state.position = null;
        state.reset = this.defaultReset;
        continue;
      }
      if (p.errorCode !== 0) {
        const err = wireError(p.errorCode, ctx, p.errorMessage);
        if (!isRetriableError(err)) throw err;
        retriable ??= err;
        this.cluster.invalidate(state.topic);
        continue;
      }
      out.push(...this.takeRecords(state, offset, p.records));
    }
    if (out.length === 0 && retriable) throw retriable;
    return out;
  }

  /** Decodes the whole batches of a fetch and advances the position past them. */
  private takeRecords(state: PartitionState, offset: number, bytes: Buffer | undefined): ConsumerRecord[] {
    const out: ConsumerRecord[] = [];
    if (!bytes || bytes.length === 0) return out;
    let pos = 0;
    let next = offset;
    while (bytes.length - pos >= batchHeaderBytes) {
      const size = batchSizeOf(bytes, pos);
      if (size < batchHeaderBytes) {
        throw new SluiceError(
          ErrorCode.CorruptRecord,
          `fetch of ${state.topic}-${state.partition}: impossible batch length ${size - logOverheadBytes}`,
        );
      }
      if (pos + size > bytes.length) break; // a partial batch at the end: fetched again next time
      const batch = bytes.subarray(pos, pos + size);
      for (const r of decodeBatchRecords(batch)) {
        if (r.offset >= next) {
          out.push({ topic: state.topic, partition: state.partition, ...messageOf(r) });
          next = r.offset + 1;
        }
      }
      next = Math.max(next, lastOffsetOf(batch) + 1);
      pos += size;
    }
    if (next === offset && bytes.length > 0) {
      // not one whole batch fitted: ask for more next time (a batch is at most batchBytesMax)
      state.maxBytes = Math.min(batchBytesMax + logOverheadBytes, Math.max(state.maxBytes * 2, bytes.length * 2));
    }
    state.position = next;
    return out;
  }

  /**
   * Delivers records one by one to eachMessage, in order per partition, until
   * close(). A throwing handler stops run() (which rejects with its error); the
   * failed record and those after it stay buffered, so the next poll() or run()
   * redelivers them.
   */
  async run(options: RunOptions): Promise<void> {
    if (this.closed) throw closedError('the consumer');
    if (typeof options?.eachMessage !== 'function') throw invalidArgument('run() needs eachMessage');
    if (this.running) throw invalidArgument('run() is already running');
    this.running = true;
    let done: () => void = () => undefined;
    this.runDone = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      let failures = 0;
      while (!this.closed) {
        let records: ConsumerRecord[];
        try {
          records = await this.poll();
          failures = 0;
        } catch (err) {
          if (this.closed) break;
          if (!isRetriableError(err) || ++failures > runFailuresMax) throw err;
          await Promise.race([
            this.cluster.pause(this.cluster.backoffMs(failures)).catch(() => undefined),
            this.closedPromise,
          ]);
          continue;
        }
        for (let i = 0; i < records.length; i++) {
          const r = records[i] as ConsumerRecord;
          if (this.closed) {
            this.buffered.unshift(...records.slice(i));
            break;
          }
          const { topic, partition, ...message } = r;
          this.delivering = true;
          try {
            await options.eachMessage({ topic, partition, message });
          } catch (err) {
            this.buffered.unshift(...records.slice(i));
            throw err;
          } finally {
            this.delivering = false;
          }
        }
      }
    } finally {
      this.running = false;
      done();
    }
  }

  /** Not available without a group: offsets are the reader's own. */
  async commit(): Promise<void> {
    this.requireNoGroup('commit()');
    throw new SluiceError(ErrorCode.Unsupported, 'commit() needs a consumer group (groupId)');
  }

  /** Stops run() and poll(); resolves when run() has returned (at once when called from eachMessage). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeSignal();
    if (this.runDone && !this.delivering) await this.runDone;
    this.buffered = [];
    this.onClose(this);
  }
}
