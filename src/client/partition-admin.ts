/**
 * Admin operations on a topic's partitions: CreatePartitions (grow a topic,
 * through the controller) and DeleteRecords (move partitions' log start, on
 * each partition's leader). Used by Admin (admin.ts).
 */
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { CreatePartitionsRequest, DeleteRecordsRequest } from '../protocol/native/partition-messages.js';
import type { Cluster } from './cluster.js';
import { wasSent } from './connection.js';
import { checkTopLevel, invalidArgument, wireError } from './errors.js';

const adminTimeoutMs = 30_000;

export interface CreatePartitionsOptions {
  topic: string;
  /** The topic's new partition count: above the current one (a topic never shrinks). */
  count: number;
  /** Check only; change nothing. */
  validateOnly?: boolean;
}

export interface DeleteRecordsOptions {
  topic: string;
  /** Per partition, the new log start offset: records below it go; -1 = the high watermark (everything). */
  partitions: { partition: number; offset: number }[];
}

export interface DeletedRecords {
  partition: number;
  /** The partition's log start offset after the deletion. */
  lowWatermark: number;
}

export async function createPartitions(cluster: Cluster, options: CreatePartitionsOptions): Promise<void> {
  const { topic, count } = options;
  if (!Number.isInteger(count) || count < 1) throw invalidArgument('count must be a positive integer');
  const body: CreatePartitionsRequest = {
    topics: [{ name: topic, count }],
    timeoutMs: adminTimeoutMs,
    validateOnly: options.validateOnly === true,
  };
  // a request that was sent may have been carried out: retried only when it never left
  const res = await cluster.retry(
    async () => {
      const conn = await cluster.controllerConnection();
      return conn.request(ApiKey.CreatePartitions, body, { timeoutMs: adminTimeoutMs + 5_000 });
    },
    { retryIf: (err) => !wasSent(err) },
  );
  checkTopLevel(res, `add partitions to '${topic}'`);
  const t = res.topics?.find((x) => x.name === topic);
  if (!t) throw wireError(WireError.UNKNOWN_SERVER_ERROR, `add partitions to '${topic}'`, 'no result for the topic');
  if (t.errorCode !== 0) throw wireError(t.errorCode, `add partitions to '${topic}'`, t.errorMessage);
  cluster.forget(topic);
}

export async function deleteRecords(cluster: Cluster, options: DeleteRecordsOptions): Promise<DeletedRecords[]> {
  const { topic, partitions } = options;
  if (!Array.isArray(partitions) || partitions.length === 0) {
    throw invalidArgument('partitions must name at least one { partition, offset }');
  }
  for (const p of partitions) {
    if (!Number.isInteger(p?.partition) || p.partition < 0)
      throw invalidArgument('a partition is a non-negative integer');
    if (!Number.isSafeInteger(p.offset) || p.offset < -1)
      throw invalidArgument('an offset is -1 or a non-negative integer');
  }
  return cluster.retry(async () => {
    const byLeader = new Map<number, { partition: number; offset: number }[]>();
    for (const p of partitions) {
      const leader = await cluster.leaderOf(topic, p.partition);
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), { partition: p.partition, offset: p.offset }]);
    }
    const answers = new Map<number, DeletedRecords>();
    for (const [leader, list] of byLeader) {
      const body: DeleteRecordsRequest = { topics: [{ name: topic, partitions: list }], timeoutMs: adminTimeoutMs };
      const conn = await cluster.brokerConnection(leader);
      const res = await conn.request(ApiKey.DeleteRecords, body, { timeoutMs: adminTimeoutMs + 5_000 });
      checkTopLevel(res, `delete records of '${topic}'`);
      for (const q of list) {
        const ctx = `delete records of ${topic}-${q.partition}`;
        const p = res.topics?.find((x) => x.name === topic)?.partitions.find((x) => x.partition === q.partition);
        if (!p) throw wireError(WireError.UNKNOWN_SERVER_ERROR, ctx, 'no result for the partition');
        if (p.errorCode !== 0) throw wireError(p.errorCode, ctx, p.errorMessage);
        answers.set(q.partition, { partition: q.partition, lowWatermark: p.lowWatermark });
      }
    }
    return partitions.map((p) => answers.get(p.partition) as DeletedRecords);
  });
}
