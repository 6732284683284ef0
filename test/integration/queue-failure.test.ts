/**
 * Queues when things fail, through the client library: kill -9 of a consumer
 * process holding unacknowledged messages hands them to another consumer at
 * once (its connection closes); messages and acknowledgements survive a
 * broker restart (kill -9) — acknowledged messages are never delivered
 * again, unacknowledged ones always are — and a receiver carries on across
 * the restart on its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type QueueMessage, Sluice } from '../../src/index.js';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { killAndWait } from '../helpers/child-process.js';
import { waitFor } from '../helpers/group-consumers.js';

let broker: BrokerProcess;
const clients: Sluice[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['http.port=0'] });
});

afterAll(async () => {
  await broker?.destroy();
});

afterEach(async () => {
  await Promise.allSettled(children.splice(0).map(killAndWait));
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

function client(): Sluice {
  const c = new Sluice({ brokers: broker.address, clientId: 'queue-failure-it', retryBackoffMs: 50 });
  clients.push(c);
  return c;
}

const text = (m: { value: Buffer | null }): string => m.value?.toString() ?? '';

/** Receives until `n` messages came or nothing arrives for `quietMs`; with `ack`, acknowledges each. */
async function drain(
  receiver: { receive(ms: number): Promise<QueueMessage | null> },
  n: number,
  quietMs = 1000,
  ack = false,
): Promise<QueueMessage[]> {
  const out: QueueMessage[] = [];
  while (out.length < n) {
    const m = await receiver.receive(out.length === 0 ? 10_000 : quietMs);
    if (!m) break;
    if (ack) await m.ack();
    out.push(m);
  }
  return out;
}

describe('queue failures', () => {
  it('kill -9 of a consumer process holding unacknowledged messages hands them to the other consumer', async () => {
    const sluice = client();
    await sluice.queue('crash').sendBatch(Array.from({ length: 10 }, (_, i) => ({ value: `c${i}` })));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'test/fixtures/queue-consumer.ts'), broker.address, 'crash', '10'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    const held: string[] = [];
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) held.push((JSON.parse(line) as { value: string }).value);
    });
    await waitFor('the child to hold all 10', () => held.length >= 10, 30_000);
    const other = sluice.queue('crash').receiver({ prefetch: 10, ackMode: 'client' });
    expect(await other.receive(500)).toBeNull();
    expect(await sluice.admin().queueStats('crash')).toMatchObject({ depth: 10, inFlight: 10, consumers: 2 });

    const killedAt = Date.now();
    await killAndWait(child);
    const got = await drain(other, 10);
    expect(Date.now() - killedAt).toBeLessThan(10_000); // at once, not after the 30 s lock timeout
    expect(got.map(text).sort()).toEqual(held.sort());
    for (const m of got) expect(m).toMatchObject({ redelivered: true, deliveryCount: 2 });
    await Promise.all(got.map((m) => m.ack()));
    expect(await sluice.admin().queueStats('crash')).toMatchObject({ depth: 0, inFlight: 0, dequeued: 10 });
  });

  it('messages and acknowledgements survive a broker restart: acked never again, unacked always', async () => {
    const sluice = client();
    const q = sluice.queue('durable');
    await q.sendBatch(Array.from({ length: 10 }, (_, i) => ({ value: `d${i}` })));
    const r = q.receiver({ prefetch: 6, ackMode: 'client' });
    const first = await drain(r, 6);
    expect(first.map(text)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
    // d0..d2 acknowledged; d3..d5 held unacknowledged when the broker dies
    await Promise.all(first.slice(0, 3).map((m) => m.ack()));

    await broker.restart('SIGKILL');

    // the same receiver carries on: it reconnects with a new consumer id
    const after = await drain(r, 7, 2000, true);
    expect(after.map(text).sort()).toEqual(['d3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9']);
    await expect(first[3]?.ack()).rejects.toThrow(/released/);
    expect(await r.receive(500)).toBeNull();
    expect(await sluice.admin().queueStats('durable')).toMatchObject({ depth: 0, enqueued: 10, dequeued: 10 });

    // the acknowledgements are durable too: after another restart nothing comes back
    await broker.restart('SIGKILL');
    const fresh = client().queue('durable').receiver({ prefetch: 10 });
    expect(await fresh.receive(1500)).toBeNull();
    await sluice.queue('durable').send('d10');
    expect(text((await fresh.receive(10_000)) as QueueMessage)).toBe('d10');
  });

  it('a listener keeps consuming across a broker restart', async () => {
    const sluice = client();
    const got: string[] = [];
    const listener = sluice.queue('steady').listen(
      async (m) => {
        got.push(text(m));
      },
      { prefetch: 1 },
    );
    await sluice.queue('steady').send('before');
    await waitFor('the first message', () => got.length >= 1);
    // the listener acknowledges after its handler returns: kill only once the broker holds that
    // acknowledgement, or 'before' is (rightly) delivered again after the restart
    const admin = client().admin();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = await admin.queueStats('steady');
      if (stats.dequeued >= 1 && stats.inFlight === 0) break;
      if (Date.now() > deadline) throw new Error('timed out waiting for the acknowledgement of the first message');
      await new Promise((r) => setTimeout(r, 50));
    }
    await broker.restart('SIGKILL');
    await client().queue('steady').send('after');
    await waitFor('the message sent after the restart', () => got.includes('after'), 30_000);
    expect(got).toEqual(['before', 'after']);
    await listener.close();
  });
});
