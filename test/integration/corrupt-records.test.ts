/**
 * A byte flipped on a standalone broker's disk (issue 18): the corrupt batch
 * is never served; `sluice log verify` reports the range and where reading
 * goes on; a consumer stops there with an error naming the next readable
 * offset; skipping is a choice that is reported (`sluice consume
 * --skip-corrupt`, the client's `skipCorrupt`), and everything after the
 * corrupt batch is read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorruptSkip } from '../../src/client/types.js';
import { Sluice } from '../../src/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { type BatchInfo, flipByte, segmentLayout, segmentPath } from '../helpers/storage.js';

const topic = 'rotting';
let broker: BrokerProcess;
const cli = new CliRunner();
/** The batches as stored: five sends of two records, the third spoiled. */
let layout: BatchInfo[];

const sluice = (args: string[], input?: string) =>
  cli.run(args, { brokers: broker.address, ...(input === undefined ? {} : { input }) });

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['num.partitions=1'] });
  await sluice(['topic', 'create', topic, '--partitions', '1']);
  for (let i = 0; i < 5; i++) {
    const sent = await sluice(['produce', topic, '--acks', '1'], `m${2 * i}\nm${2 * i + 1}\n`);
    expect(sent.code, sent.stderr).toBe(0);
  }
  // a clean stop: the restart trusts the flushed bytes, so the flipped byte is found only when read
  await broker.stop();
  const partitionDir = path.join(broker.dataDir, `${topic}-0`);
  layout = segmentLayout(partitionDir, 0);
  expect(layout.map((b) => b.baseOffset)).toEqual([0, 2, 4, 6, 8]);
  const file = segmentPath(partitionDir, 0);
  const bytes = fs.readFileSync(file);
  const victim = layout[2] as BatchInfo;
  flipByte(bytes, victim.position + victim.size - 2, 0x20);
  fs.writeFileSync(file, bytes);
  await broker.restart();
}, 60_000);

afterAll(async () => {
  cli.killAll();
  await broker?.destroy();
});

describe('corrupt records on disk', () => {
  it('sluice log verify reports the corrupt range and where reading goes on (exit 1)', async () => {
    const r = await sluice(['log', 'verify', '--log-dir', broker.dataDir, '--topic', topic]);
    expect(r.code, r.stderr).toBe(1);
    const victim = layout[2] as BatchInfo;
    expect(r.stdout).toBe(
      `${topic}-0: 1 segment, 4 batches, ${layout.reduce((n, b) => n + b.size, 0)} bytes: 1 corrupt range\n` +
        `  segment 0, bytes ${victim.position}-${victim.position + victim.size}: after offset 3; reading goes on at offset 6\n`,
    );
    const json = await sluice(['log', 'verify', '--log-dir', broker.dataDir, '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ topic, partition: 0, corrupt: [expect.objectContaining({ nextReadableOffset: 6 })] }),
    ]);
  });

  it('a consumer stops at the corrupt batch with an error naming the next readable offset', async () => {
    const r = await sluice(['consume', topic, '--from-beginning', '--max-messages', '10', '--timeout-ms', '3000']);
    expect(r.stdout).toBe('m0\nm1\nm2\nm3\n');
    expectOneLineError(r, /CORRUPT_MESSAGE|corrupt/i);
    expect(r.stderr).toMatch(/next readable offset is 6/);
  });

  it('sluice consume --skip-corrupt reads on past it and says what it skipped', async () => {
    const r = await sluice([
      'consume',
      topic,
      '--from-beginning',
      '--max-messages',
      '8',
      '--timeout-ms',
      '3000',
      '--skip-corrupt',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('m0\nm1\nm2\nm3\nm6\nm7\nm8\nm9\n');
    expect(r.stderr).toBe(`sluice: skipped corrupt records of ${topic}-0: offsets 4 to 5\n`);
  });

  it("the client's skipCorrupt is told each skip; without it the consumer throws", async () => {
    const client = new Sluice({ brokers: broker.address });
    try {
      const skipped: CorruptSkip[] = [];
      const consumer = client.consumer({ skipCorrupt: (s) => skipped.push(s) });
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const values: string[] = [];
      for (let i = 0; i < 20 && values.length < 8; i++) {
        for (const r of await consumer.poll({ maxWaitMs: 200 })) values.push(String(r.value));
      }
      expect(values).toEqual(['m0', 'm1', 'm2', 'm3', 'm6', 'm7', 'm8', 'm9']);
      expect(skipped).toEqual([{ topic, partition: 0, from: 4, to: 6 }]);
      await consumer.close();

      const strict = client.consumer();
      await strict.assign([{ topic, partition: 0, offset: 4 }]);
      await expect(strict.poll({ maxWaitMs: 200 })).rejects.toThrow(/next readable offset is 6/);
      await strict.close();
    } finally {
      await client.close();
    }
  });
});
