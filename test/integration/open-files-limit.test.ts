/**
 * A creation beyond the open files limit (issue 20 item 5): a standalone broker run under
 * `prlimit --nofile=1200:1200` (BrokerProcess nofile) is asked for a topic of more partitions
 * than it has file descriptors. The creation is answered KAFKA_STORAGE_ERROR (it used to be
 * answered "created" while the broker logged EMFILE for hundreds of partitions) and undone: the
 * topic does not exist, the descriptors are given back. The start-up summary names the limit. The broker keeps serving the topic it had
 * and new small ones, and starts again with its data.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { ErrorCode } from '../../src/shared/errors.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { RawClient, readPartitionValues } from '../helpers/raw-client.js';

/** Above the 1,024 descriptors connection-quotas.ts keeps for logs (so clients may connect), far below 1,500 partitions. */
const nofile = 1200;
const tooManyPartitions = 1500;

let broker: BrokerProcess;
let sluice: Sluice;

const openFds = (): number => fs.readdirSync(`/proc/${broker.pid}/fd`).length;

async function valuesOf(topic: string): Promise<string[]> {
  const raw = await RawClient.connect(broker.port, 'open-files-limit');
  try {
    return [...(await readPartitionValues(raw, topic, 0)).values.values()];
  } finally {
    raw.close();
  }
}

beforeAll(async () => {
  broker = await BrokerProcess.start({ nofile });
  sluice = new Sluice({ brokers: broker.address, clientId: 'open-files-limit', retries: 0 });
}, 60_000);

afterAll(async () => {
  await sluice?.close();
  await broker?.destroy();
});

describe('a creation beyond the open files limit', () => {
  it('is answered KAFKA_STORAGE_ERROR and undone; the broker keeps serving and starts again', async () => {
    expect(fs.readFileSync(`/proc/${broker.pid}/limits`, 'utf8')).toMatch(new RegExp(`Max open files\\s+${nofile}\\s`));
    // the start-up summary names the limit and the files open
    const summary = broker.recentOutput
      .split('\n')
      .filter((line) => line.includes('"broker listening"'))
      .map((line) => JSON.parse(line) as { openFilesLimit?: number; openFiles?: number })[0];
    expect(summary?.openFilesLimit).toBe(nofile);
    expect(summary?.openFiles).toBeGreaterThan(0);
    await sluice.admin().createTopic({ topic: 'kept', partitions: 1 });
    await sluice.producer({ acks: -1 }).send({ topic: 'kept', messages: [{ value: 'before' }] });

    const refused = await sluice
      .admin()
      .createTopic({ topic: 'crowd', partitions: tooManyPartitions })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refused).toMatchObject({ code: ErrorCode.StorageError });
    expect(String(refused)).toMatch(/EMFILE/);
    // undone: no such topic, and its descriptors are closed again
    await expect(sluice.admin().describeTopic('crowd')).rejects.toThrow();
    expect(openFds()).toBeLessThan(nofile / 2);

    // serving: the old topic takes writes, a new small topic is created
    await sluice.producer({ acks: -1 }).send({ topic: 'kept', messages: [{ value: 'after' }] });
    await sluice.admin().createTopic({ topic: 'later', partitions: 2 });
    expect(await valuesOf('kept')).toEqual(['before', 'after']);

    // and starts again, with its data
    await sluice.close();
    await broker.restart();
    sluice = new Sluice({ brokers: broker.address, clientId: 'open-files-limit', retries: 0 });
    expect(await valuesOf('kept')).toEqual(['before', 'after']);
    expect((await sluice.admin().describeTopic('later')).partitions).toHaveLength(2);
  }, 120_000);
});
