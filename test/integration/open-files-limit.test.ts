/**
 * More partitions than file descriptors (issue 20 item 5): a standalone broker run under
 * `prlimit --nofile=1200:1200` (BrokerProcess nofile) creates a topic of 1,500 partitions, takes a
 * record on every one, starts again after SIGTERM and after kill -9, and reads every record back.
 * Segment files are opened through a bounded cache (src/storage/file-cache.ts), by default half the
 * limit: the broker never holds more than that many open, whatever the partitions. (Before, the
 * creation failed with EMFILE — KAFKA_STORAGE_ERROR, undone — and a broker holding more partitions
 * than its limit could not start again.) The start-up summary names the limit and the cap.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { RawClient, readPartitionValues } from '../helpers/raw-client.js';

/** Above the 1,024 descriptors connection-quotas.ts keeps for logs (so clients may connect), below 1,500 partitions. */
const nofile = 1200;
const partitions = 1500;
const topic = 'crowd';

let broker: BrokerProcess;
let sluice: Sluice;

/** Segment files the broker holds open (LevelDB's own .log files excluded). */
function openSegmentFiles(): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${broker.pid}/fd`)) {
    try {
      const target = fs.readlinkSync(`/proc/${broker.pid}/fd/${fd}`);
      if (target.endsWith('.log') && !target.includes('/.sluice-index/')) n++;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return n;
}

const openFds = (): number => fs.readdirSync(`/proc/${broker.pid}/fd`).length;

function summaryLine(): { openFilesLimit?: number; openFiles?: number; segmentFilesMax?: number; partitions?: number } {
  const lines = broker.recentOutput.split('\n').filter((line) => line.includes('"broker listening"'));
  return JSON.parse(lines.at(-1) ?? '{}');
}

/** Sends one record to every partition: value `${round}-${p}`. */
async function writeRound(round: string): Promise<void> {
  const producer = sluice.producer({ acks: -1 });
  const messages = Array.from({ length: partitions }, (_, p) => ({ partition: p, value: `${round}-${p}` }));
  await producer.send({ topic, messages });
  await producer.close();
}

/** Reads every partition back from offset 0; returns the partitions whose values differ from `want(p)`. */
async function mismatches(want: (p: number) => string[]): Promise<string[]> {
  const raw = await RawClient.connect(broker.port, 'open-files-limit');
  const wrong: string[] = [];
  try {
    for (let p = 0; p < partitions; p++) {
      const got = [...(await readPartitionValues(raw, topic, p)).values.values()];
      if (JSON.stringify(got) !== JSON.stringify(want(p))) wrong.push(`${p}: ${JSON.stringify(got)}`);
    }
  } finally {
    raw.close();
  }
  return wrong;
}

async function reconnect(): Promise<void> {
  sluice = new Sluice({ brokers: broker.address, clientId: 'open-files-limit', retries: 0 });
}

beforeAll(async () => {
  broker = await BrokerProcess.start({ nofile, startTimeoutMs: 60_000 });
  await reconnect();
}, 90_000);

afterAll(async () => {
  await sluice?.close();
  await broker?.destroy();
});

describe('more partitions than the open files limit', () => {
  it('are created, written, restarted (SIGTERM and kill -9) and read back', async () => {
    expect(fs.readFileSync(`/proc/${broker.pid}/limits`, 'utf8')).toMatch(new RegExp(`Max open files\\s+${nofile}\\s`));
    const cap = nofile / 2;
    expect(summaryLine()).toMatchObject({ openFilesLimit: nofile, segmentFilesMax: cap });

    await sluice.admin().createTopic({ topic, partitions });
    expect((await sluice.admin().describeTopic(topic)).partitions).toHaveLength(partitions);
    expect(openSegmentFiles()).toBeLessThanOrEqual(cap);
    await writeRound('a');
    expect(openSegmentFiles()).toBeLessThanOrEqual(cap);
    expect(await mismatches((p) => [`a-${p}`])).toEqual([]);
    expect(openFds()).toBeLessThan(nofile);

    // a clean stop and start: every partition loads, no segment file is opened until used
    await sluice.close();
    await broker.restart();
    await reconnect();
    expect(summaryLine()).toMatchObject({ partitions });
    expect(await mismatches((p) => [`a-${p}`])).toEqual([]);

    // a crash with records on every partition: recovery reads them within the cap too
    await writeRound('b');
    await sluice.close();
    await broker.restart('SIGKILL');
    await reconnect();
    expect(summaryLine()).toMatchObject({ partitions });
    expect(await mismatches((p) => [`a-${p}`, `b-${p}`])).toEqual([]);
    expect(openSegmentFiles()).toBeLessThanOrEqual(cap);
  }, 240_000);
});
