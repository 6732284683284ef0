/**
 * Transactional offset commits in __consumer_offsets (real LogManager, real
 * LevelDB): a replay holds a transaction's offsets pending until its
 * producer's marker, applies them on COMMIT (unless a commit later in the
 * log replaced them), drops them on ABORT, keeps them pending with no
 * marker; a marker told by the replica manager does the same live.
 * The batches are written as a replica copies its leader's (the leader's own
 * check of transactional appends is the txn-storage work).
 */
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { offsetsPartitionFor, offsetsTopic } from '../../../src/groups/offset-store.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { crc32c } from '../../../src/wire/crc32c.js';
import { controlFlag, Field } from '../../../src/wire/record-batch.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { type OpenOffsetStore, openOffsetStore } from '../../helpers/offset-store.js';
import { tempDir } from '../../helpers/temp-dir.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const opened: OpenOffsetStore[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
  for (const c of cleanups.splice(0)) c();
});

async function open(dir: string): Promise<OpenOffsetStore> {
  const o = await openOffsetStore(dir, 1 << 30);
  opened.push(o);
  return o;
}

async function reopen(o: OpenOffsetStore, dir: string): Promise<OpenOffsetStore> {
  opened.splice(opened.indexOf(o), 1);
  await o.close();
  return open(dir);
}

function offsetsLog(o: OpenOffsetStore, group: string): PartitionLog {
  const log = o.logs.get(offsetsTopic, offsetsPartitionFor(group));
  if (!log) throw new Error('no offsets partition');
  return log;
}

/** Commits in the store's layout; transactional (of `producerId`) when given one. */
function commits(group: string, entries: [string, number, number][], producerId = -1): Buffer {
  const records = entries.map(([topic, partition, offset]) => ({
    key: packr.pack([group, topic, partition]),
    value: packr.pack({ offset, metadata: `m${offset}`, commitTimestamp: 1 }),
    timestamp: 1,
  }));
  return producerId < 0
    ? encodeRecordBatch(records)
    : encodeRecordBatch(records, { transactional: true, producerId, producerEpoch: 0, baseSequence: -1 });
}

/** A transaction marker: Kafka's control batch (key: version 0, type 1 commit / 0 abort; value: version 0, coordinator epoch). */
function marker(producerId: number, committed: boolean): Buffer {
  const key = Buffer.from([0, 0, 0, committed ? 1 : 0]);
  const value = Buffer.from([0, 0, 0, 0, 0, 0]);
  const batch = encodeRecordBatch([{ key, value, timestamp: 1 }], {
    transactional: true,
    producerId,
    producerEpoch: 0,
    baseSequence: -1,
  });
  batch.writeInt16BE(batch.readInt16BE(Field.attributes) | controlFlag, Field.attributes);
  batch.writeUInt32BE(crc32c(batch.subarray(Field.attributes)), Field.crc);
  return batch;
}

/** Appends as a replica copying its leader: at the log's end, offsets kept, no producer checks. Returns the batch's offset. */
async function copy(log: PartitionLog, batch: Buffer): Promise<number> {
  const at = log.logEndOffset;
  batch.writeBigInt64BE(BigInt(at), Field.baseOffset);
  await log.append(batch, { assignOffsets: false });
  return at;
}

