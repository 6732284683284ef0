/**
 * The chaos suite's queue load, in one process so that its log's order is
 * the real order of events: a sender puts `q<n>` on queue IN; three kinds of
 * consumer compete for IN — a listener (which acknowledges in its handler
 * and, once in 25 messages, throws on the first delivery so the message is
 * redelivered), a client-acknowledging receiver, and a transacted session
 * that receives from IN, sends a copy to OUT and commits; a client-ack
 * receiver drains OUT. Every send, delivery (with its count and redelivered
 * flag), acknowledgement, commit and rollback is logged (QueueEvent).
 *
 * Command {"stop":true}: the sender stops, the consumers drain both queues
 * (bounded), stop, and what is left in IN, OUT and their dead-letter queues
 * is logged as "remaining"; then "done" and exit 0.
 */
import { type QueueMessage, Sluice } from '../../../src/index.js';
import type { QueueEvent } from '../events.js';
import { JsonlWriter } from '../jsonl.js';
import { describeError, onCommand, pacer, report, sleep, workerOptions } from './worker-io.js';

interface Options {
  brokers: string;
  inQueue: string;
  outQueue: string;
  perSecond: number;
  out: string;
  drainTimeoutMs: number;
}

const o = workerOptions<Options>();
const log = new JsonlWriter(o.out);
const client = (role: string): Sluice =>
  new Sluice({ brokers: o.brokers, clientId: `chaos-queue-${role}`, requestTimeoutMs: 10_000, retries: 20 });
const clients = {
  sender: client('sender'),
  listener: client('listener'),
  receiver: client('receiver'),
  tx: client('tx'),
  drain: client('drain'),
  admin: client('admin'),
};
const emit = (e: QueueEvent): Promise<void> => log.write(e);
const idOf = (m: QueueMessage): string => m.value?.toString() ?? '';
let sending = true;
let consuming = true;
let sent = 0;
let delivered = 0;

function deliver(queue: string, m: QueueMessage, via: string): Promise<void> {
  delivered++;
  return emit({
    ev: 'deliver',
    t: Date.now(),
    queue,
    id: idOf(m),
    offset: m.offset,
    via,
    count: m.deliveryCount,
    redelivered: m.redelivered,
  });
}

/** Acknowledges and logs the outcome (a failed ack's outcome is unknown: the broker may have stored it). */
async function ackLogged(queue: string, m: QueueMessage, via: string): Promise<void> {
  try {
    await m.ack();
    await emit({ ev: 'ack', t: Date.now(), queue, id: idOf(m), offset: m.offset, via });
  } catch (err) {
    await emit({ ev: 'ack-fail', t: Date.now(), queue, id: idOf(m), offset: m.offset, via, error: describeError(err) });
  }
}

async function sender(): Promise<void> {
  const q = clients.sender.queue(o.inQueue);
  const pace = pacer(o.perSecond);
  for (let n = 0; sending; n++) {
    await pace();
    const id = `q${n}`;
    try {
      const { offset } = await q.send(id);
      sent++;
      await emit({ ev: 'send', t: Date.now(), queue: o.inQueue, id, offset });
    } catch (err) {
      await emit({ ev: 'send-fail', t: Date.now(), queue: o.inQueue, id, error: describeError(err) });
    }
  }
}

function listener() {
  return clients.listener.queue(o.inQueue).listen(
    async (m) => {
      await deliver(o.inQueue, m, 'listener');
      if (Number(idOf(m).slice(1)) % 25 === 0 && m.deliveryCount === 1) {
        await emit({ ev: 'release', t: Date.now(), queue: o.inQueue, id: idOf(m), offset: m.offset, via: 'listener' });
        throw new Error('chaos: a handler failure on the first delivery');
      }
      await ackLogged(o.inQueue, m, 'listener');
    },
    {
      prefetch: 10,
      onError: (err, m) => (m ? undefined : report({ ev: 'error', error: `listener stopped: ${describeError(err)}` })),
    },
  );
}

