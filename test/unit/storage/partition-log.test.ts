import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import { LogManager } from '../../../src/storage/log-manager.js';
import type { PartitionIndex } from '../../../src/storage/partition-index.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { baseOffsetOf, Compression, Field } from '../../../src/wire/record-batch.js';
import { decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import {
  contentsOf,
  expectedContents,
  fileSize,
  fixCrc,
  flipByte,
  indexProblems,
  readAll,
  segmentFiles,
  segmentLayout,
  segmentPath,
  splitBatches,
  storageFixture,
  testBatch,
} from '../../helpers/storage.js';
import { expectSluiceErrorAsync } from '../../helpers/wire-bytes.js';

const fx = storageFixture(afterEach);

/** Releases fsyncs a test held (see holdSyncs), even when it failed: closing the manager waits for them. */
const releaseHeldSyncs: (() => void)[] = [];

afterEach(() => {
  for (const release of releaseHeldSyncs.splice(0)) release();
  vi.restoreAllMocks();
});

async function freshLog(config: Partial<LogConfig> = {}, topic = 'orders', partition = 0) {
  const dir = fx.dir();
  const manager = await fx.open(dir, config);
  const log = await manager.getOrCreate(topic, partition);
  return { dir, manager, log, partitionDir: path.join(dir, `${topic}-${partition}`) };
}

const expectCode = expectSluiceErrorAsync;

const tagOf = (i: number): string => `b${String(i).padStart(3, '0')}`;

/** Appends batches of the given record counts (tags b000, b001, ...; timestamps 1000 * (i + 1) + j). */
async function appendBatches(log: PartitionLog, counts: number[], valueBytes = 24) {
  const results = [];
  for (const [i, count] of counts.entries()) {
    results.push(await log.append(testBatch(tagOf(i), count, 1000 * (i + 1), { valueBytes })));
  }
  return results;
}

function expectedLog(counts: number[], valueBytes = 24) {
  return counts.flatMap((count, i) => expectedContents(tagOf(i), count, 1000 * (i + 1), valueBytes));
}

describe('append', () => {
  it('assigns consecutive offsets and writes them into the batch headers', async () => {
    const { log } = await freshLog();
    const buffers = [testBatch('a', 1, 100), testBatch('b', 3, 200), testBatch('c', 2, 300)];
    const results = [];
    for (const b of buffers) results.push(await log.append(b));
    expect(results).toEqual([
      { baseOffset: 0, lastOffset: 0, recordCount: 1, maxTimestamp: 100 },
      { baseOffset: 1, lastOffset: 3, recordCount: 3, maxTimestamp: 202 },
      { baseOffset: 4, lastOffset: 5, recordCount: 2, maxTimestamp: 301 },
    ]);
    // the caller's buffers were rewritten in place
    expect(buffers.map((b) => baseOffsetOf(b, 0))).toEqual([0, 1, 4]);
    expect(log.logStartOffset).toBe(0);
    expect(log.logEndOffset).toBe(6);
    const { records } = await readAll(log);
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(contentsOf(records)).toEqual([
      ...expectedContents('a', 1, 100),
      ...expectedContents('b', 3, 200),
      ...expectedContents('c', 2, 300),
    ]);
  });

  it('writes exactly the appended bytes to the segment file', async () => {
    const { log, partitionDir } = await freshLog();
    const a = testBatch('a', 2, 100);
    const b = testBatch('b', 3, 200);
    await log.append(a);
    await log.append(b);
    const file = fs.readFileSync(segmentPath(partitionDir, 0));
    expect(file.length).toBe(a.length + b.length);
    expect(log.sizeBytes).toBe(file.length);
    // the stored bytes are the (offset-stamped) buffers the caller handed over
    expect(file.equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('appends a buffer of several batches as one unit', async () => {
    const { log } = await freshLog();
    await log.append(testBatch('first', 1, 10));
    const many = Buffer.concat([testBatch('x', 2, 100), testBatch('y', 1, 200), testBatch('z', 4, 300)]);
    const r = await log.append(many);
    expect(r).toEqual({ baseOffset: 1, lastOffset: 7, recordCount: 7, maxTimestamp: 303 });
    expect(splitBatches(many).map((b) => [b.baseOffset, b.lastOffset])).toEqual([
      [1, 2],
      [3, 3],
      [4, 7],
    ]);
    const { records } = await readAll(log);
    expect(records.map((x) => x.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(contentsOf(records).slice(1)).toEqual([
      ...expectedContents('x', 2, 100),
      ...expectedContents('y', 1, 200),
      ...expectedContents('z', 4, 300),
    ]);
  });

  it('round-trips null keys and values, headers and gzip batches', async () => {
    const { log } = await freshLog();
    const records = [
      { key: null, value: Buffer.from('no key'), timestamp: 5, headers: [{ key: 'h1', value: Buffer.from('v1') }] },
      { key: Buffer.from('tombstone'), value: null, timestamp: 6, headers: [{ key: 'h2', value: null }] },
      { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: 7 },
    ];
    await log.append(encodeRecordBatch(records));
    const big = Buffer.alloc(5000, 'z');
    await log.append(
      encodeRecordBatch([{ key: Buffer.from('gz'), value: big, timestamp: 9 }], { compression: Compression.gzip }),
    );
    const read = await log.read(0, 1 << 20);
    expect(splitBatches(read.records)).toHaveLength(2);
    // the gzip batch is stored compressed
    expect(read.records.length).toBeLessThan(1000);
    const out = decodeRecords(read.records);
    expect(out.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    expect(out[0]?.key).toBeNull();
    expect(out[0]?.value?.toString()).toBe('no key');
    expect(out[0]?.headers).toEqual([{ key: 'h1', value: Buffer.from('v1') }]);
    expect(out[1]?.value).toBeNull();
    expect(out[1]?.headers).toEqual([{ key: 'h2', value: null }]);
    expect(out[2]?.key?.length).toBe(0);
    expect(out[2]?.value?.length).toBe(0);
    expect(out[3]?.value?.equals(big)).toBe(true);
    expect(out.map((r) => r.timestamp)).toEqual([5, 6, 7, 9]);
  });

  it('stamps the leader epoch into every batch', async () => {
    const { log } = await freshLog();
    await log.append(testBatch('a', 1, 1));
    await log.assignLeaderEpoch(4);
    await log.append(testBatch('b', 1, 2));
    await log.append(testBatch('c', 1, 3), { leaderEpoch: 9 });
    const read = await log.read(0, 1 << 20);
    const epochs = splitBatches(read.records).map((b) =>
      read.records.readInt32BE(b.position + Field.partitionLeaderEpoch),
    );
    expect(epochs).toEqual([-1, 4, 9]);
  });

  it('replicated appends keep their offsets, never go back, and may skip ahead (a compacted leader has gaps)', async () => {
    const { log, dir, manager } = await freshLog();
    await log.append(testBatch('a', 2, 1));
    const good = testBatch('r', 3, 2, { baseOffset: 2 });
    expect(await log.append(good, { assignOffsets: false })).toMatchObject({ baseOffset: 2, lastOffset: 4 });
    const overlap = testBatch('o', 1, 3, { baseOffset: 4 });
    await expectCode(log.append(overlap, { assignOffsets: false }), ErrorCode.InvalidRecord);
    expect(log.logEndOffset).toBe(5);
    // Kafka's follower accepts offsets past its log end (appendAsFollower only refuses them going back)
    const gap = testBatch('g', 1, 3, { baseOffset: 6 });
    expect(await log.append(gap, { assignOffsets: false })).toMatchObject({ baseOffset: 6, lastOffset: 6 });
    expect(log.logEndOffset).toBe(7);
    expect((await readAll(log)).records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 6]);
    // and recovery after a crash keeps the gap instead of cutting the log there
    for (const l of manager.all()) await l.abandon();
    await manager.close();
    const reopened = await (await fx.open(dir)).getOrCreate('orders', 0);
    expect(reopened.logEndOffset).toBe(7);
    expect((await readAll(reopened)).records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 6]);
  });

  it('refuses appends once closed', async () => {
    const { log } = await freshLog();
    await log.append(testBatch('a', 1, 1));
    await log.close();
    await expectCode(log.append(testBatch('b', 1, 2)), ErrorCode.LogClosed);
    await expectCode(log.read(0, 100), ErrorCode.LogClosed);
    await expectCode(log.offsetForTimestamp(0), ErrorCode.LogClosed);
  });
});

describe('append order', () => {
  it('appends reach the log in call order while the first write is prepared and after', async () => {
    const { log } = await freshLog();
    const called: string[] = [];
    const pending: Promise<{ baseOffset: number }>[] = [];
    const appendNow = (tag: string) => {
      called.push(tag);
      pending.push(log.append(testBatch(tag, 1, 100)));
    };
    appendNow('first'); // the log's first write: waits for its preparation
    appendNow('same-tick');
    // more appends from microtasks at every depth while the first waits, as they resume and after
    let chain: Promise<void> = Promise.resolve();
    for (let depth = 0; depth < 12; depth++) {
      chain = chain.then(() => appendNow(`depth-${depth}`));
    }
    const settled = pending[0]?.then(() => appendNow('after-first'));
    await chain;
    await settled;
    const results = await Promise.all(pending);
    const byOffset = called.map((tag, i) => ({ tag, offset: results[i]?.baseOffset ?? -1 }));
    byOffset.sort((a, b) => a.offset - b.offset);
    expect(byOffset.map((r) => r.tag)).toEqual(called);
    expect(byOffset.map((r) => r.offset)).toEqual(called.map((_, i) => i));
  });
});

describe('refusal of corrupt input', () => {
  /** Each case builds a buffer (from a fresh valid batch) that append must refuse with the code. */
  const cases: { name: string; code: string; build: () => Buffer }[] = [
    {
      name: 'a flipped byte in the records (CRC mismatch)',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        flipByte(b, b.length - 3, 0x01);
        return b;
      },
    },
    {
      name: 'a flipped byte in the header fields the CRC covers',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        flipByte(b, Field.maxTimestamp + 7, 0x40);
        return b;
      },
    },
    {
      name: 'a wrong CRC field',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        b.writeUInt32BE((b.readUInt32BE(Field.crc) + 1) >>> 0, Field.crc);
        return b;
      },
    },
    {
      name: 'magic 1',
      code: ErrorCode.InvalidRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        b[Field.magic] = 1;
        return b;
      },
    },
    {
      name: 'magic 3',
      code: ErrorCode.InvalidRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        b[Field.magic] = 3;
        return b;
      },
    },
    {
      name: 'a batch length shorter than a header',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        b.writeInt32BE(20, Field.batchLength);
        return b;
      },
    },
    {
      name: 'a negative batch length',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        b.writeInt32BE(-1, Field.batchLength);
        return b;
      },
    },
    {
      name: 'a batch length past the end of the buffer',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        b.writeInt32BE(b.length, Field.batchLength);
        return b;
      },
    },
    {
      name: 'a batch length of 2 GiB',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        b.writeInt32BE(0x7fffffff, Field.batchLength);
        return b;
      },
    },
    {
      name: 'fewer bytes than a batch header',
      code: ErrorCode.CorruptRecord,
      build: () => testBatch('bad', 2, 50).subarray(0, 40),
    },
    {
      name: 'a truncated batch',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        return b.subarray(0, b.length - 1);
      },
    },
    {
      name: 'trailing bytes after a valid batch',
      code: ErrorCode.CorruptRecord,
      build: () => Buffer.concat([testBatch('ok', 1, 50), Buffer.from([0, 0, 0, 0, 0])]),
    },
    {
      name: 'a valid batch followed by a corrupt one (nothing of the buffer is written)',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const bad = testBatch('bad', 2, 60);
        flipByte(bad, bad.length - 1, 0xff);
        return Buffer.concat([testBatch('ok', 3, 50), bad]);
      },
    },
    {
      name: 'a records count that disagrees with lastOffsetDelta (valid CRC)',
      code: ErrorCode.InvalidRecord,
      build: () => {
        const b = testBatch('bad', 2, 50);
        b.writeInt32BE(3, Field.recordsCount);
        return fixCrc(b);
      },
    },
    {
      name: 'a batch claiming zero records (valid CRC)',
      code: ErrorCode.InvalidRecord,
      build: () => {
        const b = testBatch('bad', 1, 50);
        b.writeInt32BE(0, Field.recordsCount);
        b.writeInt32BE(-1, Field.lastOffsetDelta);
        return fixCrc(b);
      },
    },
    {
      name: 'a record whose length overruns the batch (valid CRC)',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 1, 50);
        b[Field.records] = 0x7e; // zig-zag 63: longer than the record
        return fixCrc(b);
      },
    },
    {
      name: 'an offset delta out of sequence (valid CRC)',
      code: ErrorCode.InvalidRecord,
      build: () => {
        const b = testBatch('bad', 1, 50);
        // record: length varint, attributes, timestamp delta (0), offset delta (0 -> 1)
        b[Field.records + 3] = 2;
        return fixCrc(b);
      },
    },
    {
      name: 'an undefined compression codec (unsupported)',
      code: ErrorCode.UnsupportedCompression,
      build: () => {
        const b = testBatch('bad', 1, 50);
        b.writeInt16BE(5, Field.attributes);
        return fixCrc(b);
      },
    },
    {
      name: 'gzip attributes over records that do not inflate',
      code: ErrorCode.CorruptRecord,
      build: () => {
        const b = testBatch('bad', 1, 50);
        b.writeInt16BE(Compression.gzip, Field.attributes);
        return fixCrc(b);
      },
    },
    { name: 'an empty buffer', code: ErrorCode.InvalidRecord, build: () => Buffer.alloc(0) },
    {
      name: 'a batch larger than message.max.bytes',
      code: ErrorCode.RecordTooLarge,
      build: () => testBatch('big', 1, 50, { valueBytes: 3000 }),
    },
  ];

  it.each(cases)('refuses $name and leaves the log unchanged', async ({ code, build }) => {
    const { log, partitionDir } = await freshLog({ maxMessageBytes: 2000, segmentBytes: 500 });
    await appendBatches(log, [2, 3, 1, 4, 2, 3]);
    expect(log.segmentCount).toBeGreaterThan(1);
    const before = {
      end: log.logEndOffset,
      start: log.logStartOffset,
      segments: log.segmentBaseOffsets,
      files: segmentFiles(partitionDir).map((b) => [b, fileSize(segmentPath(partitionDir, b))]),
      bytes: (await readAll(log)).batches.map((b) => b.toString('hex')),
    };
    const input = build();
    const copy = Buffer.from(input);
    await expectCode(log.append(input), code);
    expect(input.equals(copy)).toBe(true); // not even the headers were stamped
    expect(log.logEndOffset).toBe(before.end);
    expect(log.logStartOffset).toBe(before.start);
    expect(log.segmentBaseOffsets).toEqual(before.segments);
    expect(segmentFiles(partitionDir).map((b) => [b, fileSize(segmentPath(partitionDir, b))])).toEqual(before.files);
    expect((await readAll(log)).batches.map((b) => b.toString('hex'))).toEqual(before.bytes);
    // and the log carries on where it was
    expect(await log.append(testBatch('next', 2, 9000))).toMatchObject({
      baseOffset: before.end,
      lastOffset: before.end + 1,
    });
  });
});

