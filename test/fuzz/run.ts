/**
 * `npm run fuzz -- --frames N --seed S [--listener native|kafka|both]`: one
 * fuzz run against a real broker process; prints the summary table, writes
 * it and the broker's log under test/.results/fuzz/, exits 1 on a FAIL
 * verdict (crash, failure line, data loss) and 2 on a usage error.
 * Ctrl-C stops the broker by PID before exiting.
 */
import { repoRoot } from '../helpers/broker-process.js';
import { parseArgs } from './args.js';
import { logDirFor, maxFrameBytes as replayMaxFrameBytes, runFuzz, stopActiveRun } from './fuzz-run.js';
import { kafkaFrame } from './kafka-mutator.js';
import { kafkaTemplates } from './kafka-templates.js';
import { nativeFrame } from './native-mutator.js';
import { writeSummary } from './summary-files.js';

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2), (Date.now() >>> 0) % 1_000_000);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts++;
    console.error(`\n${signal}: stopping the broker`);
    void stopActiveRun().finally(() => {
      if (interrupts > 1) process.exit(130);
    });
  });
}

// a bug in the fuzzer itself must not leave the broker running
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (err) => {
    console.error(`fuzz: ${event}:`, err);
    void stopActiveRun().finally(() => process.exit(1));
  });
}

if (args.replay) {
  // what is replayed, byte for byte (the first 256 bytes), so a failure can be read without the fuzzer
  const templates = args.listeners.includes('kafka') ? await kafkaTemplates() : [];
  for (const listener of args.listeners) {
    for (const index of args.replay) {
      const f =
        listener === 'native'
          ? nativeFrame(args.seed, index, replayMaxFrameBytes)
          : kafkaFrame(templates, args.seed, index, replayMaxFrameBytes);
      console.log(
        `${listener} frame ${index}: ${f.kind}${f.detail ? `/${f.detail}` : ''} ${f.api}, ${f.bytes.length} bytes\n  ${f.bytes.subarray(0, 256).toString('hex')}`,
      );
    }
  }
}

const logDir = logDirFor(repoRoot, args.seed);
const report = await runFuzz({
  frames: args.frames,
  seed: args.seed,
  listeners: args.listeners,
  concurrency: args.concurrency,
  only: args.replay,
  logDir,
  progress: (line) => console.log(`[${new Date().toISOString()}] ${line}`),
});
const text = writeSummary(report);
console.log(`\n${text}`);
process.exit(report.verdict.ok ? 0 : 1);
