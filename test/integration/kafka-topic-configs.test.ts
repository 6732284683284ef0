/**
 * Topic configs through Kafka clients against a real broker process (issue
 * 16 item 4): kafkajs 2.2.4's admin creates topics with configs, describes
 * them with their sources (TOPIC_CONFIG / STATIC_BROKER_CONFIG /
 * DEFAULT_CONFIG) and alters them (AlterConfigs); IncrementalAlterConfigs,
 * which kafkajs lacks, goes as hand-laid bytes (v0, and v1 flexible). Each
 * change takes effect at once: max.message.bytes refuses a kafkajs send,
 * retention.bytes moves the log start, message.timestamp.type=LogAppendTime
 * is what kcat (librdkafka) reads back as the record's timestamp, and
 * message.timestamp.difference.max.ms refuses an old CreateTime.
 */
import { type Admin, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../helpers/broker-process.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { ensureKcat, Kcat } from '../helpers/kcat.js';

let broker: BrokerProcess;
const kcat = new Kcat();
const opened: { disconnect(): Promise<void> }[] = [];
const raws: KafkaRawClient[] = [];

beforeAll(async () => {
  ensureKcat();
  broker = await BrokerProcess.start({
    overrides: ['default.replication.factor=1', 'log.segment.bytes=1048576', 'log.retention.check.interval.ms=200'],
  });
}, 60_000);

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((c) => c.disconnect()));
  for (const raw of raws.splice(0)) raw.socket.destroy();
  await kcat.stopAll();
}, 30_000);

afterAll(async () => {
  await kcat.stopAll();
  await broker?.destroy();
}, 30_000);

function kafka(): Kafka {
  return new Kafka({
    clientId: 'sluice-topic-configs-it',
    brokers: [broker.kafkaBrokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
  });
}

async function admin(): Promise<Admin> {
  const a = kafka().admin();
  opened.push(a);
  await a.connect();
  return a;
}

async function producer(): Promise<Producer> {
  const p = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } });
  opened.push(p);
  await p.connect();
  return p;
}

async function raw(): Promise<KafkaRawClient> {
  const client = await KafkaRawClient.connect(broker.kafkaPort);
  raws.push(client);
  return client;
}

/** name → [value, source] of a topic's configs, as kafkajs's DescribeConfigs (v2) reports them. */
async function describeTopic(a: Admin, topic: string): Promise<Record<string, [string | null, number]>> {
  const { resources } = await a.describeConfigs({ resources: [{ type: 2, name: topic }], includeSynonyms: false });
  const entries = resources[0]?.configEntries ?? [];
  return Object.fromEntries(entries.map((e) => [e.configName, [e.configValue, e.configSource]]));
}

// ---- IncrementalAlterConfigs (44) by hand, from Kafka's IncrementalAlterConfigsRequest.json ----

const str = (text: string): Buffer => {
  const b = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  return Buffer.concat([len, b]);
};
const nullableStr = (text: string | null): Buffer => (text === null ? Buffer.from([0xff, 0xff]) : str(text));
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const cstr = (text: string | null): Buffer => {
  if (text === null) return Buffer.from([0]);
  const b = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([b.length + 1]), b]);
};

type Op = [name: string, op: 0 | 1 | 2 | 3, value: string | null];

function incrementalV0(topic: string, ops: Op[], validateOnly = false): Buffer {
  return Buffer.concat([
    int32(1),
    Buffer.from([2]),
    str(topic),
    int32(ops.length),
    ...ops.flatMap(([name, op, value]) => [str(name), Buffer.from([op]), nullableStr(value)]),
    Buffer.from([validateOnly ? 1 : 0]),
  ]);
}

/** v1 is flexible: request header v2 ends with a tag buffer, which this body starts with (see KafkaRawClient). */
function incrementalV1(topic: string, ops: Op[]): Buffer {
  return Buffer.concat([
    Buffer.from([0]), // the request header's tagged fields
    Buffer.from([2, 2]), // one resource; type topic
    cstr(topic),
    Buffer.from([ops.length + 1]),
    ...ops.flatMap(([name, op, value]) => [cstr(name), Buffer.from([op]), cstr(value), Buffer.from([0])]),
    Buffer.from([0]), // resource tags
    Buffer.from([0]), // validate_only
    Buffer.from([0]), // request tags
  ]);
}

/** The one resource's [error_code, error_message] of a v0 response. */
function resultV0(body: Buffer): [number, string | null] {
  expect(body.readInt32BE(4)).toBe(1);
  const code = body.readInt16BE(8);
  const len = body.readInt16BE(10);
  return [code, len < 0 ? null : body.subarray(12, 12 + len).toString('utf8')];
}

/** The same from a v1 (flexible) response, after the response header's tag buffer. */
function resultV1(body: Buffer): [number, string | null] {
  expect(body[0]).toBe(0); // response header v1 tags
  expect(body[5]).toBe(2); // one result
  const code = body.readInt16BE(6);
  const len = (body[8] as number) - 1;
  return [code, len < 0 ? null : body.subarray(9, 9 + len).toString('utf8')];
}

