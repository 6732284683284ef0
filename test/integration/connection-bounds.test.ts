/**
 * Issue 14, defect 2: a broker's request memory and connections are bounded.
 * Real broker processes with small limits: attackers announce large frames and
 * send part of them while a well-behaved producer and consumer keep working;
 * the request memory pool holds no more than queued.max.request.bytes and the
 * broker stops reading from connections that would need more; a stalled frame
 * is closed at its deadline; idle connections are closed; connections beyond
 * max.connections / max.connections.per.ip are closed at once while the
 * others keep being served.
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

const mib = 1024 * 1024;
const brokers: BrokerProcess[] = [];
const sockets: net.Socket[] = [];
const clients: { close(): unknown }[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await Promise.all(brokers.splice(0).map((b) => b.destroy()));
});

async function start(overrides: string[]): Promise<BrokerProcess> {
  const broker = await BrokerProcess.start({ overrides });
  brokers.push(broker);
  return broker;
}

const viewer = `Basic ${Buffer.from('viewer:viewer').toString('base64')}`;

/** One unlabelled (or first labelled match of) Prometheus series from the broker's /metrics. */
async function metric(broker: BrokerProcess, name: string, labels = ''): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`, { headers: { authorization: viewer } });
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || l.startsWith(`${name}${labels}{`));
  if (line === undefined) throw new Error(`no metric ${name}${labels} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface RawSocket {
  socket: net.Socket;
  /** Set when the broker closed the connection (not this test). */
  closedAt: number | undefined;
  closed: Promise<void>;
}

function connectRaw(port: number): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    const raw: RawSocket = { socket, closedAt: undefined, closed: Promise.resolve() };
    raw.closed = new Promise((r) =>
      socket.on('close', () => {
        raw.closedAt = Date.now();
        r();
      }),
    );
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(raw));
    socket.once('error', reject);
  });
}

/** A connection that announces a frame of `announced` bytes and sends `sent` of them (never the rest). */
async function attacker(port: number, announced: number, sent: number): Promise<RawSocket> {
  const raw = await connectRaw(port);
  const head = Buffer.alloc(4);
  head.writeInt32BE(announced, 0);
  raw.socket.write(head);
  raw.socket.write(Buffer.alloc(sent, 0x41));
  return raw;
}

function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]) * 1024;
}

describe('request memory pool (queued.max.request.bytes) and frame deadline', () => {
  it('holds attackers to the pool, keeps a producer and consumer working, and closes stalled frames at their deadline', async () => {
    const poolBytes = 4 * mib;
    const frameTimeoutMs = 20_000;
    const broker = await start([
      `queued.max.request.bytes=${poolBytes}`,
      `socket.request.max.bytes=${2 * mib}`,
      `socket.request.read.timeout.ms=${frameTimeoutMs}`,
      'max.connections.per.ip=200',
    ]);
    const sluice = new Sluice({ brokers: [broker.address], clientId: 'well-behaved' });
    clients.push(sluice);
    await sluice.admin().createTopic({ topic: 'steady', partitions: 1, replicationFactor: 1 });
    const producer = sluice.producer({ acks: 1, lingerMs: 0 });
    const consumer = sluice.consumer({ maxWaitMs: 100 });
    consumer.assign([{ topic: 'steady', partition: 0, offset: 0 }]);
    const sent: string[] = [];
    const got: string[] = [];
    /** Produces 50 records one by one (acks 1) and reads them back. */
    const roundTrip = async (round: string): Promise<void> => {
      for (let i = 0; i < 50; i++) {
        const value = `${round}-${i}-${'x'.repeat(1000)}`;
        await producer.send({ topic: 'steady', messages: [{ value }] });
        sent.push(value);
      }
      while (got.length < sent.length) got.push(...(await consumer.poll()).map((r) => String(r.value)));
      expect(got).toEqual(sent);
    };
    // warm up first, so the RSS compared below is the attack's: the client round trip, and
    // /metrics (its Basic auth runs scrypt, 16 MiB each, on every libuv pool thread: glibc keeps that)
    await roundTrip('before');
    for (let i = 0; i < 3; i++) {
      await Promise.all(Array.from({ length: 8 }, () => metric(broker, 'sluice_request_memory_reserved_bytes')));
    }
    const rssBefore = rssBytes(broker.pid as number);
    const attackStartedAt = Date.now();

    // 40 connections, half on each listener (they share one pool), each announcing a
    // 2 MiB frame and sending all of it but one byte: 80 MiB the old broker buffered
    const attackers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        attacker(i % 2 === 0 ? broker.port : broker.kafkaPort, 2 * mib, 2 * mib - 1),
      ),
    );
    // the broker reads what the pool admits and stops reading the rest
    await until(
      'connections waiting for request memory',
      async () => (await metric(broker, 'sluice_request_memory_waiting_connections')) > 0,
      10_000,
    );
    expect(await metric(broker, 'sluice_request_memory_reserved_bytes')).toBeLessThanOrEqual(poolBytes);
    expect(await metric(broker, 'sluice_request_memory_capacity_bytes')).toBe(poolBytes);

    // meanwhile the well-behaved producer and consumer are served from the small-frame reserve
    await roundTrip('during');
    // ... while the attack was still on (no attacker had reached its deadline yet)
    expect(attackers.every((a) => a.closedAt === undefined)).toBe(true);
    expect(Date.now() - attackStartedAt).toBeLessThan(frameTimeoutMs);
    expect(await metric(broker, 'sluice_request_memory_reserved_bytes')).toBeLessThanOrEqual(poolBytes);
    // the broker did not buffer what the attackers sent (80 MiB): at most the pool and a socket read or two each
    expect(rssBytes(broker.pid as number) - rssBefore).toBeLessThan(40 * mib);

    // every stalled frame (read or waiting) is closed at its deadline, and its memory released
    await Promise.all(attackers.map((a) => a.closed));
    for (const a of attackers)
      expect((a.closedAt as number) - attackStartedAt).toBeGreaterThanOrEqual(frameTimeoutMs - 50);
    await until(
      'request memory released',
      async () => (await metric(broker, 'sluice_request_memory_reserved_bytes')) === 0,
      5_000,
    );
    expect(await metric(broker, 'sluice_request_memory_stray_bytes')).toBe(0);
    expect(await metric(broker, 'sluice_connections_closed_total', '{reason="frame_timeout"}')).toBe(40);
    expect(broker.recentOutput).toMatch(/did not arrive whole within socket\.request\.read\.timeout\.ms/);

    // and the producer's and consumer's connections, never stalled, still work
    await roundTrip('after');
    await consumer.close();
    await producer.close();
  }, 90_000);
});

