import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/shared/errors.js';
import { LogManager } from '../../../src/storage/log-manager.js';
import {
  readPartitionTopicId,
  readPartitionTopicIdAsync,
  writePartitionTopicId,
  writePartitionTopicIdAsync,
} from '../../../src/storage/partition-metadata-file.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pm-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const idA = 'q6W5iZ8sRQ2bqVnFhjTQUw';
const idB = 'Zr7Q0n2hSWuS7qAKW5bJ9g';

it("writes Kafka's partition.metadata (version 0, topic_id) and reads it back; none is undefined", () => {
  expect(readPartitionTopicId(dir)).toBeUndefined();
  writePartitionTopicId(dir, idA);
  expect(fs.readFileSync(path.join(dir, 'partition.metadata'), 'utf8')).toBe(`version: 0\ntopic_id: ${idA}\n`);
  expect(readPartitionTopicId(dir)).toBe(idA);
  writePartitionTopicId(dir, idB);
  expect(readPartitionTopicId(dir)).toBe(idB);
  expect(fs.readdirSync(dir)).toEqual(['partition.metadata']);
});

it('writes the same file off the event loop (the log manager creating partitions), replacing one there', async () => {
  await writePartitionTopicIdAsync(dir, idA);
  expect(fs.readFileSync(path.join(dir, 'partition.metadata'), 'utf8')).toBe(`version: 0\ntopic_id: ${idA}\n`);
  await writePartitionTopicIdAsync(dir, idB);
  expect(readPartitionTopicId(dir)).toBe(idB);
  expect(fs.readdirSync(dir)).toEqual(['partition.metadata']);
});

it('refuses a file of another version, without a valid id, or too large, with a StorageError naming the file', () => {
  const file = path.join(dir, 'partition.metadata');
  for (const text of [
    'version: 1\ntopic_id: q6W5iZ8sRQ2bqVnFhjTQUw\n',
    'version: 0\n',
    'version: 0\ntopic_id: x\n',
    'junk',
    'x'.repeat(5000),
  ]) {
    fs.writeFileSync(file, text);
    expect(() => readPartitionTopicId(dir)).toThrow(expect.objectContaining({ code: ErrorCode.StorageError }));
  }
});

