/**
 * Latency statistics of the perf tools in bounded memory: an HDR histogram
 * (hdr-histogram-js, the maintained TypeScript port of HdrHistogram) of
 * microseconds with 3 significant digits, from 1 µs to an hour, whatever the
 * number of records; the count, sum and maximum are kept exactly beside it.
 */
import { build, type Histogram } from 'hdr-histogram-js';

/** Largest latency tracked: one hour, in microseconds; longer ones count as an hour. */
export const latencyUsMax = 3_600_000_000;

export interface LatencySummary {
  count: number;
  avgMs: number;
  maxMs: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
}

export class LatencyHistogram {
  private readonly hdr: Histogram;
  private n = 0;
  private sumUs = 0;
  private maxUs = 0;

  constructor() {
    this.hdr = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: latencyUsMax,
      numberOfSignificantValueDigits: 3,
      // float counts: no bucket overflows however many records share one
      bitBucketSize: 64,
      autoResize: false,
      useWebAssembly: false,
    });
  }

  /** Records `count` latencies of `ms` milliseconds each (fractions kept to the microsecond). */
  record(ms: number, count = 1): void {
    if (count <= 0) return;
    let us = Math.round(ms * 1000);
    if (!(us >= 0)) us = 0;
    else if (us > latencyUsMax) us = latencyUsMax;
    this.hdr.recordValueWithCount(us, count);
    this.n += count;
    this.sumUs += us * count;
    if (us > this.maxUs) this.maxUs = us;
  }

  get count(): number {
    return this.n;
  }

  /** Mean latency in ms (0 when empty). */
  get avgMs(): number {
    return this.n === 0 ? 0 : this.sumUs / this.n / 1000;
  }

  /** Largest latency recorded, in ms (exact, not bucketed). */
  get maxMs(): number {
    return this.maxUs / 1000;
  }

  /** The latency at `percentile` (0..100) in ms, to the histogram's 3 significant digits; 0 when empty. */
  percentileMs(percentile: number): number {
    if (this.n === 0) return 0;
    return Math.min(this.hdr.getValueAtPercentile(percentile), this.maxUs) / 1000;
  }

  summary(): LatencySummary {
    return {
      count: this.n,
      avgMs: this.avgMs,
      maxMs: this.maxMs,
      p50: this.percentileMs(50),
      p95: this.percentileMs(95),
      p99: this.percentileMs(99),
      p999: this.percentileMs(99.9),
    };
  }

  reset(): void {
    this.hdr.reset();
    this.n = 0;
    this.sumUs = 0;
    this.maxUs = 0;
  }
}
