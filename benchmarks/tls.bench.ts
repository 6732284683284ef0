/**
 * TLS against plaintext in the same run (`npm run bench:tls`): two standalone
 * broker processes, one with every listener PLAINTEXT, one with every listener
 * SSL (P-256 certificates made by openssl, test/helpers/certs.ts; TLS 1.3 as
 * node negotiates it). Each round produces the same count of 100-byte records
 * to a fresh 1-partition topic on each broker and consumes them back:
 *
 * - natively, by Sluice's client library in this process (ssl: { ca } on the TLS broker);
 * - through the Kafka listener, by Debian's kcat (librdkafka 2.0.2), timed
 *   from spawn to exit (-X security.protocol=SSL on the TLS broker).
 *
 * The two brokers alternate within each round; medians of BENCH_RUNS rounds;
 * the ratio TLS / plaintext is the headline (this VM is shared and noisy).
 *
 * Environment: BENCH_RUNS (default 3), BENCH_RECORDS (default 500,000),
 * BENCH_VALUE_BYTES (default 100).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Sluice } from '../src/client/sluice.js';
import { BrokerProcess } from '../test/helpers/broker-process.js';
import { makeTestCerts } from '../test/helpers/certs.js';
import { consumeRun, createTopic, produceRun, topicName } from './lib/sluice-bench.js';
import { fmtFixed, fmtInt, median, renderTable } from './lib/stats.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}=${raw} is not a positive integer`);
  return n;
}

const runs = envInt('BENCH_RUNS', 3);
const records = envInt('BENCH_RECORDS', 500_000);
const valueBytes = envInt('BENCH_VALUE_BYTES', 100);
const maxSeconds = 120;
const kcat = '/usr/bin/kcat';
const haveKcat = fs.existsSync(kcat);
if (!haveKcat) process.stderr.write('tls.bench: kcat is missing (scripts/kcat.sh ensure): native client only\n');

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

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-tls-bench-'));
const certs = makeTestCerts(path.join(dir, 'certs'));
const linesFile = path.join(dir, 'records.txt');
fs.writeFileSync(linesFile, `${'x'.repeat(valueBytes)}\n`.repeat(records));

const quiet = ['log.flush.interval.messages=9223372036854775807'];
const plainBroker = await BrokerProcess.start({ overrides: quiet });
const tlsBroker = await BrokerProcess.start({
  overrides: [
    ...quiet,
    'native.security.protocol=SSL',
    'inter.broker.security.protocol=SSL',
    'kafka.security.protocol=SSL',
    `ssl.keystore.location=${certs.broker.keystore}`,
  ],
});

interface Side {
  name: 'plaintext' | 'tls';
  broker: BrokerProcess;
  client: Sluice;
  kcatSecurity: string[];
}
const sides: Side[] = [
  { name: 'plaintext', broker: plainBroker, client: new Sluice({ brokers: plainBroker.address }), kcatSecurity: [] },
  {
    name: 'tls',
    broker: tlsBroker,
    client: new Sluice({ brokers: tlsBroker.address, ssl: { ca: fs.readFileSync(certs.ca, 'utf8') } }),
    kcatSecurity: ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs.ca}`],
  },
];
type Figure = 'nativeProduce' | 'nativeConsume' | 'kcatProduce' | 'kcatConsume';
const rates: Record<Side['name'], Record<Figure, number[]>> = {
  plaintext: { nativeProduce: [], nativeConsume: [], kcatProduce: [], kcatConsume: [] },
  tls: { nativeProduce: [], nativeConsume: [], kcatProduce: [], kcatConsume: [] },
};

try {
  for (let round = 0; round < runs; round++) {
    // alternate which side goes first, so neither always runs on a warmer machine
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const topic = topicName(`native-${side.name}`);
      await createTopic(side.client, topic, 1);
      const produced = await produceRun(side.client, {
        topic,
        acks: 1,
        valueBytes,
        records,
        maxSeconds,
        batchSize: 1024 * 1024,
      });
      rates[side.name].nativeProduce.push(produced.records / produced.seconds);
      const consumed = await consumeRun(side.client, topic, 1, produced.records, maxSeconds);
      rates[side.name].nativeConsume.push(consumed.records / consumed.seconds);
    }
    if (haveKcat) {
      for (const side of order) {
        const topic = topicName(`kcat-${side.name}`);
        await createTopic(side.client, topic, 1);
        const b = ['-b', side.broker.kafkaBrokers, ...side.kcatSecurity];
        const produceSeconds = await runKcat(
          [
            ...b,
            '-P',
            '-t',
            topic,
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
        rates[side.name].kcatProduce.push(records / produceSeconds);
        const consumeSeconds = await runKcat([...b, '-C', '-t', topic, '-o', 'beginning', '-e', '-q']);
        rates[side.name].kcatConsume.push(records / consumeSeconds);
      }
    }
    process.stderr.write(`round ${round + 1}/${runs} done\n`);
  }
} finally {
  for (const side of sides) await side.client.close();
  await Promise.all([plainBroker.destroy(), tlsBroker.destroy()]);
  fs.rmSync(dir, { recursive: true, force: true });
}

const figures: [string, Figure][] = [
  ['produce (Sluice client)', 'nativeProduce'],
  ['consume (Sluice client)', 'nativeConsume'],
  ...(haveKcat
    ? ([
        ['produce (kcat)', 'kcatProduce'],
        ['consume (kcat)', 'kcatConsume'],
      ] as [string, Figure][])
    : []),
];
process.stdout.write(
  `${records} records of ${valueBytes} B, acks=1, 1 partition, medians of ${runs} (records/s)\n\n` +
    renderTable(
      ['', 'PLAINTEXT', 'SSL', 'SSL / PLAINTEXT'],
      figures.map(([what, key]) => [
        what,
        fmtInt(median(rates.plaintext[key])),
        fmtInt(median(rates.tls[key])),
        fmtFixed(median(rates.tls[key]) / median(rates.plaintext[key]), 2),
      ]),
    ) +
    '\n\n' +
    JSON.stringify({ records, valueBytes, runs, rates }) +
    '\n',
);
