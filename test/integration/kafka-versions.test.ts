/**
 * The data-path APIs' versions against a real broker process: the flexible
 * versions (KIP-482: request header v2, response header v1, compact fields)
 * that neither kcat's librdkafka 2.0.2 (Produce v7, Fetch v11, Metadata v4,
 * ListOffsets v2 at most) nor kafkajs 2.2.4 speak, sent over a bare socket
 * with bodies laid out from Kafka's message schemas — Metadata v12, Produce
 * v9, Fetch v12, ListOffsets v7 with the max-timestamp lookup (-3, KIP-734) —
 * and kcat, which negotiates the highest versions both sides speak.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../src/protocol/binary/primitives.js';
import { zeroUuid } from '../../src/protocol/binary/schema.js';
import type { KafkaApi } from '../../src/protocol/kafka/api.js';
import { fetchApi } from '../../src/protocol/kafka/apis/fetch.js';
import { listOffsetsApi } from '../../src/protocol/kafka/apis/list-offsets.js';
import { metadataApi } from '../../src/protocol/kafka/apis/metadata.js';
import { offsetCommitApi } from '../../src/protocol/kafka/apis/offset-commit.js';
import { offsetFetchApi } from '../../src/protocol/kafka/apis/offset-fetch.js';
import { produceApi } from '../../src/protocol/kafka/apis/produce.js';
import { Compression, compressionOf, recordsCountOf } from '../../src/wire/record-batch.js';
import { runToEnd } from '../helpers/child-process.js';
import { ensureDebianPackage } from '../helpers/debian-package.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsRequest, kafkajsResponse } from '../helpers/kafkajs-protocol.js';
import { kafkajsEncodeBatch } from '../helpers/kafkajs-wire.js';
import { kcatBrokerFixture } from '../helpers/kcat-broker.js';
import { storedBatches } from '../helpers/storage.js';

const fx = kcatBrokerFixture({ overrides: ['default.replication.factor=1'] });
const { kcat, createTopic } = fx;

async function kcatOk(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await kcat.run(['-b', fx.broker.kafkaBrokers, ...args], input === undefined ? {} : { input });
  expect(r.code, `kcat ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

/**
 * One flexible request: the raw client writes a v1 request header, and a v2
 * header is that plus a tagged-field section, so the body starts with one
 * (empty); the response header v1 likewise ends with one, the first byte of
 * what the raw client hands back. The body is written and the answer read
 * with the API's schema, whose byte layout the unit tests pin
 * (test/unit/protocol/kafka-flexible-versions.test.ts).
 */
async function flexibleCall<Req, Res>(
  client: KafkaRawClient,
  api: KafkaApi<Req, Res>,
  version: number,
  body: Req,
): Promise<Res> {
  const v = { version, flexible: true };
  expect(version).toBeGreaterThanOrEqual(api.flexibleFrom);
  const w = new KafkaWriter().emptyTaggedFields();
  api.request.write(w, body, v);
  const answer = await client.call({ apiKey: api.apiKey, apiVersion: version, body: w.toBuffer() });
  const r = new KafkaReader(answer);
  r.skipTaggedFields();
  const response = api.response.read(r, v);
  expect(r.remaining).toBe(0);
  return response;
}

