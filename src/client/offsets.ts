/** ListOffsets for the consumer and admin: earliest, latest or by timestamp, grouped by leader. */
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import { earliestTimestamp, type ListOffsetsRequest, latestTimestamp } from '../protocol/native/messages.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, wireError } from './errors.js';
import { requestChunks } from './request-chunks.js';

export interface OffsetQuery {
  topic: string;
  partition: number;
  /** A time in ms, or earliestTimestamp (-2) / latestTimestamp (-1). */
  timestamp: number;
}

export interface OffsetAnswer extends OffsetQuery {
  offset: number;
  /** The found record's timestamp; -1 when none is at or after the asked time. */
  foundTimestamp: number;
}

export { earliestTimestamp, latestTimestamp };

/**
 * Looks up every query at its partition's leader, retrying retriable errors. Answers in query order.
 * isolationLevel 1 (read_committed): 'latest' is the last stable offset, not the high watermark.
 */
export async function listOffsets(
  cluster: Cluster,
  queries: OffsetQuery[],
  isolationLevel: 0 | 1 = 0,
): Promise<OffsetAnswer[]> {
  if (queries.length === 0) return [];
  return cluster.retry(async () => {
    const byLeader = new Map<number, OffsetQuery[]>();
    for (const q of queries) {
      const leader = await cluster.leaderOf(q.topic, q.partition);
      const list = byLeader.get(leader) ?? [];
      list.push(q);
      byLeader.set(leader, list);
    }
    // a leader of more partitions than one request may name gets several requests (request-chunks.ts)
    const requests = [...byLeader].flatMap(([leader, list]) =>
      requestChunks(list).map((chunk): [number, Map<string, OffsetQuery[]>] => [leader, chunk]),
    );
    const answers = await Promise.all(
      requests.map(async ([leader, topics]) => {
        const list = [...topics.values()].flat();
        const body: ListOffsetsRequest = {
          topics: [...topics].map(([name, qs]) => ({
            name,
            partitions: qs.map((q) => ({ partition: q.partition, timestamp: q.timestamp })),
          })),
        };
        if (isolationLevel === 1) body.isolationLevel = 1;
        const conn = await cluster.brokerConnection(leader);
        const res = await conn.request(ApiKey.ListOffsets, body);
        checkTopLevel(res, 'list offsets');
        // a partition may be asked twice (earliest and latest): answers are taken in request order;
        // looked up by name and partition, as a scan per query is quadratic at 100,000 partitions
        type Answer = NonNullable<NonNullable<typeof res.topics>[number]['partitions']>[number];
        const answered = new Map<string, Answer[]>();
        for (const t of res.topics ?? []) {
          for (const x of t.partitions ?? []) {
            const key = `${t.name}\u0000${x.partition}`;
            const same = answered.get(key);
            if (same) same.push(x);
            else answered.set(key, [x]);
          }
        }
        return list.map((q): OffsetAnswer => {
          const p = answered.get(`${q.topic}\u0000${q.partition}`)?.shift();
          const ctx = `list offsets of ${q.topic}-${q.partition}`;
          if (!p) throw wireError(WireError.UNKNOWN_SERVER_ERROR, ctx, 'no result for the partition');
          if (p.errorCode !== 0) throw wireError(p.errorCode, ctx, p.errorMessage);
          return { ...q, offset: p.offset, foundTimestamp: p.timestamp };
        });
      }),
    );
    const byKey = new Map(answers.flat().map((a) => [`${a.topic}\u0000${a.partition}\u0000${a.timestamp}`, a]));
    return queries.map((q) => byKey.get(`${q.topic}\u0000${q.partition}\u0000${q.timestamp}`) as OffsetAnswer);
  });
}
