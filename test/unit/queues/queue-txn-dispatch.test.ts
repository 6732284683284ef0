/**
 * Transactional batches on a queue's log (issue 21: a transacted session
 * spanning queues): a dispatcher on a real partition log (real files, real
 * LevelDB) holds a transaction's messages and acknowledgements pending until
 * its producer's marker, applies both at a commit, drops both at an abort,
 * never surfaces a control batch, and rebuilds all of it when it replays the
 * log (a restart or a new leader), a transaction still open then waiting for
 * its marker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { QueueDispatcher } from '../../../src/queues/queue-dispatcher.js';
import type { PartitionReplica } from '../../../src/replication/partition-replica.js';
import { silentLogger } from '../../../src/shared/logger.js';
import type { LogManager } from '../../../src/storage/log-manager.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { encodeTxnMarker } from '../../../src/wire/txn-marker.js';
import { storageFixture } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const dispatchers: QueueDispatcher[] = [];
afterEach(() => {
  for (const d of dispatchers.splice(0)) d.close();
});

const config = parseBrokerConfig(new Map([['queue.redelivery.delay.ms', '0']]));
const pid = 7;
const txn = { producerId: pid, producerEpoch: 0 };

/**
 * A dispatcher of queue 'q' leading `log` alone: an append is committed at once (the high
 * watermark follows the log end), as on a leader whose ISR is itself. `mark` appends a marker
 * as ReplicaManager.writeTxnMarker does (the coordinator's append).
 */
function dispatcherOn(log: PartitionLog): {
  dispatcher: QueueDispatcher;
  mark: (producerId: number, committed: boolean) => Promise<number>;
} {
  const replica = { log, highWatermark: log.logEndOffset };
  let dispatcher: QueueDispatcher | undefined;
  const append = async (batch: Buffer, marker = false) => {
    const result = await log.append(batch, marker ? { origin: 'coordinator' } : {});
    replica.highWatermark = log.logEndOffset;
    dispatcher?.onCommitted();
    return result;
  };
  dispatcher = new QueueDispatcher('q', replica as unknown as PartitionReplica, {
    append,
    config,
    sendTo: async () => 0,
    logger: silentLogger,
  });
  dispatchers.push(dispatcher);
  return {
    dispatcher,
    mark: async (producerId, committed) => {
      const batch = encodeTxnMarker({ producerId, producerEpoch: 0, committed, coordinatorEpoch: 0 });
      const { lastOffset } = await append(batch, true);
      return lastOffset;
    },
  };
}

/** Writes pid's marker, then tells the dispatcher (onTxnMarker), twice: resolving is idempotent. */
async function writeMarker(
  d: QueueDispatcher,
  mark: (producerId: number, committed: boolean) => Promise<number>,
  committed: boolean,
) {
  await mark(pid, committed);
  d.onTxnMarker();
  d.onTxnMarker();
  await d.ready;
}

const value = (s: string) => ({ key: null, value: Buffer.from(s) });
const values = (ds: { value: Buffer | null }[]) => ds.map((d) => d.value?.toString());

async function fetchAll(d: QueueDispatcher, consumer = 'c1') {
  return d.fetch(consumer, 1, 100, 100, 0, 30_000);
}

/** Lets the follower's scan (started by a notification) finish. */
async function settle(d: QueueDispatcher, log: PartitionLog) {
  d.onCommitted();
  // a browse waits for nothing but ready; the scan below makes the state current
  await (d as unknown as { follower: { scannedPast(o: number): Promise<void> } }).follower.scannedPast(
    log.logEndOffset - 1,
  );
}

async function openLog(manager: LogManager) {
  return manager.getOrCreate('__queue.q', 0);
}

