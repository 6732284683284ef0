/**
 * The fuzz run's short form in `npm test` (the long one is `npm run fuzz`):
 * a few thousand generated frames on each listener of a real broker process,
 * the well-behaved producer and consumer alongside. The broker must stay up,
 * log no handler failure (a TypeError, a RangeError, "request failed", an
 * unhandled rejection) and keep every acknowledged record exactly once.
 * Fixed seed, so a failure replays: `npm run fuzz -- --frames 2000 --seed 1414`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/broker-process.js';
import { logDirFor, runFuzz, stopActiveRun } from './fuzz-run.js';
import { writeSummary } from './summary-files.js';

const seed = 1414;
const frames = 2000;

// a run cut short by the test's timeout still stops its broker by PID
afterAll(stopActiveRun);

describe('fuzz (short form)', () => {
  it(`survives ${frames} hostile frames per listener with its data whole (seed ${seed})`, async () => {
    const report = await runFuzz({
      frames,
      seed,
      listeners: ['native', 'kafka'],
      concurrency: 16,
      logDir: logDirFor(repoRoot, seed),
      triageBudgetMs: 15_000,
    });
    const summary = writeSummary(report);
    // the run did what it says: every frame went out, the well-behaved client worked
    for (const s of report.listeners) expect(s.framesSent, `${s.listener} frames\n${summary}`).toBe(frames);
    expect(report.ledger.acknowledged, summary).toBeGreaterThan(0);
    expect(report.verdict.reasons, summary).toEqual([]);
    expect(report.verdict.ok).toBe(true);
  }, 300_000);
});
