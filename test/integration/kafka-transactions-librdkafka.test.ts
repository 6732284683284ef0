/**
 * Kafka transactions (issue 21) through librdkafka, the C client most
 * non-Java clients wrap, against a real broker process's Kafka listener:
 *
 * - librdkafka's transactional producer, driven by Debian's
 *   python3-confluent-kafka 1.7.0 on the system's librdkafka 2.0.2
 *   (fixtures/librdkafka-transactions.py, a child process killed by PID on
 *   its timeout): init_transactions, a committed transaction, an aborted
 *   one; its read_committed consumer (isolation.level) reads exactly the
 *   committed records, its read_uncommitted consumer the aborted ones too;
 * - kcat 1.7.1 (same librdkafka): a read_committed consume of that topic
 *   (-X isolation.level=read_committed, -e: to the last stable offset) shows
 *   no aborted record; `-X transactional.id` produces all of stdin in one
 *   committed transaction that a read_committed kcat then reads.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/broker-process.js';
import { runToEnd } from '../helpers/child-process.js';
import { ensureDebianPackage } from '../helpers/debian-package.js';
import { kcatBrokerFixture } from '../helpers/kcat-broker.js';

const python = '/usr/bin/python3';
const script = path.join(repoRoot, 'test/integration/fixtures/librdkafka-transactions.py');
const pythonTimeoutMs = 120_000;

const fx = kcatBrokerFixture({
  overrides: [
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
  ],
  prepare: () =>
    ensureDebianPackage('python3-confluent-kafka', '/usr/lib/python3/dist-packages/confluent_kafka/__init__.py'),
});
const { kcat, createTopic } = fx;

/** `partition value` lines of a kcat consume to the partitions' ends at an isolation level. */
async function kcatRead(topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const r = await kcat.run(
    [
      '-b',
      fx.broker.kafkaBrokers,
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-X',
      `isolation.level=${isolation}`,
      '-f',
      '%p %s\\n',
    ],
    { timeoutMs: 60_000 },
  );
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

type Read = [partition: number, offset: number, value: string];

const valuesOf = (records: Read[], partition: number): string[] =>
  records
    .filter(([p]) => p === partition)
    .sort((a, b) => a[1] - b[1])
    .map(([, , v]) => v);

describe('librdkafka transactions', () => {
  it('confluent-kafka (librdkafka 2.0.2): commit then abort; read_committed reads exactly the committed records', async () => {
    const topic = 'rdk-txn';
    await createTopic(topic, 2);
    const child = spawn(python, [script, fx.broker.kafkaBrokers, topic, 'rdk-txn-1'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const r = await runToEnd(child, 'librdkafka transactions script', '', pythonTimeoutMs);
    expect(r.code, `python exited ${r.code} (${r.signal})\n${r.stderr}`).toBe(0);
    const out = JSON.parse(r.stdout) as { read_committed: Read[]; read_uncommitted: Read[] };

    expect(valuesOf(out.read_committed, 0)).toEqual(['committed-0', 'committed-2', 'committed-4', 'end-0']);
    expect(valuesOf(out.read_committed, 1)).toEqual(['committed-1', 'committed-3', 'committed-5', 'end-1']);
    expect(valuesOf(out.read_uncommitted, 0)).toEqual([
      'committed-0',
      'committed-2',
      'committed-4',
      'aborted-0',
      'aborted-2',
      'aborted-4',
      'end-0',
    ]);
    expect(valuesOf(out.read_uncommitted, 1)).toEqual([
      'committed-1',
      'committed-3',
      'committed-5',
      'aborted-1',
      'aborted-3',
      'aborted-5',
      'end-1',
    ]);
    // offsets: three records, the commit marker (3), three aborted records, the abort marker (7), end at 8
    expect(out.read_committed.filter(([p]) => p === 0).map(([, o]) => o)).toEqual([0, 1, 2, 8]);

    // kcat, read_committed to the partition ends: the same committed records, never an aborted one
    const committed = await kcatRead(topic, 'read_committed');
    expect(committed.filter((l) => l.startsWith('0 ')).map((l) => l.slice(2))).toEqual(valuesOf(out.read_committed, 0));
    expect(committed.filter((l) => l.startsWith('1 ')).map((l) => l.slice(2))).toEqual(valuesOf(out.read_committed, 1));
    const uncommitted = await kcatRead(topic, 'read_uncommitted');
    expect(uncommitted.filter((l) => l.includes('aborted-'))).toHaveLength(6);
  });

  it('kcat -X transactional.id: stdin in one committed transaction, read back by a read_committed kcat', async () => {
    const topic = 'kcat-txn';
    await createTopic(topic, 1);
    const lines = Array.from({ length: 20 }, (_, i) => `kcat-txn-${i}`);
    const produced = await kcat.run(
      ['-b', fx.broker.kafkaBrokers, '-P', '-t', topic, '-p', '0', '-X', 'transactional.id=kcat-txn-1'],
      { input: `${lines.join('\n')}\n`, timeoutMs: 60_000 },
    );
    expect(produced.code, produced.stderr).toBe(0);
    expect(await kcatRead(topic, 'read_committed')).toEqual(lines.map((l) => `0 ${l}`));
  });
});
