/** ListOffsets for the consumer and admin: earliest, latest or by timestamp, grouped by leader. */
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import { earliestTimestamp, type ListOffsetsRequest, latestTimestamp } from '../protocol/native/messages.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, wireError } from './errors.js';

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

/** Looks up every query at its partition's leader, retrying retriable errors. Answers in query order. */
export async function listOffsets(cluster: Cluster, queries: OffsetQuery[]): Promise<OffsetAnswer[]> {
  if (queries.length === 0) return [];
  return cluster.retry(async () => {
    const byLeader = new Map<number, OffsetQuery[]>();
    for (const q of queries) {
      const leader = await cluster.leaderOf(q.topic, q.partition);
      const list = byLeader.get(leader) ?? [];
      list.push(q);
      byLeader.set(leader, list);
    }
    const answers = await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        const topics = new Map<string, { partition: number; timestamp: number }[]>();
        for (const q of list) {
          const parts = topics.get(q.topic) ?? [];
          parts.push({ partition: q.partition, timestamp: q.timestamp });
          topics.set(q.topic, parts);
        }
        const body: ListOffsetsRequest = { topics: [...topics].map(([name, partitions]) => ({ name, partitions })) };
        const conn = await cluster.brokerConnection(leader);
        const res = await conn.request(ApiKey.ListOffsets, body);
        checkTopLevel(res, 'list offsets');
        // a partition may be asked twice (earliest and latest): answers are taken in request order
        const used = new Set<object>();
        return list.map((q): OffsetAnswer => {
          const t = res.topics?.find((x) => x.name === q.topic);
          const p = t?.partitions?.find((x) => x.partition === q.partition && !used.has(x));
          if (p) used.add(p);
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
