/**
 * How a producer splits one leader's due batches into Produce requests, and
 * how it finds each batch's answer.
 *
 * Kafka's rule: a Produce request carries at most one batch per
 * topic-partition. The answer names partitions, not batches, so a request
 * with two batches of one partition cannot tell which base offset belongs to
 * which batch (a broker refuses such a request with INVALID_REQUEST). A
 * partition's further batches go into later requests on the same connection,
 * which the broker handles in order, so the partition's order is kept.
 */
import { topicPartitionKey } from '../shared/topic-partition.js';

/** What the planner needs of a due batch: the partition it belongs to (any identity) and its size. */
export interface PlannedBatch<Q> {
  q: Q;
  batch: { bytes: number };
}

/**
 * The requests for `items` (a leader's due batches, each partition's in send
 * order): request k holds the k-th due batch of each partition that has one,
 * split further so a request stays within `requestBytesMax` (a batch larger
 * than that goes alone). Requests are returned in the order they must be sent.
 */
export function planProduceRequests<Q, T extends PlannedBatch<Q>>(items: readonly T[], requestBytesMax: number): T[][] {
  const rounds: T[][] = [];
  const seen = new Map<Q, number>();
  for (const item of items) {
    const round = seen.get(item.q) ?? 0;
    seen.set(item.q, round + 1);
    let list = rounds[round];
    if (!list) {
      list = [];
      rounds[round] = list;
    }
    list.push(item);
  }
  const requests: T[][] = [];
  for (const round of rounds) {
    let group: T[] = [];
    let bytes = 0;
    for (const item of round) {
      if (group.length > 0 && bytes + item.batch.bytes > requestBytesMax) {
        requests.push(group);
        group = [];
        bytes = 0;
      }
      group.push(item);
      bytes += item.batch.bytes;
    }
    if (group.length > 0) requests.push(group);
  }
  return requests;
}

/** One partition's answer in a Produce response. */
export interface PartitionAnswer {
  partition: number;
  errorCode: number;
  errorMessage?: string | null;
  baseOffset: number;
}

/** A partition answered twice in one response: neither answer can be trusted for a batch. */
export const ambiguousAnswer = 'ambiguous' as const;

/**
 * The response's answers by "topic\0partition". A partition named twice maps
 * to `ambiguousAnswer`, never to one of its answers: its batch must not be
 * told an offset that may belong to something else.
 */
export function answersByPartition(
  topics: readonly { name: string; partitions: readonly PartitionAnswer[] }[] | undefined,
): Map<string, PartitionAnswer | typeof ambiguousAnswer> {
  const answers = new Map<string, PartitionAnswer | typeof ambiguousAnswer>();
  for (const t of topics ?? []) {
    for (const p of t.partitions ?? []) {
      const key = topicPartitionKey(t.name, p.partition);
      answers.set(key, answers.has(key) ? ambiguousAnswer : p);
    }
  }
  return answers;
}
