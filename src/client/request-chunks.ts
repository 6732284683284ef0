/**
 * Splits what one client request would name into requests a broker decodes:
 * at most clientRequestPartitionsMax partitions each (limits.ts says what one
 * entry costs against the broker's requestMsgpackItemsMax), grouped by topic
 * in the order given. Every request whose size grows with the partition count
 * (Fetch, ListOffsets, OffsetCommit, OffsetFetch) builds its bodies from these.
 *
 * Why splitting and not fetch sessions (Kafka's KIP-227, where the broker
 * keeps each consumer's partition list and a fetch names only what changed):
 * sessions need per-consumer state on the broker (a cache, its eviction,
 * epochs to detect a lost update) and a protocol change in both listeners,
 * while splitting needs neither and keeps every request self-contained. What
 * it costs: the partition list is sent again each round (about 20 bytes a
 * partition), and one round waits for its slowest request, as it already
 * does for its slowest leader.
 */
import { clientRequestPartitionsMax } from '../shared/limits.js';

/** `entries` in requests of at most `max`, each grouped by topic (topic order, then entry order, kept). */
export function requestChunks<T extends { topic: string }>(
  entries: readonly T[],
  max = clientRequestPartitionsMax,
): Map<string, T[]>[] {
  const chunks: Map<string, T[]>[] = [];
  let chunk = new Map<string, T[]>();
  let size = 0;
  for (const e of entries) {
    if (size === max) {
      chunks.push(chunk);
      chunk = new Map();
      size = 0;
    }
    const list = chunk.get(e.topic);
    if (list) list.push(e);
    else chunk.set(e.topic, [e]);
    size++;
  }
  if (size > 0) chunks.push(chunk);
  return chunks;
}
