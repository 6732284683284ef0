/**
 * The event-loop-lag histogram of the default Node metrics samples the loop
 * every 100 ms, not prom-client's default 10 ms: on an idle broker that timer
 * was a third of every wake-up (issue 20 item 4).
 */
import perfHooks from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BrokerMetrics } from '../../../src/metrics/broker-metrics.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('broker metrics', () => {
  it('sample the event loop no more often than every 100 ms', async () => {
    const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay');
    const metrics = new BrokerMetrics();
    expect(monitor).toHaveBeenCalledTimes(1);
    const resolution = monitor.mock.calls[0]?.[0]?.resolution;
    expect(resolution).toBeGreaterThanOrEqual(100);
    // the lag metrics are still there
    expect(await metrics.registry.metrics()).toMatch(/sluice_nodejs_eventloop_lag_p99_seconds/);
  });
});
