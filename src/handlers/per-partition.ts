/**
 * The shape of the per-partition APIs: a request names topics, each with its
 * partitions, and the response answers each partition on its own, so one that
 * fails carries its own wire error ({errorCode, errorMessage}) while the
 * others still answer.
 */
import { toWireError } from '../protocol/error-codes.js';

export type WireErrorFields = ReturnType<typeof toWireError>;

/**
 * `run`'s answer or, when it throws, `failed` built around the error's wire
 * code and message: one partition's (or topic's, or group's) own error.
 */
export async function orWireError<T>(run: () => Promise<T>, failed: (error: WireErrorFields) => T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    return failed(toWireError(err));
  }
}

/** `topics: [{ name, partitions: [P] }]`, as the request's shape guarantees it. */
export interface PerPartitionRequest<P> {
  topics: readonly { name: string; partitions: readonly P[] }[];
}

/**
 * `answer` for each partition (`topics[].partitions[]`) of a request, one
 * after another, grouped by topic as `{ name, partitions }`, all in request
 * order. What `answer` throws fails the whole request: catch per partition
 * with `orWireError`.
 */
export async function perPartition<P, T>(
  request: PerPartitionRequest<P>,
  answer: (topic: string, p: P) => Promise<T>,
): Promise<{ name: string; partitions: T[] }[]> {
  const topics: { name: string; partitions: T[] }[] = [];
  for (const t of request.topics) {
    const partitions: T[] = [];
    for (const p of t.partitions) partitions.push(await answer(t.name, p));
    topics.push({ name: t.name, partitions });
  }
  return topics;
}
