/**
 * Produce: appends each partition's raw batches through the replica manager.
 * acks 0 sends no response; 1 answers after the leader's append; -1 after
 * every in-sync replica has the records (and refuses up front with
 * NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas).
 *
 * Refused per partition, with nothing appended there (other partitions go on):
 *  - a partition the request names more than once: INVALID_REQUEST for every
 *    entry of it (Kafka's rule is one batch per partition per request; the
 *    answers name partitions, so two batches could not be told apart);
 *  - an internal topic (__consumer_offsets, __queue.*): INVALID_TOPIC_EXCEPTION;
 *    only the broker writes there, through the replica manager directly.
 */

import type { TopicSpec } from '../coordination/coordinator.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { ProducePartitionResponse, ProduceRequest, ProduceResponse } from '../protocol/native/messages.js';
import type { LeaderAppendPolicy, LeaderAppendResult } from '../replication/replica-manager.js';
import { ErrorCode, SluiceError, toWireError } from '../shared/errors.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
import { clientRequestTimeoutMsDefault } from '../shared/limits.js';
import { AclOperation, checkTopic } from './authorize.js';
import { bad, type ClientInfo, type Handler, type HandlerContext } from './context.js';

type ProduceEntry = ProduceRequest['topics'][number]['partitions'][number];
type PartitionAnswer = ProducePartitionResponse | Promise<ProducePartitionResponse>;

/**
 * One partition's append and answer, for a topic known when the request came (the common case):
 * the append is made in this call, and when nothing waits (acks 0 or 1, written at once) the answer
 * is returned as it is, with no promise. A keyed request names thousands of partitions; an async
 * function and its promises per partition were a large part of the broker's time (issue 20 item 4).
 */
function appendNow(
  ctx: HandlerContext,
  topic: string,
  policy: LeaderAppendPolicy,
  entry: ProduceEntry,
  acks: number,
  timeoutMs: number,
): PartitionAnswer {
  const { partition, records } = entry;
  try {
    if (!ctx.coordinator.partitionState(topic, partition)) {
      throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${topic}-${partition}`);
    }
    const appended = ctx.replicas.appendAsLeaderNow(topic, partition, records, acks, timeoutMs, policy);
    if (appended instanceof Promise) {
      return appended.then(
        (result) => appendedAnswer(ctx, topic, partition, records, result),
        (err: unknown) => failedAnswer(partition, err),
      );
    }
    return appendedAnswer(ctx, topic, partition, records, appended);
  } catch (err) {
    return failedAnswer(partition, err);
  }
}

function appendedAnswer(
  ctx: HandlerContext,
  topic: string,
  partition: number,
  records: Buffer,
  result: LeaderAppendResult,
): ProducePartitionResponse {
  ctx.metrics?.produced(topic, records);
  return {
    partition,
    errorCode: 0,
    baseOffset: result.baseOffset,
    logAppendTimeMs: result.logAppendTimeMs,
    logStartOffset: result.logStartOffset,
  };
}

function failedAnswer(partition: number, err: unknown): ProducePartitionResponse {
  return { partition, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, ...toWireError(err) };
}

/**
 * One partition's append and answer for a topic not known when the request came (to be
 * auto-created, or refused): every partition of the topic awaits the topic once, in request order,
 * then appends: the same steps for every partition keep a connection's pipelined appends of a
 * partition in order.
 */
async function appendLater(
  ctx: HandlerContext,
  topic: string,
  spec: Promise<TopicSpec | undefined>,
  entry: ProduceEntry,
  timesNamed: number,
  acks: number,
  timeoutMs: number,
): Promise<ProducePartitionResponse> {
  const { partition } = entry;
  try {
    if (timesNamed > 1) {
      throw bad(`the request names ${topic}-${partition} ${timesNamed} times: one batch per partition per request`);
    }
    if (!(await spec)) {
      throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${topic}-${partition}`);
    }
  } catch (err) {
    return failedAnswer(partition, err);
  }
  return appendNow(ctx, topic, ctx.replicas.leaderAppendPolicy(topic), entry, acks, timeoutMs);
}

/**
 * Produce requests whose appends to a topic wait for it (appendLater), by handler context and
 * topic: while any does, later requests to that topic wait their turn the same way, so none of
 * their appends overtakes an earlier request's on the same partition.
 */
const topicsAwaited = new WeakMap<HandlerContext, Map<string, number>>();

function awaitedCount(ctx: HandlerContext, topic: string): number {
  return topicsAwaited.get(ctx)?.get(topic) ?? 0;
}

function awaiting(ctx: HandlerContext, topic: string, delta: 1 | -1): void {
  let counts = topicsAwaited.get(ctx);
  if (!counts) {
    counts = new Map();
    topicsAwaited.set(ctx, counts);
  }
  const n = (counts.get(topic) ?? 0) + delta;
  if (n > 0) counts.set(topic, n);
  else counts.delete(topic);
}

