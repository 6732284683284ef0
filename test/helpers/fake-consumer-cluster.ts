/**
 * A scripted two-broker cluster for consumer unit tests: real loopback
 * sockets speaking the native protocol (fake-native-broker), in-memory
 * partition logs of real RecordBatch v2 bytes, a single-member-plus-phantoms
 * group coordinator, and hooks to script errors. Everything the consumer
 * asks is recorded, so rebalance, commit and reset edge cases reproduce in
 * milliseconds without a broker process.
 */
import { afterEach } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import type { SluiceOptions } from '../../src/client/types.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { encodeSubscription } from '../../src/protocol/native/consumer-protocol.js';
import type { RecordHeader } from '../../src/wire/record.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { type AnyBody, type FakeNativeBroker, fakeNativeBroker } from './fake-native-broker.js';

export interface FakeRecord {
  key?: string | null;
  value: string;
  headers?: RecordHeader[];
}

interface StoredBatch {
  baseOffset: number;
  count: number;
  bytes: Buffer;
}

export interface LoggedRequest {
  node: number;
  apiKey: number;
  body: AnyBody;
}

/** Per-request override: return an answer to send it instead of the default one, undefined for the default. */
export type Intercept = (node: number, apiKey: number, body: AnyBody) => unknown | undefined;

/**
 * The answer to a request of topics of partitions (ListOffsets, Fetch,
 * OffsetFetch, OffsetCommit): the same shape back, each partition answered by
 * `partition` (given the request's partition entry: an object, or a bare number in OffsetFetch).
 */
function perPartition<P>(body: AnyBody, partition: (p: P) => AnyBody): AnyBody {
  return {
    errorCode: 0,
    topics: body.topics.map((t: AnyBody) => ({ name: t.name, partitions: t.partitions.map(partition) })),
  };
}

export class FakeConsumerCluster {
  readonly topic: string;
  readonly partitions: number;
  /** Leader node per partition (0 or 1). */
  readonly leaders: number[];
  leaderEpoch = 0;
  readonly logs: StoredBatch[][];
  readonly logStart: number[];
  readonly requests: LoggedRequest[] = [];
  /** Committed offsets by partition (the coordinator's store). */
  readonly committed = new Map<number, number>();
  /** Every OffsetCommit partition entry, in order: { generation, partition, offset }. */
  readonly commits: { generation: number; partition: number; offset: number }[] = [];
  /** Members other than the consumer in the next JoinGroup answer (they subscribe to the topic). */
  otherMembers: string[] = [];
  generation = 0;
  /** The next Heartbeat answers REBALANCE_IN_PROGRESS when set (then it is cleared). */
  rebalanceNext = false;
  intercept: Intercept = () => undefined;
  private brokers: FakeNativeBroker[] = [];

  private constructor(topic: string, partitions: number) {
    this.topic = topic;
    this.partitions = partitions;
    this.leaders = Array.from({ length: partitions }, () => 0);
    this.logs = Array.from({ length: partitions }, () => []);
    this.logStart = Array.from({ length: partitions }, () => 0);
  }

  static async start(topic = 't', partitions = 1): Promise<FakeConsumerCluster> {
    const c = new FakeConsumerCluster(topic, partitions);
    for (let node = 0; node < 2; node++) {
      c.brokers.push(await fakeNativeBroker((apiKey, body) => c.answer(node, apiKey, body)));
    }
    return c;
  }

  /** The bootstrap address (broker 0). */
  get bootstrap(): string {
    return `127.0.0.1:${this.brokers[0]?.port}`;
  }

  async close(): Promise<void> {
    for (const b of this.brokers) await b.close();
  }

  logEnd(partition: number): number {
    const log = this.logs[partition] as StoredBatch[];
    const last = log[log.length - 1];
    return last ? last.baseOffset + last.count : (this.logStart[partition] as number);
  }

  /** Appends one batch of `records` to `partition`; returns its base offset. */
  append(partition: number, records: FakeRecord[]): number {
    const baseOffset = this.logEnd(partition);
    const bytes = encodeRecordBatch(
      records.map((r) => ({
        key: r.key === undefined || r.key === null ? null : Buffer.from(r.key),
        value: Buffer.from(r.value),
        headers: r.headers,
      })),
      { baseOffset },
    );
    (this.logs[partition] as StoredBatch[]).push({ baseOffset, count: records.length, bytes });
    return baseOffset;
  }

  /** Appends `n` records valued `p<partition>-<offset>`, `perBatch` to a batch. */
  fill(partition: number, n: number, perBatch = 1): void {
    for (let done = 0; done < n; ) {
      const base = this.logEnd(partition);
      const count = Math.min(perBatch, n - done);
      this.append(
        partition,
        Array.from({ length: count }, (_, i) => ({ value: `p${partition}-${base + i}` })),
      );
      done += count;
    }
  }

  /** Moves partition leadership to `node` (a newer leader epoch). */
  moveLeader(partition: number, node: number): void {
    this.leaders[partition] = node;
    this.leaderEpoch++;
  }

  fetchesOf(node?: number): AnyBody[] {
    return this.requests
      .filter((r) => r.apiKey === ApiKey.Fetch && (node === undefined || r.node === node))
      .map((r) => r.body);
  }

