/**
 * The scrubber on real partition logs (issue 18): it reads closed segments
 * back at a bounded rate, reports each corrupt batch once per pass (the first
 * unreadable offset and where reading goes on), never looks at the active
 * segment, and goes through every partition.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogManager } from '../../../src/storage/log-manager.js';
import { LogScrubber, type ScrubFinding } from '../../../src/storage/log-scrubber.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { capturingLogger } from '../../helpers/capturing-logger.js';
import {
  type BatchInfo,
  flipByte,
  segmentLayout,
  spoilSegment,
  storageFixture,
  testBatch,
} from '../../helpers/storage.js';

const fx = storageFixture(afterEach);
// small segments: each holds two or three of the batches below
const config = { segmentBytes: 400 };

async function filledLogs(partitions: number): Promise<{ manager: LogManager; dir: string; logs: PartitionLog[] }> {
  const dir = fx.dir();
  const manager = await fx.open(dir, config);
  const logs: PartitionLog[] = [];
  for (let p = 0; p < partitions; p++) {
    const log = await manager.getOrCreate('scrub', p);
    for (let i = 0; i < 10; i++) await log.append(testBatch(`p${p}b${i}`, 2, 1000 + i));
    logs.push(log);
  }
  return { manager, dir, logs };
}

function scrubber(findings: ScrubFinding[], bytesPerSecond = 1 << 30, passIntervalMs = 60_000) {
  let bytes = 0;
  const s = new LogScrubber(
    { bytesPerSecond, passIntervalMs, onCorrupt: (f) => findings.push(f), scrubbed: (n) => (bytes += n) },
    capturingLogger().logger,
  );
  return { s, bytes: () => bytes };
}

const held = (logs: PartitionLog[]) => new Map(logs.map((l) => [`${l.topic}-${l.partition}`, l]));

describe('log scrubber', () => {
  it('reads every closed segment of every partition and finds nothing in healthy logs', async () => {
    const { logs } = await filledLogs(2);
    const findings: ScrubFinding[] = [];
    const { s, bytes } = scrubber(findings);
    s.step(held(logs), 0);
    expect(findings).toEqual([]);
    const closedBytes = logs.flatMap((l) => l.closedSegments()).reduce((n, seg) => n + seg.size, 0);
    expect(closedBytes).toBeGreaterThan(0);
    expect(bytes()).toBeGreaterThanOrEqual(closedBytes);
  });

  it('reports a flipped byte in a closed segment once per pass, with the first unreadable offset and where reading goes on', async () => {
    const { dir, logs } = await filledLogs(1);
    const log = logs[0] as PartitionLog;
    const [first] = log.segmentBaseOffsets;
    const partitionDir = path.join(dir, 'scrub-0');
    const layout = segmentLayout(partitionDir, first as number);
    expect(layout.length).toBeGreaterThanOrEqual(2);
    const victim = layout[1] as BatchInfo;
    spoilSegment(partitionDir, first as number, (bytes) => flipByte(bytes, victim.position + victim.size - 3, 0x08));

    const findings: ScrubFinding[] = [];
    const { s } = scrubber(findings, 1 << 30, 1000);
    s.step(held(logs), 0);
    expect(findings).toEqual([
      {
        topic: 'scrub',
        partition: 0,
        offset: victim.baseOffset,
        segment: first,
        position: victim.position,
        nextReadableOffset: (layout[2] as BatchInfo | undefined)?.baseOffset ?? undefined,
      },
    ]);
    // the next pass waits for log.scrub.interval.ms, then finds it again
    s.step(held(logs), 500);
    expect(findings).toHaveLength(1);
    s.step(held(logs), 1000);
    expect(findings).toHaveLength(2);
  });

  it('never reads more than a tenth of its rate per step', async () => {
    const { logs } = await filledLogs(1);
    const { s, bytes } = scrubber([], 1000);
    s.step(held(logs), 0);
    // one batch is more than 100 bytes: a step reads at most one whole batch past its budget
    expect(bytes()).toBeLessThan(400);
    const first = bytes();
    s.step(held(logs), 100);
    expect(bytes()).toBeGreaterThan(first);
  });
});
