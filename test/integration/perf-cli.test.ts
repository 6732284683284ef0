/**
 * `sluice perf produce|consume|e2e` as users run them: child processes against
 * a real broker child process on an ephemeral port of 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../helpers/broker-process.js';
import { type CliResult, CliRunner, expectOneLineError } from '../helpers/cli-runner.js';

const cli = new CliRunner();
let broker: BrokerProcess;

function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return cli.run(args, { brokers: broker.address, timeoutMs });
}

const num = String.raw`\d+(?:\.\d+)?`;
/** The CONTRACT's final line of perf produce (and of perf e2e, with "received"). */
const finalLine = (verb: string) =>
  new RegExp(
    String.raw`^(\d+) records ${verb}, (${num}) records/sec \((${num}) MB/sec\), (${num}) ms avg latency, ` +
      String.raw`(${num}) ms max latency, (${num}) ms 50th, (${num}) ms 95th, (${num}) ms 99th, (${num}) ms 99\.9th\.$`,
  );
const consumeLine = new RegExp(String.raw`^(\d+) records received, (${num}) records/sec \((${num}) MB/sec\)\.$`);

interface LatencyJson {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
}

function lines(r: CliResult): string[] {
  return r.stdout.split('\n').filter((l) => l.length > 0);
}

function expectLatencyJson(j: LatencyJson, records: number): void {
  expect(j.records).toBe(records);
  expect(j.recordsPerSec).toBeGreaterThan(0);
  expect(j.mbPerSec).toBeGreaterThanOrEqual(0);
  expect(j.p50).toBeGreaterThanOrEqual(0);
  expect(j.p50).toBeLessThanOrEqual(j.p95);
  expect(j.p95).toBeLessThanOrEqual(j.p99);
  expect(j.p99).toBeLessThanOrEqual(j.p999);
  expect(j.p999).toBeLessThanOrEqual(j.maxLatencyMs);
  expect(j.avgLatencyMs).toBeLessThanOrEqual(j.maxLatencyMs);
}

beforeAll(async () => {
  broker = await BrokerProcess.start();
  const created = await runCli(['topic', 'create', 'perf', '--partitions', '2']);
  expect(created.code, created.stderr).toBe(0);
});

afterEach(() => {
  cli.killAll();
});

afterAll(async () => {
  await broker?.destroy();
});

