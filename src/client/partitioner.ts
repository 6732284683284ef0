/**
 * Partition choice, as Kafka's Java client makes it: a keyed record goes to
 * toPositive(murmur2(keyBytes)) % partitions; a record without a key goes to
 * the topic's sticky partition, which changes each time a batch for it is
 * closed (so null-key records fill one batch at a time, spread over time).
 */

const seed = 0x9747b28c;
const m = 0x5bd1e995;

/** Kafka's Utils.murmur2: 32-bit signed result, byte for byte the Java arithmetic. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = seed ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= (data[tail + 2] as number) << 16;
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[tail] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition of a keyed record among `partitions`. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return toPositive(murmur2(key)) % partitions;
}

/** Sticky choice for records without a key, one current partition per topic. */
export class StickyPartitioner {
  private readonly current = new Map<string, number>();

  constructor(private readonly random: () => number = Math.random) {}

  partition(topic: string, partitions: number): number {
    const p = this.current.get(topic);
    if (p !== undefined && p < partitions) return p;
    return this.next(topic, partitions, -1);
  }

  /** A batch for (topic, partition) was closed: if it was the sticky one, move on. */
  onBatchClosed(topic: string, partition: number, partitions: number): void {
    if (this.current.get(topic) === partition) this.next(topic, partitions, partition);
  }

  private next(topic: string, partitions: number, previous: number): number {
    let p = Math.floor(this.random() * partitions) % partitions;
    if (partitions > 1 && p === previous) p = (p + 1 + Math.floor(this.random() * (partitions - 1))) % partitions;
    this.current.set(topic, p);
    return p;
  }
}
