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
import { ApiKey } from '../protocol/native/api-keys.js';
import type { ProducePartitionResponse, ProduceResponse } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
import { clientRequestTimeoutMsDefault } from '../shared/limits.js';
import { arrayField, bad, type Handler, type HandlerContext, intField, stringField } from './context.js';
import { orWireError } from './per-partition.js';

interface ProduceEntry {
  partition: number;
  records: unknown;
}

async function appendOne(
  ctx: HandlerContext,
  topic: string,
  entry: ProduceEntry,
  timesNamed: number,
  acks: number,
  timeoutMs: number,
): Promise<ProducePartitionResponse> {
  const { partition, records } = entry;
  const base = { partition, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
  return orWireError(
    async () => {
      if (timesNamed > 1) {
        throw bad(`the request names ${topic}-${partition} ${timesNamed} times: one batch per partition per request`);
      }
      refuseInternalTopic(topic, 'produce to');
      if (!Buffer.isBuffer(records)) throw bad('records must be bytes (RecordBatch v2)');
      const spec = await ctx.topics.getOrAutoCreate(topic);
      if (!spec || !ctx.coordinator.partitionState(topic, partition)) {
        throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${topic}-${partition}`);
      }
      const result = await ctx.replicas.appendAsLeader(topic, partition, records, acks, timeoutMs);
      ctx.metrics?.produced(topic, records);
      const log = ctx.logs.get(topic, partition);
      return { ...base, errorCode: 0, baseOffset: result.baseOffset, logStartOffset: log?.logStartOffset ?? -1 };
    },
    (error) => ({ ...base, ...error }),
  );
}

/** The request's topics and partitions, read (and checked) before anything is appended. */
function entriesOf(body: unknown): { names: string[]; entries: ProduceEntry[][]; named: Map<string, number> } {
  const names: string[] = [];
  const entries: ProduceEntry[][] = [];
  const named = new Map<string, number>();
  for (const t of arrayField(body, 'topics')) {
    const name = stringField(t, 'name');
    const list: ProduceEntry[] = [];
    for (const p of arrayField(t, 'partitions')) {
      const partition = intField(p, 'partition');
      list.push({ partition, records: (p as { records?: unknown }).records });
      const key = `${name}\u0000${partition}`;
      named.set(key, (named.get(key) ?? 0) + 1);
    }
    names.push(name);
    entries.push(list);
  }
  return { names, entries, named };
}

export const produceHandler: Handler = {
  apiKey: ApiKey.Produce,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<ProduceResponse | undefined> {
    const acks = intField(body, 'acks', 1);
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      throw new SluiceError(ErrorCode.InvalidRequest, `acks must be 0, 1 or -1 (all), got ${acks}`);
    }
    const timeoutMs = Math.max(intField(body, 'timeoutMs', clientRequestTimeoutMsDefault), 1);
    const { names, entries, named } = entriesOf(body);
    const pending: Promise<ProducePartitionResponse>[][] = [];
    // partitions append one after another (in request order), but their replication waits overlap
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const partitions: Promise<ProducePartitionResponse>[] = [];
      for (const entry of entries[i] ?? []) {
        const timesNamed = named.get(`${name}\u0000${entry.partition}`) ?? 1;
        const appended = appendOne(ctx, name, entry, timesNamed, acks, timeoutMs);
        partitions.push(appended);
        if (acks !== -1) await appended;
      }
      pending.push(partitions);
    }
    const topics: ProduceResponse['topics'] = [];
    for (let i = 0; i < names.length; i++) {
      topics.push({ name: names[i] as string, partitions: await Promise.all(pending[i] ?? []) });
    }
    return acks === 0 ? undefined : { errorCode: 0, topics };
  },
};
