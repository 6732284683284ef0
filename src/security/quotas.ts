/**
 * Client quotas (Kafka's model, issue 17): byte-rate limits on produce and
 * fetch per user (the principal's name), per client id, or per both, with
 * `<default>` entities. Pure logic: which configured entity applies to a
 * client (Kafka's precedence), the observed rate over a window, and the
 * throttle time that brings the rate back to the quota.
 *
 * Rate: Kafka keeps quota.window.num (11) samples of quota.window.size.seconds
 * (1 s) and divides their total by the time they span (at least 10 s once
 * full). Here the same samples are kept (a ring of 1-second buckets), and the
 * rate is their total over the span since the oldest kept bucket, at least
 * (num - 1) × size, so a client's first burst is measured over ~10 s as in
 * Kafka rather than over the few ms it took.
 *
 * Throttle (Kafka's QuotaUtils.throttleTime): (observed − quota) / quota ×
 * window, where window is the span the rate was measured over; capped at the
 * whole window (num × size = 11 s, Kafka's ClientQuotaManager bound) for the
 * byte rates, and at one sample (1 s) for request_percentage (Kafka's
 * ClientRequestQuotaManager bound).
 *
 * request_percentage (Kafka's KIP-124): the time the broker spends handling a
 * client's requests, as a percentage of one thread: each request records its
 * handling time in percent-seconds (ms / 10), so the rate over the window is
 * the percentage of one thread the client kept busy.
 */

/** The quota keys Kafka defines for clients. */
export const quotaKeys = ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage'] as const;
export type QuotaKey = (typeof quotaKeys)[number];

export function isQuotaKey(key: string): key is QuotaKey {
  return (quotaKeys as readonly string[]).includes(key);
}

/**
 * A configured entity: each part is a name, `null` for `<default>`, or
 * absent when the entity does not name it (`/config/users/u` has no client).
 */
export interface QuotaEntity {
  user?: string | null;
  clientId?: string | null;
}

/** One configured entity and its quotas. */
export interface QuotaRecord {
  entity: QuotaEntity;
  quotas: Partial<Record<QuotaKey, number>>;
}

/** A stable text key of an entity (for maps and metric labels). */
export function entityKey(entity: QuotaEntity): string {
  const part = (v: string | null | undefined): string => (v === undefined ? '-' : v === null ? '<default>' : `=${v}`);
  return `user${part(entity.user)}\u0000client${part(entity.clientId)}`;
}

/** Kafka's eight entities for (user, client id), most specific first (the Kafka docs' order). */
export function precedence(user: string, clientId: string): QuotaEntity[] {
  return [
    { user, clientId },
    { user, clientId: null },
    { user },
    { user: null, clientId },
    { user: null, clientId: null },
    { user: null },
    { clientId },
    { clientId: null },
  ];
}

/**
 * The quota `key` that applies to (user, client id): the value of the most
 * specific configured entity that sets it, and the entity whose usage it is
 * shared by (a default entity stands for each user/client id separately,
 * as Kafka's metric tags do); undefined when none sets it.
 */
export function resolveQuota(
  records: ReadonlyMap<string, QuotaRecord>,
  user: string,
  clientId: string,
  key: QuotaKey,
): { limit: number; sharedBy: QuotaEntity } | undefined {
  for (const entity of precedence(user, clientId)) {
    const limit = records.get(entityKey(entity))?.quotas[key];
    if (limit === undefined) continue;
    const sharedBy: QuotaEntity = {};
    if (entity.user !== undefined) sharedBy.user = user;
    if (entity.clientId !== undefined) sharedBy.clientId = clientId;
    return { limit, sharedBy };
  }
  return undefined;
}

export interface WindowConfig {
  /** quota.window.num */
  samples: number;
  /** quota.window.size.seconds, in ms */
  sampleMs: number;
}

export const kafkaWindow: WindowConfig = { samples: 11, sampleMs: 1000 };

/** Bytes per time bucket over the last `samples` buckets. */
export class RateWindow {
  private readonly buckets: number[];
  /** The bucket index (time / sampleMs) of each slot. */
  private readonly starts: number[];
  private firstBucket: number | undefined;

  constructor(private readonly config: WindowConfig = kafkaWindow) {
    this.buckets = new Array(config.samples).fill(0);
    this.starts = new Array(config.samples).fill(-1);
  }

