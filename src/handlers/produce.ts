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
import { ErrorCode, SluiceError, toWireError } from '../shared/errors.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
import { clientRequestTimeoutMsDefault } from '../shared/limits.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import { AclOperation, checkTopic } from './authorize.js';
import { bad, type ClientInfo, type Handler, type HandlerContext } from './context.js';

type ProduceEntry = ProduceRequest['topics'][number]['partitions'][number];

/**
 * One partition's append and answer. One async function with its own catch (no closures, no
 * wrapper promise): a keyed request names thousands of partitions, each answered through here.
 * Every partition of a request awaits its topic once, in request order, then appends: the same
 * steps for every partition keep a connection's pipelined appends of a partition in order.
 */
async function appendOne(
  ctx: HandlerContext,
  topic: string,
  spec: Promise<TopicSpec | undefined>,
  entry: ProduceEntry,
  timesNamed: number,
  acks: number,
  timeoutMs: number,
): Promise<ProducePartitionResponse> {
  const { partition, records } = entry;
  try {
    if (timesNamed > 1) {
      throw bad(`the request names ${topic}-${partition} ${timesNamed} times: one batch per partition per request`);
    }
    if (!(await spec) || !ctx.coordinator.partitionState(topic, partition)) {
      throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${topic}-${partition}`);
    }
    const result = await ctx.replicas.appendAsLeader(topic, partition, records, acks, timeoutMs);
    ctx.metrics?.produced(topic, records);
    return {
      partition,
      errorCode: 0,
      baseOffset: result.baseOffset,
      logAppendTimeMs: result.logAppendTimeMs,
      logStartOffset: ctx.logs.get(topic, partition)?.logStartOffset ?? -1,
    };
  } catch (err) {
    return { partition, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, ...toWireError(err) };
  }
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

/** How many times the request names each topic-partition (keyed by topicPartitionKey), counted before anything is appended. */
function timesNamed(request: ProduceRequest): Map<string, number> {
  const named = new Map<string, number>();
  for (const t of request.topics) {
    for (const p of t.partitions) {
      const key = topicPartitionKey(t.name, p.partition);
      named.set(key, (named.get(key) ?? 0) + 1);
    }
  }
  return named;
}

export const produceHandler: Handler<typeof ApiKey.Produce> = {
  apiKey: ApiKey.Produce,
  async handle(request, ctx, client): Promise<ProduceResponse | undefined> {
    const acks = request.acks ?? 1;
    const timeoutMs = Math.max(request.timeoutMs ?? clientRequestTimeoutMsDefault, 1);
    const named = timesNamed(request);
    const pending: Promise<ProducePartitionResponse>[][] = [];
    // Every partition's append starts now, in request order, none awaiting another: a partition's
    // appends then reach its log in the order the connection's requests arrived. Awaiting each
    // append before starting the next partition let a later pipelined request overtake this one
    // on the next partition while this one's append was still completing (an index backlog, a
    // metadata write): records reordered, seen with acks 0 and 1.
    for (const t of request.topics) {
      const partitions: Promise<ProducePartitionResponse>[] = [];
      // authorized, then looked up (or auto-created) once per topic, for its first partition named
      // once; a refusal is each partition's own answer
      let spec: Promise<TopicSpec | undefined> | undefined;
      for (const entry of t.partitions) {
        const times = named.get(topicPartitionKey(t.name, entry.partition)) ?? 1;
        if (times === 1) spec ??= writableTopic(ctx, client, t.name);
        const appended = appendOne(ctx, t.name, spec ?? Promise.resolve(undefined), entry, times, acks, timeoutMs);
        partitions.push(appended);
      }
      pending.push(partitions);
    }
    const topics: ProduceResponse['topics'] = [];
    for (const [i, t] of request.topics.entries()) {
      topics.push({ name: t.name, partitions: await Promise.all(pending[i] ?? []) });
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
