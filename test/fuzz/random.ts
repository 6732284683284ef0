/**
 * The fuzzer's source of randomness: the project's seeded PRNG (mulberry32,
 * test/helpers/prng.ts) with the few draws a mutator needs. Every frame gets
 * its own generator from (run seed, listener, frame index), so one frame can
 * be regenerated and replayed alone.
 */
import { prng } from '../helpers/prng.js';

export class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = prng(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** Mixes 32-bit words into one seed (murmur3's finalizer), so nearby inputs give unrelated seeds. */
export function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** The seed of frame `index` of `listener` in a run seeded `seed`: regenerates that frame alone. */
export function frameSeed(seed: number, listener: 'native' | 'kafka', index: number): number {
  return mixSeed(seed, listener === 'native' ? 1 : 2, index);
}
