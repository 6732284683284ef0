/**
 * What the chaos runner reads for the transactional worker's check
 * (txn-checker.ts) once the worker stopped: the group's committed offsets,
 * each output partition's high watermark and last stable offset, the
 * transactions the coordinators still list as open, and the output read
 * from the beginning with read_uncommitted (up to the high watermark) and
 * read_committed (up to the last stable offset), streamed to files.
 */
import { Sluice } from '../../src/index.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import type { ListOffsetsResponse } from '../../src/protocol/native/messages.js';
import { pollPatiently, type TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { JsonlWriter } from './jsonl.js';
import type { OutputRecord } from './txn-checker.js';

const readTimeoutMs = 120_000;
/** The states of a transaction not yet complete (Kafka's names). */
const openStates = ['Ongoing', 'PrepareCommit', 'PrepareAbort', 'PrepareEpochFence'];

/** The group's committed offset of each partition of `topic` (0 where it committed none). */
export async function groupOffsets(
  c: TestCluster,
  group: string,
  topic: string,
  partitions: number,
): Promise<number[]> {
  const sluice = new Sluice({ brokers: c.bootstrap, clientId: 'chaos-txn-check', retries: 20 });
  try {
    const described = await sluice.admin().describeGroup(group);
    return Array.from(
      { length: partitions },
      (_, p) => described.offsets.find((x) => x.topic === topic && x.partition === p)?.committed ?? 0,
    );
  } finally {
    await sluice.close();
  }
}

/** Transactions the coordinators list in a state that is not complete, as "id (state)". */
export async function openTransactions(c: TestCluster): Promise<string[]> {
  const sluice = new Sluice({ brokers: c.bootstrap, clientId: 'chaos-txn-check', retries: 20 });
  try {
    const open = await sluice.admin().listTransactions({ states: openStates });
    return open.map((t) => `${t.transactionalId} (${t.state}, coordinator ${t.coordinator})`);
  } finally {
    await sluice.close();
  }
}

/** Each partition's offset for `latest` at its leader: the high watermark (isolation 0) or the last stable offset (1). */
export async function latestOffsets(
  c: TestCluster,
  topic: string,
  partitions: number,
  isolationLevel: 0 | 1,
): Promise<number[]> {
  const out: number[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    out.push(
      await c.poll(`latest offset of ${topic}-${partition}`, readTimeoutMs, async () => {
        const leader = await c.leaderOf(topic, partition);
        const raw = await RawClient.connect(c.broker(leader).port);
        try {
          const res = await raw.call<ListOffsetsResponse>(
            ApiKey.ListOffsets,
            { topics: [{ name: topic, partitions: [{ partition, timestamp: -1 }] }], isolationLevel },
            5000,
          );
          const p = res.topics[0]?.partitions[0];
          return p && p.errorCode === 0 ? p.offset : undefined;
        } catch {
          return undefined; // the leader moving: ask again
        } finally {
          raw.close();
        }
      }),
    );
  }
  return out;
}

/**
 * Reads every partition of `topic` from offset 0 until the consumer's position
 * reaches `ends[partition]` (with read_committed, aborted records and markers
 * are skipped, so the position, not the last record, tells when it is done).
 */
export async function readOutput(
  c: TestCluster,
  topic: string,
  ends: number[],
  isolationLevel: 'read_committed' | 'read_uncommitted',
  file: string,
): Promise<void> {
  const out = new JsonlWriter(file);
  const sluice = new Sluice({ brokers: c.bootstrap, clientId: `chaos-txn-${isolationLevel}`, retries: 20 });
  try {
    for (const [partition, end] of ends.entries()) {
      if (end === 0) continue;
      const consumer = sluice.consumer({ maxWaitMs: 200, isolationLevel });
      consumer.assign([{ topic, partition, offset: 0 }]);
      const deadline = Date.now() + readTimeoutMs;
      try {
        while ((consumer.position(topic, partition) ?? 0) < end) {
          if (Date.now() > deadline)
            throw new Error(
              `${isolationLevel} read of ${topic}-${partition} only up to ${consumer.position(topic, partition)} of ${end}`,
            );
          for (const r of await pollPatiently(consumer)) {
            if (r.offset >= end) continue;
            await out.write({ partition, offset: r.offset, value: r.value?.toString() ?? null } satisfies OutputRecord);
          }
        }
      } finally {
        await consumer.close();
      }
    }
  } finally {
    await sluice.close();
    await out.close();
  }
}
