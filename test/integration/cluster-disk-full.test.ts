/**
 * A follower whose disk is full (issue 18, item 3): broker 2 of a two-broker cluster keeps its
 * data on an 8 MiB tmpfs (its own mount namespace), mostly taken by a ballast file. The leader
 * (broker 1) takes more than the rest: the follower's log refuses the write, the follower stops
 * fetching that partition (no crash loop, the process lives), the leader's lag rule drops it from
 * the ISR and acks=-1 writes go on with the leader alone. The ballast goes: the follower fetches
 * again on its own, rejoins the ISR and holds exactly the leader's records. Skipped, with a line
 * saying why, where a tmpfs cannot be mounted.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sluice } from '../../src/index.js';
import { decodeBatchRecords } from '../../src/wire/record-batch-decoder.js';
import { tmpfsSupported } from '../helpers/broker-process.js';
import { type StoredRecord, TestCluster } from '../helpers/cluster.js';
import { storedBatches } from '../helpers/storage.js';

const tmpfs = tmpfsSupported();
if (!tmpfs.ok) {
  console.log(`cluster-disk-full.test.ts skipped: cannot mount a tmpfs in a private mount namespace (${tmpfs.why})`);
}

const mib = 1024 * 1024;
const topic = 'follower-full';
/** Bytes the leader takes: three times what the follower's ballast leaves free. */
const valueBytes = 8192;
const sendsMax = 400;
const waitMs = 30_000;

let cluster: TestCluster;
let sluice: Sluice;
/** The partition broker 1 leads (broker 2, on the tmpfs, follows it). */
let partition: number;

/** broker 2's copy, read from its segment files through its mount namespace. */
function followerRecords(): StoredRecord[] {
  return storedBatches(cluster.broker(2).inDataDir(`${topic}-${partition}`)).flatMap(({ buf, pos }) =>
    decodeBatchRecords(buf, pos).map((r) => ({
      offset: r.offset,
      key: r.key?.toString() ?? null,
      value: r.value?.toString() ?? null,
    })),
  );
}

function freeBytesOfFollower(): number {
  const s = fs.statfsSync(cluster.broker(2).inDataDir());
  return s.bavail * s.bsize;
}

describe.skipIf(!tmpfs.ok)('a follower whose disk is full', () => {
  beforeAll(async () => {
    cluster = await TestCluster.start({
      brokers: 2,
      label: 'cluster-disk-full',
      brokerOptions: (id) => (id === 2 ? { tmpfsBytes: 8 * mib } : {}),
      overrides: ['log.dir.full.retry.ms=100', 'log.segment.bytes=1048576'],
    });
    sluice = cluster.client();
    await sluice.admin().createTopic({ topic, partitions: 2, replicationFactor: 2 });
    const described = await cluster.poll('both partitions with an ISR of 2', waitMs, async () => {
      const d = await cluster.describe(topic);
      return d.partitions.every((p) => p.isr.length === 2 && p.leader > 0) ? d : undefined;
    });
    partition = (described.partitions.find((p) => p.leader === 1) ?? { partition: -1 }).partition;
    expect(partition).toBeGreaterThanOrEqual(0);
    // all but about 1 MiB of the follower's disk
    fs.writeFileSync(cluster.broker(2).inDataDir('ballast'), Buffer.alloc(Math.max(0, freeBytesOfFollower() - mib), 1));
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('stops fetching and leaves the ISR without crashing, then fetches again and rejoins once space returns', async () => {
    const producer = sluice.producer({ acks: 1 });
    const value = 'v'.repeat(valueBytes);
    for (let i = 0; i < 3 * (mib / valueBytes) && i < sendsMax; i++) {
      await producer.send({ topic, messages: [{ key: `k${i}`, value: `${i}:${value}`, partition }] });
    }
    await cluster.waitForIsr(topic, partition, 1, waitMs);
    const after = await cluster.describe(topic);
    expect(after.partitions[partition]?.isr).toEqual([1]);
    expect(cluster.broker(2).running).toBe(true);
    const output = cluster.output(2);
    expect(output).toContain('follower stops fetching: its disk is full');
    // the follower waits, it does not retry the failed write in a loop
    expect(output.split('\n').filter((l) => l.includes('replica fetch failed')).length).toBeLessThanOrEqual(2);

    // the leader alone takes acks=-1 writes meanwhile (min.insync.replicas 1)
    const all = sluice.producer({ acks: -1 });
    await all.send({ topic, messages: [{ key: 'while-full', value: 'while-full', partition }] });

    fs.rmSync(cluster.broker(2).inDataDir('ballast'));
    await cluster.waitForIsr(topic, partition, 2, waitMs);
    expect(cluster.output(2)).toContain('follower fetches again: its disk has space');
    const leader = cluster.storedRecords(1, topic, partition);
    const copy = await cluster.poll('the follower to hold every record of the leader', waitMs, async () => {
      const records = followerRecords();
      return records.length >= leader.length ? records : undefined;
    });
    expect(copy).toEqual(leader);
    expect(leader.at(-1)?.value).toBe('while-full');
  });
});
