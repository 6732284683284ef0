/**
 * The queue APIs at the wire (raw client, real broker process, real files):
 * a message goes to one consumer at a time; prefetch bounds what a consumer
 * holds; release redelivers with a higher delivery count and, past
 * queue.max.redeliveries, the message is dead-lettered with its origin in
 * headers; a closed connection gives its messages back at once; an expired
 * lock does too; acknowledgements and delivery counts survive a restart;
 * a transaction's sends and acknowledgements become visible together;
 * bad requests get typed errors and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import type {
  QueueAckResponse,
  QueueAdminResponse,
  QueueDelivery,
  QueueFetchResponse,
  QueueSendResponse,
} from '../../src/protocol/native/queue-messages.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: BrokerProcess;
const clients: RawClient[] = [];

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['queue.max.redeliveries=2', 'queue.lock.timeout.ms=1000'] });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.socket.destroy();
  await broker?.destroy();
}, 30_000);

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(broker.port);
  clients.push(c);
  return c;
}

const text = (m: QueueDelivery): string => (m.value as Buffer).toString();

async function send(c: RawClient, queue: string, values: string[]): Promise<QueueSendResponse> {
  return c.call<QueueSendResponse>(ApiKey.QueueSend, {
    queue,
    messages: values.map((v) => ({ value: Buffer.from(v) })),
  });
}

async function fetch(c: RawClient, queue: string, consumerId: string, prefetch: number, maxWaitMs = 200) {
  return c.call<QueueFetchResponse>(ApiKey.QueueFetch, {
    queue,
    consumerId,
    prefetch,
    maxMessages: prefetch,
    maxWaitMs,
  });
}

async function ack(c: RawClient, queue: string, consumerId: string, offsets: number[], type = 'accept') {
  return c.call<QueueAckResponse>(ApiKey.QueueAck, {
    queue,
    consumerId,
    acks: offsets.map((offset) => ({ offset, type })),
  });
}

async function stats(c: RawClient, queue: string) {
  const res = await c.call<QueueAdminResponse>(ApiKey.QueueAdmin, { op: 'stats', queue });
  expect(res.errorCode).toBe(0);
  return res.stats?.[0];
}

describe('queue protocol', () => {
  it('delivers each message to one consumer at a time, bounded by prefetch, in order', async () => {
    const c = await client();
    expect((await send(c, 'q-basic', ['a', 'b', 'c', 'd', 'e'])).errorCode).toBe(0);
    const first = await fetch(c, 'q-basic', 'c1', 2);
    expect(first.messages.map(text)).toEqual(['a', 'b']);
    expect(first.messages.every((m) => m.deliveryCount === 1)).toBe(true);
    // c1 holds its prefetch: nothing more for it; c2 gets the next ones, never a held one
    expect((await fetch(c, 'q-basic', 'c1', 2, 0)).messages).toEqual([]);
    expect((await fetch(c, 'q-basic', 'c2', 10)).messages.map(text)).toEqual(['c', 'd', 'e']);
    expect(await stats(c, 'q-basic')).toMatchObject({ depth: 5, inFlight: 5, consumers: 2, enqueued: 5, dequeued: 0 });
    const acked = await ack(
      c,
      'q-basic',
      'c1',
      first.messages.map((m) => m.offset),
    );
    expect(acked.results.map((r) => r.errorCode)).toEqual([0, 0]);
    // acknowledging what one does not hold is refused per offset and changes nothing
    const wrong = await ack(c, 'q-basic', 'c1', [first.messages[0]?.offset as number]);
    expect(wrong.results[0]?.errorCode).toBe(WireError.INVALID_REQUEST);
    expect(await stats(c, 'q-basic')).toMatchObject({ depth: 3, inFlight: 3, dequeued: 2 });
  });

  it('redelivers released messages with a rising delivery count, then dead-letters them', async () => {
    const c = await client();
    await send(c, 'q-poison', ['poison']);
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const got = await fetch(c, 'q-poison', 'p1', 1, 2000);
      expect(got.messages).toHaveLength(1);
      counts.push(got.messages[0]?.deliveryCount as number);
      await ack(c, 'q-poison', 'p1', [got.messages[0]?.offset as number], 'release');
    }
    expect(counts).toEqual([1, 2, 3]); // 1 + queue.max.redeliveries (2)
    // nothing left here; the dead letter carries its origin and reason
    expect((await fetch(c, 'q-poison', 'p1', 1, 300)).messages).toEqual([]);
    let dead: QueueFetchResponse | undefined;
    for (let i = 0; i < 50 && !dead?.messages.length; i++) dead = await fetch(c, 'DLQ.q-poison', 'd1', 1, 200);
    expect(dead?.messages.map(text)).toEqual(['poison']);
    const headers = Object.fromEntries((dead?.messages[0]?.headers ?? []).map((h) => [h.key, h.value?.toString()]));
    expect(headers['sluice.dlq.original.queue']).toBe('q-poison');
    expect(headers['sluice.dlq.reason']).toBe('max-redeliveries');
    expect(headers['sluice.dlq.delivery.count']).toBe('3');
    expect(await stats(c, 'q-poison')).toMatchObject({ depth: 0, deadLettered: 1 });
    // release it in the DLQ, then redrive it back
    await ack(c, 'DLQ.q-poison', 'd1', [dead?.messages[0]?.offset as number], 'release');
    const redriven = await c.call<QueueAdminResponse>(ApiKey.QueueAdmin, { op: 'redrive', queue: 'q-poison' });
    expect(redriven).toMatchObject({ errorCode: 0, count: 1 });
    const back = await fetch(c, 'q-poison', 'p2', 1, 2000);
    expect(back.messages.map(text)).toEqual(['poison']);
    expect(back.messages[0]?.deliveryCount).toBe(1);
    expect(back.messages[0]?.headers.some((h) => h.key.startsWith('sluice.dlq.'))).toBe(false);
  });

  it('gives a closed connection’s messages to another consumer at once, and an expired lock’s too', async () => {
    const holder = await client();
    const other = await client();
    await send(other, 'q-close', ['x', 'y']);
    expect((await fetch(holder, 'q-close', 'h', 1)).messages.map(text)).toEqual(['x']);
    expect((await fetch(other, 'q-close', 'o', 1)).messages.map(text)).toEqual(['y']);
    holder.socket.destroy();
    const again = await fetch(other, 'q-close', 'o2', 1, 2000);
    expect(again.messages.map(text)).toEqual(['x']);
    expect(again.messages[0]?.deliveryCount).toBe(2);
    await ack(other, 'q-close', 'o2', [again.messages[0]?.offset as number]);
    // o holds y and never acknowledges: after the 1 s lock it comes back
    const expired = await fetch(other, 'q-close', 'o3', 1, 3000);
    expect(expired.messages.map(text)).toEqual(['y']);
  });

  it('keeps acknowledgements and delivery counts across a restart', async () => {
    const c = await client();
    await send(c, 'q-restart', ['m0', 'm1', 'm2']);
    const got = await fetch(c, 'q-restart', 'r1', 3);
    await ack(c, 'q-restart', 'r1', [got.messages[0]?.offset as number]);
    await ack(c, 'q-restart', 'r1', [got.messages[1]?.offset as number], 'release');
    c.socket.destroy();
    await broker.restart();
    const d = await client();
    const after = await fetch(d, 'q-restart', 'r2', 10, 2000);
    expect(after.messages.map(text).sort()).toEqual(['m1', 'm2']);
    const m1 = after.messages.find((m) => text(m) === 'm1');
    expect(m1?.deliveryCount).toBeGreaterThanOrEqual(2);
    expect(await stats(d, 'q-restart')).toMatchObject({ depth: 2, enqueued: 3, dequeued: 1 });
  }, 60_000);

  it('commits a transaction’s sends and acknowledgements together', async () => {
    const c = await client();
    await send(c, 'q-tx', ['in']);
    const got = await fetch(c, 'q-tx', 't1', 1);
    const res = await c.call<QueueSendResponse>(ApiKey.QueueSend, {
      queue: 'q-tx',
      messages: [{ value: Buffer.from('out-1') }, { value: Buffer.from('out-2') }],
      acks: { consumerId: 't1', offsets: [got.messages[0]?.offset] },
    });
    expect(res.errorCode).toBe(0);
    const next = await fetch(c, 'q-tx', 't2', 10, 1000);
    expect(next.messages.map(text)).toEqual(['out-1', 'out-2']);
    // a commit naming a message the consumer does not hold is refused whole: nothing is sent
    const refused = await c.call<QueueSendResponse>(ApiKey.QueueSend, {
      queue: 'q-tx',
      messages: [{ value: Buffer.from('never') }],
      acks: { consumerId: 't1', offsets: [next.messages[0]?.offset] },
    });
    expect(refused.errorCode).toBe(WireError.INVALID_REQUEST);
    expect(await stats(c, 'q-tx')).toMatchObject({ enqueued: 3, dequeued: 1 });
  });

  it('browses without consuming, purges, expires by TTL, and refuses bad requests', async () => {
    const c = await client();
    await send(c, 'q-admin', ['1', '2', '3']);
    const browsed = await c.call<QueueAdminResponse>(ApiKey.QueueAdmin, { op: 'browse', queue: 'q-admin' });
    expect(browsed.messages?.map(text)).toEqual(['1', '2', '3']);
    expect(await stats(c, 'q-admin')).toMatchObject({ depth: 3, inFlight: 0 });
    const purged = await c.call<QueueAdminResponse>(ApiKey.QueueAdmin, { op: 'purge', queue: 'q-admin' });
    expect(purged.count).toBe(3);
    expect(await stats(c, 'q-admin')).toMatchObject({ depth: 0 });

    await c.call(ApiKey.QueueSend, { queue: 'q-admin', messages: [{ value: Buffer.from('short'), ttlMs: 100 }] });
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(c, 'q-admin', 'a1', 5, 200)).messages).toEqual([]);

    const bad = await c.call<QueueFetchResponse>(ApiKey.QueueFetch, { queue: 'q-admin', consumerId: '', prefetch: 1 });
    expect(bad.errorCode).toBe(WireError.INVALID_REQUEST);
    for (const returned of ['1', [-1], [1.5], Array.from({ length: 10_001 }, (_, i) => i)]) {
      const badReturned = await c.call<QueueFetchResponse>(ApiKey.QueueFetch, {
        queue: 'q-admin',
        consumerId: 'r1',
        prefetch: 1,
        maxMessages: 1,
        maxWaitMs: 0,
        returned,
      });
      expect(badReturned.errorCode).toBe(WireError.INVALID_REQUEST);
    }
    const badName = await c.call<QueueSendResponse>(ApiKey.QueueSend, { queue: 'no/slash', messages: [] });
    expect(badName.errorCode).toBe(WireError.INVALID_TOPIC_EXCEPTION);
    const badOp = await c.call<QueueAdminResponse>(ApiKey.QueueAdmin, { op: 'explode', queue: 'q-admin' });
    expect(badOp.errorCode).toBe(WireError.INVALID_REQUEST);
    const list = await c.call<QueueAdminResponse>(ApiKey.QueueAdmin, { op: 'list' });
    expect(list.stats?.map((s) => s.queue)).toContain('q-admin');
  });
});
