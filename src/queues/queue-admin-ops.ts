/**
 * What the admin requests (stats, browse, purge, redrive) see of a queue:
 * plain selections over its pending entries. Writing the outcome is the
 * dispatcher's.
 */
import type { QueueMessageInput, QueueStats } from '../protocol/native/queue-messages.js';
import type { DecodedRecord } from '../wire/record.js';
import { redriveMessage } from './dead-letters.js';
import type { Entry } from './queue-entry.js';
import type { Consumers, QueueState } from './queue-state.js';

/** Messages a redrive reads and moves at once. */
export const redriveChunkMessages = 500;

export function queueStats(queue: string, state: QueueState, consumers: Consumers): QueueStats {
  return {
    queue,
    depth: state.size,
    inFlight: consumers.inFlight(),
    consumers: consumers.size,
    enqueued: state.counters.enqueued,
    dequeued: state.counters.dequeued,
    deadLettered: state.counters.deadLettered,
  };
}

/** The oldest `max` pending entries that are not leaving (browsing acquires nothing). */
export function browseEntries(pending: Map<number, Entry>, max: number): Entry[] {
  return [...pending.values()]
    .filter((e) => !e.leaving)
    .sort((a, b) => a.offset - b.offset)
    .slice(0, max);
}

/** Pending entries nobody holds (and not leaving), in the map's order. */
export function unheldEntries(pending: Map<number, Entry>): Entry[] {
  return [...pending.values()].filter((e) => !e.consumer && !e.leaving);
}

/** Of a chunk of dead letters, the ones that came from `queue`, with the messages that go back there. */
export function redriveChunk(
  chunk: Entry[],
  records: Map<number, DecodedRecord>,
  queue: string,
): { going: Entry[]; messages: QueueMessageInput[] } {
  const going: Entry[] = [];
  const messages: QueueMessageInput[] = [];
  for (const entry of chunk) {
    const record = records.get(entry.offset);
    if (!record) continue;
    const message = redriveMessage(record, queue);
    if (!message) continue;
    going.push(entry);
    messages.push(message);
  }
  return { going, messages };
}
