/**
 * Transacted sessions spanning queues, when a write of the commit fails, on a
 * real broker: the failure is real (an output message over the broker's
 * message.max.bytes, refused by the log), the application rolls back as
 * usual, and nothing received is lost — every input is still in its queue
 * (redelivered) or its output is stored. A commit spanning queues is one
 * Kafka transaction (issue 21): a failed one commits nothing, only rollback()
 * may follow, and it redelivers every input.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type QueueMessage, type SessionCommitError, Sluice } from '../../src/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';

let broker: BrokerProcess;
const clients: Sluice[] = [];

/** Over the broker's message.max.bytes (1 MiB + 12 by default): the log refuses the batch holding it. */
const tooLarge = Buffer.alloc(2 * 1024 * 1024, 0x61);

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['http.port=0'] });
});

afterAll(async () => {
  await broker?.destroy();
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

function client(): Sluice {
  const c = new Sluice({ brokers: broker.address, clientId: 'queue-session-it' });
  clients.push(c);
  return c;
}

const text = (m: { value: Buffer | null }): string => m.value?.toString() ?? '';

/** Every message left in `queue`, received (and acknowledged) by a fresh receiver until it is quiet. */
async function drainQueue(sluice: Sluice, queue: string): Promise<QueueMessage[]> {
  const r = sluice.queue(queue).receiver({ prefetch: 100 });
  const out: QueueMessage[] = [];
  try {
    for (let m = await r.receive(3000); m; m = await r.receive(1000)) out.push(m);
  } finally {
    await r.close();
  }
  return out;
}

/** Receives `n` messages within the session's receiver. */
async function receiveN(r: { receive(ms: number): Promise<QueueMessage | null> }, n: number): Promise<QueueMessage[]> {
  const got: QueueMessage[] = [];
  while (got.length < n) {
    const m = await r.receive(5000);
    if (!m) throw new Error(`received ${got.length} of ${n} messages`);
    got.push(m);
  }
  return got;
}

describe('transacted session: a failed commit loses nothing', () => {
  it('in -> out with the write to out failing: rollback() redelivers every input, none is lost', async () => {
    const sluice = client();
    const inputs = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    await sluice.queue('loss-in').sendBatch(inputs.map((value) => ({ value })));
    const session = sluice.session({ transacted: true });
    // the receiver on `in` is opened first (as an application does): the old code committed `in` first
    const rx = session.queue('loss-in').receiver({ prefetch: 20 });
    const out = session.queue('loss-out');
    const received = await receiveN(rx, inputs.length);
    for (const m of received) await out.send(`out-${text(m)}`);
    await out.send(tooLarge); // one output the broker refuses: the write to `out` fails

    const failure = (await session.commit().then(
      () => undefined,
      (err: unknown) => err,
    )) as SessionCommitError | undefined;
    expect(failure).toBeDefined();
    await session.rollback();
    // the application gives up on this session: what its receiver prefetched again goes back uncounted
    await session.close();

    // the invariant: each input is in `in` again (redelivered) or its output is in `out`
    const again = await drainQueue(sluice, 'loss-in');
    const outputs = new Set((await drainQueue(sluice, 'loss-out')).map(text));
    const back = new Set(again.map(text));
    const lost = inputs.filter((v) => !back.has(v) && !outputs.has(`out-${v}`));
    expect(lost).toEqual([]);
    // nothing was stored here, so every input comes back, flagged, and no output exists
    expect([...back].sort()).toEqual([...inputs].sort());
    for (const m of again) expect(m.redelivered && m.deliveryCount >= 2).toBe(true);
    expect(outputs.size).toBe(0);

    // the error says what is committed: nothing, with the refusing write's own code
    expect(failure).toMatchObject({
      name: 'SessionCommitError',
      code: ErrorCode.RecordTooLarge,
      committed: [],
      uncommitted: ['loss-in', 'loss-out'],
    });
  });

  it('a commit spanning queues failing on one stores nothing; rollback() redelivers every input; the next commit writes everything once', async () => {
    const sluice = client();
    await sluice.queue('part-in').sendBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    const session = sluice.session({ transacted: true });
    const rx = session.queue('part-in').receiver({ prefetch: 10 });
    const good = session.queue('part-good');
    const bad = session.queue('part-bad');
    const received = await receiveN(rx, 3);
    for (const m of received) await good.send(`good-${text(m)}`);
    await bad.send(tooLarge);

    // one Kafka transaction (issue 21): part-good's batch is written but pending, so nothing is committed
    const failure = (await session.commit().catch((err: unknown) => err)) as SessionCommitError;
    expect(failure).toMatchObject({ name: 'SessionCommitError', code: ErrorCode.RecordTooLarge, committed: [] });
    expect([...failure.uncommitted].sort()).toEqual(['part-bad', 'part-good', 'part-in']);
    expect(failure.inDoubt).toBe(false);
    const admin = sluice.admin();
    expect(await admin.browseQueue('part-good')).toEqual([]);

    // rollback aborts the transaction: the inputs come again (released at the abort marker), the sends are dropped
    await session.rollback();
    const again = await receiveN(rx, 3);
    expect(again.map(text).sort()).toEqual(['a', 'b', 'c']);
    for (const m of again) expect(m.redelivered).toBe(true);
    for (const m of again) await good.send(`good-${text(m)}`);
    await bad.send('small enough');
    await session.commit();
    await session.close();
    // the markers follow EndTxn's answer: wait for the input's acknowledgement to apply
    for (let stats = await admin.queueStats('part-in'); stats.dequeued < 3; stats = await admin.queueStats('part-in')) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await admin.queueStats('part-in')).toMatchObject({ depth: 0, dequeued: 3 });
    expect((await admin.browseQueue('part-bad')).map(text)).toEqual(['small enough']);
    // the aborted attempt's outputs never appear: each output once
    expect((await admin.browseQueue('part-good')).map(text).sort()).toEqual(['good-a', 'good-b', 'good-c']);
  });

  it('after a failed commit spanning queues only rollback() may follow; nothing of it was stored', async () => {
    const sluice = client();
    await sluice.queue('retry-in').send('x');
    const session = sluice.session({ transacted: true });
    const rx = session.queue('retry-in').receiver({ prefetch: 1 });
    const [m] = await receiveN(rx, 1);
    await session.queue('retry-a').send(`a-${text(m as QueueMessage)}`);
    await session.queue('retry-b').send(tooLarge);
    await expect(session.commit()).rejects.toMatchObject({ code: ErrorCode.RecordTooLarge, committed: [] });
    await expect(session.commit()).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    const admin = sluice.admin();
    expect(await admin.browseQueue('retry-a')).toEqual([]);
    await session.rollback();
    const [back] = await receiveN(rx, 1);
    expect(back && text(back)).toBe('x');
    expect(await admin.queueStats('retry-in')).toMatchObject({ depth: 1 });
    await session.close();
  });
});
