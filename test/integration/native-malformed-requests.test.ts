/**
 * Malformed requests on the native listener of a real broker: for every API
 * key, bodies with a null in a list, a wrong type, a missing field, a number
 * out of range or a list over its bound (test/helpers/native-requests.ts).
 * Each is answered INVALID_REQUEST naming the field, on a connection that
 * keeps serving; the broker logs a bounded number of warnings and no
 * "request failed" or TypeError; topics, offsets, committed offsets, groups
 * and queues are what they were; and a normal client still works.
 * Hostile msgpack (deep nesting, unknown extensions, lying lengths, prototype
 * keys) gets an answer or a closed connection, never a crash.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { decodeResponse } from '../../src/protocol/native/frame.js';
import { refusedRequestWarningsPerInterval, requestMsgpackItemsMax } from '../../src/shared/limits.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { formattedPath, mutated, nativeRequestExamples } from '../helpers/native-requests.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: BrokerProcess;
let client: Sluice;
let raw: RawClient;

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['group.initial.rebalance.delay.ms=0'] });
  client = new Sluice({ brokers: [broker.address] });
  await client.admin().createTopic({ topic: 'shapes', partitions: 2 });
  const producer = client.producer({ acks: 1 });
  await producer.send({ topic: 'shapes', messages: Array.from({ length: 5 }, (_, i) => ({ value: `v${i}` })) });
  await producer.close();
  raw = await RawClient.connect(broker.port);
  const commit = await raw.call(ApiKey.OffsetCommit, {
    groupId: 'shapes-group',
    generationId: -1,
    memberId: '',
    topics: [{ name: 'shapes', partitions: [{ partition: 0, offset: 2, metadata: 'kept' }] }],
  });
  expect(commit.errorCode).toBe(0);
  const sent = await raw.call(ApiKey.QueueSend, { queue: 'shapes', messages: [{ value: Buffer.from('m') }] });
  expect(sent.errorCode).toBe(0);
}, 60_000);

afterAll(async () => {
  raw?.close();
  await client?.close();
  await broker?.destroy();
});

/** What no malformed request may change: topics, their offsets, committed offsets, groups, queues. */
async function state(): Promise<unknown> {
  const metadata = await raw.call<{ topics: { name: string; partitions: unknown[] }[] }>(ApiKey.Metadata, {
    topics: null,
  });
  const offsets = async (timestamp: number) =>
    raw.call(ApiKey.ListOffsets, {
      topics: [{ name: 'shapes', partitions: [0, 1].map((partition) => ({ partition, timestamp })) }],
    });
  const queue = await raw.call<{ stats: Record<string, unknown>[] }>(ApiKey.QueueAdmin, {
    op: 'stats',
    queue: 'shapes',
  });
  return {
    topics: metadata.topics.map((t) => [t.name, t.partitions.length]).sort(),
    earliest: await offsets(-2),
    latest: await offsets(-1),
    committed: await raw.call(ApiKey.OffsetFetch, { groupId: 'shapes-group', topics: null }),
    groups: await raw.call(ApiKey.ListGroups, {}),
    queue: queue.stats.map(({ depth, inFlight, enqueued, dequeued, deadLettered }) => ({
      depth,
      inFlight,
      enqueued,
      dequeued,
      deadLettered,
    })),
  };
}

