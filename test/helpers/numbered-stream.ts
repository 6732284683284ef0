/**
 * A bounded stream of numbered, keyed records for the failover tests
 * (record i: key k<i>, value v<i>), sent in batches by one producer while
 * brokers die, with every acknowledgement remembered; a probe that measures
 * how long a partition refuses acks=-1 writes; and the check that every
 * acknowledged record is in the log exactly once, at the offset it was
 * acknowledged with, in send order per partition.
 */
import { type ConsumerRecord, type ProducerOptions, type RecordMetadata, Sluice } from '../../src/index.js';
import type { TestCluster } from './cluster.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface StreamOptions {
  total: number;
  /** Records per send() (default 10). */
  batch?: number;
  /** Pause after each send (default 20 ms), so the stream is still running when a broker dies. */
  pauseMs?: number;
  producer?: ProducerOptions;
  /** Awaited before the send starting at record i (e.g. to hold the stream until a broker is back). */
  beforeBatch?: (i: number) => Promise<void>;
}

export interface StreamFailure {
  from: number;
  count: number;
  error: string;
}

export class NumberedStream {
  /** Record number → where it was acknowledged. */
  readonly acked = new Map<number, RecordMetadata>();
  readonly failures: StreamFailure[] = [];
  private stopped = false;
  /** Ends the stream after the send under way (`total` becomes an upper bound); await done after. */
  stop(): void {
    this.stopped = true;
  }
  /** When each send was acknowledged (Date.now()), in order: the gaps between them are the stream's stalls. */
  readonly ackTimes: number[] = [];
  /** Ends when every record was sent (acknowledged or failed); rejects when the producer cannot be made. */
  readonly done: Promise<void>;

  constructor(
    sluice: Sluice,
    readonly topic: string,
    readonly options: StreamOptions,
  ) {
    this.done = this.run(sluice);
  }

  private async run(sluice: Sluice): Promise<void> {
    const batch = this.options.batch ?? 10;
    const producer = sluice.producer({
      acks: -1,
      idempotent: true,
      retries: 100,
      retryBackoffMs: 50,
      timeoutMs: 10_000,
      ...this.options.producer,
    });
    try {
      for (let i = 0; i < this.options.total && !this.stopped; i += batch) {
        await this.options.beforeBatch?.(i);
        const count = Math.min(batch, this.options.total - i);
        const messages = Array.from({ length: count }, (_, j) => ({ key: `k${i + j}`, value: `v${i + j}` }));
        try {
          const results = await producer.send({ topic: this.topic, messages });
          results.forEach((m, j) => {
            this.acked.set(i + j, m);
          });
          this.ackTimes.push(Date.now());
        } catch (err) {
          this.failures.push({ from: i, count, error: (err as Error).message });
          await sleep(200);
        }
        await sleep(this.options.pauseMs ?? 20);
      }
    } finally {
      await producer.close().catch(() => undefined);
    }
  }

