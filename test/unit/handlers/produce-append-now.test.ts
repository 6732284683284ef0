/**
 * The produce handler appends the partitions of a topic it knows in the handler's own call, with
 * no promise per partition when nothing waits (issue 20 item 4). These tests hold it to what the
 * promise-per-partition path kept: a write that fails midway on one partition fails that
 * partition alone (nothing of it acknowledged, nothing of it readable), the request's other
 * partitions and a request pipelined behind it are appended and acknowledged in order, every
 * acknowledged offset holds its record, and a topic's settings are read once per request.
 * Real logs (real files, real LevelDB); the failing write is faked at fs.writeSync.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HandlerContext } from '../../../src/handlers/context.js';
import { produceHandler } from '../../../src/handlers/produce.js';
import type { ProduceResponse } from '../../../src/protocol/native/messages.js';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { MemoryCoordinator, startedHandlerContext, testClient } from '../../helpers/replica-manager.js';
import { storageFixture, testBatch } from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
const managers: ReplicaManager[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const m of managers.splice(0)) await m.close();
});

const partitions = [0, 1, 2];

/** A produce request naming partitions 0, 1 and 2 of 't', two records each, keyed `${tag}-p<partition>-<i>`. */
function request(tag: string, acks: 0 | 1) {
  return {
    acks,
    timeoutMs: 5_000,
    topics: [
      {
        name: 't',
        partitions: partitions.map((p) => ({ partition: p, records: testBatch(`${tag}-p${p}`, 2, 1_000) })),
      },
    ],
  };
}

/** The tags of the records of a partition, in log order, one per record. */
async function tagsIn(replicas: ReplicaManager, partition: number): Promise<string[]> {
  const read = await replicas.leaderReplica('t', partition).log.read(0, 1 << 20);
  return decodeRecords(read.records).map((r) => r.key?.toString().split('-')[0] ?? '?');
}

/** Every acknowledged partition's records are at the offset its answer gave. */
async function expectAcknowledgedHeld(replicas: ReplicaManager, tag: string, res: ProduceResponse): Promise<void> {
  for (const answer of res.topics[0]?.partitions ?? []) {
    if (answer.errorCode !== 0) continue;
    const read = await replicas.leaderReplica('t', answer.partition).log.read(answer.baseOffset, 1 << 20);
    const first = decodeRecords(read.records)[0];
    expect(first?.offset).toBe(answer.baseOffset);
    expect(first?.key?.toString()).toBe(`${tag}-p${answer.partition}#0`);
  }
}

async function started(): Promise<{ replicas: ReplicaManager; ctx: HandlerContext }> {
  const logs = await fx.open(fx.dir());
  return startedHandlerContext(logs, new MemoryCoordinator({ partitions: 3 }), (r) => managers.push(r));
}

describe('produce handler: appends made in the handler call', () => {
  it('a write failing midway on one partition fails that partition alone; the others and a pipelined request go on in order', async () => {
    const { replicas, ctx } = await started();
    // every log written once: later appends take the path with no promise per partition
    const warm = (await produceHandler.handle(request('warm', 1), ctx, testClient)) as ProduceResponse;
    expect(warm.topics[0]?.partitions.map((p) => p.errorCode)).toEqual([0, 0, 0]);

    // request 'bad''s batch for partition 1 is half written, then the disk fails
    const realWrite = fs.writeSync.bind(fs) as (...args: unknown[]) => number;
    let failed = 0;
    vi.spyOn(fs, 'writeSync').mockImplementation(((...args: unknown[]) => {
      const [fd, buf, offset, length, position] = args as [number, Buffer, number, number, number];
      if (Buffer.isBuffer(buf) && buf.includes('bad-p1') && failed++ === 0) {
        realWrite(fd, buf, offset, Math.floor(length / 2), position);
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      }
      return realWrite(...args);
    }) as typeof fs.writeSync);

    // dispatched together, as a connection does with pipelined frames
    const [bad, next] = (await Promise.all([
      produceHandler.handle(request('bad', 1), ctx, testClient),
      produceHandler.handle(request('next', 1), ctx, testClient),
    ])) as ProduceResponse[];
    expect(failed).toBe(1);
    const badAnswers = bad?.topics[0]?.partitions ?? [];
    expect(badAnswers.map((p) => p.partition)).toEqual(partitions);
    expect(badAnswers.map((p) => p.errorCode === 0)).toEqual([true, false, true]);
    expect(badAnswers[1]?.baseOffset).toBe(-1);
    const nextAnswers = next?.topics[0]?.partitions ?? [];
    expect(nextAnswers.map((p) => p.partition)).toEqual(partitions);
    expect([nextAnswers[0]?.errorCode, nextAnswers[2]?.errorCode]).toEqual([0, 0]);

    // in order where acknowledged; nothing of the failed write readable
    expect(await tagsIn(replicas, 0)).toEqual(['warm', 'warm', 'bad', 'bad', 'next', 'next']);
    expect(await tagsIn(replicas, 2)).toEqual(['warm', 'warm', 'bad', 'bad', 'next', 'next']);
    const p1 = await tagsIn(replicas, 1).catch(() => ['warm', 'warm']);
    expect(p1.slice(0, 2)).toEqual(['warm', 'warm']);
    expect(p1).not.toContain('bad');
    if (nextAnswers[1]?.errorCode === 0) expect(p1).toEqual(['warm', 'warm', 'next', 'next']);
    else expect(p1).toEqual(['warm', 'warm']);
    await expectAcknowledgedHeld(replicas, 'bad', bad as ProduceResponse);
    await expectAcknowledgedHeld(replicas, 'next', next as ProduceResponse);
  });

  it("reads a topic's settings once per request, not once per partition", async () => {
    const { replicas, ctx } = await started();
    await produceHandler.handle(request('warm', 1), ctx, testClient);
    const lookups = vi.spyOn(replicas, 'leaderAppendPolicy');
    const res = (await produceHandler.handle(request('a', 1), ctx, testClient)) as ProduceResponse;
    expect(res.topics[0]?.partitions.map((p) => [p.partition, p.errorCode, p.baseOffset])).toEqual([
      [0, 0, 2],
      [1, 0, 2],
      [2, 0, 2],
    ]);
    expect(lookups).toHaveBeenCalledTimes(1);
    await expectAcknowledgedHeld(replicas, 'a', res);
  });
});