describe('malformed native requests', () => {
  it('are refused with INVALID_REQUEST naming the field, for every API, and change nothing', async () => {
    const before = await state();
    const answers: { api: string; path: string; errorCode: unknown; errorMessage: unknown }[] = [];
    for (const example of nativeRequestExamples) {
      for (const mutation of example.malformed) {
        const answer = await raw.call(example.apiKey, mutated(example.valid, mutation));
        answers.push({
          api: example.name,
          path: mutation.path,
          errorCode: answer.errorCode,
          errorMessage: answer.errorMessage,
        });
      }
    }
    // one table, so a failure shows every API that answered wrongly at once
    const wrong = answers.filter(
      (a) =>
        a.errorCode !== WireError.INVALID_REQUEST ||
        typeof a.errorMessage !== 'string' ||
        !a.errorMessage.includes(formattedPath(a.path)),
    );
    expect(wrong).toEqual([]);
    expect(new Set(answers.map((a) => a.api)).size).toBe(Object.keys(ApiKey).length);

    expect(await state()).toEqual(before);
    const output = broker.recentOutput;
    expect(output).not.toMatch(/"msg":"request failed"/);
    expect(output).not.toMatch(/TypeError/);
    // a warning per refusal, bounded: never more lines than the bound per interval (the run takes less than two)
    const warnings = output.match(/"msg":"malformed request refused"/g) ?? [];
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.length).toBeLessThanOrEqual(2 * refusedRequestWarningsPerInterval);
    expect(output).not.toMatch(/"level":50/);
  }, 60_000);

  it('answers or closes on hostile msgpack, and the broker keeps serving', async () => {
    const envelope = (body: Buffer): Buffer => {
      // [apiKey 0, version 0, correlation 7, "x", body] as a fixarray of 5
      const head = Buffer.from([0x95, 0x00, 0x00, 0x07, 0xa1, 0x78]);
      const frame = Buffer.concat([Buffer.alloc(4), head, body]);
      frame.writeInt32BE(frame.length - 4, 0);
      return frame;
    };
    const hostile: [string, Buffer][] = [
      [
        'deeply nested lists',
        Buffer.concat([
          Buffer.from([0x81, 0xa6, ...Buffer.from('topics')]),
          Buffer.alloc(200_000, 0x91),
          Buffer.from([0xc0]),
        ]),
      ],
      ['an unknown extension', Buffer.from([0xd4, 0x05, 0x01])],
      [
        'a list claiming 4 billion items',
        Buffer.from([0x81, 0xa6, ...Buffer.from('topics'), 0xdd, 0xff, 0xff, 0xff, 0xff]),
      ],
      ['a map claiming 4 billion entries', Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff])],
      ['a string claiming 4 GiB', Buffer.from([0x81, 0xa6, ...Buffer.from('topics'), 0xdb, 0xff, 0xff, 0xff, 0xff])],
      // {"__proto__": {"topics": []}}: no own topics
      [
        'a __proto__ key',
        Buffer.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa6, ...Buffer.from('topics'), 0x90]),
      ],
      ['a map key that is a map', Buffer.from([0x81, 0x81, 0x01, 0x02, 0x03])],
      ['a timestamp where a list belongs', Buffer.from([0x81, 0xa6, ...Buffer.from('topics'), 0xd6, 0xff, 0, 0, 0, 1])],
    ];
    // one byte per empty map, ~60 bytes per object msgpackr would build: refused before decoding
    const maps = requestMsgpackItemsMax + 1;
    const amplified = Buffer.alloc(5 + maps, 0x80);
    amplified[0] = 0xdd;
    amplified.writeUInt32BE(maps, 1);
    const topicsKey = Buffer.from([0x81, 0xa6, ...Buffer.from('topics')]);
    expect(await sendRaw(envelope(Buffer.concat([topicsKey, amplified])))).toBe('closed');
    // nested deeper than msgpackr's recursion should go
    expect(await sendRaw(envelope(Buffer.concat([topicsKey, Buffer.alloc(64, 0x91), Buffer.from([0xc0])])))).toBe(
      'closed',
    );

    const outcomes: string[] = [];
    for (const [what, body] of hostile) {
      outcomes.push(`${what}: ${await sendRaw(envelope(body))}`);
    }
    for (const outcome of outcomes) expect(outcome).toMatch(/: (closed|answered 42)$/);
    expect(outcomes.filter((o) => o.endsWith('answered 42')).length).toBeGreaterThan(0);

    // a normal client still works
    const producer = client.producer({ acks: -1 });
    const [sent] = await producer.send({ topic: 'shapes', messages: [{ partition: 1, value: 'after' }] });
    await producer.close();
    expect(sent?.offset).toBeGreaterThanOrEqual(0);
    expect(broker.running).toBe(true);
    expect(broker.recentOutput).not.toMatch(/"msg":"request failed"/);
  }, 60_000);
});

/** Sends one frame on its own connection: "closed", "answered <errorCode>", or "silent" after 5 s. */
function sendRaw(frame: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(broker.port, '127.0.0.1', () => socket.write(frame));
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => done('silent'), 5000);
    const done = (outcome: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        const { body } = decodeResponse(received.subarray(4, 4 + received.readInt32BE(0)));
        done(`answered ${(body as { errorCode?: unknown }).errorCode}`);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => done('closed'));
  });
}
