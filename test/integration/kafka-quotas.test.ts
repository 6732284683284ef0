/**
 * Client quotas on the Kafka listener (issue 17): a producer over
 * producer_byte_rate and a consumer over consumer_byte_rate are answered with
 * throttle_time_ms > 0 (Produce v7 and Fetch v4 as kafkajs's encoders and
 * decoders write and read them), stay connected, and lose no data.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsRequest, kafkajsResponse } from '../helpers/kafkajs-protocol.js';
import { RawClient } from '../helpers/raw-client.js';

const topic = 'quota-t';
const str = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  return b.length.toString(16).padStart(4, '0') + b.toString('hex');
};
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const valueBytes = 50 * 1024;
const sends = 10;

let broker: BrokerProcess;
let kafka: KafkaRawClient;

beforeAll(async () => {
  broker = await BrokerProcess.start({
    overrides: [
      // 200 KB/s over a window of at least 1 s (2 samples of 1 s): the 5th 50 KB send is over
      'quota.producer.default=204800',
      'quota.consumer.default=204800',
      'quota.window.num=2',
      'quota.window.size.seconds=1',
      'auto.create.topics.enable=true',
    ],
  });
  kafka = await KafkaRawClient.connect(broker.kafkaPort);
}, 30_000);

const cli = new CliRunner();

/** A request frame with a v1 header whose response (none, for acks 0) is not awaited. */
function frame(request: { apiKey: number; apiVersion: number; body: Buffer }): Buffer {
  const clientId = Buffer.from('raw-kafka');
  const header = Buffer.alloc(10);
  header.writeInt16BE(request.apiKey, 0);
  header.writeInt16BE(request.apiVersion, 2);
  header.writeInt32BE(0x7fff0000, 4);
  header.writeInt16BE(clientId.length, 8);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + clientId.length + request.body.length, 0);
  return Buffer.concat([size, header, clientId, request.body]);
}

