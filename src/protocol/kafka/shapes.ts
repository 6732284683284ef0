/**
 * Shapes several Kafka APIs share, so an adapter states only what is its own:
 * the request's resource list (the config APIs), per-topic results that
 * refuse some topics before the handler sees them (the topic-creating APIs),
 * and the "top-level error, else every topic's partitions" answer (the
 * reassignment APIs). Pure reshaping: the bytes on the wire are the APIs'.
 */

import { array, type Field, field, int8, string, struct } from '../binary/schema.js';
import { WireError } from '../error-codes.js';
import { errorOf, type NativeResult } from './api.js';

/**
 * A request's `resources` list: resourceType (int8) and resourceName, then
 * the API's own fields, in that order (AlterConfigs, DescribeConfigs,
 * IncrementalAlterConfigs).
 */
export function resourcesField<F extends Record<string, Field<unknown>>>(fields: F) {
  const resource = struct({ resourceType: field(int8, 0), resourceName: field(string, ''), ...fields });
  return field(array(resource), []);
}

/** One topic's result in CreateTopics and CreatePartitions. */
export interface TopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

/**
 * A result for every requested topic, in request order: `refusal(t)`'s
 * INVALID_REQUEST for a topic the adapter did not pass on, the handler's
 * answer for the topic, or — when the handler answered nothing for it (the
 * request as a whole failed) — the request's error (UNKNOWN_SERVER_ERROR
 * when it gave none).
 */
export function topicResults<T extends { name: string }>(
  result: NativeResult & { topics?: readonly { name: string; errorCode: number; errorMessage?: string | null }[] },
  requested: readonly T[],
  refusal: (topic: T) => string | null,
): TopicResult[] {
  const failed = errorOf(result);
  const answered = new Map((result.topics ?? []).map((t) => [t.name, t]));
  return requested.map((t) => {
    const refused = refusal(t);
    if (refused !== null) return { name: t.name, errorCode: WireError.INVALID_REQUEST, errorMessage: refused };
    const answer = answered.get(t.name);
    if (!answer) {
      return {
        name: t.name,
        errorCode: failed.errorCode || WireError.UNKNOWN_SERVER_ERROR,
        errorMessage: failed.errorMessage,
      };
    }
    return { name: t.name, errorCode: answer.errorCode, errorMessage: answer.errorMessage ?? null };
  });
}

/**
 * The response of an API answered as a whole or per topic's partitions:
 * the request's error and no topics when it failed (or answered no topics),
 * else no error and every topic with its partitions mapped by `partition`.
 */
export function topLevelOrTopics<P, Q>(
  result: NativeResult & { topics?: readonly { name: string; partitions: readonly P[] }[] },
  partition: (p: P) => Q,
): {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  topics: { name: string; partitions: Q[] }[];
} {
  const { errorCode, errorMessage } = errorOf(result);
  if (errorCode !== 0 || result.topics === undefined) {
    return { throttleTimeMs: 0, errorCode, errorMessage, topics: [] };
  }
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    topics: result.topics.map((t) => ({ name: t.name, partitions: t.partitions.map(partition) })),
  };
}
