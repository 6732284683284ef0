/**
 * Delivery counts count what reached the application, on a real broker with
 * queue.max.redeliveries=1 (dead-lettered on the release after 2 handler
 * calls): messages a receiver had prefetched but never handed over when its
 * connection was lost (kill -9 of the broker) come again as first deliveries
 * (count 1, not redelivered), so they reach the DLQ only after as many handler
 * calls as any other message; the message the application did see comes
 * flagged (count 2, redelivered).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type QueueMessage, Sluice } from '../../src/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';

let broker: BrokerProcess;
const clients: Sluice[] = [];

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['http.port=0', 'queue.max.redeliveries=1'] });
});

afterAll(async () => {
  await broker?.destroy();
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

function client(): Sluice {
  const c = new Sluice({ brokers: broker.address, clientId: 'queue-count-it', retryBackoffMs: 50 });
  clients.push(c);
  return c;
}

/** Polls an async condition every 50 ms until it holds. */
async function eventually(what: string, cond: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const text = (m: { value: Buffer | null }): string => m.value?.toString() ?? '';

describe('delivery counts count handler calls', () => {
  it('prefetched messages dropped unhanded at a lost connection are not counted, nor dead-lettered early', async () => {
    const sluice = client();
    const q = sluice.queue('counted');
    await q.sendBatch(Array.from({ length: 10 }, (_, i) => ({ value: `c${i}` })));
    const r = q.receiver({ prefetch: 10, ackMode: 'client' });
    const first = (await r.receive(10_000)) as QueueMessage;
    expect(text(first)).toBe('c0');
    // the other nine sit in the receiver's buffer, delivered by the broker, never handed over
    await eventually('the receiver to hold all ten', async () => {
      return (await sluice.admin().queueStats('counted')).inFlight === 10;
    });

    await broker.restart('SIGKILL');

    // the receiver carries on with a new connection; all ten come again
    const again = new Map<string, QueueMessage>();
    while (again.size < 10) {
      const m = await r.receive(15_000);
      if (!m) throw new Error(`received ${again.size} of 10 after the restart`);
      again.set(text(m), m);
    }
    expect(again.get('c0')).toMatchObject({ deliveryCount: 2, redelivered: true });
    for (let i = 1; i < 10; i++) expect(again.get(`c${i}`)).toMatchObject({ deliveryCount: 1, redelivered: false });

    // c1's handler fails twice: dead-lettered after its second handler call, not its first
    for (const [v, m] of again) if (v !== 'c1') await m.ack();
    await (again.get('c1') as QueueMessage).release();
    const second = (await r.receive(10_000)) as QueueMessage;
    expect(second).toMatchObject({ deliveryCount: 2, redelivered: true });
    expect(text(second)).toBe('c1');
    await second.release();
    await eventually(
      'c1 in the dead-letter queue',
      async () => (await sluice.admin().queueStats('DLQ.counted')).depth === 1,
    );
    expect(await r.receive(500)).toBeNull();
    await r.close();
  }, 90_000);
});
