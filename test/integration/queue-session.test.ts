/**
 * Transacted sessions spanning queues, when a write of the commit fails, on a
 * real broker: the failure is real (an output message over the broker's
 * message.max.bytes, refused by the log), the application rolls back as
 * usual, and nothing received is lost — every input is still in its queue
 * (redelivered) or its output is stored. Sends are stored before any
 * acknowledgement of another queue, whatever order the session's queues were
 * opened in; a failed commit says exactly which queues are committed, and
 * rollback() releases only what is not.
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

  it('a partial commit names what is stored; rollback() releases only what is not; commit() again finishes', async () => {
    const sluice = client();
    await sluice.queue('part-in').sendBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    const session = sluice.session({ transacted: true });
    const rx = session.queue('part-in').receiver({ prefetch: 10 });
    const good = session.queue('part-good');
    const bad = session.queue('part-bad');
    const received = await receiveN(rx, 3);
    for (const m of received) await good.send(`good-${text(m)}`);
    await bad.send(tooLarge);

    const failure = (await session.commit().catch((err: unknown) => err)) as SessionCommitError;
    expect(failure).toMatchObject({
      name: 'SessionCommitError',
      code: ErrorCode.PartialCommit,
      committed: ['part-good'],
      uncommitted: ['part-in', 'part-bad'],
    });
    expect(failure.queues).toEqual(
      expect.arrayContaining([
        { queue: 'part-in', sendsStored: true, acksStored: false },
        { queue: 'part-good', sendsStored: true, acksStored: true },
        { queue: 'part-bad', sendsStored: false, acksStored: true },
      ]),
    );
    // `part-good`'s sends are stored before any acknowledgement: they stay, whatever comes next
    const admin = sluice.admin();
    expect((await admin.browseQueue('part-good')).map(text)).toEqual(['good-a', 'good-b', 'good-c']);
    expect(await admin.queueStats('part-in')).toMatchObject({ depth: 3, inFlight: 3 });

    // rollback releases the inputs (their acknowledgements were not stored) and drops only `part-bad`'s send
    await session.rollback();
    const again = await receiveN(rx, 3);
    expect(again.map(text).sort()).toEqual(['a', 'b', 'c']);
    for (const m of again) expect(m.redelivered).toBe(true);
    await bad.send('small enough');
    await session.commit();
    expect((await admin.browseQueue('part-bad')).map(text)).toEqual(['small enough']);
    expect(await admin.queueStats('part-in')).toMatchObject({ depth: 0, dequeued: 3 });
    // the outputs of the first attempt are still there: a failed commit duplicates, never loses
    expect((await admin.browseQueue('part-good')).map(text)).toEqual(['good-a', 'good-b', 'good-c']);
    await session.close();
  });

  it('after a failed write, commit() again retries only what was not stored', async () => {
    const sluice = client();
    await sluice.queue('retry-in').send('x');
    const session = sluice.session({ transacted: true });
    const rx = session.queue('retry-in').receiver({ prefetch: 1 });
    const [m] = await receiveN(rx, 1);
    await session.queue('retry-a').send(`a-${text(m as QueueMessage)}`);
    await session.queue('retry-b').send(tooLarge);
    await expect(session.commit()).rejects.toMatchObject({ code: ErrorCode.PartialCommit });
    await expect(session.commit()).rejects.toMatchObject({ committed: [], uncommitted: ['retry-in', 'retry-b'] });
    const admin = sluice.admin();
    // retry-a's send was stored once, not again
    expect((await admin.browseQueue('retry-a')).map(text)).toEqual(['a-x']);
    await session.rollback();
    expect(await admin.queueStats('retry-in')).toMatchObject({ depth: 1 });
    await session.close();
  });
});
