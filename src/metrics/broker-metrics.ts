/**
 * The broker's Prometheus metrics (one registry per broker process). Hot-path
 * calls are a map lookup and an increment; topic labels are capped (topics
 * past the cap are counted under `_other`).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const topicLabelsMax = 1000;
/**
 * How often prom-client's event-loop-lag histogram (perf_hooks.monitorEventLoopDelay) samples the
 * loop, in ms. Its default of 10 ms woke an idle broker 100 times a second, a third of all its
 * wake-ups (issue 20 item 4); at 100 ms a stall of 100 ms or more is still always recorded, and
 * the lag percentiles keep ten samples a second.
 */
const eventLoopSampleMs = 100;
const otherTopic = '_other';

/** Records in a buffer of RecordBatch v2 batches (recordsCount at byte 57 of each). */
export function countRecords(buf: Buffer): number {
  let count = 0;
  let pos = 0;
  while (pos + 61 <= buf.length) {
    const length = buf.readInt32BE(pos + 8);
    if (length <= 0) break;
    count += buf.readInt32BE(pos + 57);
    pos += 12 + length;
  }
  return count;
}

export interface MetricSources {
  underReplicated: () => number;
  queueDepths: () => { queue: string; depth: number }[];
  /** Lag of the groups this broker coordinates, on the partitions it leads. */
  groupLags: () => Promise<{ group: string; topic: string; partition: number; lag: number }[]>;
}

/** Group lag series one scrape reports at most. */
const groupLagSeriesMax = 1000;

const topicTotalsMax = 1000;

type QuotaLabel = 'quota' | 'user' | 'client_id';

export class BrokerMetrics {
  readonly registry = new Registry();
  private readonly topics = new Set<string>();
  private readonly requests: Counter<'api'>;
  private readonly latency: Histogram<'api'>;
  private readonly recordsIn: Counter<'topic'>;
  private readonly bytesIn: Counter<'topic'>;
  private readonly recordsOut: Counter<'topic'>;
  private readonly bytesOut: Counter<'topic'>;
  private readonly isrShrinks: Counter;
  private readonly cleanerBytesRead: Counter;
  private readonly cleanerBytesWritten: Counter;
  private readonly cleanerPasses: Counter;
  private readonly isrExpands: Counter;
  private sources: MetricSources | undefined;
  private readonly quotaEntities = new Set<string>();
  private readonly quotaThrottleMs: Counter<QuotaLabel>;
  private readonly quotaThrottled: Counter<QuotaLabel>;
  private readonly quotaBytes: Counter<QuotaLabel>;
  private readonly quotaRequestSeconds: Counter<'user' | 'client_id'>;
  private readonly quotaExemptRequestSeconds: Counter;

  private readonly dirFreeBytes: Gauge<'dir'>;
  private readonly dirTotalBytes: Gauge<'dir'>;
  private readonly diskFullPartitions: Gauge;
  private readonly scrubBytes: Counter;
  private readonly scrubCorrupt: Counter;
  private readonly replicaRepairs: Counter;

  /** A log directory's free and total bytes (the storage layer's LogDirMetrics). */
  logDirSpace(dir: string, space: { freeBytes: number; totalBytes: number }): void {
    this.dirFreeBytes.set({ dir }, space.freeBytes);
    this.dirTotalBytes.set({ dir }, space.totalBytes);
  }

  /** Partitions refusing writes now for a full disk (the storage layer's LogDirMetrics). */
  partitionsDiskFull(count: number): void {
    this.diskFullPartitions.set(count);
  }

  /** A log-cleaner pass (the storage layer's CleanerMetrics). */
  cleaned(stats: { bytesRead: number; bytesWritten: number }): void {
    this.cleanerBytesRead.inc(stats.bytesRead);
    this.cleanerBytesWritten.inc(stats.bytesWritten);
    this.cleanerPasses.inc();
  }

