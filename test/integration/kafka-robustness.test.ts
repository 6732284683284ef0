/**
 * Bad input on the Kafka listener: a clear answer or a closed connection,
 * never a crashed or wedged broker, never an unexpected server error.
 *
 * - An API or version the listener does not speak is answered (int16
 *   UNSUPPORTED_VERSION) and the connection keeps serving.
 * - A truncated request or an oversized frame closes that connection only.
 * - Fuzz: valid requests of eight APIs (written by kafkajs's encoders) with
 *   random bytes flipped, cut short or extended, each on its own connection
 *   (seeded, so a failure replays). Afterwards the broker still answers, the
 *   records it accepted into the fuzzed topic are whole batches that pass
 *   their checks, and its log holds no "request failed" (an unexpected
 *   exception in a handler or adapter).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { kafkajsRequest } from '../helpers/kafkajs-protocol.js';
import { prng } from '../helpers/prng.js';

let broker: BrokerProcess;
let client: Sluice;
const maxFrameBytes = 1024 * 1024;

beforeAll(async () => {
  broker = await BrokerProcess.start({
    overrides: [`socket.request.max.bytes=${maxFrameBytes}`, 'group.initial.rebalance.delay.ms=0'],
  });
  client = new Sluice({ brokers: [broker.address] });
  await client.admin().createTopic({ topic: 'fuzz', partitions: 2 });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await broker?.destroy();
});

/** A size-prefixed request with a v1 header (client id "fuzz"). */
function frame(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(2 + 2 + 4 + 2 + 4);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(4, 8);
  header.write('fuzz', 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

/** A connection that collects response frames (size prefix removed) and notices when the broker closes it. */
class Conn {
  readonly frames: Buffer[] = [];
  closed = false;
  private pending = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 4 && this.pending.length >= 4 + this.pending.readInt32BE(0)) {
        const size = this.pending.readInt32BE(0);
        this.frames.push(this.pending.subarray(4, 4 + size));
        this.pending = this.pending.subarray(4 + size);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new Conn(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `n` frames arrived or the connection closed, at most `timeoutMs`. */
  async settle(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  end(): void {
    this.socket.destroy();
  }
}

async function apiVersionsWorks(conn: Conn, correlationId: number): Promise<void> {
  const before = conn.frames.length;
  conn.socket.write(frame(18, 2, correlationId, Buffer.alloc(0)));
  await conn.settle(before + 1, 5000);
  const answer = conn.frames[before];
  expect(answer, 'an ApiVersions answer').toBeDefined();
  expect((answer as Buffer).readInt32BE(0)).toBe(correlationId);
  expect((answer as Buffer).readInt16BE(4)).toBe(0);
}

describe('Kafka listener robustness', () => {
  it('answers an API or version it does not speak, and the connection keeps serving', async () => {
    const conn = await Conn.open(broker.kafkaPort);
    try {
      conn.socket.write(frame(0x270f, 0, 1, Buffer.from([1, 2, 3])));
      conn.socket.write(frame(0, 99, 2, Buffer.alloc(0)));
      await conn.settle(2, 5000);
      expect(conn.frames.map((f) => f.toString('hex'))).toEqual(['000000010023', '000000020023']);
      await apiVersionsWorks(conn, 3);
      expect(conn.closed).toBe(false);
    } finally {
      conn.end();
    }
  });

  it('closes only the connection that sent a truncated request or an oversized frame', async () => {
    const truncated = await Conn.open(broker.kafkaPort);
    // Metadata v1 claiming three topics and carrying one byte
    truncated.socket.write(frame(3, 1, 7, Buffer.from([0, 0, 0, 3, 0])));
    await truncated.settle(1, 5000);
    expect(truncated.closed).toBe(true);
    expect(truncated.frames).toHaveLength(0);

    const oversized = await Conn.open(broker.kafkaPort);
    const claim = Buffer.alloc(4);
    claim.writeInt32BE(maxFrameBytes + 1, 0);
    oversized.socket.write(claim);
    await oversized.settle(1, 5000);
    expect(oversized.closed).toBe(true);

    const fresh = await Conn.open(broker.kafkaPort);
    try {
      await apiVersionsWorks(fresh, 1);
    } finally {
      fresh.end();
    }
  });

  it('survives mutated requests of every kind and keeps its data whole', async () => {
    const topicData = [
      {
        topic: 'fuzz',
        partitions: [
          { partition: 0, messages: [{ key: 'k', value: 'value-0' }] },
          { partition: 1, messages: [{ key: 'j', value: 'value-1' }] },
        ],
      },
    ];
    const seeds = await Promise.all([
      kafkajsRequest('metadata', 4, { topics: ['fuzz'], allowAutoTopicCreation: false }),
      kafkajsRequest('produce', 7, { acks: 1, timeout: 1000, topicData }),
      kafkajsRequest('fetch', 11, {
        replicaId: -1,
        maxWaitTime: 50,
        minBytes: 1,
        maxBytes: 10_000,
        topics: [{ topic: 'fuzz', partitions: [{ partition: 0, fetchOffset: 0, maxBytes: 10_000 }] }],
        rackId: '',
      }),
      kafkajsRequest('listOffsets', 3, {
        replicaId: -1,
        isolationLevel: 1,
        topics: [{ topic: 'fuzz', partitions: [{ partition: 0, timestamp: -1 }] }],
      }),
      kafkajsRequest('joinGroup', 5, {
        groupId: 'fuzz-group',
        sessionTimeout: 6000,
        rebalanceTimeout: 6000,
        memberId: '',
        protocolType: 'consumer',
        groupProtocols: [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 0]) }],
      }),
      kafkajsRequest('offsetCommit', 5, {
        groupId: 'fuzz-commits',
        groupGenerationId: -1,
        memberId: '',
        topics: [{ topic: 'fuzz', partitions: [{ partition: 0, offset: '1' }] }],
      }),
      kafkajsRequest('createTopics', 3, {
        topics: [{ topic: 'fuzz-created', numPartitions: 1, replicationFactor: 1 }],
        timeout: 1000,
      }),
      kafkajsRequest('apiVersions', 2, {}),
    ]);
    const random = prng(0x5eed);
    const pick = (n: number): number => Math.floor(random() * n);
    const rounds = 240;
    let answered = 0;
    let closed = 0;
    for (let i = 0; i < rounds; i++) {
      const seed = seeds[i % seeds.length] as (typeof seeds)[number];
      let body = Buffer.from(seed.body);
      const how = pick(3);
      if (how === 0 && body.length > 0) {
        for (let flips = 1 + pick(4); flips > 0; flips--) body[pick(body.length)] = pick(256);
      } else if (how === 1) {
        body = body.subarray(0, pick(body.length + 1));
      } else {
        body = Buffer.concat([body, Buffer.from(Array.from({ length: 1 + pick(16) }, () => pick(256)))]);
      }
      const conn = await Conn.open(broker.kafkaPort);
      conn.socket.write(frame(seed.apiKey, seed.apiVersion, i + 1, body));
      // an answer, a close, or a request still waiting (a long poll, a join): all fine; move on
      await conn.settle(1, 300);
      const answer = conn.frames[0];
      if (answer) {
        expect(answer.readInt32BE(0), `round ${i}: the answer names its request`).toBe(i + 1);
        answered++;
      } else if (conn.closed) closed++;
      conn.end();
    }
    // the mutations reach both outcomes: decoded-and-answered and refused-and-closed
    expect(answered).toBeGreaterThan(rounds / 4);
    expect(closed).toBeGreaterThan(rounds / 10);

    const fresh = await Conn.open(broker.kafkaPort);
    try {
      await apiVersionsWorks(fresh, 1);
    } finally {
      fresh.end();
    }
    // whatever was accepted into the fuzzed topic reads back as whole, checked batches
    const consumer = client.consumer({ maxWaitMs: 200 });
    try {
      consumer.assign([
        { topic: 'fuzz', partition: 0, offset: 'earliest' },
        { topic: 'fuzz', partition: 1, offset: 'earliest' },
      ]);
      const described = await client.admin().describeTopic('fuzz');
      const stored = Array.isArray(described) ? 0 : described.partitions.reduce((n, p) => n + p.highWatermark, 0);
      let read = 0;
      const deadline = Date.now() + 20_000;
      while (read < stored && Date.now() < deadline) read += (await consumer.poll({ maxRecords: 10_000 })).length;
      expect(read).toBe(stored);
      expect(stored).toBeGreaterThan(0);
    } finally {
      await consumer.close();
    }
    expect(broker.recentOutput).not.toMatch(/"msg":"request failed"/);
    expect(broker.recentOutput).not.toMatch(/could not be encoded/);
  }, 120_000);
});
