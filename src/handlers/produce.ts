/**
 * Produce: appends each partition's raw batches to its log. acks 0 sends no
 * response; 1 answers after the leader's append; -1 after every in-sync
 * replica has it, which in standalone mode is the same moment.
 */
import { partitionKey } from '../broker/append-notifier.js';
import { toWireError, WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { ProducePartitionResponse, ProduceResponse } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { arrayField, bad, type Handler, type HandlerContext, intField, stringField } from './context.js';

async function appendOne(
  ctx: HandlerContext,
  topic: string,
  partition: number,
  records: unknown,
  acks: number,
): Promise<ProducePartitionResponse> {
  const base = { partition, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
  try {
    if (!Buffer.isBuffer(records)) throw bad('records must be bytes (RecordBatch v2)');
    const spec = await ctx.topics.getOrAutoCreate(topic);
    const state = spec ? ctx.coordinator.partitionState(topic, partition) : undefined;
    if (!state) throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${topic}-${partition}`);
    const log = ctx.logs.get(topic, partition);
    if (!log || state.leader !== ctx.coordinator.brokerId) {
      return {
        ...base,
        errorCode: WireError.NOT_LEADER_OR_FOLLOWER,
        errorMessage: `broker ${ctx.coordinator.brokerId} does not lead ${topic}-${partition}`,
      };
    }
    if (acks === -1 && state.isr.length < ctx.config.int('min.insync.replicas')) {
      return {
        ...base,
        errorCode: WireError.NOT_ENOUGH_REPLICAS,
        errorMessage: `${state.isr.length} in-sync replicas, min.insync.replicas is ${ctx.config.int('min.insync.replicas')}`,
      };
    }
    const result = await log.append(records, { leaderEpoch: state.leaderEpoch });
    ctx.notifier.notify(partitionKey(topic, partition));
    return { ...base, errorCode: 0, baseOffset: result.baseOffset, logStartOffset: log.logStartOffset };
  } catch (err) {
    return { ...base, ...toWireError(err) };
  }
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
    const topics: ProduceResponse['topics'] = [];
    for (const t of arrayField(body, 'topics')) {
      const name = stringField(t, 'name');
      const partitions: ProducePartitionResponse[] = [];
      for (const p of arrayField(t, 'partitions')) {
        partitions.push(
          await appendOne(ctx, name, intField(p, 'partition'), (p as { records?: unknown }).records, acks),
        );
      }
      topics.push({ name, partitions });
    }
    return acks === 0 ? undefined : { errorCode: 0, topics };
  },
};