describe('read', () => {
  it('returns the whole batch holding the offset, from its file position', async () => {
    const { log, partitionDir } = await freshLog();
    await appendBatches(log, [3, 5, 1]);
    const layout = segmentLayout(partitionDir, 0);
    expect(layout.map((b) => [b.baseOffset, b.lastOffset])).toEqual([
      [0, 2],
      [3, 7],
      [8, 8],
    ]);
    for (let offset = 0; offset < 9; offset++) {
      const r = await log.read(offset, 1); // maxBytes 1: exactly the first batch, whole
      const batch = layout.find((b) => b.baseOffset <= offset && offset <= b.lastOffset);
      expect(batch).toBeDefined();
      expect(r.segmentBaseOffset).toBe(0);
      expect(r.position).toBe(batch?.position);
      expect(r.records.length).toBe(batch?.size);
      expect(baseOffsetOf(r.records, 0)).toBe(batch?.baseOffset);
      expect(r.nextOffset).toBe((batch?.lastOffset ?? 0) + 1);
      expect(r.logStartOffset).toBe(0);
      expect(r.logEndOffset).toBe(9);
    }
  });

  it('reads the earliest and the latest offsets, and refuses offsets outside the log', async () => {
    const { log } = await freshLog();
    const empty = await log.read(0, 1000);
    expect(empty.records.length).toBe(0);
    expect(empty.nextOffset).toBe(0);
    await appendBatches(log, [2, 2]);
    const earliest = await log.read(log.logStartOffset, 1 << 20);
    expect(decodeRecords(earliest.records).map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    const latest = await log.read(log.logEndOffset, 1 << 20);
    expect(latest.records.length).toBe(0);
    expect(latest.nextOffset).toBe(4);
    expect(latest.logEndOffset).toBe(4);
    for (const bad of [5, -1, 1.5, Number.NaN, 2 ** 60]) {
      await expectCode(log.read(bad, 1000), ErrorCode.OffsetOutOfRange);
    }
  });

  it('bounds a read by maxBytes in whole batches', async () => {
    const { log } = await freshLog();
    await appendBatches(log, [3, 3, 3, 3]);
    const size = testBatch(tagOf(0), 3, 1000).length; // every batch has this size
    expect(log.sizeBytes).toBe(4 * size);
    for (const [maxBytes, batches] of [
      [4 * size, 4],
      [4 * size - 1, 3],
      [2 * size + size / 2, 2],
      [size, 1],
      [size - 1, 1], // the first batch is returned whole even when larger than maxBytes
      [0, 1],
    ] as const) {
      const r = await log.read(0, maxBytes);
      expect(r.records.length).toBe(batches * size);
      expect(r.nextOffset).toBe(batches * 3);
      expect(decodeRecords(r.records)).toHaveLength(batches * 3);
    }
    const strict = await log.read(3, size - 1, { minOneBatch: false });
    expect(strict.records.length).toBe(0);
    expect(strict.nextOffset).toBe(3);
    const fits = await log.read(3, size, { minOneBatch: false });
    expect(fits.records.length).toBe(size);
  });

  it('stops at maxOffset', async () => {
    const { log } = await freshLog();
    await appendBatches(log, [2, 2, 2]);
    const r = await log.read(0, 1 << 20, { maxOffset: 4 });
    expect(decodeRecords(r.records).map((x) => x.offset)).toEqual([0, 1, 2, 3]);
    expect(r.nextOffset).toBe(4);
    const none = await log.read(4, 1 << 20, { maxOffset: 4 });
    expect(none.records.length).toBe(0);
    expect(none.nextOffset).toBe(4);
    const beyond = await log.read(2, 1 << 20, { maxOffset: 100 });
    expect(beyond.nextOffset).toBe(6);
  });

  it('answers a read at the log end or at maxOffset from memory, without asking the index', async () => {
    // the real index of the real log, counted (not replaced): an idle follower or consumer reads here on every fetch
    const { log } = await freshLog({ segmentBytes: 400, indexIntervalBytes: 1 });
    await appendBatches(log, [3, 3, 3, 3, 3]); // three segments, an index entry per batch
    const index = (log as unknown as { index: PartitionIndex }).index;
    const lookups = vi.spyOn(index, 'lookupOffset');
    const atEnd = await log.read(15, 1 << 20);
    expect(atEnd.records.length).toBe(0);
    expect(atEnd).toMatchObject({ nextOffset: 15, logStartOffset: 0, logEndOffset: 15, segmentBaseOffset: 12 });
    const atWatermark = await log.read(9, 1 << 20, { maxOffset: 9 });
    expect(atWatermark.records.length).toBe(0);
    expect(atWatermark).toMatchObject({ nextOffset: 9, logEndOffset: 15, segmentBaseOffset: 6 });
    expect(lookups).not.toHaveBeenCalled();
    // below the bound the index is still asked, and the read finds its batch
    const inside = await log.read(9, 1 << 20);
    expect(decodeRecords(inside.records)[0]?.offset).toBe(9);
    expect(lookups).toHaveBeenCalledTimes(1);
    await expectCode(log.read(16, 1 << 20), ErrorCode.OffsetOutOfRange);
  });

  it('never returns bytes of two segments in one read', async () => {
    const { log } = await freshLog({ segmentBytes: 400 });
    await appendBatches(log, [3, 3, 3, 3, 3]); // 169-byte batches: two per segment
    expect(log.segmentBaseOffsets).toEqual([0, 6, 12]);
    const first = await log.read(3, 1 << 20);
    expect(first.segmentBaseOffset).toBe(0);
    expect(decodeRecords(first.records).map((r) => r.offset)).toEqual([3, 4, 5]);
    expect(first.nextOffset).toBe(6);
    const second = await log.read(first.nextOffset, 1 << 20);
    expect(second.segmentBaseOffset).toBe(6);
    expect(second.position).toBe(0);
    expect(decodeRecords(second.records)[0]?.offset).toBe(6);
  });

  it('finds every offset through the sparse index, before and after a reopen, sequentially and at random', async () => {
    const config = { segmentBytes: 3000, indexIntervalBytes: 200 };
    const dir = fx.dir();
    let manager = await fx.open(dir, config);
    let log = await manager.getOrCreate('t', 3);
    const counts = Array.from({ length: 60 }, (_, i) => 1 + (i % 4));
    await appendBatches(log, counts);
    const total = counts.reduce((a, b) => a + b, 0);
    expect(log.logEndOffset).toBe(total);
    expect(log.segmentCount).toBeGreaterThan(3);
    const expected = expectedLog(counts);

    const check = async (l: PartitionLog) => {
      expect(contentsOf((await readAll(l, 0, 500)).records)).toEqual(expected);
      const order = Array.from({ length: total }, (_, i) => (i * 37) % total); // a permutation: 37 is prime to total
      for (const offset of order) {
        const r = await l.read(offset, 1);
        const recs = decodeRecords(r.records);
        const hit = recs.find((x) => x.offset === offset);
        expect(hit, `offset ${offset}`).toBeDefined();
        expect(contentsOf([hit!])[0]).toEqual(expected[offset]);
        expect(recs[0]!.offset).toBeLessThanOrEqual(offset);
      }
    };
    await check(log);
    await manager.close();
    expect(await indexProblems(dir, 't', 3)).toEqual([]);
    manager = await fx.open(dir, config);
    log = manager.get('t', 3)!;
    expect(log.logEndOffset).toBe(total);
    await check(log);
  });
});

describe('roll', () => {
  it('rolls before a batch would take the active segment past log.segment.bytes', async () => {
    const { log, partitionDir } = await freshLog({ segmentBytes: 1024 });
    const size = testBatch(tagOf(0), 3, 1000).length; // 169
    const perSegment = Math.floor(1024 / size); // 6
    await appendBatches(log, Array(20).fill(3));
    const bases = Array.from({ length: Math.ceil(20 / perSegment) }, (_, i) => i * perSegment * 3);
    expect(log.segmentBaseOffsets).toEqual(bases);
    expect(segmentFiles(partitionDir)).toEqual(bases);
    for (const [i, base] of bases.entries()) {
      const layout = segmentLayout(partitionDir, base);
      expect(layout[0]?.baseOffset).toBe(base);
      const batches = i < bases.length - 1 ? perSegment : 20 - perSegment * (bases.length - 1);
      expect(layout).toHaveLength(batches);
      expect(fileSize(segmentPath(partitionDir, base))).toBe(batches * size);
      expect(fileSize(segmentPath(partitionDir, base))).toBeLessThanOrEqual(1024);
    }
    expect(contentsOf((await readAll(log)).records)).toEqual(expectedLog(Array(20).fill(3)));
  });

  it('puts a batch larger than log.segment.bytes alone in a segment', async () => {
    const { log } = await freshLog({ segmentBytes: 1024, maxMessageBytes: 1 << 20 });
    await log.append(testBatch('s', 1, 1));
    await log.append(testBatch('big', 2, 2, { valueBytes: 2000 }));
    await log.append(testBatch('t', 1, 3));
    expect(log.segmentBaseOffsets).toEqual([0, 1, 3]);
  });

  it('rolls a segment log.roll.ms after its first append', async () => {
    const { log } = await freshLog({ rollMs: 1000 });
    const now = vi.spyOn(Date, 'now');
    now.mockReturnValue(1_000_000);
    await log.append(testBatch('a', 1, 1));
    now.mockReturnValue(1_000_999);
    await log.append(testBatch('b', 2, 2));
    expect(log.segmentBaseOffsets).toEqual([0]);
    now.mockReturnValue(1_001_000);
    await log.append(testBatch('c', 1, 3));
    expect(log.segmentBaseOffsets).toEqual([0, 3]);
    // the new segment's clock starts at its own first append
    now.mockReturnValue(1_001_999);
    await log.append(testBatch('d', 1, 4));
    expect(log.segmentBaseOffsets).toEqual([0, 3]);
    now.mockReturnValue(1_002_000);
    await log.append(testBatch('e', 1, 5));
    expect(log.segmentBaseOffsets).toEqual([0, 3, 5]);
    expect(log.logEndOffset).toBe(6);
  });

  it('keeps counting log.roll.ms across a restart, from when the segment file was created', async () => {
    const { dir, manager, log } = await freshLog({ rollMs: 60_000 });
    await log.append(testBatch('a', 1, 1));
    await manager.close();
    const reopened = await fx.open(dir, { rollMs: 60_000 });
    const again = reopened.get('orders', 0) as PartitionLog;
    const realNow = Date.now();
    const now = vi.spyOn(Date, 'now');
    now.mockReturnValue(realNow + 30_000);
    await again.append(testBatch('b', 1, 2));
    expect(again.segmentBaseOffsets).toEqual([0]);
    now.mockReturnValue(realNow + 61_000);
    await again.append(testBatch('c', 1, 3));
    expect(again.segmentBaseOffsets).toEqual([0, 2]);
  });

  it('rolls on request, and never leaves an empty segment behind a roll', async () => {
    const { log, partitionDir } = await freshLog();
    await log.append(testBatch('a', 2, 1));
    log.roll();
    expect(log.segmentBaseOffsets).toEqual([0, 2]);
    expect(fileSize(segmentPath(partitionDir, 2))).toBe(0);
    await log.append(testBatch('b', 1, 2));
    expect(log.segmentBaseOffsets).toEqual([0, 2]);
    expect(segmentLayout(partitionDir, 2).map((b) => b.baseOffset)).toEqual([2]);
  });
});

describe('offsetForTimestamp', () => {
  /** First record (in offset order) with timestamp >= t. */
  function model(records: { offset: number; timestamp: number }[], t: number) {
    const r = records.find((x) => x.timestamp >= t);
    return r ? { offset: r.offset, timestamp: r.timestamp } : undefined;
  }

  it('finds the first offset whose timestamp is >= T, across segments and index entries, and after a reopen', async () => {
    const config = { segmentBytes: 1200, indexIntervalBytes: 300 };
    const dir = fx.dir();
    let manager = await fx.open(dir, config);
    let log = await manager.getOrCreate('ts', 0);
    const records: { offset: number; timestamp: number }[] = [];
    for (let i = 0; i < 40; i++) {
      // batch i: records at 10_000 + 100 i + 0, 10, 20
      const batch = encodeRecordBatch(
        [0, 10, 20].map((d) => ({ key: null, value: Buffer.from(`r${i}-${d}`), timestamp: 10_000 + 100 * i + d })),
      );
      const r = await log.append(batch);
      for (let j = 0; j < 3; j++) records.push({ offset: r.baseOffset + j, timestamp: 10_000 + 100 * i + 10 * j });
    }
    expect(log.segmentCount).toBeGreaterThan(3);
    const probes = [-5, 0, 9_999, 10_000, 10_001, 10_010, 10_011, 10_020, 10_021, 10_099, 10_100];
    for (let t = 10_000; t <= 14_000; t += 37) probes.push(t);
    probes.push(13_920, 13_921, 14_000, 1e12);
    const check = async (l: PartitionLog) => {
      for (const t of probes) expect(await l.offsetForTimestamp(t), `T=${t}`).toEqual(model(records, t));
    };
    await check(log);
    expect(await log.offsetForTimestamp(13_921)).toBeUndefined();
    await manager.close();
    expect(await indexProblems(dir, 'ts', 0)).toEqual([]);
    manager = await fx.open(dir, config);
    log = manager.get('ts', 0)!;
    await check(log);
  });

  it('handles timestamps out of order: the first offset in log order wins', async () => {
    const { log } = await freshLog({ indexIntervalBytes: 1 });
    const stamps = [
      [500, 510],
      [100, 120],
      [700, 650],
      [300, 800],
    ];
    const records: { offset: number; timestamp: number }[] = [];
    for (const pair of stamps) {
      const r = await log.append(encodeRecordBatch(pair.map((ts) => ({ value: Buffer.from('x'), timestamp: ts }))));
      for (const [j, ts] of pair.entries()) records.push({ offset: r.baseOffset + j, timestamp: ts });
    }
    for (const t of [0, 100, 101, 300, 500, 505, 510, 511, 600, 650, 651, 700, 701, 800, 801]) {
      expect(await log.offsetForTimestamp(t), `T=${t}`).toEqual(model(records, t));
    }
  });

  it('looks inside gzip batches', async () => {
    const { log } = await freshLog();
    await log.append(testBatch('a', 3, 100));
    await log.append(testBatch('z', 5, 200, { compression: Compression.gzip }));
    expect(await log.offsetForTimestamp(203)).toEqual({ offset: 6, timestamp: 203 });
    expect(await log.offsetForTimestamp(150)).toEqual({ offset: 3, timestamp: 200 });
    expect(await log.offsetForTimestamp(205)).toBeUndefined();
  });
});

describe('truncateTo', () => {
  it('removes every record at and after the offset, across segments, and appends continue there', async () => {
    const dir = fx.dir();
    const size = testBatch(tagOf(0), 3, 1000).length;
    const config = { segmentBytes: 3 * size + 10, indexIntervalBytes: 100 };
    let manager = await fx.open(dir, config);
    const log = await manager.getOrCreate('tr', 0);
    const partitionDir = path.join(dir, 'tr-0');
    const counts = Array(12).fill(3);
    await appendBatches(log, counts); // three batches per segment
    expect(log.segmentBaseOffsets).toEqual([0, 9, 18, 27]);

    await log.truncateTo(100); // past the end: nothing happens
    expect(log.logEndOffset).toBe(36);

    await log.truncateTo(21); // a batch boundary inside segment 18
    expect(log.logEndOffset).toBe(21);
    expect(log.segmentBaseOffsets).toEqual([0, 9, 18]);
    expect(segmentFiles(partitionDir)).toEqual([0, 9, 18]);
    expect(fileSize(segmentPath(partitionDir, 18))).toBe(size);

    await log.truncateTo(13); // inside batch 12..14: the whole batch goes
    expect(log.logEndOffset).toBe(12);
    expect(log.segmentBaseOffsets).toEqual([0, 9]);
    expect(segmentFiles(partitionDir)).toEqual([0, 9]);

    await log.truncateTo(9); // exactly a segment's base: that segment goes whole
    expect(log.logEndOffset).toBe(9);
    expect(log.segmentBaseOffsets).toEqual([0]);
    expect(segmentFiles(partitionDir)).toEqual([0]);
    expect(fileSize(segmentPath(partitionDir, 0))).toBe(3 * size);

    expect(contentsOf((await readAll(log)).records)).toEqual(expectedLog(counts).slice(0, 9));
    await expectCode(log.read(10, 100), ErrorCode.OffsetOutOfRange);
    expect(await log.append(testBatch('new', 2, 50_000))).toMatchObject({ baseOffset: 9, lastOffset: 10 });
    expect(await log.offsetForTimestamp(5000)).toEqual({ offset: 9, timestamp: 50_000 });
    await manager.close();
    expect(await indexProblems(dir, 'tr', 0)).toEqual([]);
    manager = await fx.open(dir, config);
    const again = manager.get('tr', 0)!;
    expect(again.logEndOffset).toBe(11);
    expect(contentsOf((await readAll(again)).records)).toEqual([
      ...expectedLog(counts).slice(0, 9),
      ...expectedContents('new', 2, 50_000),
    ]);
  });

  it('truncating to 0 empties the log', async () => {
    const { log, partitionDir } = await freshLog({ segmentBytes: 400 });
    await appendBatches(log, [3, 3, 3, 3]);
    await log.truncateTo(0);
    expect(log.logEndOffset).toBe(0);
    expect(log.segmentBaseOffsets).toEqual([0]);
    expect(fileSize(segmentPath(partitionDir, 0))).toBe(0);
    expect(await log.offsetForTimestamp(0)).toBeUndefined();
    expect((await log.append(testBatch('x', 1, 1))).baseOffset).toBe(0);
  });
});

describe('leader epochs', () => {
  it('answers endOffsetForEpoch from the epoch history, which truncation and reopen keep right', async () => {
    const dir = fx.dir();
    let manager = await fx.open(dir);
    const log = await manager.getOrCreate('ep', 0);
    expect(log.endOffsetForEpoch(0)).toBeUndefined();
    await log.assignLeaderEpoch(1);
    await log.append(testBatch('a', 5, 1));
    await log.assignLeaderEpoch(3);
    await log.assignLeaderEpoch(2); // older than the latest: ignored
    await log.append(testBatch('b', 5, 2));
    expect(log.epochHistory).toEqual([
      [1, 0],
      [3, 5],
    ]);
    expect(log.latestEpoch).toBe(3);
    expect(log.endOffsetForEpoch(0)).toBeUndefined();
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 5 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 5 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 10 });
    expect(log.endOffsetForEpoch(7)).toEqual({ epoch: 3, endOffset: 10 });
    await manager.close();
    manager = await fx.open(dir);
    const again = manager.get('ep', 0)!;
    expect(again.epochHistory).toEqual([
      [1, 0],
      [3, 5],
    ]);
    await again.truncateTo(5);
    expect(again.epochHistory).toEqual([[1, 0]]);
    expect(again.endOffsetForEpoch(3)).toEqual({ epoch: 1, endOffset: 5 });
  });
});