  record(bytes: number, nowMs: number): void {
    const bucket = Math.floor(nowMs / this.config.sampleMs);
    this.firstBucket ??= bucket;
    const slot = bucket % this.config.samples;
    if (this.starts[slot] !== bucket) {
      this.starts[slot] = bucket;
      this.buckets[slot] = 0;
    }
    this.buckets[slot] = (this.buckets[slot] ?? 0) + bytes;
  }

  /** The span (ms) the rate is measured over at `nowMs`: Kafka's Rate.windowSize. */
  windowMs(nowMs: number): number {
    const { samples, sampleMs } = this.config;
    const bucket = Math.floor(nowMs / sampleMs);
    const oldest = Math.max(bucket - samples + 1, this.firstBucket ?? bucket);
    const elapsed = nowMs - oldest * sampleMs;
    return Math.max(elapsed, (samples - 1) * sampleMs);
  }

  /** Bytes per second at `nowMs`. */
  rate(nowMs: number): number {
    const bucket = Math.floor(nowMs / this.config.sampleMs);
    let total = 0;
    for (let i = 0; i < this.config.samples; i++) {
      const start = this.starts[i] ?? -1;
      if (start >= 0 && start > bucket - this.config.samples && start <= bucket) total += this.buckets[i] ?? 0;
    }
    return (total * 1000) / this.windowMs(nowMs);
  }

  /** The whole window (num × size): no throttle is longer. */
  get maxThrottleMs(): number {
    return this.config.samples * this.config.sampleMs;
  }
}

/** Kafka's throttle time: how long until the observed rate is back at the quota; 0 when under it. */
export function throttleTimeMs(observedRate: number, quota: number, windowMs: number, maxMs: number): number {
  if (observedRate <= quota) return 0;
  if (quota <= 0) return maxMs;
  return Math.min(Math.round(((observedRate - quota) / quota) * windowMs), maxMs);
}

/** A client's usage of one quota: what `record` reports for the metrics. */
export interface QuotaUsage {
  key: QuotaKey;
  /** The entity whose usage this is (labels the metrics). */
  entity: QuotaEntity;
  throttleMs: number;
}

/**
 * The broker's quota state: the configured records and, per quota key and
 * sharing entity, its rate window. At most `maxWindows` windows are kept
 * (the least recently used goes first: it only forgets a client's history).
 */
export class QuotaTracker {
  private records = new Map<string, QuotaRecord>();
  private readonly keysSet = new Set<QuotaKey>();
  private readonly windows = new Map<string, RateWindow>();

  constructor(
    private readonly maxWindows: number,
    private readonly config: WindowConfig = kafkaWindow,
  ) {}

  /** Replaces the configured quotas (on every change of the store). */
  setRecords(records: readonly QuotaRecord[]): void {
    this.records = new Map(records.map((r) => [entityKey(r.entity), r]));
    this.keysSet.clear();
    for (const r of records) for (const key of Object.keys(r.quotas) as QuotaKey[]) this.keysSet.add(key);
  }

  /** Whether some configured entity sets `key` (request time is only measured when one sets request_percentage). */
  sets(key: QuotaKey): boolean {
    return this.keysSet.has(key);
  }

  get active(): boolean {
    return this.records.size > 0;
  }

  /**
   * Records `amount` (bytes, or percent-seconds for request_percentage)
   * against the client's `key` quota and answers the throttle time (0 when
   * unthrottled or no quota applies).
   */
  record(key: QuotaKey, user: string, clientId: string, amount: number, nowMs: number): QuotaUsage | undefined {
    const quota = resolveQuota(this.records, user, clientId, key);
    if (!quota) return undefined;
    const id = `${key}\u0000${entityKey(quota.sharedBy)}`;
    let window = this.windows.get(id);
    if (window) this.windows.delete(id);
    else {
      window = new RateWindow(this.config);
      if (this.windows.size >= this.maxWindows) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
    }
    this.windows.set(id, window);
    window.record(amount, nowMs);
    const maxMs = key === 'request_percentage' ? this.config.sampleMs : window.maxThrottleMs;
    const throttleMs = throttleTimeMs(window.rate(nowMs), quota.limit, window.windowMs(nowMs), maxMs);
    return { key, entity: quota.sharedBy, throttleMs };
  }
}
