/**
 * The log cleaner's key → latest-offset map over a log's dirty part (Kafka's
 * SkimpyOffsetMap), bounded in bytes: put() answers false once the next key
 * would not fit, and the cleaner then cleans only up to the last offset it
 * mapped. Keys are held exactly (as latin1 strings of their bytes, one char per
 * byte), not as hashes: no collision can make the cleaner drop a live record.
 */
import { assert } from '../shared/assert.js';
import { cleanerMapEntryOverheadBytes } from '../shared/limits.js';

export class OffsetMap {
  private readonly map = new Map<string, number>();
  private used = 0;
  /** The largest offset put, -1 when none. */
  latestOffset = -1;

  constructor(readonly capacityBytes: number) {
    assert(capacityBytes > 0, 'an offset map has room for something');
  }

  get size(): number {
    return this.map.size;
  }
  get usedBytes(): number {
    return this.used;
  }

  /** Records that `key`'s latest record is at `offset`; false (nothing changed) when the map is full. */
  put(key: Buffer, offset: number): boolean {
    assert(offset > this.latestOffset, 'offsets are mapped in log order');
    const k = key.toString('latin1');
    if (!this.map.has(k)) {
      const cost = key.length + cleanerMapEntryOverheadBytes;
      if (this.used + cost > this.capacityBytes) return false;
      this.used += cost;
    }
    this.map.set(k, offset);
    this.latestOffset = offset;
    return true;
  }

  /** The latest offset of `key`, -1 when it is not mapped. */
  get(key: Buffer): number {
    return this.map.get(key.toString('latin1')) ?? -1;
  }
}