describe('flush (fsync)', () => {
  function countSyncs() {
    return vi.spyOn(fs, 'fdatasync');
  }

  it('never fsyncs a segment on append with the default settings, and does on flush()', async () => {
    const { log } = await freshLog();
    const syncs = countSyncs();
    await appendBatches(log, Array(20).fill(5));
    expect(syncs).not.toHaveBeenCalled();
    await log.flush();
    expect(syncs).toHaveBeenCalledTimes(1);
    await log.flush(); // nothing new
    expect(syncs).toHaveBeenCalledTimes(1);
  });

  it('fsyncs after log.flush.interval.messages records', async () => {
    const { log } = await freshLog({ flushIntervalMessages: 5 });
    const syncs = countSyncs();
    await log.append(testBatch('a', 2, 1));
    await log.append(testBatch('b', 2, 2));
    expect(syncs).not.toHaveBeenCalled(); // 4 records
    await log.append(testBatch('c', 1, 3));
    expect(syncs).toHaveBeenCalledTimes(1); // 5
    await log.append(testBatch('d', 4, 4));
    expect(syncs).toHaveBeenCalledTimes(1); // 4 since the flush
    await log.append(testBatch('e', 3, 5));
    expect(syncs).toHaveBeenCalledTimes(2); // 7
  });

  it('fsyncs when log.flush.interval.ms has passed and records wait', async () => {
    const { log, manager } = await freshLog({ flushIntervalMs: 10_000 });
    const syncs = countSyncs();
    const t0 = Date.now();
    await log.flushIfDue(t0 + 60_000);
    expect(syncs).not.toHaveBeenCalled(); // nothing waits
    await log.append(testBatch('a', 1, 1));
    await manager.flushDue(t0 + 5_000);
    expect(syncs).not.toHaveBeenCalled(); // not yet due
    await manager.flushDue(t0 + 10_001);
    expect(syncs).toHaveBeenCalledTimes(1);
    await manager.flushDue(t0 + 60_000);
    expect(syncs).toHaveBeenCalledTimes(1); // nothing new
  });

  /** Holds every fdatasync until released, to put a flush in flight at a chosen moment. */
  function holdSyncs() {
    const real = fs.fdatasync;
    const held: (() => void)[] = [];
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((
      fd: number,
      callback: (err: NodeJS.ErrnoException | null) => void,
    ) => {
      held.push(() => real(fd, callback));
    }) as typeof fs.fdatasync);
    const releaseAll = () => {
      spy.mockRestore();
      for (const release of held.splice(0)) release();
    };
    releaseHeldSyncs.push(releaseAll);
    return { held, releaseAll };
  }

  it('stays online when retention deletes a segment whose fsync is in flight', async () => {
    const { manager, log } = await freshLog({ segmentBytes: 200, retentionBytes: 1 });
    const syncs = holdSyncs();
    const now = Date.now();
    await log.append(testBatch('a', 2, now));
    await log.append(testBatch('b', 2, now)); // rolls: the background flush fsyncs segment 0
    await vi.waitFor(() => expect(syncs.held.length).toBe(1));
    expect(await manager.enforceRetention(now)).toBe(1); // segment 0 goes while its fsync waits
    syncs.releaseAll();
    await log.flush();
    expect(log.logStartOffset).toBe(2);
    expect((await log.append(testBatch('c', 1, now))).baseOffset).toBe(4);
  });

  it('stays online when truncation deletes a segment whose fsync is in flight', async () => {
    const { log } = await freshLog({ segmentBytes: 200 });
    const syncs = holdSyncs();
    await log.append(testBatch('a', 2, 1));
    await log.append(testBatch('b', 2, 2)); // rolls: the background flush fsyncs segments 0 and 2
    await vi.waitFor(() => expect(syncs.held.length).toBe(1));
    syncs.held.shift()?.(); // segment 0 done; now the active segment's fsync waits
    await vi.waitFor(() => expect(syncs.held.length).toBe(1));
    await log.truncateTo(2); // deletes segment 2 while its fsync waits
    expect(log.segmentBaseOffsets).toEqual([0]);
    syncs.releaseAll();
    await log.flush();
    expect((await log.append(testBatch('c', 1, 3))).baseOffset).toBe(2);
    expect(log.segmentBaseOffsets).toEqual([0, 2]);
  });

  it('runs due flushes on the background timer', async () => {
    const dir = fx.dir();
    const manager = await LogManager.open({
      logDirs: [dir],
      config: { flushIntervalMs: 20 },
      retentionCheckIntervalMs: 0,
      flushCheckIntervalMs: 10,
    });
    try {
      const log = await manager.getOrCreate('bg', 0);
      const syncs = countSyncs();
      await log.append(testBatch('a', 1, 1));
      const deadline = Date.now() + 3000;
      while (syncs.mock.calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(syncs).toHaveBeenCalled();
    } finally {
      await manager.close();
    }
  });
});