describe('sluice perf', () => {
  it('perf produce sends 20k records and prints the final line and a JSON line', async () => {
    const r = await runCli([
      'perf',
      'produce',
      '--topic',
      'perf',
      '--num-records',
      '20000',
      '--record-size',
      '100',
      '--throughput',
      '-1',
      '--acks',
      '1',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r);
    // well under 5 s here: no progress line, just the final line and the JSON
    expect(out, r.stdout).toHaveLength(2);
    const m = finalLine('sent').exec(out[0] as string);
    expect(m, out[0]).not.toBeNull();
    expect(m?.[1]).toBe('20000');
    const j = JSON.parse(out[1] as string) as LatencyJson;
    expectLatencyJson(j, 20_000);
    expect(j.mbPerSec).toBeCloseTo((j.recordsPerSec * 100) / 1024 / 1024, 1);
  });

  it('perf produce --verify reads every acknowledged offset back and prints the count', async () => {
    const created = await runCli(['topic', 'create', 'perf-verify', '--partitions', '3']);
    expect(created.code, created.stderr).toBe(0);
    const r = await runCli([
      'perf',
      'produce',
      '--topic',
      'perf-verify',
      '--num-records',
      '20000',
      '--record-size',
      '100',
      '--acks',
      '1',
      '--verify',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r);
    expect(out, r.stdout).toHaveLength(3);
    expect(out[0]).toMatch(finalLine('sent'));
    expect(out[1]).toBe('verified 20000 acknowledged offsets: 0 wrong, 0 missing');
    const j = JSON.parse(out[2] as string) as LatencyJson & { verified: number; wrong: number; missing: number };
    expectLatencyJson(j, 20_000);
    expect({ verified: j.verified, wrong: j.wrong, missing: j.missing }).toEqual({
      verified: 20_000,
      wrong: 0,
      missing: 0,
    });
    // a second run on the same topic checks its own records only (each run tags its values)
    const again = await runCli([
      'perf',
      'produce',
      '--topic',
      'perf-verify',
      '--num-records',
      '3000',
      '--record-size',
      '8',
      '--acks',
      'all',
      '--verify',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(lines(again).at(-1)).toBe('verified 3000 acknowledged offsets: 0 wrong, 0 missing');
  });

  it('perf produce --verify needs acknowledged offsets and room for the id', async () => {
    const base = ['perf', 'produce', '--topic', 'perf-verify', '--num-records', '10', '--verify'];
    expectOneLineError(
      await runCli([...base, '--record-size', '100', '--acks', '0']),
      /--verify needs .*--acks 1 or -1/,
    );
    expectOneLineError(await runCli([...base, '--record-size', '7']), /--record-size must be in 8\.\./);
  });

  it('perf produce --throughput paces the records (4000 at 2000/s take about 2 s)', async () => {
    const r = await runCli([
      'perf',
      'produce',
      '--topic',
      'perf',
      '--num-records',
      '4000',
      '--record-size',
      '100',
      '--throughput',
      '2000',
      '--acks',
      'all',
      '--batch-size',
      '8192',
      '--linger-ms',
      '1',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(lines(r)[1] as string) as LatencyJson;
    expectLatencyJson(j, 4000);
    // the rate is measured from the first send to the last acknowledgement
    expect(j.recordsPerSec).toBeLessThanOrEqual(2000 * 1.05);
    expect(j.recordsPerSec).toBeGreaterThan(2000 * 0.7);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(1500);
  });

  it('perf consume reads the records produced, from the beginning and as a group', async () => {
    const r = await runCli(['perf', 'consume', '--topic', 'perf', '--messages', '24000', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r);
    expect(out.at(-2)).toMatch(consumeLine);
    const j = JSON.parse(out.at(-1) as string) as { records: number; bytes: number; recordsPerSec: number };
    expect(j.records).toBe(24_000);
    expect(j.bytes).toBe(24_000 * 100);
    expect(j.recordsPerSec).toBeGreaterThan(0);

    const g = await runCli(['perf', 'consume', '--topic', 'perf', '--messages', '24000', '--group', 'perf-g']);
    expect(g.code, g.stderr).toBe(0);
    expect(lines(g).at(-1)).toMatch(/^24000 records received, /);
  });

  it('perf consume fails when fewer records arrive than asked for', async () => {
    const r = await runCli(['perf', 'consume', '--topic', 'perf', '--messages', '30000', '--timeout-ms', '1000']);
    expectOneLineError(r, /received 24000 of 30000 records/);
    expect(lines(r).at(-1)).toMatch(/^24000 records received, /);
  });

  it('perf e2e measures producer → broker → consumer latency at a fixed rate', async () => {
    const r = await runCli([
      'perf',
      'e2e',
      '--topic',
      'perf-e2e',
      '--num-records',
      '3000',
      '--record-size',
      '64',
      '--throughput',
      '1000',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r);
    expect(out[0]).toMatch(finalLine('received'));
    const j = JSON.parse(out[1] as string) as LatencyJson;
    expectLatencyJson(j, 3000);
    expect(j.p50).toBeGreaterThan(0);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(2000);
  });

  it('perf e2e --warmup-records leaves the first records out of the final figures and says so', async () => {
    const r = await runCli([
      'perf',
      'e2e',
      '--topic',
      'perf-e2e-warmup',
      '--num-records',
      '3000',
      '--record-size',
      '64',
      '--throughput',
      '3000',
      '--warmup-records',
      '1000',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r);
    expect(out[0]).toMatch(
      new RegExp(
        String.raw`^1000 warm-up records received, ${num} ms avg latency, ${num} ms max latency \(not counted below\)\.$`,
      ),
    );
    expect(out[1]).toMatch(finalLine('received'));
    expect(out[1]).toMatch(/^2000 records received, /);
    const j = JSON.parse(out[2] as string) as LatencyJson & { warmupRecords: number };
    expectLatencyJson(j, 2000);
    expect(j.warmupRecords).toBe(1000);
    expect(out).toHaveLength(3);
  });

  it('bad usage exits 2, a bad value exits 1 with one line', async () => {
    const missing = await runCli(['perf', 'produce', '--topic', 'perf', '--num-records', '10']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--record-size/);
    const unknown = await runCli(['perf', 'consume', '--topic', 'perf', '--messages', '1', '--bogus']);
    expect(unknown.code).toBe(2);
    const noThroughput = await runCli(['perf', 'e2e', '--topic', 'perf', '--num-records', '1', '--record-size', '8']);
    expect(noThroughput.code).toBe(2);
    const noSub = await runCli(['perf', 'nonsense']);
    expect(noSub.code).toBe(2);

    expectOneLineError(
      await runCli([
        'perf',
        'produce',
        '--topic',
        'perf',
        '--num-records',
        '10',
        '--record-size',
        '10',
        '--throughput',
        '0',
      ]),
      /--throughput/,
    );
    expectOneLineError(
      await runCli(['perf', 'e2e', '--topic', 'perf', '--num-records', '1', '--record-size', '4', '--throughput', '5']),
      /--record-size must be in 8\.\./,
    );
    // at least one record is measured
    expectOneLineError(
      await runCli([
        'perf',
        'e2e',
        '--topic',
        'perf',
        '--num-records',
        '5',
        '--record-size',
        '8',
        '--throughput',
        '5',
        '--warmup-records',
        '5',
      ]),
      /--warmup-records must be in 0\.\.4/,
    );
    expectOneLineError(
      await runCli(['perf', 'consume', '--topic', 'no-such-topic', '--messages', '1']),
      /does not exist/,
    );
  });
});
