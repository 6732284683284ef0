/**
 * One fuzz run: a real broker process (test/helpers/broker-process.ts), both
 * of its listeners fed generated frames at bounded concurrency, the
 * well-behaved clients beside them, the broker's memory sampled from /proc,
 * its log read line by line; then the read-back, a triage that replays the
 * frames around each kind of failure line alone to name the one that causes
 * it, an alive check, and the broker stopped by PID (also on failure and on
 * interrupt, through stopActiveRun).
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { kafkaCodec } from '../../src/server/kafka-codec.js';
import { nativeCodec } from '../../src/server/native-codec.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import type { FuzzFrame, Listener } from './fuzz-frame.js';
import { kafkaFrame } from './kafka-mutator.js';
import { type KafkaTemplate, kafkaTemplates } from './kafka-templates.js';
import { LogWatch } from './log-watch.js';
import { nativeFrame } from './native-mutator.js';
import { MemoryWatch, sampleMemory } from './rss.js';
import { type FrameRecord, type ListenerStats, replayFrame, sendFrames } from './sender.js';
import { checkLedger, countFailures, type LedgerResult, type LogFailure, verdict } from './verdict.js';
import { WellBehaved, type WellBehavedStats } from './well-behaved.js';

/** The broker's default socket.request.max.bytes (100 MiB): what the length mutations claim around. */
export const maxFrameBytes = 100 * 1024 * 1024;
/** Failure signatures the triage replays, at most, and candidate frames per signature. */
const triageSignaturesMax = 24;
const triageCandidatesMax = 48;
/** Time for a replayed frame's failure line to reach the log. */
const triageLogWaitMs = 150;
/** Time the whole triage may take. */
const triageBudgetMsDefault = 60_000;
const settleMs = 2_000;
const aliveTimeoutMs = 10_000;

export interface FuzzOptions {
  frames: number;
  seed: number;
  listeners: Listener[];
  concurrency: number;
  logDir: string;
  /** Replay only these frame indexes (each alone), instead of 0..frames-1. */
  only?: number[];
  /** Time the triage may take (default 60 s). */
  triageBudgetMs?: number;
  progress?: (line: string) => void;
}

export interface Attribution {
  signature: string;
  /** The frame that reproduced the failure line when replayed alone, if any did. */
  frame: { listener: Listener; index: number; kind: string; detail: string; api: string } | undefined;
  candidates: number;
}

export interface FuzzReport {
  seed: number;
  framesPerListener: number;
  /** The frame indexes replayed alone (--replay), when this run was a replay. */
  replayed: number[] | undefined;
  listeners: ListenerStats[];
  brokerPid: number;
  brokerAlive: boolean;
  memory: { beforeBytes: number; peakBytes: number; hwmBytes: number; afterBytes: number };
  wellBehaved: Omit<WellBehavedStats, 'acked'> & { readBack: number };
  ledger: LedgerResult;
  failures: LogFailure[];
  failureCounts: { key: string; count: number; example: string }[];
  attributions: Attribution[];
  verdict: { ok: boolean; reasons: string[] };
  elapsedMs: number;
  logDir: string;
}

let active: { stop: () => Promise<void>; interrupt: () => void } | undefined;

/** Stops the running fuzz's broker by PID (for Ctrl-C); the run then ends early. */
export async function stopActiveRun(): Promise<void> {
  active?.interrupt();
  await active?.stop();
}

/** The listeners' own codecs (what the broker runs on each frame) say which frames it decodes. */
const codecs = { native: nativeCodec(), kafka: kafkaCodec() };

/**
 * Whether a frame is one whole request the broker's codec decodes: only those keep a connection
 * open. The codec, not just the message decoder: the native one refuses msgpack past its bounds
 * (msgpack-bounds.ts) before decoding, and closes the connection for it too.
 */