describe('queue transactions: pending until the marker', () => {
  it('a transaction’s messages are neither fetched nor browsed before its commit marker, and are after it; the marker is no message', async () => {
    const log = await openLog(await fx.open(fx.dir()));
    const { dispatcher: d, mark } = dispatcherOn(log);
    await d.ready;
    await d.send([value('plain')]);
    await d.send([value('t1'), value('t2')], undefined, txn);
    expect(values(await d.browse(100))).toEqual(['plain']);
    expect(d.stats().depth).toBe(1);
    expect(values(await fetchAll(d))).toEqual(['plain']);
    expect(await fetchAll(d, 'c2')).toEqual([]);

    await writeMarker(d, mark, true);
    await settle(d, log);
    expect(values(await d.browse(100))).toEqual(['plain', 't1', 't2']);
    expect(values(await fetchAll(d, 'c2'))).toEqual(['t1', 't2']);
    expect(d.stats()).toMatchObject({ depth: 3, enqueued: 3 });
  });

  it('an aborted transaction’s messages are never seen, and its producer’s next transaction continues its sequence', async () => {
    const log = await openLog(await fx.open(fx.dir()));
    const { dispatcher: d, mark } = dispatcherOn(log);
    await d.ready;
    await d.send([value('gone1'), value('gone2')], undefined, txn);
    await writeMarker(d, mark, false);
    // the log checks the producer's sequence: 0-1 above, 2 here (a restart at 0 is refused as out of order)
    await d.send([value('kept')], undefined, txn);
    await writeMarker(d, mark, true);
    await settle(d, log);
    expect(values(await d.browse(100))).toEqual(['kept']);
    expect(values(await fetchAll(d))).toEqual(['kept']);
    expect(d.stats()).toMatchObject({ depth: 1, enqueued: 1 });
  });

  it('a transaction’s acknowledgement holds the message (not redelivered when its consumer leaves) until the commit, which acknowledges it', async () => {
    const log = await openLog(await fx.open(fx.dir()));
    const { dispatcher: d, mark } = dispatcherOn(log);
    await d.ready;
    await d.send([value('in')]);
    const [m] = await fetchAll(d);
    if (!m) throw new Error('no delivery');
    await d.send([value('out')], { consumerId: 'c1', offsets: [m.offset] }, txn);
    // the consumer's release of a message its open transaction acknowledges is refused
    const [released] = await d.acknowledge('c1', [{ offset: m.offset, type: 'release' }]);
    expect(released?.error).toBeDefined();
    await d.leave('c1');
    expect(await fetchAll(d, 'c2')).toEqual([]);
    expect(await d.browse(100)).toEqual([]);

    await writeMarker(d, mark, true);
    await settle(d, log);
    expect(values(await fetchAll(d, 'c2'))).toEqual(['out']);
    expect(d.stats()).toMatchObject({ dequeued: 1, enqueued: 2, depth: 1 });
  });

  it('an abort releases the acknowledged message (redelivered, the delivery counted) and drops the messages', async () => {
    const log = await openLog(await fx.open(fx.dir()));
    const { dispatcher: d, mark } = dispatcherOn(log);
    await d.ready;
    await d.send([value('in')]);
    const [m] = await fetchAll(d);
    if (!m) throw new Error('no delivery');
    await d.send([value('out')], { consumerId: 'c1', offsets: [m.offset] }, txn);
    expect(await fetchAll(d, 'c2')).toEqual([]);

    await writeMarker(d, mark, false);
    await settle(d, log);
    const again = await fetchAll(d, 'c2');
    expect(values(again)).toEqual(['in']);
    expect(again[0]?.deliveryCount).toBe(2);
    expect(d.stats()).toMatchObject({ dequeued: 0, enqueued: 1 });
  });

  it('a replay (restart) applies committed, drops aborted, and keeps an open transaction pending until its marker', async () => {
    const dir = fx.dir();
    const manager = await fx.open(dir);
    let log = await openLog(manager);
    const first = dispatcherOn(log);
    await first.dispatcher.ready;
    await first.dispatcher.send([value('in1'), value('in2'), value('in3')]);
    const got = await fetchAll(first.dispatcher);
    const [in1, in2] = got;
    if (!in1 || !in2) throw new Error('no deliveries');
    // committed: out-a + ack of in1; aborted: out-b + ack of in2 (other producers); open: out-c (pid)
    const p1 = { producerId: 1, producerEpoch: 0 };
    const p2 = { producerId: 2, producerEpoch: 0 };
    await first.dispatcher.send([value('out-a')], { consumerId: 'c1', offsets: [in1.offset] }, p1);
    await first.dispatcher.send([value('out-b')], { consumerId: 'c1', offsets: [in2.offset] }, p2);
    await first.dispatcher.send([value('out-c')], undefined, txn);
    await first.mark(1, true);
    await first.mark(2, false);
    first.dispatcher.close();
    await manager.close();

    log = await openLog(await fx.open(dir));
    const { dispatcher: d, mark } = dispatcherOn(log);
    await d.ready;
    // in2 and in3 back (their deliveries counted), out-a committed; in1 acknowledged; out-b, out-c not
    expect(values(await d.browse(100))).toEqual(['in2', 'in3', 'out-a']);
    const after = await fetchAll(d);
    expect(values(after)).toEqual(['in2', 'in3', 'out-a']);
    expect(after.map((x) => x.deliveryCount)).toEqual([2, 2, 1]);

    await writeMarker(d, mark, true);
    await settle(d, log);
    expect(values(await fetchAll(d, 'c2'))).toEqual(['out-c']);
    // the open transaction's producer goes on with the next sequence after the replay
    await d.send([value('out-d')], undefined, txn);
    await writeMarker(d, mark, true);
    await settle(d, log);
    expect(values(await fetchAll(d, 'c3'))).toEqual(['out-d']);
  });
});