/** A client-ack receiver loop on `queue` until consuming stops. */
async function receiverLoop(sluice: Sluice, queue: string, via: string): Promise<void> {
  const r = sluice.queue(queue).receiver({ ackMode: 'client', prefetch: 10 });
  while (consuming) {
    try {
      const m = await r.receive(300);
      if (!m) continue;
      await deliver(queue, m, via);
      await ackLogged(queue, m, via);
    } catch (err) {
      report({ ev: 'error', error: `${via} receive: ${describeError(err)}` });
      await sleep(200);
    }
  }
  await r.close().catch(() => undefined);
}

/** The transacted in->out session: up to 5 messages per transaction. */
async function transactedLoop(): Promise<void> {
  let session = clients.tx.session({ transacted: true });
  let receiver = session.queue(o.inQueue).receiver({ prefetch: 10 });
  let outQueue = session.queue(o.outQueue);
  while (consuming) {
    const ids: string[] = [];
    const offsets: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const m = await receiver.receive(i === 0 ? 300 : 50);
        if (!m) break;
        ids.push(idOf(m));
        offsets.push(m.offset);
        await deliver(o.inQueue, m, 'tx');
        await outQueue.send(idOf(m));
      }
      if (ids.length === 0) continue;
      await session.commit();
      await emit({
        ev: 'commit',
        t: Date.now(),
        from: o.inQueue,
        to: o.outQueue,
        acked: ids,
        ackedOffsets: offsets,
        sent: ids,
      });
    } catch (err) {
      await emit({ ev: 'rollback', t: Date.now(), from: o.inQueue, to: o.outQueue, ids, error: describeError(err) });
      try {
        await session.rollback();
      } catch {
        await session.close().catch(() => undefined);
        session = clients.tx.session({ transacted: true });
        receiver = session.queue(o.inQueue).receiver({ prefetch: 10 });
        outQueue = session.queue(o.outQueue);
      }
      // a failure that repeats at once (a stopped receiver) must not spin: one seed-14 run rolled back
      // 2.26 million times in 36 s while a restarted broker refused every fetch
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await session.close().catch(() => undefined);
}

/** Waits (bounded) until neither queue holds a message; returns whether they drained. */
async function drained(): Promise<boolean> {
  const admin = clients.admin.admin();
  const deadline = Date.now() + o.drainTimeoutMs;
  while (Date.now() < deadline) {
    try {
      const stats = await Promise.all([admin.queueStats(o.inQueue), admin.queueStats(o.outQueue)]);
      if (stats.every((s) => s.depth === 0)) return true;
    } catch {
      // a leader moving: ask again
    }
    await sleep(500);
  }
  return false;
}

/** Logs every message left in the queues and their dead-letter queues. */
async function logRemaining(): Promise<void> {
  const admin = clients.admin.admin();
  for (const queue of [o.inQueue, o.outQueue]) {
    for (const [name, dlq] of [
      [queue, false],
      [`DLQ.${queue}`, true],
    ] as const) {
      const left = await admin.browseQueue(name, { maxMessages: 10_000 });
      for (const m of left) {
        const id = m.value?.toString() ?? '';
        await emit({
          ev: 'remaining',
          t: Date.now(),
          queue,
          id,
          offset: m.offset,
          dlq,
          deliveryCount: m.deliveryCount,
        });
      }
    }
  }
}

const sending$ = sender();
const l = listener();
const loops = [
  receiverLoop(clients.receiver, o.inQueue, 'receiver'),
  receiverLoop(clients.drain, o.outQueue, 'out-receiver'),
  transactedLoop(),
];
const progress = setInterval(() => report({ ev: 'progress', sent, delivered }), 1000);
report({ ev: 'ready' });

onCommand((c) => {
  if (c.stop !== true || !sending) return;
  sending = false;
  void (async () => {
    await sending$;
    const empty = await drained();
    if (!empty) report({ ev: 'error', error: `the queues did not drain within ${o.drainTimeoutMs} ms` });
    consuming = false;
    await l.close();
    await Promise.all(loops);
    try {
      await logRemaining();
    } catch (err) {
      report({ ev: 'error', error: `browsing what is left: ${describeError(err)}` });
    }
    await log.close();
    clearInterval(progress);
    await Promise.allSettled(Object.values(clients).map((s) => s.close()));
    report({ ev: 'done', sent, delivered });
    process.exit(0);
  })();
});
