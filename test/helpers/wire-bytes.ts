/**
 * Byte surgery on RecordBatch v2 buffers for the wire tests: corrupt one
 * field, then (optionally) recompute the CRC so only the intended defect
 * remains. Offsets follow Kafka's layout and are spelled out here on purpose,
 * independently of src/wire/record-batch.ts's Field table.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { SluiceError } from '../../src/shared/errors.js';
import { kafkajsCrc32c } from './kafkajs-wire.js';

export const At = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
  records: 61,
} as const;

/** Recomputes the CRC-32C of the batch at `pos` (bytes 21..end of the batch) with kafkajs's implementation. */
export function reseal(batch: Buffer, pos = 0): Buffer {
  const size = batch.readInt32BE(pos + At.batchLength) + 12;
  batch.writeUInt32BE(kafkajsCrc32c(batch.subarray(pos + At.attributes, pos + size)), pos + At.crc);
  return batch;
}

export function copy(buf: Buffer): Buffer {
  return Buffer.from(buf);
}

/** Runs `fn`, expecting a SluiceError with `code`; returns the error for further checks. */
export function expectSluiceError(fn: () => unknown, code: string): SluiceError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected a SluiceError ${code}, nothing was thrown`).toBeDefined();
  expect(thrown).toBeInstanceOf(SluiceError);
  expect((thrown as SluiceError).code).toBe(code);
  return thrown as SluiceError;
}

/** Same as expectSluiceError, for a promise. */
export async function expectSluiceErrorAsync(p: Promise<unknown>, code: string): Promise<SluiceError> {
  let thrown: unknown;
  try {
    await p;
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected a SluiceError ${code}, nothing was thrown`).toBeDefined();
  expect(thrown).toBeInstanceOf(SluiceError);
  expect((thrown as SluiceError).code).toBe(code);
  return thrown as SluiceError;
}

/** A small deterministic PRNG (mulberry32) so "random" inputs are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(next: () => number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(next() * 256);
  return b;
}

/** Reads a JSON fixture from test/fixtures/. */
export function loadFixture<T>(relativePath: string): T {
  const url = new URL(`../fixtures/${relativePath}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}