  constructor() {
    collectDefaultMetrics({
      register: this.registry,
      prefix: 'sluice_',
      eventLoopMonitoringPrecision: eventLoopSampleMs,
    });
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'sluice_requests_total',
      help: 'Native API requests handled, by API',
      labelNames: ['api'],
      registers,
    });
    this.latency = new Histogram({
      name: 'sluice_request_duration_seconds',
      help: 'Native API request latency, by API',
      labelNames: ['api'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const perTopic = (name: string, help: string): Counter<'topic'> =>
      new Counter({ name, help, labelNames: ['topic'], registers });
    this.recordsIn = perTopic('sluice_topic_records_in_total', 'Records appended by producers, by topic');
    this.bytesIn = perTopic('sluice_topic_bytes_in_total', 'Record batch bytes appended by producers, by topic');
    this.recordsOut = perTopic('sluice_topic_records_out_total', 'Records fetched by consumers, by topic');
    this.bytesOut = perTopic('sluice_topic_bytes_out_total', 'Record batch bytes fetched by consumers, by topic');
    const perQuota = (name: string, help: string): Counter<QuotaLabel> =>
      new Counter({ name, help, labelNames: ['quota', 'user', 'client_id'], registers });
    this.quotaBytes = perQuota('sluice_quota_bytes_total', 'Bytes counted against a client quota, by quota and entity');
    this.quotaThrottled = perQuota('sluice_quota_throttled_total', 'Responses throttled by a client quota');
    this.quotaThrottleMs = perQuota(
      'sluice_quota_throttle_time_ms_total',
      'Throttle time given by a client quota (ms)',
    );
    // Kafka's request-time and exempt-request-time (quota type Request)
    this.quotaRequestSeconds = new Counter({
      name: 'sluice_quota_request_time_seconds_total',
      help: 'Request handling time counted against request_percentage, by entity',
      labelNames: ['user', 'client_id'],
      registers,
    });
    this.quotaExemptRequestSeconds = new Counter({
      name: 'sluice_quota_exempt_request_time_seconds_total',
      help: 'Handling time of requests exempt from request_percentage (inter-broker, SASL)',
      registers,
    });
    this.cleanerBytesRead = new Counter({
      name: 'sluice_log_cleaner_bytes_cleaned_total',
      help: 'Bytes of segments the log cleaner rewrote (read)',
      registers,
    });
    this.cleanerBytesWritten = new Counter({
      name: 'sluice_log_cleaner_bytes_written_total',
      help: 'Bytes of cleaned segments the log cleaner wrote',
      registers,
    });
    this.cleanerPasses = new Counter({
      name: 'sluice_log_cleaner_passes_total',
      help: 'Log cleaner passes that cleaned something',
      registers,
    });
    this.isrShrinks = new Counter({
      name: 'sluice_isr_shrinks_total',
      help: 'ISR shrinks of partitions led here',
      registers,
    });
    this.isrExpands = new Counter({
      name: 'sluice_isr_expands_total',
      help: 'ISR expands of partitions led here',
      registers,
    });
    // labelled by log directory: log.dirs is a short list fixed at start, so the series are bounded
    this.dirFreeBytes = new Gauge({
      name: 'sluice_log_dir_free_bytes',
      help: 'Free bytes of the file system holding each log directory (statfs, log.dir.free.check.interval.ms)',
      labelNames: ['dir'],
      registers,
    });
    this.dirTotalBytes = new Gauge({
      name: 'sluice_log_dir_total_bytes',
      help: 'Size in bytes of the file system holding each log directory',
      labelNames: ['dir'],
      registers,
    });
    this.diskFullPartitions = new Gauge({
      name: 'sluice_partitions_disk_full',
      help: 'Partitions refusing writes because their log directory is full (they take writes again once space returns)',
      registers,
    });
    this.scrubBytes = new Counter({
      name: 'sluice_log_scrub_bytes_total',
      help: 'Bytes of closed segments the scrubber read back and checked (log.scrub.*)',
      registers,
    });
    this.scrubCorrupt = new Counter({
      name: 'sluice_log_scrub_corrupt_batches_total',
      help: 'Corrupt batches the scrubber found',
      registers,
    });
    this.replicaRepairs = new Counter({
      name: 'sluice_replica_repairs_total',
      help: 'Followers that cut corrupt records and fetched them again from their leader',
      registers,
    });
    const self = this;
    new Gauge({
      name: 'sluice_under_replicated_partitions',
      help: 'Partitions led here whose ISR is smaller than their replica set',
      registers,
      collect() {
        this.set(self.sources?.underReplicated() ?? 0);
      },
    });
    new Gauge({
      name: 'sluice_queue_depth',
      help: 'Messages waiting in each queue served here',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const q of self.sources?.queueDepths() ?? []) this.set({ queue: q.queue }, q.depth);
      },
    });
    this.registerGroupLag(registers);
  }

  private registerGroupLag(registers: Registry[]): void {
    const self = this;
    new Gauge({
      name: 'sluice_group_lag',
      help: 'Records between a group committed offset and the high watermark (groups coordinated here, partitions led here)',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      async collect() {
        this.reset();
        const lags = (await self.sources?.groupLags()) ?? [];
        for (const l of lags.slice(0, groupLagSeriesMax)) {
          this.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
        }
      },
    });
  }

  setSources(sources: MetricSources): void {
    this.sources = sources;
  }

  private topicLabel(topic: string): string {
    if (this.topics.has(topic)) return topic;
    if (this.topics.size >= topicLabelsMax) return otherTopic;
    this.topics.add(topic);
    return topic;
  }

  request(api: string, seconds: number): void {
    this.requests.inc({ api });
    this.latency.observe({ api }, seconds);
  }

  /** Records in and out of one topic since this broker started (for rates in the API). */
  private readonly totals = new Map<string, { in: number; out: number }>();

  private total(topic: string): { in: number; out: number } {
    let t = this.totals.get(topic);
    if (!t) {
      t = { in: 0, out: 0 };
      // bounded like the labels: topics beyond the cap share one entry
      this.totals.set(this.totals.size < topicTotalsMax ? topic : '_other', t);
    }
    return t;
  }

  /** Records in/out of `topic` through this broker so far. */
  topicTotals(topic: string): { in: number; out: number } {
    return this.totals.get(topic) ?? { in: 0, out: 0 };
  }

  produced(topic: string, records: Buffer): void {
    const label = this.topicLabel(topic);
    const n = countRecords(records);
    this.recordsIn.inc({ topic: label }, n);
    this.total(topic).in += n;
    this.bytesIn.inc({ topic: label }, records.length);
  }

  /**
   * Bytes counted against a client quota and the throttle they caused.
   * user/clientId: the entity the usage is shared by ('' where it names none);
   * beyond topicLabelsMax entities the rest are counted as user/client `_other`.
   */
  quota(quota: string, user: string, clientId: string, bytes: number, throttleMs: number): void {
    const labels = { quota, ...this.quotaEntity(user, clientId) };
    this.quotaBytes.inc(labels, bytes);
    this.quotaThrottle(labels, throttleMs);
  }

  /** Request handling time counted against request_percentage (or exempt from it) and the throttle it caused. */
  requestTime(user: string, clientId: string, seconds: number, throttleMs: number, exempt: boolean): void {
    if (exempt) {
      this.quotaExemptRequestSeconds.inc(seconds);
      return;
    }
    const entity = this.quotaEntity(user, clientId);
    this.quotaRequestSeconds.inc(entity, seconds);
    this.quotaThrottle({ quota: 'request_percentage', ...entity }, throttleMs);
  }

  /** The entity's labels; beyond topicLabelsMax entities the rest are counted as `_other`. */
  private quotaEntity(user: string, clientId: string): { user: string; client_id: string } {
    const key = `${user}\u0000${clientId}`;
    if (!this.quotaEntities.has(key)) {
      if (this.quotaEntities.size < topicLabelsMax) this.quotaEntities.add(key);
      else return { user: otherTopic, client_id: otherTopic };
    }
    return { user, client_id: clientId };
  }

  private quotaThrottle(labels: Record<QuotaLabel, string>, throttleMs: number): void {
    if (throttleMs <= 0) return;
    this.quotaThrottled.inc(labels);
    this.quotaThrottleMs.inc(labels, throttleMs);
  }

  fetched(topic: string, records: Buffer): void {
    if (records.length === 0) return;
    const label = this.topicLabel(topic);
    const n = countRecords(records);
    this.recordsOut.inc({ topic: label }, n);
    this.total(topic).out += n;
    this.bytesOut.inc({ topic: label }, records.length);
  }

  isrChanged(kind: 'shrink' | 'expand'): void {
    (kind === 'shrink' ? this.isrShrinks : this.isrExpands).inc();
  }

  /** Bytes the scrubber checked (the storage layer's ScrubOptions.scrubbed). */
  scrubbed(bytes: number): void {
    this.scrubBytes.inc(bytes);
  }

  /** A corrupt batch the scrubber found. */
  corruptFound(): void {
    this.scrubCorrupt.inc();
  }

  /** A follower repaired corrupt records from its leader (the replication layer's IsrChangeCounter). */
  replicaRepaired(): void {
    this.replicaRepairs.inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