  /** Resolves once at least `n` records were acknowledged (or rejects after timeoutMs / when the stream ended short). */
  async ackedAtLeast(n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.done.then(
      () => {
        ended = true;
      },
      () => {
        ended = true;
      },
    );
    while (this.acked.size < n) {
      if (ended) {
        await this.done; // surfaces the producer's error, if that is why
        throw new Error(`the stream ended with ${this.acked.size} of ${n} records acknowledged`);
      }
      if (Date.now() > deadline)
        throw new Error(`only ${this.acked.size} of ${n} records acknowledged in ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  /** The longest time between two successive acknowledgements at or after `since` (0 with fewer than two). */
  longestGapMs(since = 0): number {
    return this.longestGap(since).ms;
  }

  /** The longest gap between successive acknowledgements at or after `since`, and when it began. */
  longestGap(since = 0): { ms: number; at: number } {
    const times = this.ackTimes.filter((t) => t >= since);
    let gap = { ms: 0, at: since };
    for (let i = 1; i < times.length; i++) {
      const ms = (times[i] as number) - (times[i - 1] as number);
      if (ms > gap.ms) gap = { ms, at: times[i - 1] as number };
    }
    return gap;
  }
}

export interface ProbeResult {
  /** From `since` (the kill) to the first acknowledged acks=-1 write. */
  ms: number;
  /** Probe values acknowledged (only the last one, as the probe stops at the first success). */
  acked: { value: string; partition: number; offset: number }[];
}

/**
 * Writes one record (key "probe", value probe-<n>) with acks=-1 and no
 * retries to `partition` every 50 ms until one is acknowledged: the time
 * from `since` to that acknowledgement is the partition's failover time.
 */
export async function probeFirstWrite(
  cluster: TestCluster,
  topic: string,
  partition: number,
  since: number,
  timeoutMs = 30_000,
): Promise<ProbeResult> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (let n = 0; ; n++) {
    const value = `probe-${partition}-${since}-${n}`;
    // a fresh client each time: fresh metadata, no backoff state (a producer without retries keeps its cache)
    const sluice = new Sluice({
      brokers: cluster.bootstrap,
      clientId: 'failover-probe',
      retries: 0,
      connectTimeoutMs: 1000,
      requestTimeoutMs: 5000,
    });
    const producer = sluice.producer({ acks: -1, retries: 0, timeoutMs: 5000 });
    try {
      const [m] = await producer.send({ topic, messages: [{ key: 'probe', value, partition }] });
      const at = Date.now();
      return { ms: at - since, acked: [{ value, partition, offset: (m as RecordMetadata).offset }] };
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await producer.close().catch(() => undefined);
      await sluice.close();
    }
    if (Date.now() > deadline)
      throw new Error(`no acks=-1 write to ${topic}-${partition} within ${timeoutMs} ms: ${last}`);
    await sleep(50);
  }
}

/**
 * Reads every partition (offset 0 up to the high watermark, from the
 * leader) and lists what is wrong: an acknowledged record missing, at
 * another offset or present twice; stream records out of send order within
 * a partition; an acknowledged probe missing. Empty when all is well.
 */
export async function checkStream(
  cluster: TestCluster,
  stream: NumberedStream,
  partitions: number,
  probes: ProbeResult['acked'] = [],
): Promise<{ problems: string[]; records: ConsumerRecord[][] }> {
  const problems: string[] = [];
  const records: ConsumerRecord[][] = [];
  const seen = new Map<string, number>();
  // one past the last offset acknowledged on each partition: the high watermark a read must wait for
  const acknowledgedEnd = new Array<number>(partitions).fill(0);
  for (const m of [...stream.acked.values(), ...probes]) {
    acknowledgedEnd[m.partition] = Math.max(acknowledgedEnd[m.partition] ?? 0, m.offset + 1);
  }
  for (let p = 0; p < partitions; p++) {
    const log = await cluster.readPartition(stream.topic, p, undefined, acknowledgedEnd[p]);
    records.push(log);
    let previous = -1;
    for (const r of log) {
      const value = r.value?.toString() ?? '';
      seen.set(value, (seen.get(value) ?? 0) + 1);
      if (!/^v\d+$/.test(value)) continue;
      const i = Number(value.slice(1));
      if (r.key?.toString() !== `k${i}`) problems.push(`${value} at ${p}:${r.offset} has key ${r.key?.toString()}`);
      if (i <= previous) problems.push(`partition ${p}: v${i} at offset ${r.offset} comes after v${previous}`);
      previous = Math.max(previous, i);
    }
  }
  const at = (partition: number, offset: number): string | undefined =>
    records[partition]?.find((r) => r.offset === offset)?.value?.toString();
  for (const [i, m] of stream.acked) {
    const count = seen.get(`v${i}`) ?? 0;
    if (count !== 1) problems.push(`acknowledged v${i} is in the log ${count} times`);
    const found = at(m.partition, m.offset);
    if (found !== `v${i}`)
      problems.push(`acknowledged v${i} at ${m.partition}:${m.offset}, but that offset holds ${found}`);
  }
  for (const [value, count] of seen) {
    if (count > 1 && /^v\d+$/.test(value)) {
      if (!stream.acked.has(Number(value.slice(1))))
        problems.push(`unacknowledged ${value} is in the log ${count} times`);
    }
  }
  for (const probe of probes) {
    const found = at(probe.partition, probe.offset);
    if (found !== probe.value || seen.get(probe.value) !== 1) {
      problems.push(
        `acknowledged ${probe.value} at ${probe.partition}:${probe.offset} holds ${found} (${seen.get(probe.value) ?? 0} copies)`,
      );
    }
  }
  return { problems: problems.slice(0, 50), records };
}