describe('flexible versions against a broker', () => {
  it('Metadata v12, Produce v9, Fetch v12 and ListOffsets v7 (max timestamp) round-trip', async () => {
    const topic = 'flexible-path';
    await createTopic(topic, 2);
    const client = await KafkaRawClient.connect(fx.broker.kafkaPort);
    try {
      const metadata = await flexibleCall(client, metadataApi, 12, {
        topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: topic }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      expect(metadata.brokers.map((b) => b.port)).toEqual([fx.broker.kafkaPort]);
      expect(metadata.topics).toMatchObject([{ errorCode: 0, name: topic, partitions: [{}, {}] }]);

      const base = 1_700_000_000_000;
      // the largest timestamp is the second record's; the third is older again
      const batch = await kafkajsEncodeBatch({
        records: [0, 5_000, 10].map((delta, i) => ({
          key: null,
          value: Buffer.from(`v${i}`),
          timestampDelta: delta,
          offsetDelta: i,
        })),
        firstTimestamp: base,
        maxTimestamp: base + 5_000,
      });
      const produced = await flexibleCall(client, produceApi, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5_000,
        topics: [{ name: topic, partitions: [{ index: 1, records: batch }] }],
      });
      expect(produced.responses).toMatchObject([
        { name: topic, partitionResponses: [{ index: 1, errorCode: 0, baseOffset: 0 }] },
      ]);

      const fetched = await flexibleCall(client, fetchApi, 12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic,
            topicId: zeroUuid,
            partitions: [
              {
                partition: 1,
                currentLeaderEpoch: -1,
                fetchOffset: 0,
                lastFetchedEpoch: -1,
                logStartOffset: -1,
                partitionMaxBytes: 1 << 20,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
      const partition = fetched.responses[0]?.partitions[0];
      expect(partition).toMatchObject({ partitionIndex: 1, errorCode: 0, highWatermark: 3 });
      // the stored batch is the one sent, with its base offset and leader epoch stamped: same bytes from the magic on
      expect(partition?.records?.subarray(16).toString('hex')).toBe(batch.subarray(16).toString('hex'));

      const listed = await flexibleCall(client, listOffsetsApi, 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [
          {
            name: topic,
            partitions: [
              { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -3, maxNumOffsets: 1 },
              { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3, maxNumOffsets: 1 },
            ],
          },
        ],
      });
      expect(listed.topics[0]?.partitions).toEqual([
        { partitionIndex: 1, errorCode: 0, oldStyleOffsets: [], timestamp: base + 5_000, offset: 1, leaderEpoch: -1 },
        // an empty partition: no record, offset -1 and timestamp -1 as Kafka answers
        { partitionIndex: 0, errorCode: 0, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 },
      ]);
    } finally {
      client.close();
    }
  });

  it('Fetch v13 names topics by id (unknown and zero ids: UNKNOWN_TOPIC_ID per partition) and OffsetFetch v8 asks for two groups', async () => {
    const topic = 'by-topic-id';
    await createTopic(topic, 1);
    const client = await KafkaRawClient.connect(fx.broker.kafkaPort);
    try {
      const metadata = await flexibleCall(client, metadataApi, 12, {
        topics: [{ topicId: zeroUuid, name: topic }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      const topicId = metadata.topics[0]?.topicId ?? zeroUuid;
      expect(topicId).not.toBe(zeroUuid);
      const batch = await kafkajsEncodeBatch({
        records: [{ key: null, value: Buffer.from('by-id'), timestampDelta: 0, offsetDelta: 0 }],
        firstTimestamp: 1_700_000_000_000,
        maxTimestamp: 1_700_000_000_000,
      });
      const produced = await flexibleCall(client, produceApi, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5_000,
        topics: [{ name: topic, partitions: [{ index: 0, records: batch }] }],
      });
      expect(produced.responses).toMatchObject([{ partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 0 }] }]);

      // an id no topic has: the known one with its last byte changed
      const unknownId = Buffer.from(topicId, 'base64url').map((b, i) => (i === 15 ? b ^ 0xff : b));
      const partition = (p: number) => ({
        partition: p,
        currentLeaderEpoch: -1,
        fetchOffset: 0,
        lastFetchedEpoch: -1,
        logStartOffset: -1,
        partitionMaxBytes: 1 << 20,
      });
      const fetched = await flexibleCall(client, fetchApi, 13, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          { topic: '', topicId, partitions: [partition(0)] },
          { topic: '', topicId: Buffer.from(unknownId).toString('base64url'), partitions: [partition(0)] },
          { topic: '', topicId: zeroUuid, partitions: [partition(0)] },
        ],
        forgottenTopicsData: [{ topic: '', topicId, partitions: [3] }],
        rackId: '',
      });
      expect(fetched.errorCode).toBe(0);
      expect(
        fetched.responses.map((t) => [t.topicId, t.partitions.map((p) => [p.errorCode, p.highWatermark])]),
      ).toEqual([
        [topicId, [[0, 1]]],
        [Buffer.from(unknownId).toString('base64url'), [[100, -1]]],
        [zeroUuid, [[100, -1]]],
      ]);
      expect(fetched.responses[0]?.partitions[0]?.records?.subarray(16).toString('hex')).toBe(
        batch.subarray(16).toString('hex'),
      );

      const committed = await flexibleCall(client, offsetCommitApi, 8, {
        groupId: 'by-id-group',
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1,
        topics: [
          {
            name: topic,
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 1,
                committedLeaderEpoch: -1,
                commitTimestamp: -1,
                committedMetadata: 'm',
              },
            ],
          },
        ],
      });
      expect(committed.topics).toMatchObject([{ partitions: [{ errorCode: 0 }] }]);
      const offsets = await flexibleCall(client, offsetFetchApi, 8, {
        groupId: '',
        topics: null,
        groups: [
          { groupId: 'by-id-group', topics: [{ name: topic, partitionIndexes: [0] }] },
          { groupId: 'no-such-group', topics: [{ name: topic, partitionIndexes: [0] }] },
          { groupId: 'by-id-group', topics: null },
        ],
        requireStable: false,
      });
      const p0 = (offset: number, metadata: string) => ({
        partitionIndex: 0,
        committedOffset: offset,
        committedLeaderEpoch: -1,
        metadata,
        errorCode: 0,
      });
      expect(offsets.groups).toEqual([
        { groupId: 'by-id-group', errorCode: 0, topics: [{ name: topic, partitions: [p0(1, 'm')] }] },
        // a group nobody committed for: nothing committed, no error (Kafka 3.x)
        { groupId: 'no-such-group', errorCode: 0, topics: [{ name: topic, partitions: [p0(-1, '')] }] },
        { groupId: 'by-id-group', errorCode: 0, topics: [{ name: topic, partitions: [p0(1, 'm')] }] },
      ]);
    } finally {
      client.close();
    }
  });

  it('kcat (librdkafka 2.0.2) negotiates its highest versions and still produces, consumes and lists', async () => {
    const topic = 'kcat-versions';
    await createTopic(topic, 1);
    const produced = await kcatOk(['-P', '-t', topic, '-X', 'debug=protocol'], 'one\ntwo\nthree\n');
    // librdkafka 2.0.2's highest: Produce v7, Metadata v4 (both sides speak them)
    expect(produced.stderr).toMatch(/Sent ProduceRequest \(v7,/);
    expect(produced.stderr).toMatch(/Sent MetadataRequest \(v4,/);
    const consumed = await kcatOk(['-C', '-t', topic, '-o', 'beginning', '-e', '-X', 'debug=protocol']);
    expect(consumed.stdout.trim().split('\n')).toEqual(['one', 'two', 'three']);
    expect(consumed.stderr).toMatch(/Sent FetchRequest \(v11,/);
    const listed = await kcatOk(['-L', '-t', topic]);
    expect(listed.stdout).toContain(`topic "${topic}" with 1 partitions`);
  });
});

/** kcat's records (-J envelopes), read from the beginning to the end at kcat's own (highest) versions. */
async function kcatReadAll(topic: string): Promise<{ offset: number; key: string | null; payload: string }[]> {
  const { stdout } = await kcatOk(['-C', '-t', topic, '-o', 'beginning', '-e', '-J']);
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { offset: number; key: string | null; payload: string });
}