describe('connections.max.idle.ms', () => {
  it('closes a connection with no traffic, not one that is busy or has a request in flight', async () => {
    const idleMs = 1500;
    const broker = await start([`connections.max.idle.ms=${idleMs}`]);
    const silent = await connectRaw(broker.port);
    const openedAt = Date.now();
    const chatty = await RawClient.connect(broker.port);
    clients.push(chatty);
    const polling = await RawClient.connect(broker.port);
    clients.push(polling);
    await polling.call(ApiKey.CreateTopics, { topics: [{ name: 'idle', numPartitions: 1 }] });
    // a fetch long-polling past the idle timeout: in flight, so not idle
    const longPoll = polling.call<{ topics: { partitions: { records: Buffer }[] }[] }>(ApiKey.Fetch, {
      maxWaitMs: 2 * idleMs,
      minBytes: 1,
      maxBytes: mib,
      topics: [{ name: 'idle', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: mib }] }],
    });
    while (Date.now() - openedAt < 2 * idleMs) {
      await chatty.call(ApiKey.ApiVersions, {});
      await new Promise((r) => setTimeout(r, idleMs / 5));
    }
    await silent.closed;
    expect((silent.closedAt as number) - openedAt).toBeGreaterThanOrEqual(idleMs);
    expect((await longPoll).topics[0]?.partitions[0]?.records.length).toBe(0);
    // both busy connections are still open and served
    await chatty.call(ApiKey.ApiVersions, {});
    await polling.call(ApiKey.ApiVersions, {});
    expect(await metric(broker, 'sluice_connections_closed_total', '{reason="idle"}')).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe('max.connections and max.connections.per.ip', () => {
  it('closes a connection beyond max.connections (both listeners together) at once; the others keep working', async () => {
    const broker = await start(['max.connections=3']);
    const a = await RawClient.connect(broker.port);
    const b = await RawClient.connect(broker.port);
    clients.push(a, b);
    const kafka = await connectRaw(broker.kafkaPort);
    await until(
      'three connections counted',
      async () => (await metric(broker, 'sluice_connections_open')) === 3,
      5_000,
    );
    const refused = await connectRaw(broker.port);
    const refusedKafka = await connectRaw(broker.kafkaPort);
    await Promise.all([refused.closed, refusedKafka.closed]);
    expect(kafka.closedAt).toBeUndefined();
    await a.call(ApiKey.ApiVersions, {});
    await b.call(ApiKey.ApiVersions, {});
    expect(await metric(broker, 'sluice_connections_refused_total')).toBe(2);
    expect(broker.recentOutput).toMatch(/"msg":"connection refused"/);
    expect(broker.recentOutput).toMatch(/max\.connections \(3\) reached/);
    // a slot freed is a slot to take
    b.close();
    await until('a slot freed', async () => (await metric(broker, 'sluice_connections_open')) === 2, 5_000);
    const again = await RawClient.connect(broker.port);
    clients.push(again);
    await again.call(ApiKey.ApiVersions, {});
  }, 60_000);

  it('closes a connection beyond max.connections.per.ip at once, with warnings rate-limited', async () => {
    const broker = await start(['max.connections.per.ip=2']);
    const a = await RawClient.connect(broker.port);
    const b = await RawClient.connect(broker.port);
    clients.push(a, b);
    const refused = await Promise.all(Array.from({ length: 20 }, () => connectRaw(broker.port)));
    await Promise.all(refused.map((r) => r.closed));
    await a.call(ApiKey.ApiVersions, {});
    await b.call(ApiKey.ApiVersions, {});
    expect(await metric(broker, 'sluice_connections_refused_total')).toBe(20);
    const lines = broker.recentOutput.split('\n').filter((l) => l.includes('"msg":"connection refused"'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines[0]).toMatch(/max\.connections\.per\.ip \(2\) reached for 127\.0\.0\.1/);
  }, 60_000);
});
