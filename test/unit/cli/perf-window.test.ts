/**
 * How many chunks of records `perf produce` and `perf e2e` keep unacknowledged (perf-commands.ts):
 * 16 MiB of record values, at least 2 chunks; e2e at most 64 chunks (what it queues is latency it
 * measures), produce at most 1,024, so that for small records the bytes bound rules, as buffer.memory
 * alone bounds Kafka's producer perf test.
 */
import { describe, expect, it } from 'vitest';
import { inFlightChunks, produceInFlightChunks } from '../../../src/cli/perf-commands.js';

describe('perf in-flight chunks', () => {
  it('perf produce keeps 16 MiB of 100 B records in flight (167 chunks of 1,000), not 64 chunks', () => {
    expect(produceInFlightChunks(1_000, 100)).toBe(167);
    expect(produceInFlightChunks(1_000, 1)).toBe(1_024);
  });

  it('bounds both by bytes for large records, with at least two chunks', () => {
    expect(produceInFlightChunks(1_000, 1024 * 1024)).toBe(2);
    expect(inFlightChunks(1_000, 1024 * 1024)).toBe(2);
    expect(produceInFlightChunks(1_000, 10_000)).toBe(2);
  });

  it('e2e stays at 64 chunks', () => {
    expect(inFlightChunks(1_000, 100)).toBe(64);
  });
});