  private async answer(node: number, apiKey: number, body: AnyBody): Promise<unknown> {
    this.requests.push({ node, apiKey, body });
    const scripted = this.intercept(node, apiKey, body);
    if (scripted !== undefined) return scripted;
    const port = (n: number) => this.brokers[n]?.port as number;
    switch (apiKey) {
      case ApiKey.Metadata:
        return {
          errorCode: 0,
          controllerId: 0,
          brokers: [0, 1].map((n) => ({ nodeId: n, host: '127.0.0.1', port: port(n) })),
          topics: [
            {
              name: this.topic,
              errorCode: 0,
              partitions: this.leaders.map((leader, partition) => ({
                partition,
                errorCode: 0,
                leader,
                leaderEpoch: this.leaderEpoch,
                replicas: [0, 1],
                isr: [0, 1],
              })),
            },
          ],
        };
      case ApiKey.ListOffsets:
        return perPartition(body, (p: AnyBody) => ({
          partition: p.partition,
          errorCode: this.leaders[p.partition] === node ? 0 : WireError.NOT_LEADER_OR_FOLLOWER,
          timestamp: -1,
          offset: p.timestamp === -2 ? this.logStart[p.partition] : this.logEnd(p.partition),
        }));
      case ApiKey.Fetch:
        return this.fetch(node, body);
      case ApiKey.FindCoordinator:
        return { errorCode: 0, nodeId: 0, host: '127.0.0.1', port: port(0) };
      case ApiKey.JoinGroup: {
        this.generation++;
        const memberId = body.memberId === '' ? 'm1' : body.memberId;
        const theirs = encodeSubscription({ version: 0, topics: [this.topic], ownedPartitions: [] });
        return {
          errorCode: 0,
          generationId: this.generation,
          protocolName: body.protocols[0].name,
          leader: memberId,
          memberId,
          members: [
            { memberId, metadata: body.protocols[0].metadata },
            ...this.otherMembers.map((m) => ({ memberId: m, metadata: theirs })),
          ],
        };
      }
      case ApiKey.SyncGroup: {
        const mine = body.assignments.find((a: AnyBody) => a.memberId === body.memberId);
        return { errorCode: 0, assignment: mine.assignment };
      }
      case ApiKey.Heartbeat:
        if (this.rebalanceNext) {
          this.rebalanceNext = false;
          return { errorCode: WireError.REBALANCE_IN_PROGRESS };
        }
        return { errorCode: body.generationId === this.generation ? 0 : WireError.ILLEGAL_GENERATION };
      case ApiKey.OffsetFetch:
        return perPartition(body, (p: number) => ({
          partition: p,
          offset: this.committed.get(p) ?? -1,
          metadata: '',
          errorCode: 0,
        }));
      case ApiKey.OffsetCommit: {
        const fenced = body.generationId !== this.generation;
        for (const t of body.topics) {
          for (const p of t.partitions) {
            if (fenced) continue;
            this.committed.set(p.partition, p.offset);
            this.commits.push({ generation: body.generationId, partition: p.partition, offset: p.offset });
          }
        }
        return perPartition(body, (p: AnyBody) => ({
          partition: p.partition,
          errorCode: fenced ? WireError.ILLEGAL_GENERATION : 0,
        }));
      }
      case ApiKey.LeaveGroup:
        return { errorCode: 0 };
      default:
        return { errorCode: WireError.INVALID_REQUEST };
    }
  }

  private async fetch(node: number, body: AnyBody): Promise<unknown> {
    const answer = () => perPartition(body, (p: AnyBody) => this.fetchPartition(node, p.partition, p.fetchOffset));
    let res = answer();
    const empty = res.topics.every((t: AnyBody) =>
      t.partitions.every((p: AnyBody) => p.errorCode === 0 && p.records.length === 0),
    );
    if (empty && body.maxWaitMs > 0) {
      // a short long poll: long enough not to spin, short enough for tests
      await new Promise((r) => setTimeout(r, Math.min(body.maxWaitMs, 20)));
      res = answer();
    }
    return res;
  }

  private fetchPartition(node: number, partition: number, fetchOffset: number): AnyBody {
    const base = { partition, highWatermark: this.logEnd(partition), logStartOffset: this.logStart[partition] };
    if (this.leaders[partition] !== node)
      return { ...base, errorCode: WireError.NOT_LEADER_OR_FOLLOWER, records: Buffer.alloc(0) };
    if (fetchOffset < (this.logStart[partition] as number) || fetchOffset > this.logEnd(partition))
      return { ...base, errorCode: WireError.OFFSET_OUT_OF_RANGE, records: Buffer.alloc(0) };
    const batches = (this.logs[partition] as StoredBatch[]).filter((b) => b.baseOffset + b.count > fetchOffset);
    return { ...base, errorCode: 0, records: Buffer.concat(batches.map((b) => b.bytes)) };
  }
}

/**
 * For a test file: setup(partitions) starts a fake cluster of topic 't' and
 * a client on it (`client`: its id, timeouts and retries); after each test
 * what `defer` was given runs, then both close (in reverse order of setup).
 */
export function fakeClusterFixture(
  client: Pick<SluiceOptions, 'clientId' | 'connectTimeoutMs' | 'requestTimeoutMs' | 'retries'>,
): {
  setup(partitions?: number): Promise<{ fake: FakeConsumerCluster; sluice: Sluice }>;
  defer(cleanup: () => Promise<void> | void): void;
} {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return {
    async setup(partitions = 1) {
      const fake = await FakeConsumerCluster.start('t', partitions);
      cleanups.push(() => fake.close());
      const sluice = new Sluice({ brokers: fake.bootstrap, retryBackoffMs: 5, ...client });
      cleanups.push(() => sluice.close());
      return { fake, sluice };
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
  };
}
