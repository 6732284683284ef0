/**
 * Compression end to end on a real broker process, against independent
 * clients: Debian's kafka-python 2.0 with python-lz4 (the reference liblz4)
 * and python-snappy
 * produces lz4 batches Sluice stores as sent and every reader decodes; kcat
 * (librdkafka 2.0) and kafka-python read the gzip, snappy and lz4 batches
 * Sluice's own producer writes; a topic whose compression.type names a codec
 * has every batch stored in it, whatever the producer sent (kafkajs gzip,
 * kcat zstd, Sluice lz4), with offsets unchanged. zstd is written too (the
 * native producer, a zstd topic) and Kafka's version rules for it hold
 * (KIP-110: Produce v7+, Fetch v10+).
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { deflateRecords, inflateRecords } from '../../src/wire/compression.js';
import { Compression, compressionOf } from '../../src/wire/record-batch.js';
import { initZstd } from '../../src/wire/zstd.js';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { runToEnd } from '../helpers/child-process.js';
import { CliRunner } from '../helpers/cli-runner.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsRequest, kafkajsResponse } from '../helpers/kafkajs-protocol.js';
import { ensureKcat, Kcat } from '../helpers/kcat.js';
import { storedBatches } from '../helpers/storage.js';

const python = '/usr/bin/python3';
const pythonTimeoutMs = 60_000;

/** kafka-python: `produce` sends stdin's lines with lz4; `consume` prints every value of the topic. */
const kafkaPython = `
import sys
from kafka import KafkaConsumer, KafkaProducer
mode, bootstrap, topic = sys.argv[1:4]
if mode == 'produce':
    p = KafkaProducer(bootstrap_servers=bootstrap, compression_type='lz4', linger_ms=200, acks='all')
    for line in sys.stdin.read().splitlines():
        p.send(topic, line.encode())
    p.flush(30)
    p.close(10)
else:
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset='earliest',
                      enable_auto_commit=False, group_id=None, consumer_timeout_ms=4000)
    for m in c:
        print(m.value.decode())
    c.close()
`;

let broker: BrokerProcess;
const kcat = new Kcat();
const cli = new CliRunner();
const clients: Sluice[] = [];

function ensureDebian(pkg: string, file: string): void {
  execFileSync('bash', [path.join(repoRoot, 'scripts/debian-package.sh'), 'ensure', pkg, file], {
    stdio: 'inherit',
    timeout: 300_000,
  });
}

beforeAll(async () => {
  ensureKcat();
  ensureDebian('python3-kafka', '/usr/lib/python3/dist-packages/kafka/__init__.py');
  ensureDebian('python3-lz4', '/usr/lib/python3/dist-packages/lz4/frame/__init__.py');
  ensureDebian('python3-snappy', '/usr/lib/python3/dist-packages/snappy/__init__.py');
  broker = await BrokerProcess.start({ overrides: ['default.replication.factor=1'] });
  // kafkajs has no zstd of its own: its codec hook, filled with Sluice's (to build and read raw requests below)
  await initZstd();
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async (encoder: { buffer: Buffer }) => deflateRecords(Compression.zstd, encoder.buffer),
    decompress: async (buffer: Buffer) => inflateRecords(Compression.zstd, buffer),
  });
}, 600_000);

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  cli.killAll();
  await kcat.stopAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await kcat.stopAll();
  await broker?.destroy();
}, 30_000);

