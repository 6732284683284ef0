import { describe, expect, it } from 'vitest';
import { LatencyHistogram, latencyUsMax } from '../../../src/cli/perf-histogram.js';

describe('LatencyHistogram', () => {
  it('is all zeros when empty', () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toEqual({ count: 0, avgMs: 0, maxMs: 0, p50: 0, p95: 0, p99: 0, p999: 0 });
  });

  it('gives percentiles of 1..10000 ms to within 0.1%, with exact count, mean and max', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 10_000; ms++) h.record(ms);
    const s = h.summary();
    expect(s.count).toBe(10_000);
    expect(s.avgMs).toBeCloseTo(5000.5, 6);
    expect(s.maxMs).toBe(10_000);
    for (const [got, want] of [
      [s.p50, 5000],
      [s.p95, 9500],
      [s.p99, 9900],
      [s.p999, 9990],
    ] as const) {
      expect(Math.abs(got - want) / want).toBeLessThan(0.001);
    }
  });

  it('keeps sub-millisecond latencies to the microsecond', () => {
    const h = new LatencyHistogram();
    h.record(0.25, 900);
    h.record(0.75, 100);
    expect(h.count).toBe(1000);
    expect(h.percentileMs(50)).toBe(0.25);
    expect(h.percentileMs(95)).toBe(0.75);
    expect(h.avgMs).toBeCloseTo(0.3, 9);
    expect(h.maxMs).toBe(0.75);
  });

  it('counts a chunk of records sharing one latency as that many records', () => {
    const h = new LatencyHistogram();
    h.record(2, 99);
    h.record(40, 1);
    h.record(7, 0);
    expect(h.count).toBe(100);
    expect(h.percentileMs(99)).toBe(2);
    expect(h.percentileMs(99.9)).toBeCloseTo(40, 1);
    expect(h.avgMs).toBeCloseTo((2 * 99 + 40) / 100, 9);
  });

  it('clamps negative and too large latencies instead of failing', () => {
    const h = new LatencyHistogram();
    h.record(-3);
    h.record(Number.NaN);
    h.record(1e12);
    expect(h.count).toBe(3);
    expect(h.percentileMs(0)).toBe(0);
    expect(h.maxMs).toBe(latencyUsMax / 1000);
    expect(h.percentileMs(100)).toBe(latencyUsMax / 1000);
  });

  it('stays bounded in memory over millions of records, and resets', () => {
    const h = new LatencyHistogram();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 2_000_000; i++) h.record((i % 5000) / 10);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
    expect(h.count).toBe(2_000_000);
    h.reset();
    expect(h.summary().count).toBe(0);
    h.record(1);
    expect(h.percentileMs(50)).toBe(1);
  });
});
