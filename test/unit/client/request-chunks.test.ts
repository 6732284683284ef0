/**
 * Client requests stay within what a broker decodes (issue 20 item 4): a
 * consumer of more partitions than one request may name splits its Fetch,
 * ListOffsets, OffsetFetch and OffsetCommit (request-chunks.ts), and a request
 * over the broker's msgpack bound is refused by the client with its reason
 * instead of being sent (the broker would close the connection and the client
 * retry for ever). Against the scripted cluster on loopback sockets.
 */
import { describe, expect, it } from 'vitest';
import { requestChunks } from '../../../src/client/request-chunks.js';
import { ApiKey, apiName } from '../../../src/protocol/native/api-keys.js';
import { encodeRequest } from '../../../src/protocol/native/frame.js';
import { msgpackBoundsProblem } from '../../../src/protocol/native/msgpack-bounds.js';
import { clientRequestPartitionsMax, requestMsgpackItemsMax } from '../../../src/shared/limits.js';
import { fakeClusterFixture } from '../../helpers/fake-consumer-cluster.js';

const { setup } = fakeClusterFixture({
  clientId: 'chunks-unit',
  connectTimeoutMs: 5000,
  requestTimeoutMs: 20_000,
  retries: 2,
});

/** Why the broker would refuse this body (as the client sent it), or undefined. */
function brokerProblem(apiKey: number, body: unknown): string | undefined {
  const frame = encodeRequest({ apiKey, apiVersion: 0, correlationId: 1, clientId: 'chunks-unit' }, body);
  return msgpackBoundsProblem(frame.subarray(4));
}

describe('requestChunks', () => {
  it('groups by topic, at most `max` entries a request, order kept', () => {
    const entries = [
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'a', partition: 2 },
      { topic: 'b', partition: 1 },
    ];
    const chunks = requestChunks(entries, 2).map((m) => [...m].map(([t, l]) => [t, l.map((e) => e.partition)]));
    expect(chunks).toEqual([
      [
        ['a', [0]],
        ['b', [0]],
      ],
      [['a', [1, 2]]],
      [['b', [1]]],
    ]);
    expect(requestChunks([], 2)).toEqual([]);
    expect(requestChunks(entries).length).toBe(1);
  });

  it('a request of clientRequestPartitionsMax one-partition topics is within the broker bound', () => {
    const topics = Array.from({ length: clientRequestPartitionsMax }, (_, i) => ({
      name: `topic-with-a-long-name-${i}`,
      partitions: [{ partition: 2 ** 31 - 1, fetchOffset: 2 ** 52, partitionMaxBytes: 1 << 20 }],
    }));
    const body = {
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1 << 26,
      groupId: 'g',
      generationId: 1,
      memberId: 'm',
      topics,
    };
    expect(brokerProblem(ApiKey.Fetch, body)).toBeUndefined();
  });
});

describe('a consumer of more partitions than one request may name', () => {
  it('reads and commits every partition with requests the broker decodes', { timeout: 120_000 }, async () => {
    // 7 msgpack values a Fetch partition entry: 80,000 of them are 560,000, over the broker's 500,000
    const partitions = 80_000;
    expect(partitions * 7).toBeGreaterThan(requestMsgpackItemsMax);
    const { fake, sluice } = await setup(partitions);
    for (let p = 0; p < partitions; p++) fake.fill(p, 1);
    const consumer = sluice.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoCommitIntervalMs: 3_600_000 });
    await consumer.subscribe({ topics: ['t'] });
    const seen = new Set<number>();
    for (let i = 0; i < 100 && seen.size < partitions; i++) {
      for (const r of await consumer.poll({ maxWaitMs: 50 })) seen.add(r.partition);
    }
    expect(seen.size).toBe(partitions);
    await consumer.commit();
    expect(fake.committed.size).toBe(partitions);
    const sent = new Map<string, number>();
    for (const r of fake.requests) {
      const name = apiName(r.apiKey);
      sent.set(name, (sent.get(name) ?? 0) + 1);
      expect(brokerProblem(r.apiKey, r.body), `${name} request`).toBeUndefined();
    }
    for (const k of [ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.OffsetFetch, ApiKey.OffsetCommit])
      expect(sent.get(apiName(k)), apiName(k)).toBeGreaterThan(0);
    await consumer.close();
  });
});

describe('a request over the broker msgpack bound', () => {
  it('is refused by the client with the reason, not sent', async () => {
    const { fake, sluice } = await setup(1);
    const admin = sluice.admin();
    await admin.describeTopic('t');
    const before = fake.requests.length;
    const conn = await (
      sluice as unknown as {
        cluster: { brokerConnection(n: number): Promise<{ send(k: number, b: unknown): Promise<unknown> }> };
      }
    ).cluster.brokerConnection(0);
    const topics = Array.from({ length: requestMsgpackItemsMax }, (_, i) => `t${i}`);
    await expect(conn.send(ApiKey.Metadata, { topics, allowAutoTopicCreation: false })).rejects.toThrow(
      /too large for a broker to decode \(more than 500000 msgpack values\)/,
    );
    expect(fake.requests.length).toBe(before);
  });
});
