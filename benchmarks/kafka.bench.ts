/**
 * The Kafka listener against the native one, side by side on one standalone
 * broker process (`npm run bench:kafka`): the same count of 100-byte records
 * produced and consumed
 *
 * - natively, by Sluice's client library in this process (as `sluice perf`);
 * - through the Kafka protocol, by Debian's kcat (librdkafka 2.0.2, C), fed
 *   from a file of lines and timed from spawn to exit (kcat waits for every
 *   delivery report before it exits; consume ends at the partition end, -e).
 *
 * kcat's time includes its start-up and metadata round trips (tens of ms), so
 * the counts are large enough for those not to matter much. Both produce with
 * acks=1 into a 1-partition topic; each round uses fresh topics; medians of
 * BENCH_RUNS rounds, the two clients interleaved within each round.
 *
 * Environment: BENCH_RUNS (default 3), BENCH_RECORDS (default 1,000,000),
 * BENCH_VALUE_BYTES (default 100).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Sluice } from '../src/client/sluice.js';
import { BrokerProcess } from '../test/helpers/broker-process.js';
import { consumeRun, createTopic, produceRun, topicName } from './lib/sluice-bench.js';
import { fmtFixed, fmtInt, median, renderTable } from './lib/stats.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}=${raw} is not a positive integer`);
  return n;
}

const runs = envInt('BENCH_RUNS', 3);
const records = envInt('BENCH_RECORDS', 1_000_000);
const valueBytes = envInt('BENCH_VALUE_BYTES', 100);
const maxSeconds = 120;
const kcat = '/usr/bin/kcat';

if (!fs.existsSync(kcat)) {
  process.stderr.write('kafka.bench: kcat is missing; run `bash scripts/kcat.sh ensure` (as root) first\n');
  process.exit(1);
}

/** Runs kcat to completion; resolves with its wall time in seconds. */
function runKcat(args: string[], stdinFile?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(kcat, args, { stdio: [stdinFile ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    if (stdinFile && child.stdin) fs.createReadStream(stdinFile).pipe(child.stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), maxSeconds * 1000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve((performance.now() - started) / 1000);
      else reject(new Error(`kcat ${args.join(' ')} exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

async function endOffset(client: Sluice, topic: string): Promise<number> {
  const described = await client.admin().describeTopic(topic);
  const partitions = Array.isArray(described) ? [] : described.partitions;
  return partitions.reduce((sum, p) => sum + p.highWatermark, 0);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kafka-bench-'));
const linesFile = path.join(dir, 'records.txt');
{
  // printable values (kcat reads lines); one write of the whole file
  const line = `${'x'.repeat(valueBytes)}\n`;
  fs.writeFileSync(linesFile, line.repeat(records));
}

const broker = await BrokerProcess.start({ overrides: ['log.flush.interval.messages=9223372036854775807'] });
const client = new Sluice({ brokers: [broker.address] });
const kafkaBrokers = broker.kafkaBrokers;
const rates = {
  nativeProduce: [] as number[],
  kcatProduce: [] as number[],
  nativeConsume: [] as number[],
  kcatConsume: [] as number[],
};
try {
  for (let round = 0; round < runs; round++) {
    const nativeTopic = topicName('native');
    const kafkaTopic = topicName('kcat');
    await createTopic(client, nativeTopic, 1);
    await createTopic(client, kafkaTopic, 1);

    const produced = await produceRun(client, {
      topic: nativeTopic,
      acks: 1,
      valueBytes,
      records,
      maxSeconds,
      batchSize: 1024 * 1024,
    });
    rates.nativeProduce.push(produced.records / produced.seconds);

    const kcatProduceSeconds = await runKcat(
      [
        '-b',
        kafkaBrokers,
        '-P',
        '-t',
        kafkaTopic,
        '-X',
        'acks=1',
        '-X',
        'linger.ms=5',
        '-X',
        'batch.size=1000000',
        '-X',
        'queue.buffering.max.kbytes=1048576',
        '-X',
        'queue.buffering.max.messages=2000000',
      ],
      linesFile,
    );
    const stored = await endOffset(client, kafkaTopic);
    if (stored !== records) throw new Error(`kcat produced ${stored} records, expected ${records}`);
    rates.kcatProduce.push(records / kcatProduceSeconds);

    const consumed = await consumeRun(client, nativeTopic, 1, records, maxSeconds);
    rates.nativeConsume.push(consumed.records / consumed.seconds);

    const kcatConsumeSeconds = await runKcat([
      '-b',
      kafkaBrokers,
      '-C',
      '-t',
      kafkaTopic,
      '-o',
      'beginning',
      '-e',
      '-q',
    ]);
    rates.kcatConsume.push(records / kcatConsumeSeconds);
    process.stderr.write(`round ${round + 1}/${runs} done\n`);
  }
} finally {
  await client.close();
  await broker.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

const row = (what: string, native: number[], kafka: number[]): string[] => [
  what,
  fmtInt(median(native)),
  fmtInt(median(kafka)),
  fmtFixed(median(kafka) / median(native), 2),
];
process.stdout.write(
  `${records} records of ${valueBytes} B, acks=1, 1 partition, medians of ${runs} (records/s)\n\n` +
    renderTable(
      ['', 'native (Sluice client)', 'Kafka listener (kcat)', 'kcat / native'],
      [row('produce', rates.nativeProduce, rates.kcatProduce), row('consume', rates.nativeConsume, rates.kcatConsume)],
    ) +
    '\n\n' +
    JSON.stringify({ records, valueBytes, runs, rates }) +
    '\n',
);
