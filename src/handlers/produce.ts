/**
 * Produce: appends each partition's raw batches through the replica manager.
 * acks 0 sends no response; 1 answers after the leader's append; -1 after
 * every in-sync replica has the records (and refuses up front with
 * NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas).
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { ProducePartitionResponse, ProduceResponse } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { clientRequestTimeoutMsDefault } from '../shared/limits.js';
import { arrayField, bad, type Handler, type HandlerContext, intField, stringField } from './context.js';
import { orWireError } from './per-partition.js';

async function appendOne(
  ctx: HandlerContext,
  topic: string,
  partition: number,
  records: unknown,
  acks: number,
  timeoutMs: number,
): Promise<ProducePartitionResponse> {
  const base = { partition, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
  return orWireError(
    async () => {
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
    const pending: Promise<ProducePartitionResponse>[][] = [];
    const names: string[] = [];
    // partitions append one after another (in request order), but their replication waits overlap
    for (const t of arrayField(body, 'topics')) {
      const name = stringField(t, 'name');
      names.push(name);
      const partitions: Promise<ProducePartitionResponse>[] = [];
      for (const p of arrayField(t, 'partitions')) {
        const appended = appendOne(
          ctx,
          name,
          intField(p, 'partition'),
          (p as { records?: unknown }).records,
          acks,
          timeoutMs,
        );
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
