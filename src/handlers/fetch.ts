/**
 * Fetch: reads whole batches from many partitions, bounded by maxBytes overall
 * and per partition (the first batch always goes, Kafka's KIP-74), and long
 * polls up to maxWaitMs for minBytes, woken by appends — never a polling loop.
 */
import { partitionKey } from '../broker/append-notifier.js';
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { FetchPartitionResponse, FetchResponse } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { fetchWaitMsMax, readBytesMax } from '../shared/limits.js';
import { arrayField, type Handler, type HandlerContext, intField, stringField } from './context.js';

interface Wanted {
  topic: string;
  partition: number;
  offset: number;
  maxBytes: number;
}

const empty = Buffer.alloc(0);

async function readOnce(
  ctx: HandlerContext,
  wanted: Wanted[],
  maxBytes: number,
): Promise<{ response: FetchResponse; bytes: number }> {
  let bytes = 0;
  const byTopic = new Map<string, FetchPartitionResponse[]>();
  for (const w of wanted) {
    let entry: FetchPartitionResponse;
    const log = ctx.logs.get(w.topic, w.partition);
    try {
      if (!log || !ctx.coordinator.partitionState(w.topic, w.partition)) {
        throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${w.topic}-${w.partition}`);
      }
      const room = Math.min(w.maxBytes, maxBytes - bytes);
      const read = await log.read(w.offset, Math.max(room, 0), { minOneBatch: bytes === 0 });
      bytes += read.records.length;
      entry = {
        partition: w.partition,
        errorCode: 0,
        highWatermark: read.logEndOffset,
        logStartOffset: read.logStartOffset,
        records: read.records,
      };
    } catch (err) {
      entry = {
        partition: w.partition,
        ...toWireError(err),
        highWatermark: log?.logEndOffset ?? -1,
        logStartOffset: log?.logStartOffset ?? -1,
        records: empty,
      };
    }
    const list = byTopic.get(w.topic) ?? [];
    list.push(entry);
    byTopic.set(w.topic, list);
  }
  return {
    response: { errorCode: 0, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) },
    bytes,
  };
}

export const fetchHandler: Handler = {
  apiKey: ApiKey.Fetch,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<FetchResponse> {
    const groupId = (body as { groupId?: unknown }).groupId;
    if (typeof groupId === 'string' && groupId !== '') {
      // a group member fetching for a generation that is over must rejoin first
      const fenced = ctx.groups.checkMember(groupId, intField(body, 'generationId'), stringField(body, 'memberId'));
      if (fenced !== 0) {
        return {
          errorCode: fenced,
          errorMessage: `fetch refused: not a member of group ${groupId}'s current generation`,
          topics: [],
        };
      }
    }
    const maxWaitMs = Math.min(Math.max(intField(body, 'maxWaitMs', 0), 0), fetchWaitMsMax);
    const minBytes = Math.max(intField(body, 'minBytes', 1), 0);
    const maxBytes = Math.min(Math.max(intField(body, 'maxBytes', readBytesMax), 1), readBytesMax);
    const wanted: Wanted[] = [];
    for (const t of arrayField(body, 'topics')) {
      const topic = stringField(t, 'name');
      for (const p of arrayField(t, 'partitions')) {
        wanted.push({
          topic,
          partition: intField(p, 'partition'),
          offset: intField(p, 'fetchOffset'),
          maxBytes: Math.min(Math.max(intField(p, 'partitionMaxBytes', maxBytes), 1), readBytesMax),
        });
      }
    }
    const deadline = Date.now() + maxWaitMs;
    let result = await readOnce(ctx, wanted, maxBytes);
    const keys = wanted.map((w) => partitionKey(w.topic, w.partition));
    // each pass waits for an append or the deadline, so the loop ends by maxWaitMs at the latest
    while (result.bytes < minBytes && !ctx.stopping()) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          cancel();
          resolve();
        }, left);
        const cancel = ctx.notifier.waitAny(keys, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      result = await readOnce(ctx, wanted, maxBytes);
    }
    return result.response;
  },
};
