/**
 * The broker's native protocol over real TCP (a real Broker with real logs in
 * a temp dir): every API, long-poll fetch woken by appends, responses in
 * request order, bad input answered with typed errors or a closed connection
 * while other clients keep being served.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { parseBrokerConfig } from '../../src/config/broker-config.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { encodeRequest } from '../../src/protocol/native/frame.js';
import { silentLogger } from '../../src/shared/logger.js';
import { decodeRecords } from '../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Decoded response bodies; each test checks the fields it reads. */
interface Any {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

let broker: Broker;
let port: number;
let cleanup: () => void;
const clients: RawClient[] = [];

async function startBroker(dir: string, overrides: Record<string, string> = {}): Promise<void> {
  const props = new Map(
    Object.entries({
      port: '0',
      'http.port': '0',
      'log.dirs': dir,
      'socket.request.max.bytes': '1048576',
      ...overrides,
    }),
  );
  broker = new Broker(parseBrokerConfig(props), silentLogger);
  port = (await broker.start()).port;
}

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

const batch = (values: string[], key: string | null = null, timestamp?: number): Buffer =>
  encodeRecordBatch(
    values.map((v, i) => ({ key: key === null ? null : Buffer.from(`${key}${i}`), value: Buffer.from(v), timestamp })),
  );

function produceBody(topic: string, partition: number, records: Buffer, acks = 1): Any {
  return { acks, timeoutMs: 1000, topics: [{ name: topic, partitions: [{ partition, records }] }] };
}

function fetchBody(topic: string, partition: number, fetchOffset: number, maxWaitMs = 0, minBytes = 1): Any {
  return {
    maxWaitMs,
    minBytes,
    maxBytes: 1 << 20,
    topics: [{ name: topic, partitions: [{ partition, fetchOffset, partitionMaxBytes: 1 << 20 }] }],
  };
}

beforeEach(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  await startBroker(t.dir);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await broker.stop();
  cleanup();
});