describe('offset store: transactional commits', () => {
  it('replays committed, aborted and open transactions: applied, dropped, pending', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let o = await open(t.dir);
    await o.store.commit('g', [
      { topic: 'a', partition: 0, offset: 1, metadata: '' },
      { topic: 'a', partition: 1, offset: 2, metadata: '' },
      { topic: 'a', partition: 2, offset: 3, metadata: '' },
    ]);
    const log = offsetsLog(o, 'g');
    await copy(log, commits('g', [['a', 0, 50]], 7));
    await copy(log, commits('g', [['a', 1, 60]], 8));
    await copy(log, commits('g', [['a', 2, 70]], 9));
    await copy(log, marker(8, false));
    await copy(log, marker(7, true));
    o = await reopen(o, t.dir);
    expect(await o.store.fetch('g', 'a', 0)).toMatchObject({ offset: 50, metadata: 'm50' });
    expect(o.store.hasPendingTxnOffset('g', 'a', 0)).toBe(false);
    expect((await o.store.fetch('g', 'a', 1))?.offset).toBe(2);
    expect(o.store.hasPendingTxnOffset('g', 'a', 1)).toBe(false);
    // producer 9 has no marker yet: its offset is pending, the committed one is still answered
    expect((await o.store.fetch('g', 'a', 2))?.offset).toBe(3);
    expect(o.store.hasPendingTxnOffset('g', 'a', 2)).toBe(true);
    // its marker arrives later (the replica manager tells the store): now committed
    const at = await copy(offsetsLog(o, 'g'), marker(9, true));
    o.store.onTxnMarker({
      topic: offsetsTopic,
      partition: offsetsPartitionFor('g'),
      producerId: 9,
      producerEpoch: 0,
      committed: true,
      offset: at,
    });
    expect((await o.store.fetch('g', 'a', 2))?.offset).toBe(70);
    expect(o.store.hasPendingTxnOffset('g', 'a', 2)).toBe(false);
    o = await reopen(o, t.dir);
    expect((await o.store.fetch('g', 'a', 0))?.offset).toBe(50);
    expect((await o.store.fetch('g', 'a', 1))?.offset).toBe(2);
    expect((await o.store.fetch('g', 'a', 2))?.offset).toBe(70);
  });

  it('a commit written after the transaction wins over it, live and replayed (the log orders them)', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let o = await open(t.dir);
    await o.store.commit('g', [{ topic: 'a', partition: 0, offset: 1, metadata: '' }]);
    const log = offsetsLog(o, 'g');
    await copy(
      log,
      commits(
        'g',
        [
          ['a', 0, 50],
          ['a', 1, 51],
        ],
        7,
      ),
    );
    o = await reopen(o, t.dir);
    // the plain commit comes after the transactional one in the log
    await o.store.commit('g', [{ topic: 'a', partition: 0, offset: 99, metadata: 'plain' }]);
    const at = await copy(offsetsLog(o, 'g'), marker(7, true));
    o.store.onTxnMarker({
      topic: offsetsTopic,
      partition: offsetsPartitionFor('g'),
      producerId: 7,
      producerEpoch: 0,
      committed: true,
      offset: at,
    });
    expect((await o.store.fetch('g', 'a', 0))?.offset).toBe(99);
    expect((await o.store.fetch('g', 'a', 1))?.offset).toBe(51);
    o = await reopen(o, t.dir);
    expect((await o.store.fetch('g', 'a', 0))?.offset).toBe(99);
    expect((await o.store.fetch('g', 'a', 1))?.offset).toBe(51);
  });

  it('a marker never ends a later transaction of the same producer; an abort drops only its own', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let o = await open(t.dir);
    const log = offsetsLog(o, 'g');
    await copy(log, commits('g', [['a', 0, 10]], 7));
    const first = await copy(log, marker(7, false));
    await copy(log, commits('g', [['a', 0, 20]], 7));
    o = await reopen(o, t.dir);
    expect(await o.store.fetch('g', 'a', 0)).toBeUndefined();
    expect(o.store.hasPendingTxnOffset('g', 'a', 0)).toBe(true);
    // the first abort told again (a retried marker): the second transaction stays open
    o.store.onTxnMarker({
      topic: offsetsTopic,
      partition: offsetsPartitionFor('g'),
      producerId: 7,
      producerEpoch: 0,
      committed: false,
      offset: first,
    });
    expect(o.store.hasPendingTxnOffset('g', 'a', 0)).toBe(true);
    // a marker on another partition, or of another topic, is not this group's
    const other = (offsetsPartitionFor('g') + 1) % 50;
    o.store.onTxnMarker({
      topic: offsetsTopic,
      partition: other,
      producerId: 7,
      producerEpoch: 0,
      committed: true,
      offset: 1000,
    });
    o.store.onTxnMarker({
      topic: 'orders',
      partition: offsetsPartitionFor('g'),
      producerId: 7,
      producerEpoch: 0,
      committed: true,
      offset: 1000,
    });
    expect(o.store.hasPendingTxnOffset('g', 'a', 0)).toBe(true);
    const at = await copy(offsetsLog(o, 'g'), marker(7, true));
    o.store.onTxnMarker({
      topic: offsetsTopic,
      partition: offsetsPartitionFor('g'),
      producerId: 7,
      producerEpoch: 0,
      committed: true,
      offset: at,
    });
    expect((await o.store.fetch('g', 'a', 0))?.offset).toBe(20);
  });

  it('deleting a group drops its pending offsets: a later marker commits nothing, live or replayed', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let o = await open(t.dir);
    await copy(offsetsLog(o, 'g'), commits('g', [['a', 0, 10]], 7));
    o = await reopen(o, t.dir);
    expect(await o.store.groupIds()).toContain('g');
    expect(await o.store.deleteGroup('g')).toBe(1);
    expect(o.store.hasPendingTxnOffset('g', 'a', 0)).toBe(false);
    const at = await copy(offsetsLog(o, 'g'), marker(7, true));
    o.store.onTxnMarker({
      topic: offsetsTopic,
      partition: offsetsPartitionFor('g'),
      producerId: 7,
      producerEpoch: 0,
      committed: true,
      offset: at,
    });
    expect(await o.store.fetch('g', 'a', 0)).toBeUndefined();
    o = await reopen(o, t.dir);
    expect(await o.store.fetch('g', 'a', 0)).toBeUndefined();
    expect(await o.store.groupIds()).not.toContain('g');
  });
});