async function incremental(topic: string, ops: Op[], validateOnly = false): Promise<[number, string | null]> {
  const client = await raw();
  return resultV0(await client.call({ apiKey: 44, apiVersion: 0, body: incrementalV0(topic, ops, validateOnly) }));
}

describe('topic configs over the Kafka listener', () => {
  it('kafkajs creates a topic with configs and describes each config with its source', async () => {
    const a = await admin();
    await a.createTopics({
      topics: [
        {
          topic: 'kc-described',
          numPartitions: 1,
          replicationFactor: 1,
          configEntries: [
            { name: 'retention.ms', value: '3600000' },
            { name: 'cleanup.policy', value: 'compact,delete' },
          ],
        },
      ],
    });
    const configs = await describeTopic(a, 'kc-described');
    expect(configs['retention.ms']).toEqual(['3600000', 1]);
    expect(configs['cleanup.policy']).toEqual(['compact,delete', 1]);
    // set in the broker's properties (--override): static broker config
    expect(configs['segment.bytes']).toEqual(['1048576', 4]);
    expect(configs['max.message.bytes']).toEqual(['1048588', 5]);
    expect(configs['message.timestamp.type']).toEqual(['CreateTime', 5]);
    // an unknown key is refused by name, with the list of known ones
    await expect(
      a.createTopics({
        topics: [{ topic: 'kc-unknown', configEntries: [{ name: 'retention.msec', value: '1' }] }],
      }),
    ).rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'INVALID_CONFIG' })] });
    const client = await raw();
    const listed = await client.call({
      apiKey: 44,
      apiVersion: 0,
      body: incrementalV0('kc-described', [['retention.msec', 0, '1']]),
    });
    const [code, message] = resultV0(listed);
    expect(code).toBe(40);
    expect(message).toContain('unknown topic config retention.msec (known: segment.bytes, segment.ms, retention.ms');
  });

  it('kafkajs AlterConfigs replaces the overrides; max.message.bytes refuses the next send at once', async () => {
    const a = await admin();
    await a.createTopics({
      topics: [{ topic: 'kc-altered', configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
    });
    const p = await producer();
    await p.send({ topic: 'kc-altered', messages: [{ value: 'x'.repeat(3000) }] });
    await a.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: 'kc-altered', configEntries: [{ name: 'max.message.bytes', value: '2000' }] }],
    });
    const configs = await describeTopic(a, 'kc-altered');
    expect(configs['max.message.bytes']).toEqual(['2000', 1]);
    // not named: back to the broker's value (config/server.properties sets log.retention.hours)
    expect(configs['retention.ms']).toEqual(['604800000', 4]);
    await expect(p.send({ topic: 'kc-altered', messages: [{ value: 'x'.repeat(3000) }] })).rejects.toThrow(
      /larger than|too large/i,
    );
    await p.send({ topic: 'kc-altered', messages: [{ value: 'small' }] });

    // validate_only checks and changes nothing; bad values and broker resources are refused
    await a.alterConfigs({
      validateOnly: true,
      resources: [{ type: 2, name: 'kc-altered', configEntries: [{ name: 'retention.ms', value: '1000' }] }],
    });
    expect((await describeTopic(a, 'kc-altered'))['retention.ms']).toEqual(['604800000', 4]);
    await expect(
      a.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2, name: 'kc-altered', configEntries: [{ name: 'cleanup.policy', value: 'shred' }] }],
      }),
    ).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(
      a.alterConfigs({
        validateOnly: false,
        resources: [{ type: 4, name: '0', configEntries: [{ name: 'log.retention.ms', value: '1' }] }],
      }),
    ).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
    await expect(
      a.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2, name: 'kc-never', configEntries: [{ name: 'retention.ms', value: '1' }] }],
      }),
    ).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect((await describeTopic(a, 'kc-altered'))['max.message.bytes']).toEqual(['2000', 1]);
  });

  it('IncrementalAlterConfigs (v0 and flexible v1): SET, DELETE, APPEND and SUBTRACT on the current overrides', async () => {
    const a = await admin();
    await a.createTopics({
      topics: [{ topic: 'kc-incremental', configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
    });
    expect(await incremental('kc-incremental', [['cleanup.policy', 2, 'compact']])).toEqual([0, null]);
    expect((await describeTopic(a, 'kc-incremental'))['cleanup.policy']).toEqual(['delete,compact', 1]);
    expect(
      await incremental('kc-incremental', [
        ['cleanup.policy', 3, 'delete'],
        ['retention.ms', 1, null],
        ['segment.ms', 0, '60000'],
      ]),
    ).toEqual([0, null]);
    let configs = await describeTopic(a, 'kc-incremental');
    expect(configs['cleanup.policy']).toEqual(['compact', 1]);
    expect(configs['retention.ms']).toEqual(['604800000', 4]);
    expect(configs['segment.ms']).toEqual(['60000', 1]);
    // refused, nothing changed: APPEND to a non-list key, SUBTRACT down to an empty list, validate_only
    const [appendCode, appendMessage] = await incremental('kc-incremental', [['segment.ms', 2, '1']]);
    expect(appendCode).toBe(40);
    expect(appendMessage).toContain('list configs only');
    expect((await incremental('kc-incremental', [['cleanup.policy', 3, 'compact']]))[0]).toBe(40);
    expect(await incremental('kc-incremental', [['segment.ms', 0, '1']], true)).toEqual([0, null]);
    expect(await describeTopic(a, 'kc-incremental')).toEqual(configs);

    const client = await raw();
    const v1 = await client.call({
      apiKey: 44,
      apiVersion: 1,
      body: incrementalV1('kc-incremental', [
        ['cleanup.policy', 0, 'delete'],
        ['segment.ms', 1, null],
      ]),
    });
    expect(resultV1(v1)).toEqual([0, null]);
    configs = await describeTopic(a, 'kc-incremental');
    expect(configs['cleanup.policy']).toEqual(['delete', 1]);
    expect(configs['segment.ms']).toEqual(['604800000', 4]);
  });

  it('retention.bytes altered at runtime moves the log start of a live log', async () => {
    const a = await admin();
    await a.createTopics({
      topics: [{ topic: 'kc-retention', configEntries: [{ name: 'segment.bytes', value: '1024' }] }],
    });
    const p = await producer();
    for (let i = 0; i < 12; i++) await p.send({ topic: 'kc-retention', messages: [{ value: 'r'.repeat(300) }] });
    expect((await a.fetchTopicOffsets('kc-retention'))[0]).toMatchObject({ low: '0', high: '12' });
    await a.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2,
          name: 'kc-retention',
          configEntries: [
            { name: 'segment.bytes', value: '1024' },
            { name: 'retention.bytes', value: '1024' },
          ],
        },
      ],
    });
    const deadline = Date.now() + 20_000;
    let low = 0;
    while (low === 0 && Date.now() < deadline) {
      low = Number((await a.fetchTopicOffsets('kc-retention'))[0]?.low);
      if (low === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(low).toBeGreaterThan(0);
    expect(low).toBeLessThan(12);
  });

  it('message.timestamp.type=LogAppendTime: kcat reads the append time, not the producer timestamp; set at runtime too', async () => {
    const a = await admin();
    await a.createTopics({
      topics: [
        { topic: 'kc-append-time', configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
        { topic: 'kc-create-time' },
      ],
    });
    const p = await producer();
    const hourAgo = Date.now() - 3_600_000;
    const before = Date.now();
    await p.send({ topic: 'kc-append-time', messages: [{ value: 'a', timestamp: String(hourAgo) }] });
    await p.send({ topic: 'kc-create-time', messages: [{ value: 'c', timestamp: String(hourAgo) }] });
    const after = Date.now();
    const timestamps = async (topic: string): Promise<number[]> => {
      const r = await kcat.run(['-b', broker.kafkaBrokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%T\\n']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').map(Number);
    };
    const [appended] = await timestamps('kc-append-time');
    expect(appended).toBeGreaterThanOrEqual(before);
    expect(appended).toBeLessThanOrEqual(after);
    expect(await timestamps('kc-create-time')).toEqual([hourAgo]);

    await a.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2,
          name: 'kc-create-time',
          configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
        },
      ],
    });
    await p.send({ topic: 'kc-create-time', messages: [{ value: 'd', timestamp: String(hourAgo) }] });
    const [first, second] = await timestamps('kc-create-time');
    expect(first).toBe(hourAgo);
    expect(second).toBeGreaterThanOrEqual(before);
  });

  it('message.timestamp.difference.max.ms refuses a CreateTime further from now (INVALID_TIMESTAMP), appending nothing', async () => {
    const a = await admin();
    await a.createTopics({
      topics: [
        { topic: 'kc-difference', configEntries: [{ name: 'message.timestamp.difference.max.ms', value: '60000' }] },
      ],
    });
    const p = await producer();
    await expect(p.send({ topic: 'kc-difference', messages: [{ value: 'old', timestamp: '1000' }] })).rejects.toThrow(
      /timestamp/i,
    );
    await p.send({ topic: 'kc-difference', messages: [{ value: 'now', timestamp: String(Date.now()) }] });
    expect((await a.fetchTopicOffsets('kc-difference'))[0]).toMatchObject({ low: '0', high: '1' });
    // lifted at runtime: the old timestamp goes in
    expect(await incremental('kc-difference', [['message.timestamp.difference.max.ms', 1, null]])).toEqual([0, null]);
    await p.send({ topic: 'kc-difference', messages: [{ value: 'old', timestamp: '1000' }] });
    expect((await a.fetchTopicOffsets('kc-difference'))[0]).toMatchObject({ high: '2' });
  });
});