/** Waits until partition `partition` of `name` ends at `end` (ListOffsets latest, on a connection of its own). */
async function waitForLogEnd(name: string, partition: number, end: number): Promise<void> {
  const other = await KafkaRawClient.connect(broker.kafkaPort);
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      const request = await kafkajsRequest('listOffsets', 1, {
        replicaId: -1,
        topics: [{ topic: name, partitions: [{ partition, timestamp: -1 }] }],
      });
      const { decoded } = await kafkajsResponse<{ responses: { partitions: { offset: string }[] }[] }>(
        'listOffsets',
        1,
        await other.call(request),
      );
      if (Number(decoded.responses[0]?.partitions[0]?.offset) >= end) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${name}-${partition} did not reach offset ${end}`);
  } finally {
    other.close();
  }
}

afterEach(() => {
  cli.killAll();
});

afterAll(async () => {
  kafka?.close();
  await broker?.destroy();
});

describe('client quotas', () => {
  it('throttles a producer over producer_byte_rate with throttle_time_ms, without disconnecting it', async () => {
    const throttles: number[] = [];
    const offsets: string[] = [];
    for (let i = 0; i < sends; i++) {
      const produce = await kafkajsRequest('produce', 7, {
        acks: 1,
        timeout: 5000,
        topicData: [
          { topic, partitions: [{ partition: 0, messages: [{ key: null, value: Buffer.alloc(valueBytes, i) }] }] },
        ],
      });
      const { decoded } = await kafkajsResponse<{
        // kafkajs names Produce v6+'s throttle_time_ms clientSideThrottleTime (KIP-219: the client waits it out)
        clientSideThrottleTime: number;
        topics: { partitions: { errorCode: number; baseOffset: string }[] }[];
      }>('produce', 7, await kafka.call(produce, 30_000));
      expect(decoded.topics[0]?.partitions[0]?.errorCode).toBe(0);
      offsets.push(decoded.topics[0]?.partitions[0]?.baseOffset ?? '');
      throttles.push(decoded.clientSideThrottleTime);
    }
    // every send was appended, in order, on the one connection
    expect(offsets).toEqual(Array.from({ length: sends }, (_, i) => String(i)));
    expect(throttles.slice(0, 3)).toEqual([0, 0, 0]);
    expect(Math.max(...throttles)).toBeGreaterThan(0);
    // capped at the whole window (2 × 1 s)
    expect(Math.max(...throttles)).toBeLessThanOrEqual(2000);
  }, 60_000);

  it('throttles a consumer over consumer_byte_rate, and every record is fetched', async () => {
    const throttles: number[] = [];
    let next = 0;
    for (let round = 0; round < 20 && next < sends; round++) {
      const fetch = await kafkajsRequest('fetch', 4, {
        replicaId: -1,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 10 * 1024 * 1024,
        isolationLevel: 0,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: String(next), maxBytes: 3 * valueBytes }] }],
      });
      const { decoded } = await kafkajsResponse<{
        throttleTime: number;
        responses: { partitions: { errorCode: number; messages: { offset: string; value: Buffer }[] }[] }[];
      }>('fetch', 4, await kafka.call(fetch, 30_000));
      const partition = decoded.responses[0]?.partitions[0];
      expect(partition?.errorCode).toBe(0);
      for (const m of partition?.messages ?? []) {
        if (Number(m.offset) !== next) continue;
        expect(m.value.length).toBe(valueBytes);
        expect(m.value[0]).toBe(next);
        next++;
      }
      throttles.push(decoded.throttleTime);
    }
    expect(next).toBe(sends);
    expect(Math.max(...throttles)).toBeGreaterThan(0);
  }, 60_000);

  it('shows the throttling in the Prometheus metrics, per quota and client id', async () => {
    // the shipped default viewer account
    const viewer = `Basic ${Buffer.from('viewer:viewer').toString('base64')}`;
    const res = await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`, { headers: { authorization: viewer } });
    const text = await res.text();
    for (const quota of ['producer_byte_rate', 'consumer_byte_rate']) {
      expect(text).toMatch(
        new RegExp(`sluice_quota_throttled_total\\{quota="${quota}",user="",client_id="raw-kafka"\\} [1-9]`),
      );
    }
  });

  it('AlterClientQuotas stores a user quota, DescribeClientQuotas lists it, and it is enforced over the default', async () => {
    // AlterClientQuotas v0 (hand-laid from AlterClientQuotasRequest.json): user ANONYMOUS, producer_byte_rate 1024
    const f1024 = '4090000000000000';
    const altered = await kafka.call({
      apiKey: 49,
      apiVersion: 0,
      body: hex(
        `00000001 00000001 ${str('user')} ${str('ANONYMOUS')} 00000001 ${str('producer_byte_rate')} ${f1024} 00 00`,
      ),
    });
    expect(altered).toEqual(hex(`00000000 00000001 0000 ffff 00000001 ${str('user')} ${str('ANONYMOUS')}`));
    // an unknown quota key is refused for its entry
    const refused = await kafka.call({
      apiKey: 49,
      apiVersion: 0,
      body: hex(`00000001 00000001 ${str('user')} ${str('x')} 00000001 ${str('bogus')} ${f1024} 00 00`),
    });
    expect(refused.readInt16BE(8)).toBe(42); // INVALID_REQUEST
    // DescribeClientQuotas v0: every user entity (match type 2), not strict
    const described = await kafka.call({ apiKey: 48, apiVersion: 0, body: hex(`00000001 ${str('user')} 02 ffff 00`) });
    expect(described).toEqual(
      hex(
        `00000000 0000 ffff 00000001 00000001 ${str('user')} ${str('ANONYMOUS')} 00000001 ${str('producer_byte_rate')} ${f1024}`,
      ),
    );
    // 1 KB/s for this user beats the 200 KB/s client default: one 50 KB send is throttled (to the cap)
    const produce = await kafkajsRequest('produce', 7, {
      acks: 1,
      timeout: 5000,
      topicData: [
        {
          topic: 'quota-user',
          partitions: [{ partition: 0, messages: [{ key: null, value: Buffer.alloc(valueBytes) }] }],
        },
      ],
    });
    const { decoded } = await kafkajsResponse<{ clientSideThrottleTime: number }>(
      'produce',
      7,
      await kafka.call(produce),
    );
    expect(decoded.clientSideThrottleTime).toBe(2000);

    // acks 0 has no response to carry the throttle: the connection is muted instead (not closed), so a
    // request sent right after waits out (loosely: at least half of) the 2 s cap before it is answered
    await new Promise((r) => setTimeout(r, 2100));
    const fireAndForget = await kafkajsRequest('produce', 7, {
      acks: 0,
      timeout: 5000,
      topicData: [
        {
          topic: 'quota-user',
          partitions: [{ partition: 0, messages: [{ key: null, value: Buffer.alloc(valueBytes) }] }],
        },
      ],
    });
    kafka.socket.write(frame(fireAndForget));
    // the mute is set as the produce completes; a request that reached the broker in the same read as
    // the produce is handled before it (pipelined frames are not held back), so the follow-up is sent
    // only once the record is in the log, seen over another connection
    await waitForLogEnd('quota-user', 0, 2);
    const started = Date.now();
    const versions = await kafka.call({ apiKey: 18, apiVersion: 0, body: Buffer.alloc(0) });
    expect(versions.readInt16BE(0)).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  }, 30_000);

  it('sluice quota set, list and remove round-trip through the broker (native listener)', async () => {
    const run = (...args: string[]) => cli.run(args, { brokers: broker.address, timeoutMs: 30_000 });
    const set = await run('quota', 'set', '--client-id', 'cli-c', '--producer-byte-rate', '2048');
    expect(set.code).toBe(0);
    expect(set.stdout.trim()).toBe("Completed updating quotas for client-id 'cli-c'.");
    expect((await run('quota', 'set', '--user-default', '--client-default', '--consumer-byte-rate', '4096')).code).toBe(
      0,
    );
    const listed = await run('quota', 'list', '--json');
    expect(listed.code).toBe(0);
    const all = JSON.parse(listed.stdout) as {
      entity: Record<string, string | null>;
      quotas: Record<string, number>;
    }[];
    expect(all).toContainEqual({ entity: { clientId: 'cli-c' }, quotas: { producer_byte_rate: 2048 } });
    expect(all).toContainEqual({ entity: { user: null, clientId: null }, quotas: { consumer_byte_rate: 4096 } });
    const text = await run('quota', 'list');
    expect(text.stdout).toContain("Quota configs for client-id 'cli-c' are producer_byte_rate=2048");
    expect((await run('quota', 'remove', '--client-id', 'cli-c')).code).toBe(0);
    const after = JSON.parse((await run('quota', 'list', '--json')).stdout) as { entity: Record<string, unknown> }[];
    expect(after.map((q) => q.entity)).not.toContainEqual({ clientId: 'cli-c' });
    // no entity, or a rate that is not a positive whole number: one clear line, nothing changed
    expectOneLineError(await run('quota', 'set', '--producer-byte-rate', '10'), /name the entity/);
    expectOneLineError(await run('quota', 'set', '--client-id', 'x', '--producer-byte-rate', '0'));
  }, 60_000);

  it('request_percentage: a client over it gets throttle_time_ms and is muted; a client without one is not', async () => {
    const run = (...args: string[]) => cli.run(args, { brokers: broker.address, timeoutMs: 30_000 });
    // a ten-thousandth of one thread: any request is over it, so each is throttled by one sample (1 s, the cap)
    expect((await run('quota', 'set', '--client-id', 'greedy', '--request-percentage', '0.0001')).code).toBe(0);
    const greedy = await KafkaRawClient.connect(broker.kafkaPort, 'greedy');
    const free = await KafkaRawClient.connect(broker.kafkaPort, 'free');
    try {
      // ApiVersions v1 ends with throttle_time_ms; Metadata v4 starts with it (both from the Kafka protocol guide)
      const versionsThrottle = (body: Buffer): number => body.readInt32BE(body.length - 4);
      const metadata = { apiKey: 3, apiVersion: 4, body: hex('ffffffff 00') };
      const first = await greedy.call({ apiKey: 18, apiVersion: 1, body: Buffer.alloc(0) });
      expect(first.readInt16BE(0)).toBe(0);
      expect(versionsThrottle(first)).toBeGreaterThan(0);
      expect(versionsThrottle(first)).toBeLessThanOrEqual(1000);
      // muted: the greedy client's next request is not read until its throttle is over, so a request
      // the free client sends after it is answered first
      const order: string[] = [];
      const greedyNext = greedy.call(metadata).then((body) => {
        order.push('greedy');
        return body;
      });
      const freeAnswers: number[] = [];
      for (let i = 0; i < 3; i++) {
        freeAnswers.push((await free.call(metadata)).readInt32BE(0));
        freeAnswers.push(versionsThrottle(await free.call({ apiKey: 18, apiVersion: 1, body: Buffer.alloc(0) })));
      }
      order.push('free');
      const next = await greedyNext;
      expect(order).toEqual(['free', 'greedy']);
      expect(next.readInt32BE(0)).toBeGreaterThan(0);
      expect(freeAnswers).toEqual([0, 0, 0, 0, 0, 0]);

      // the native listener: a follower's fetch (replicaId >= 0, Kafka's ClusterAction) is exempt, a consumer's
      // fetch carries the throttle
      const native = await RawClient.connect(broker.port, 'greedy');
      try {
        const fetchBody = (replicaId: number) => ({
          replicaId,
          maxWaitMs: 0,
          minBytes: 0,
          topics: [{ name: topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
        });
        const follower = await native.call<{ throttleTimeMs?: number }>(1, fetchBody(5));
        expect(follower.throttleTimeMs ?? 0).toBe(0);
        const consumer = await native.call<{ throttleTimeMs?: number }>(1, fetchBody(-1));
        expect(consumer.throttleTimeMs).toBeGreaterThan(0);
      } finally {
        native.close();
      }
      const viewer = `Basic ${Buffer.from('viewer:viewer').toString('base64')}`;
      const metrics = await (
        await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`, { headers: { authorization: viewer } })
      ).text();
      expect(metrics).toMatch(
        /sluice_quota_throttled_total\{quota="request_percentage",user="",client_id="greedy"\} [1-9]/,
      );
      expect(metrics).toMatch(/sluice_quota_request_time_seconds_total\{user="",client_id="greedy"\} [0-9.e-]+/);
      expect(metrics).not.toMatch(/client_id="free"/);
      expect(metrics).toMatch(/sluice_quota_exempt_request_time_seconds_total [0-9.]*[1-9]/);
    } finally {
      greedy.close();
      free.close();
      await run('quota', 'remove', '--client-id', 'greedy');
    }
  }, 30_000);

  it("sluice quota --config writes the stopped standalone broker's store, which it serves after a restart", async () => {
    const offline = (...args: string[]) =>
      cli.run(
        [
          ...args,
          '--config',
          path.join(repoRoot, 'config/server.properties'),
          '--override',
          `log.dirs=${broker.dataDir}`,
        ],
        { brokers: '127.0.0.1:1', timeoutMs: 30_000 },
      );
    // the running broker holds its LevelDB: refused, saying what to do
    expectOneLineError(
      await offline('quota', 'set', '--client-id', 'offline-c', '--producer-byte-rate', '1024'),
      /stop the broker, or change the quotas through it/,
    );
    await broker.stop();
    const set = await offline('quota', 'set', '--client-id', 'offline-c', '--producer-byte-rate', '1024');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout.trim()).toBe("Completed updating quotas for client-id 'offline-c'.");
    const both = await offline('quota', 'set', '--user', 'bob', '--client-default', '--request-percentage', '12.5');
    expect(both.code, both.stderr).toBe(0);
    const removed = await offline('quota', 'remove', '--user', 'ANONYMOUS');
    expect(removed.code, removed.stderr).toBe(0);
    const listed = await offline('quota', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const offlineList = JSON.parse(listed.stdout) as { entity: Record<string, unknown> }[];
    expect(offlineList).toContainEqual({ entity: { clientId: 'offline-c' }, quotas: { producer_byte_rate: 1024 } });
    expect(offlineList).toContainEqual({
      entity: { user: 'bob', clientId: null },
      quotas: { request_percentage: 12.5 },
    });
    // the AlterClientQuotas test's user quota is gone
    expect(offlineList.map((q) => q.entity)).not.toContainEqual({ user: 'ANONYMOUS' });
    // a bad value changes nothing
    expectOneLineError(await offline('quota', 'set', '--client-id', 'x', '--request-percentage', '-1'));

    await broker.restart();
    const online = await cli.run(['quota', 'list', '--json'], { brokers: broker.address, timeoutMs: 30_000 });
    expect(online.code, online.stderr).toBe(0);
    expect(JSON.parse(online.stdout)).toEqual(expect.arrayContaining(offlineList));
    expect((JSON.parse(online.stdout) as unknown[]).length).toBe(offlineList.length);
  }, 60_000);
});