function decodes(frame: FuzzFrame): boolean {
  const b = frame.bytes;
  if (b.length < 4 || b.readInt32BE(0) !== b.length - 4) return false;
  try {
    codecs[frame.listener].decode(b.subarray(4));
    return true;
  } catch {
    return false;
  }
}

function generator(listener: Listener, seed: number, templates: KafkaTemplate[]): (index: number) => FuzzFrame {
  return listener === 'native'
    ? (index) => nativeFrame(seed, index, maxFrameBytes)
    : (index) => kafkaFrame(templates, seed, index, maxFrameBytes);
}

async function brokerAnswers(broker: BrokerProcess): Promise<boolean> {
  if (!broker.running || broker.pid === undefined || !sampleMemory(broker.pid)) return false;
  let client: RawClient | undefined;
  try {
    client = await RawClient.connect(broker.port);
    const r = await client.call<{ errorCode?: number; brokers?: unknown[] }>(
      ApiKey.Metadata,
      { topics: null },
      aliveTimeoutMs,
    );
    return r.errorCode === 0 && Array.isArray(r.brokers) && r.brokers.length > 0;
  } catch {
    return false;
  } finally {
    client?.close();
  }
}

const signatureOf = (f: LogFailure): string => `${f.kind} ${f.errType} ${f.api}`;

/**
 * For each failure signature, replays alone the frames of the same API that
 * were in flight when its first line was logged (the native listener's
 * UNKNOWN_SERVER_ERROR answers first), until one logs the same signature again.
 */