/**
 * The topic exists, this client may write to it, and no earlier request still waits for it
 * (topicsAwaited): its partitions are appended at once. False: through writableTopic and appendLater.
 */
function knownWritableTopic(ctx: HandlerContext, client: ClientInfo, topic: string): boolean {
  if (ctx.coordinator.topic(topic) === undefined || awaitedCount(ctx, topic) > 0) return false;
  try {
    checkTopic(ctx, client, AclOperation.Write, topic);
    refuseInternalTopic(topic, 'produce to');
  } catch {
    return false;
  }
  return true;
}

/** The topic once this client may write to it (auto-created if so configured); rejects otherwise. */
function writableTopic(ctx: HandlerContext, client: ClientInfo, topic: string): Promise<TopicSpec | undefined> {
  let spec: Promise<TopicSpec | undefined>;
  try {
    checkTopic(ctx, client, AclOperation.Write, topic);
    refuseInternalTopic(topic, 'produce to');
    spec = ctx.topics.getOrAutoCreate(topic);
  } catch (err) {
    spec = Promise.reject(err);
  }
  // answered by each partition that awaits it; a topic of only refused partitions awaits nothing
  spec.catch(noop);
  return spec;
}

function noop(): void {}

/**
 * How many times the request names each partition, by topic, counted before anything is appended
 * (partition numbers by topic: no string key per partition).
 */
function timesNamed(request: ProduceRequest): Map<string, Map<number, number>> {
  const named = new Map<string, Map<number, number>>();
  for (const t of request.topics) {
    let counts = named.get(t.name);
    if (!counts) {
      counts = new Map();
      named.set(t.name, counts);
    }
    for (const p of t.partitions) counts.set(p.partition, (counts.get(p.partition) ?? 0) + 1);
  }
  return named;
}

export const produceHandler: Handler<typeof ApiKey.Produce> = {
  apiKey: ApiKey.Produce,
  async handle(request, ctx, client): Promise<ProduceResponse | undefined> {
    const acks = request.acks ?? 1;
    const timeoutMs = Math.max(request.timeoutMs ?? clientRequestTimeoutMsDefault, 1);
    const named = timesNamed(request);
    const answers: PartitionAnswer[][] = [];
    let waits = false;
    // Every partition's append starts now, in request order, none awaiting another: a partition's
    // appends then reach its log in the order the connection's requests arrived. Awaiting each
    // append before starting the next partition let a later pipelined request overtake this one
    // on the next partition while this one's append was still completing (an index backlog, a
    // metadata write): records reordered, seen with acks 0 and 1.
    for (const t of request.topics) {
      const partitions: PartitionAnswer[] = [];
      answers.push(partitions);
      // authorized, then looked up (or auto-created) once per topic, for its first partition named
      // once; a refusal is each partition's own answer
      let known: boolean | undefined;
      let policy: LeaderAppendPolicy | undefined;
      let spec: Promise<TopicSpec | undefined> | undefined;
      const counts = named.get(t.name);
      for (const entry of t.partitions) {
        const times = counts?.get(entry.partition) ?? 1;
        if (times === 1 && known === undefined) {
          known = knownWritableTopic(ctx, client, t.name);
          if (known) policy = ctx.replicas.leaderAppendPolicy(t.name);
          else spec = writableTopic(ctx, client, t.name);
        }
        if (times === 1 && policy) {
          const answer = appendNow(ctx, t.name, policy, entry, acks, timeoutMs);
          if (answer instanceof Promise) waits = true;
          partitions.push(answer);
          continue;
        }
        waits = true;
        partitions.push(appendLater(ctx, t.name, spec ?? Promise.resolve(undefined), entry, times, acks, timeoutMs));
      }
      if (spec) {
        // later requests to this topic wait their turn behind this one's appends (topicsAwaited)
        awaiting(ctx, t.name, 1);
        void Promise.all(partitions).finally(() => awaiting(ctx, t.name, -1));
      }
    }
    const topics: ProduceResponse['topics'] = [];
    for (const [i, t] of request.topics.entries()) {
      const partitions = answers[i] ?? [];
      topics.push({
        name: t.name,
        partitions: waits ? await Promise.all(partitions) : (partitions as ProducePartitionResponse[]),
      });
    }
    // Kafka counts every produced byte against producer_byte_rate, acks 0 included (then only the mute applies)
    let bytes = 0;
    for (const t of request.topics) for (const p of t.partitions) bytes += p.records.length;
    const throttleTimeMs = ctx.quotas?.throttle('producer_byte_rate', client, bytes) ?? 0;
    if (acks === 0) {
      // no response to carry the throttle: the connection is muted for it (Kafka's KIP-219 for acks 0)
      if (throttleTimeMs > 0) client.mute?.(throttleTimeMs);
      return undefined;
    }
    return { errorCode: 0, topics, ...(throttleTimeMs > 0 ? { throttleTimeMs } : {}) };
  },
};