async function sluiceCli(args: string[]): Promise<string> {
  const r = await cli.run(args, { brokers: broker.address });
  expect(r.code, `sluice ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function createTopic(topic: string, configs: string[] = []): Promise<void> {
  await sluiceCli(['topic', 'create', topic, '-p', '1', '-r', '1', ...configs.flatMap((c) => ['--config', c])]);
}

async function runPython(mode: 'produce' | 'consume', topic: string, input = ''): Promise<string> {
  const child = spawn(python, ['-c', kafkaPython, mode, broker.kafkaBrokers, topic], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const r = await runToEnd(child, `kafka-python ${mode}`, input, pythonTimeoutMs);
  expect(r.code, `kafka-python ${mode}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function kcatValues(topic: string): Promise<string[]> {
  const r = await kcat.run([
    '-b',
    broker.kafkaBrokers,
    '-C',
    '-t',
    topic,
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%s\\n',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

async function sluiceValues(topic: string): Promise<string[]> {
  const out = await sluiceCli(['consume', topic, '--from-beginning', '--json', '--timeout-ms', '1500']);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { value: string }).value);
}

/** Codecs of the topic's stored batches, and their offsets, read from the segment files. */
function stored(topic: string): { codecs: number[]; baseOffsets: number[] } {
  const batches = storedBatches(path.join(broker.dataDir, `${topic}-0`));
  return {
    codecs: batches.map((b) => compressionOf(b.buf, b.pos)),
    baseOffsets: batches.map((b) => Number(b.buf.readBigInt64BE(b.pos))),
  };
}

const lines = (tag: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `{"tag":"${tag}","i":${i},"pad":"${'x'.repeat(100 + (i % 7))}"}`);

describe('lz4 from an independent client', () => {
  it('kafka-python (python-lz4) sends lz4 batches: stored as sent, read back by kcat, kafka-python and sluice', async () => {
    const topic = 'py-lz4';
    await createTopic(topic);
    const sent = lines('py', 200);
    await runPython('produce', topic, `${sent.join('\n')}\n`);
    expect(new Set(stored(topic).codecs)).toEqual(new Set([Compression.lz4]));
    expect(await kcatValues(topic)).toEqual(sent);
    expect(await sluiceValues(topic)).toEqual(sent);
    expect((await runPython('consume', topic)).split('\n').filter(Boolean)).toEqual(sent);
  });
});

describe('the native producer compresses', () => {
  for (const codec of ['gzip', 'snappy', 'lz4'] as const) {
    it(`with ${codec}: stored in ${codec}, read by kcat (librdkafka), kafka-python and the native consumer`, async () => {
      const topic = `native-${codec}`;
      await createTopic(topic);
      const sluice = new Sluice({ brokers: [broker.address], clientId: 'compression-it' });
      clients.push(sluice);
      const producer = sluice.producer({ compression: codec, lingerMs: 20, batchSize: 1 << 20 });
      const sent = lines(codec, 300);
      await producer.send({ topic, messages: sent.map((value) => ({ value, partition: 0 })) });
      await producer.close();
      const want = { gzip: Compression.gzip, snappy: Compression.snappy, lz4: Compression.lz4 }[codec];
      expect(new Set(stored(topic).codecs)).toEqual(new Set([want]));
      expect(await kcatValues(topic)).toEqual(sent);
      expect(await sluiceValues(topic)).toEqual(sent);
      expect((await runPython('consume', topic)).split('\n').filter(Boolean)).toEqual(sent);
    });
  }

  it('with zstd: stored in zstd, read by kcat (librdkafka) and the native consumer', async () => {
    const topic = 'native-zstd';
    await createTopic(topic);
    const sluice = new Sluice({ brokers: [broker.address], clientId: 'compression-it' });
    clients.push(sluice);
    const producer = sluice.producer({ compression: 'zstd', lingerMs: 20, batchSize: 1 << 20 });
    const sent = lines('zstd', 300);
    await producer.send({ topic, messages: sent.map((value) => ({ value, partition: 0 })) });
    await producer.close();
    expect(new Set(stored(topic).codecs)).toEqual(new Set([Compression.zstd]));
    expect(await kcatValues(topic)).toEqual(sent);
    expect(await sluiceValues(topic)).toEqual(sent);
  });

  it('refuses a codec it does not know, by name', () => {
    const sluice = new Sluice({ brokers: [broker.address], clientId: 'compression-it' });
    clients.push(sluice);
    expect(() => sluice.producer({ compression: 'brotli' as never })).toThrow(
      /compression must be one of none, gzip, snappy, lz4, zstd/,
    );
  });
});

describe('topic compression.type: the leader stores batches in the topic codec', () => {
  it('lz4 topic: kafkajs gzip and kcat zstd batches are stored in lz4, offsets unchanged, read back by kcat and kafka-python', async () => {
    const topic = 'recompress-lz4';
    await createTopic(topic, ['compression.type=lz4']);
    const kafka = new Kafka({ clientId: 'compression-it', brokers: [broker.kafkaBrokers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const first = lines('kafkajs-gzip', 100);
    await producer.send({
      topic,
      compression: CompressionTypes.GZIP,
      messages: first.map((value) => ({ value, partition: 0 })),
    });
    await producer.disconnect();
    const second = lines('kcat-zstd', 100);
    const r = await kcat.run(
      ['-b', broker.kafkaBrokers, '-P', '-t', topic, '-p', '0', '-z', 'zstd', '-X', 'linger.ms=100'],
      {
        input: `${second.join('\n')}\n`,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const { codecs, baseOffsets } = stored(topic);
    expect(new Set(codecs)).toEqual(new Set([Compression.lz4]));
    expect(baseOffsets[0]).toBe(0);
    expect(await kcatValues(topic)).toEqual([...first, ...second]);
    expect((await runPython('consume', topic)).split('\n').filter(Boolean)).toEqual([...first, ...second]);
  });

  it('uncompressed topic: kafka-python lz4 batches are stored uncompressed (the default, producer, keeps them lz4: above)', async () => {
    await createTopic('recompress-none', ['compression.type=uncompressed']);
    const sent = lines('py-none', 50);
    await runPython('produce', 'recompress-none', `${sent.join('\n')}\n`);
    expect(new Set(stored('recompress-none').codecs)).toEqual(new Set([Compression.none]));
    expect(await kcatValues('recompress-none')).toEqual(sent);
  });

  it("the broker's compression.type is every topic's default; a topic's own value wins", async () => {
    const other = await BrokerProcess.start({ overrides: ['default.replication.factor=1', 'compression.type=gzip'] });
    try {
      const sluice = new Sluice({ brokers: [other.address], clientId: 'compression-it' });
      clients.push(sluice);
      const admin = sluice.admin();
      await admin.createTopic({ topic: 'broker-default', partitions: 1, replicationFactor: 1 });
      await admin.createTopic({
        topic: 'topic-wins',
        partitions: 1,
        replicationFactor: 1,
        config: { 'compression.type': 'producer' },
      });
      const producer = sluice.producer({ compression: 'lz4', lingerMs: 20 });
      for (const topic of ['broker-default', 'topic-wins']) {
        await producer.send({ topic, messages: lines(topic, 20).map((value) => ({ value, partition: 0 })) });
      }
      await producer.close();
      const codecs = (topic: string) =>
        new Set(storedBatches(path.join(other.dataDir, `${topic}-0`)).map((b) => compressionOf(b.buf, b.pos)));
      expect(codecs('broker-default')).toEqual(new Set([Compression.gzip]));
      expect(codecs('topic-wins')).toEqual(new Set([Compression.lz4]));
    } finally {
      await other.destroy();
    }
  }, 120_000);

  it('refuses a value it does not know at create, by name', async () => {
    for (const bad of ['compression.type=brotli', 'compression.type=ZSTD']) {
      const r = await cli.run(['topic', 'create', 'recompress-bad', '-p', '1', '-r', '1', '--config', bad], {
        brokers: broker.address,
      });
      expect(r.code, bad).toBe(1);
      expect(r.stderr).toContain('compression.type');
    }
  });
});

type FetchAnswer = {
  responses: { partitions: { errorCode: number; messages: { value: Buffer | null }[] }[] }[];
};

describe('zstd and the Kafka versions that may carry it (KIP-110)', () => {
  const rawClients: KafkaRawClient[] = [];
  afterEach(() => {
    for (const c of rawClients.splice(0)) c.socket.destroy();
  });

  async function rawClient(): Promise<KafkaRawClient> {
    const c = await KafkaRawClient.connect(broker.kafkaPort);
    rawClients.push(c);
    return c;
  }

  async function fetchAt(client: KafkaRawClient, topic: string, version: number) {
    const request = await kafkajsRequest('fetch', version, {
      replicaId: -1,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 1 << 20 }] }],
    });
    const { decoded } = await kafkajsResponse<FetchAnswer>('fetch', version, await client.call(request));
    return decoded.responses[0]?.partitions[0];
  }

  it('zstd topic: kafkajs batches sent uncompressed are stored in zstd and read by kcat; Fetch v9 is UNSUPPORTED_COMPRESSION_TYPE, v10 reads them', async () => {
    const topic = 'recompress-zstd';
    await createTopic(topic, ['compression.type=zstd']);
    const kafka = new Kafka({ clientId: 'compression-it', brokers: [broker.kafkaBrokers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const sent = lines('kafkajs-none', 100);
    await producer.send({ topic, messages: sent.map((value) => ({ value, partition: 0 })) });
    await producer.disconnect();
    const { codecs, baseOffsets } = stored(topic);
    expect(new Set(codecs)).toEqual(new Set([Compression.zstd]));
    expect(baseOffsets[0]).toBe(0);
    expect(await kcatValues(topic)).toEqual(sent);
    expect(await sluiceValues(topic)).toEqual(sent);
    const client = await rawClient();
    for (const v of [3, 4, 9]) {
      expect((await fetchAt(client, topic, v))?.errorCode, `Fetch v${v}`).toBe(WireError.UNSUPPORTED_COMPRESSION_TYPE);
    }
    const v10 = await fetchAt(client, topic, 10);
    expect(v10?.errorCode).toBe(0);
    expect(v10?.messages.map((m) => String(m.value))).toEqual(sent);
  });

  it('Produce v3-v6 refuse a zstd batch with UNSUPPORTED_COMPRESSION_TYPE and store nothing; v7 stores it as sent', async () => {
    const topic = 'produce-zstd-versions';
    await createTopic(topic);
    const client = await rawClient();
    const produce = async (version: number, value: string) => {
      const request = await kafkajsRequest('produce', version, {
        acks: -1,
        timeout: 5000,
        compression: CompressionTypes.ZSTD,
        topicData: [{ topic, partitions: [{ partition: 0, messages: [{ key: null, value }] }] }],
      });
      const { decoded } = await kafkajsResponse<{ topics: { partitions: { errorCode: number }[] }[] }>(
        'produce',
        version,
        await client.call(request),
      );
      return decoded.topics[0]?.partitions[0]?.errorCode;
    };
    for (const v of [3, 6])
      expect(await produce(v, `v${v}`), `Produce v${v}`).toBe(WireError.UNSUPPORTED_COMPRESSION_TYPE);
    expect(stored(topic).codecs).toEqual([]);
    expect(await produce(7, 'v7')).toBe(0);
    expect(stored(topic).codecs).toEqual([Compression.zstd]);
    expect(await kcatValues(topic)).toEqual(['v7']);
  });
});