describe('native protocol', () => {
  it('creates topics, rejects bad names and duplicates, lists them in metadata, deletes them', async () => {
    const c = await client();
    const created = await c.call<Any>(ApiKey.CreateTopics, {
      topics: [{ name: 'orders', numPartitions: 3 }, { name: 'bad name' }, { name: 'x'.repeat(250) }],
    });
    expect(created.topics.map((t: Any) => t.errorCode)).toEqual([
      0,
      WireError.INVALID_TOPIC_EXCEPTION,
      WireError.INVALID_TOPIC_EXCEPTION,
    ]);
    expect(created.topics[1].errorMessage).toMatch(/characters/);
    // an existing name in a later request (one request naming a topic twice is INVALID_REQUEST, Kafka's rule:
    // request-duplicate-entries.test.ts)
    const again = await c.call<Any>(ApiKey.CreateTopics, { topics: [{ name: 'orders' }] });
    expect(again.topics.map((t: Any) => t.errorCode)).toEqual([WireError.TOPIC_ALREADY_EXISTS]);
    const rf = await c.call<Any>(ApiKey.CreateTopics, { topics: [{ name: 'replicated', replicationFactor: 3 }] });
    expect(rf.topics[0].errorCode).toBe(WireError.INVALID_REPLICATION_FACTOR);
    const cfg = await c.call<Any>(ApiKey.CreateTopics, {
      topics: [{ name: 'cfg', configs: { 'retention.mss': '1' } }],
    });
    expect(cfg.topics[0].errorCode).toBe(WireError.INVALID_CONFIG);

    const md = await c.call<Any>(ApiKey.Metadata, { topics: null });
    expect(md.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port }]);
    expect(md.topics.map((t: Any) => t.name)).toEqual(['orders']);
    expect(md.topics[0].partitions.map((p: Any) => [p.partition, p.leader, p.isr])).toEqual([
      [0, 0, [0]],
      [1, 0, [0]],
      [2, 0, [0]],
    ]);
    const unknown = await c.call<Any>(ApiKey.Metadata, { topics: ['nope'], allowAutoTopicCreation: false });
    expect(unknown.topics[0].errorCode).toBe(WireError.UNKNOWN_TOPIC_OR_PARTITION);

    const deleted = await c.call<Any>(ApiKey.DeleteTopics, { topics: ['orders', 'nope'] });
    expect(deleted.topics.map((t: Any) => t.errorCode)).toEqual([0, WireError.UNKNOWN_TOPIC_OR_PARTITION]);
    expect((await c.call<Any>(ApiKey.Metadata, { topics: null })).topics).toEqual([]);
  });

  it('auto-creates a topic on metadata and on produce with num.partitions', async () => {
    const c = await client();
    const md = await c.call<Any>(ApiKey.Metadata, { topics: ['auto1'], allowAutoTopicCreation: true });
    expect(md.topics[0].errorCode).toBe(0);
    expect(md.topics[0].partitions).toHaveLength(1);
    const produced = await c.call<Any>(ApiKey.Produce, produceBody('auto2', 0, batch(['a'])));
    expect(produced.topics[0].partitions[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
  });

  it('produces with acks 1, -1 and 0 and fetches the same bytes back', async () => {
    const c = await client();
    await c.call(ApiKey.CreateTopics, { topics: [{ name: 't', numPartitions: 2 }] });
    const one = await c.call<Any>(ApiKey.Produce, produceBody('t', 1, batch(['a', 'b'], 'k'), 1));
    const all = await c.call<Any>(ApiKey.Produce, produceBody('t', 1, batch(['c'], 'k'), -1));
    c.send(ApiKey.Produce, produceBody('t', 1, batch(['d', 'e'], 'k'), 0));
    expect(one.topics[0].partitions[0].baseOffset).toBe(0);
    expect(all.topics[0].partitions[0].baseOffset).toBe(2);
    // the acks-0 request has no response; a later request on the same connection is answered after it
    const offsets = await c.call<Any>(ApiKey.ListOffsets, {
      topics: [{ name: 't', partitions: [{ partition: 1, timestamp: -1 }] }],
    });
    expect(offsets.topics[0].partitions[0].offset).toBe(5);
    const fetched = await c.call<Any>(ApiKey.Fetch, fetchBody('t', 1, 0));
    const p = fetched.topics[0].partitions[0];
    expect(p.highWatermark).toBe(5);
    expect(decodeRecords(p.records).map((r) => [r.offset, r.key?.toString(), r.value?.toString()])).toEqual([
      [0, 'k0', 'a'],
      [1, 'k1', 'b'],
      [2, 'k0', 'c'],
      [3, 'k0', 'd'],
      [4, 'k1', 'e'],
    ]);
    const bad = await c.call<Any>(ApiKey.Produce, produceBody('t', 0, batch(['x']), 2));
    expect(bad.errorCode).toBe(WireError.INVALID_REQUEST);
    const corrupt = batch(['x']);
    corrupt.writeUInt8((corrupt.at(-1) as number) ^ 0xff, corrupt.length - 1);
    const refused = await c.call<Any>(ApiKey.Produce, produceBody('t', 0, corrupt));
    expect(refused.topics[0].partitions[0].errorCode).toBe(WireError.CORRUPT_MESSAGE);
    const missing = await c.call<Any>(ApiKey.Produce, produceBody('t', 7, batch(['x'])));
    expect(missing.topics[0].partitions[0].errorCode).toBe(WireError.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('lists offsets: earliest, latest, by timestamp', async () => {
    const c = await client();
    await c.call(ApiKey.CreateTopics, { topics: [{ name: 'time', numPartitions: 1 }] });
    for (let i = 0; i < 5; i++)
      await c.call(ApiKey.Produce, produceBody('time', 0, batch([`v${i}`], null, 1000 * (i + 1))));
    const r = await c.call<Any>(ApiKey.ListOffsets, {
      topics: [
        { name: 'time', partitions: [-2, -1, 2500, 3000, 99999].map((timestamp) => ({ partition: 0, timestamp })) },
      ],
    });
    expect(r.topics[0].partitions.map((p: Any) => [p.offset, p.timestamp])).toEqual([
      [0, -1],
      [5, -1],
      [2, 3000],
      [2, 3000],
      [5, -1],
    ]);
  });

  it('long-polls a fetch until an append arrives, and returns at maxWaitMs when none does', async () => {
    const c = await client();
    const producer = await client();
    await c.call(ApiKey.CreateTopics, { topics: [{ name: 'poll', numPartitions: 1 }] });
    let started = Date.now();
    const waiting = c.call<Any>(ApiKey.Fetch, fetchBody('poll', 0, 0, 5000));
    await new Promise((r) => setTimeout(r, 200));
    await producer.call(ApiKey.Produce, produceBody('poll', 0, batch(['wake'])));
    const woke = await waiting;
    expect(Date.now() - started).toBeLessThan(4000);
    expect(decodeRecords(woke.topics[0].partitions[0].records)[0]?.value?.toString()).toBe('wake');
    started = Date.now();
    const timedOut = await c.call<Any>(ApiKey.Fetch, fetchBody('poll', 0, 1, 300));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(timedOut.topics[0].partitions[0].records.length).toBe(0);
    const out = await c.call<Any>(ApiKey.Fetch, fetchBody('poll', 0, 9));
    expect(out.topics[0].partitions[0].errorCode).toBe(WireError.OFFSET_OUT_OF_RANGE);
  });

  it('answers requests in the order they were sent, even when a long poll is first', async () => {
    const c = await client();
    await c.call(ApiKey.CreateTopics, { topics: [{ name: 'order', numPartitions: 1 }] });
    const order: string[] = [];
    const slow = c.call(ApiKey.Fetch, fetchBody('order', 0, 0, 400)).then(() => order.push('fetch'));
    const fast = c.call(ApiKey.ApiVersions, {}).then(() => order.push('versions'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['fetch', 'versions']);
  });

  it('answers an unknown API or version with UNSUPPORTED_VERSION', async () => {
    const c = await client();
    expect((await c.call<Any>(99, {})).errorCode).toBe(WireError.UNSUPPORTED_VERSION);
    expect((await c.call<Any>(ApiKey.Metadata, { topics: null }, 5000, 7)).errorCode).toBe(
      WireError.UNSUPPORTED_VERSION,
    );
    expect((await c.call<Any>(ApiKey.Produce, { acks: 1, topics: 'no' })).errorCode).toBe(WireError.INVALID_REQUEST);
  });

  it('closes a connection that sends garbage or an oversized frame and keeps serving others', async () => {
    const good = await client();
    const garbage = await client();
    garbage.writeRaw(Buffer.from([0, 0, 0, 5, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1]));
    await garbage.closed;
    const huge = await client();
    const header = Buffer.alloc(4);
    header.writeInt32BE(2 * 1048576);
    huge.writeRaw(header);
    await huge.closed;
    const negative = await client();
    negative.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await negative.closed;
    // a partial frame leaves only its own connection waiting
    const partial = await client();
    partial.writeRaw(encodeRequest({ apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'x' }, {}).subarray(0, 6));
    expect((await good.call<Any>(ApiKey.ApiVersions, {})).errorCode).toBe(0);
    const fresh = await client();
    // every native API (the transaction APIs of issue 21 included)
    expect((await fresh.call<Any>(ApiKey.ApiVersions, {})).apis.length).toBe(Object.keys(ApiKey).length);
  });

  it('answers the ACL APIs with SECURITY_DISABLED while the authorizer is off (authorizer.enabled=false)', async () => {
    const c = await client();
    const filter = {
      resourceType: 1,
      resourceName: null,
      patternType: 1,
      principal: null,
      host: null,
      operation: 1,
      permission: 1,
    };
    const creation = {
      resourceType: 2,
      resourceName: 't',
      patternType: 3,
      principal: 'User:x',
      host: '*',
      operation: 3,
      permission: 3,
    };
    for (const [key, body] of [
      [ApiKey.CreateAcls, { creations: [creation] }],
      [ApiKey.DescribeAcls, filter],
      [ApiKey.DeleteAcls, { filters: [filter] }],
    ] as const) {
      const res = await c.call<Any>(key, body);
      expect(res.errorCode).toBe(WireError.SECURITY_DISABLED);
      expect(res.errorMessage).toMatch(/authorizer.enabled=true/);
    }
  });

  it('keeps topics and records across a restart', async () => {
    const c = await client();
    await c.call(ApiKey.CreateTopics, {
      topics: [{ name: 'durable', numPartitions: 2, configs: { 'retention.ms': '-1' } }],
    });
    await c.call(ApiKey.Produce, produceBody('durable', 1, batch(['x', 'y'], 'k')));
    const { clusterId } = await c.call<Any>(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
    expect(clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    c.close();
    const dir = broker.config.list('log.dirs')[0] as string;
    await broker.stop();
    await startBroker(dir);
    const again = await client();
    const md = await again.call<Any>(ApiKey.Metadata, { topics: ['durable'], allowAutoTopicCreation: false });
    expect(md.topics[0].partitions).toHaveLength(2);
    // the cluster id is kept in the broker's LevelDB: the same after the restart
    expect(md.clusterId).toBe(clusterId);
    const fetched = await again.call<Any>(ApiKey.Fetch, fetchBody('durable', 1, 0));
    expect(decodeRecords(fetched.topics[0].partitions[0].records).map((r) => r.value?.toString())).toEqual(['x', 'y']);
  });
});