it('reads the file off the event loop (a start) as the synchronous read does: none, an id, the same refusals', async () => {
  expect(await readPartitionTopicIdAsync(dir)).toBeUndefined();
  writePartitionTopicId(dir, idA);
  expect(await readPartitionTopicIdAsync(dir)).toBe(idA);
  const file = path.join(dir, 'partition.metadata');
  for (const text of ['version: 1\ntopic_id: q6W5iZ8sRQ2bqVnFhjTQUw\n', 'version: 0\n', 'junk', 'x'.repeat(5000)]) {
    fs.writeFileSync(file, text);
    await expect(readPartitionTopicIdAsync(dir)).rejects.toMatchObject({ code: ErrorCode.StorageError });
  }
  fs.rmSync(file);
  fs.mkdirSync(file);
  // not a file: the error of the read, as readPartitionTopicId throws it
  await expect(readPartitionTopicIdAsync(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  expect(() => readPartitionTopicId(dir)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
});

it("a start reads each log directory's topic id with its listing: the sweep drops a stale log after a reopen, keeps the others", async () => {
  let logs = await LogManager.open({ logDirs: [dir], retentionCheckIntervalMs: 0 });
  const stale = await logs.getOrCreate('t', 0, {}, idA);
  await stale.append(encodeRecordBatch([{ value: Buffer.from('old life') }]));
  await (await logs.getOrCreate('t', 1, {}, idB)).append(encodeRecordBatch([{ value: Buffer.from('current') }]));
  await logs.getOrCreate('u', 0);
  await logs.close();
  logs = await LogManager.open({ logDirs: [dir], retentionCheckIntervalMs: 0 });
  try {
    expect(await logs.deleteStaleLogs((topic) => (topic === 't' ? idB : undefined))).toBe(1);
    expect(logs.get('t', 0)).toBeUndefined();
    expect(logs.get('t', 1)?.logEndOffset).toBe(1);
    expect(logs.get('u', 0)).toBeDefined();
  } finally {
    await logs.close();
  }
});

it('getOrCreate ties a new log to its topic id, adopts a log without one, and replaces a log of another id with an empty one', async () => {
  const logs = await LogManager.open({ logDirs: [dir], retentionCheckIntervalMs: 0 });
  try {
    const log = await logs.getOrCreate('t', 0, {}, idA);
    expect(readPartitionTopicId(log.dir)).toBe(idA);
    await log.append(encodeRecordBatch([{ value: Buffer.from('old') }]));
    expect(log.logEndOffset).toBe(1);
    expect(await logs.getOrCreate('t', 0, {}, idA)).toBe(log);
    // a log from before topic ids is adopted, records kept
    const legacy = await logs.getOrCreate('u', 0);
    await legacy.append(encodeRecordBatch([{ value: Buffer.from('kept') }]));
    expect(await logs.getOrCreate('u', 0, {}, idB)).toBe(legacy);
    expect(readPartitionTopicId(legacy.dir)).toBe(idB);
    expect(legacy.logEndOffset).toBe(1);
    // another life of t: its log starts over, empty
    const fresh = await logs.getOrCreate('t', 0, {}, idB);
    expect(fresh).not.toBe(log);
    expect([fresh.logStartOffset, fresh.logEndOffset]).toEqual([0, 0]);
    expect(readPartitionTopicId(fresh.dir)).toBe(idB);
    // and at start: the sweep drops a log whose id is not the topic's now, keeps unknown topics and matches
    expect(await logs.deleteStaleLogs((topic) => (topic === 't' ? idA : undefined))).toBe(1);
    expect(logs.get('t', 0)).toBeUndefined();
    expect(logs.get('u', 0)).toBe(legacy);
  } finally {
    await logs.close();
  }
});

it('advanceLogStartOffset (DeleteRecords) moves the log start inside a segment, deletes segments wholly below, refuses reads below and keeps it across a reopen', async () => {
  const logs = await LogManager.open({ logDirs: [dir], retentionCheckIntervalMs: 0 });
  let log = await logs.getOrCreate('d', 0, {}, idA);
  for (let i = 0; i < 3; i++) await log.append(encodeRecordBatch([{ value: Buffer.from(`a${i}`) }]));
  log.roll();
  for (let i = 0; i < 3; i++) await log.append(encodeRecordBatch([{ value: Buffer.from(`b${i}`) }]));
  expect(log.segmentBaseOffsets).toEqual([0, 3]);
  expect(await log.advanceLogStartOffset(2)).toBe(2);
  expect(log.segmentBaseOffsets).toEqual([0, 3]); // 0-2 still holds offset 2
  await expect(log.read(1, 1000)).rejects.toMatchObject({ code: ErrorCode.OffsetOutOfRange });
  expect(await log.advanceLogStartOffset(4)).toBe(4);
  expect(log.segmentBaseOffsets).toEqual([3]); // wholly below 4: gone
  expect(await log.advanceLogStartOffset(1)).toBe(4); // never back
  await expect(log.advanceLogStartOffset(7)).rejects.toMatchObject({ code: ErrorCode.OffsetOutOfRange });
  await expect(log.read(3, 1000)).rejects.toMatchObject({ code: ErrorCode.OffsetOutOfRange });
  expect((await log.read(4, 1000)).records.length).toBeGreaterThan(0);
  await logs.close();
  const again = await LogManager.open({ logDirs: [dir], retentionCheckIntervalMs: 0 });
  try {
    log = (await again.getOrCreate('d', 0, {}, idA)) as typeof log;
    expect([log.logStartOffset, log.logEndOffset]).toEqual([4, 6]);
    await expect(log.read(3, 1000)).rejects.toMatchObject({ code: ErrorCode.OffsetOutOfRange });
  } finally {
    await again.close();
  }
});