describe('message format v0/v1 (Produce v0-v2, Fetch v2-v3)', () => {
  for (const codec of ['gzip', 'snappy'] as const) {
    it(`kcat -X compression.codec=${codec}: librdkafka 2.0 now compresses, the stored batch is ${codec}, and it reads back`, async () => {
      const topic = `kcat-${codec}`;
      await createTopic(topic, 1);
      const lines = Array.from({ length: 40 }, (_, i) => `record ${i} with a compressible compressible tail`);
      const produced = await kcatOk(
        ['-P', '-t', topic, '-X', `compression.codec=${codec}`, '-X', 'linger.ms=200', '-X', 'debug=msg'],
        `${lines.join('\n')}\n`,
      );
      // before Produce v0 was offered, librdkafka 2.0 said so and sent the batch uncompressed
      expect(produced.stderr).not.toMatch(/does not support compression/);
      const batches = storedBatches(path.join(fx.broker.dataDir, `${topic}-0`));
      expect(batches.length).toBeGreaterThan(0);
      for (const b of batches) expect(compressionOf(b.buf, b.pos), 'codec of a stored batch').toBe(Compression[codec]);
      expect((await kcatReadAll(topic)).map((r) => r.payload)).toEqual(lines);
    });
  }

  it('kcat with broker.version.fallback=0.9.0 (no ApiVersions: Produce v1, Fetch v1, ListOffsets v0, magic 0) produces and consumes', async () => {
    const topic = 'kcat-fallback';
    await createTopic(topic, 1);
    const old = ['-X', 'api.version.request=false', '-X', 'broker.version.fallback=0.9.0'];
    const plain = await kcatOk(
      ['-P', '-t', topic, '-K', ':', ...old, '-X', 'debug=protocol'],
      'a:one\nb:two\n:three\n',
    );
    expect(plain.stderr).toMatch(/Sent ProduceRequest \(v1,/);
    // a magic-0 gzip wrapper (absolute inner offsets) becomes a gzip v2 batch
    await kcatOk(['-P', '-t', topic, '-K', ':', '-z', 'gzip', '-X', 'linger.ms=100', ...old], 'c:four\nd:five\n');
    const batches = storedBatches(path.join(fx.broker.dataDir, `${topic}-0`));
    expect(batches.map((b) => b.buf[b.pos + 16])).toEqual(batches.map(() => 2));
    expect(batches.reduce((n, b) => n + recordsCountOf(b.buf, b.pos), 0)).toBe(5);
    expect(compressionOf(batches.at(-1)?.buf as Buffer, batches.at(-1)?.pos as number)).toBe(Compression.gzip);
    const expected = [
      ['a', 'one'],
      ['b', 'two'],
      ['', 'three'],
      ['c', 'four'],
      ['d', 'five'],
    ];
    expect((await kcatReadAll(topic)).map((r) => [r.key, r.payload])).toEqual(expected);
    // and read back at the old versions: ListOffsets v0 for "beginning", Fetch v1 answered with magic 0 messages
    const consumed = await kcatOk([
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-K',
      ':',
      ...old,
      '-X',
      'debug=protocol',
    ]);
    expect(consumed.stderr).toMatch(/Sent ListOffsetsRequest \(v0,/);
    expect(consumed.stderr).toMatch(/Sent FetchRequest \(v1,/);
    expect(consumed.stdout.trim().split('\n')).toEqual(expected.map(([k, v]) => `${k}:${v}`));
  });

  it("kafkajs's Produce v2 (gzip message set) and Fetch v2/v3 encoders and decoders against the broker", async () => {
    const topic = 'kafkajs-v1-format';
    await createTopic(topic, 1);
    const client = await KafkaRawClient.connect(fx.broker.kafkaPort);
    try {
      const messages = Array.from({ length: 5 }, (_, i) => ({
        key: `k${i}`,
        value: `value ${i} `.repeat(10),
        timestamp: 1_700_000_000_000 + i,
      }));
      const produce = await kafkajsRequest('produce', 2, {
        acks: -1,
        timeout: 5000,
        compression: 1,
        topicData: [{ topic, partitions: [{ partition: 0, messages }] }],
      });
      const produced = await kafkajsResponse('produce', 2, await client.call(produce));
      expect(produced.decoded).toMatchObject({
        topics: [{ topicName: topic, partitions: [{ partition: 0, errorCode: 0, offset: '0' }] }],
      });
      const stored = storedBatches(path.join(fx.broker.dataDir, `${topic}-0`));
      expect(stored.map((b) => compressionOf(b.buf, b.pos))).toEqual([Compression.gzip]);

      for (const v of [2, 3]) {
        const fetch = await kafkajsRequest('fetch', v, {
          replicaId: -1,
          maxWaitTime: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          topics: [{ topic, partitions: [{ partition: 0, fetchOffset: '2', maxBytes: 1 << 20 }] }],
        });
        const { decoded } = await kafkajsResponse<{
          responses: {
            partitions: { errorCode: number; highWatermark: string; messages: Record<string, unknown>[] }[];
          }[];
        }>('fetch', v, await client.call(fetch));
        const partition = decoded.responses[0]?.partitions[0];
        expect(partition?.errorCode).toBe(0);
        expect(partition?.highWatermark).toBe('5');
        expect(
          partition?.messages.map((m) => [m.offset, m.magicByte, String(m.key), String(m.value), String(m.timestamp)]),
        ).toEqual(messages.slice(2).map((m, i) => [String(i + 2), 1, m.key, m.value, String(m.timestamp)]));
      }
    } finally {
      client.close();
    }
  });
});

/**
 * kafka-python 2.0.2 (Debian's python3-kafka, what `pip install kafka-python` gave for years): a
 * producer with gzip and a consumer reading from the beginning, run as a child process (killed by
 * PID on its timeout). It picks its own versions from ApiVersions.
 */
const kafkaPythonScript = `
import json, sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
boot, topic = sys.argv[1], sys.argv[2]
p = KafkaProducer(bootstrap_servers=boot, compression_type='gzip', linger_ms=50)
futures = [p.send(topic, key=b'k%d' % i, value=(b'value %d ' % i) * 8) for i in range(20)]
p.flush()
offsets = [f.get(timeout=10).offset for f in futures]
p.close()
c = KafkaConsumer(bootstrap_servers=boot, auto_offset_reset='earliest', consumer_timeout_ms=3000)
tp = TopicPartition(topic, 0)
c.assign([tp])
c.seek_to_beginning(tp)
got = [[m.offset, m.key.decode(), m.value.decode()] for m in c]
c.close()
print(json.dumps({'offsets': offsets, 'got': got}))
`;

describe('kafka-python 2.0 (Debian python3-kafka)', () => {
  it('produces gzip batches that are stored compressed, and consumes them', async () => {
    ensureDebianPackage('python3-kafka', '/usr/lib/python3/dist-packages/kafka/__init__.py');
    const topic = 'kafka-python-gzip';
    await createTopic(topic, 1);
    const child = spawn('/usr/bin/python3', ['-c', kafkaPythonScript, fx.broker.kafkaBrokers, topic], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const r = await runToEnd(child, 'kafka-python', '', 60_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { offsets: number[]; got: [number, string, string][] };
    expect(out.offsets).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(out.got).toEqual(Array.from({ length: 20 }, (_, i) => [i, `k${i}`, `value ${i} `.repeat(8)]));
    const batches = storedBatches(path.join(fx.broker.dataDir, `${topic}-0`));
    for (const b of batches) expect(compressionOf(b.buf, b.pos)).toBe(Compression.gzip);
  }, 400_000);
});