async function triage(
  failures: LogFailure[],
  stats: ListenerStats[],
  gens: Map<Listener, (i: number) => FuzzFrame>,
  broker: BrokerProcess,
  logs: LogWatch,
  stopped: () => boolean,
  budgetMs: number,
): Promise<Attribution[]> {
  const out: Attribution[] = [];
  const seen = new Set<string>();
  const slackMs = 20;
  const deadline = Date.now() + budgetMs;
  const suspects = new Set(stats.find((s) => s.listener === 'native')?.unknownServerErrors ?? []);
  for (const f of failures) {
    const signature = signatureOf(f);
    if (seen.has(signature) || out.length >= triageSignaturesMax) continue;
    seen.add(signature);
    const t = f.timeMs ?? 0;
    const candidates: { listener: Listener; record: FrameRecord }[] = [];
    for (const s of stats) {
      for (const record of s.records) {
        const sameApi = f.api === '-' || record.api.split(' ')[0] === f.api;
        if (sameApi && record.sentAtMs - slackMs <= t && t <= record.doneAtMs + slackMs)
          candidates.push({ listener: s.listener, record });
      }
    }
    const suspect = (c: { listener: Listener; record: FrameRecord }): number =>
      c.listener === 'native' && suspects.has(c.record.index) ? 1 : 0;
    candidates.sort(
      (a, b) => suspect(b) - suspect(a) || Math.abs(a.record.sentAtMs - t) - Math.abs(b.record.sentAtMs - t),
    );
    let found: Attribution['frame'];
    for (const { listener, record } of candidates.slice(0, triageCandidatesMax)) {
      const gen = gens.get(listener);
      if (!gen || stopped() || !broker.running || Date.now() > deadline) break;
      const before = logs.failures.length;
      await replayFrame(listener === 'native' ? broker.port : broker.kafkaPort, gen(record.index));
      await sleep(triageLogWaitMs);
      if (logs.failures.slice(before).some((g) => signatureOf(g) === signature)) {
        found = { listener, index: record.index, kind: record.kind, detail: record.detail, api: record.api };
        break;
      }
    }
    out.push({ signature, frame: found, candidates: candidates.length });
  }
  return out;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const say = options.progress ?? (() => undefined);
  const logs = new LogWatch(options.logDir);
  let interrupted = false;
  const stopped = (): boolean => interrupted;
  let broker: BrokerProcess | undefined;
  active = {
    interrupt: () => {
      interrupted = true;
    },
    stop: async () => {
      await broker?.destroy();
    },
  };
  let wellBehaved: WellBehaved | undefined;
  let memory: MemoryWatch | undefined;
  try {
    broker = await BrokerProcess.start({
      onOutput: (stream, chunk) => logs.push(stream, chunk),
      startTimeoutMs: 60_000,
    });
    const pid = broker.pid ?? 0;
    say(`broker pid ${pid}: native ${broker.port}, kafka ${broker.kafkaPort}; logs in ${options.logDir}`);
    wellBehaved = new WellBehaved(broker.address);
    await wellBehaved.createTopic();
    const setup = await RawClient.connect(broker.port);
    try {
      await setup.call(
        ApiKey.CreateTopics,
        {
          topics: [
            { name: 'fuzz', numPartitions: 2 },
            { name: 'fuzz-b', numPartitions: 1 },
          ],
        },
        30_000,
      );
    } finally {
      setup.close();
    }
    const templates = options.listeners.includes('kafka') ? await kafkaTemplates() : [];
    await sleep(settleMs);
    memory = new MemoryWatch(pid);
    const beforeBytes = sampleMemory(pid)?.rssBytes ?? 0;
    wellBehaved.start();
    const gens = new Map(options.listeners.map((l) => [l, generator(l, options.seed, templates)] as const));
    const stats = await Promise.all(
      options.listeners.map((listener) =>
        sendFrames({
          listener,
          port: listener === 'native' ? (broker?.port ?? 0) : (broker?.kafkaPort ?? 0),
          seed: options.seed,
          frames: options.frames,
          only: options.only,
          concurrency: options.concurrency,
          generate: gens.get(listener) as (i: number) => FuzzFrame,
          decodes,
          stopped: () => stopped() || !broker?.running,
          onProgress: (s) =>
            say(
              `${listener}: ${s.framesSent} frames, ${logs.failureCount} failure lines, rss ${((sampleMemory(pid)?.rssBytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
            ),
        }),
      ),
    );
    say('fuzz done; stopping the well-behaved clients and reading back');
    await wellBehaved.stop();
    const read = broker.running && !interrupted ? await wellBehaved.readBack().catch(() => []) : [];
    const ledger = checkLedger(wellBehaved.stats.acked, read);
    await sleep(settleMs);
    memory.stop();
    const afterBytes = sampleMemory(pid)?.rssBytes ?? 0;
    const failures = [...logs.failures];
    const failureCount = logs.failureCount;
    const attributions =
      failures.length > 0
        ? await triage(failures, stats, gens, broker, logs, stopped, options.triageBudgetMs ?? triageBudgetMsDefault)
        : [];
    const brokerAlive = await brokerAnswers(broker);
    const { acked: _acked, ...wb } = wellBehaved.stats;
    const outcome = { brokerAlive, failures, ledger };
    const report: FuzzReport = {
      seed: options.seed,
      framesPerListener: options.frames,
      replayed: options.only,
      listeners: stats,
      brokerPid: pid,
      brokerAlive,
      memory: { beforeBytes, peakBytes: memory.peakRssBytes, hwmBytes: memory.hwmBytes, afterBytes },
      wellBehaved: { ...wb, readBack: read.length },
      ledger,
      failures,
      failureCounts: countFailures(failures),
      attributions,
      verdict: verdict(outcome),
      elapsedMs: Date.now() - started,
      logDir: options.logDir,
    };
    if (failureCount > failures.length)
      report.verdict.reasons.push(`${failureCount - failures.length} more failure lines not kept`);
    if (interrupted) report.verdict = { ok: false, reasons: ['interrupted', ...report.verdict.reasons] };
    return report;
  } finally {
    memory?.stop();
    await wellBehaved?.close();
    await broker?.destroy();
    await logs.close();
    active = undefined;
  }
}

/** Where a run's logs go: test/.results/fuzz/<seed>-<time>. */
export function logDirFor(repoRoot: string, seed: number): string {
  return path.join(repoRoot, 'test/.results/fuzz', `seed-${seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
}
