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

function checkSluiceError(thrown: unknown, code: string): SluiceError {
  expect(thrown, `expected a SluiceError ${code}, nothing was thrown`).toBeDefined();
  expect(thrown).toBeInstanceOf(SluiceError);
  expect((thrown as SluiceError).code).toBe(code);
  return thrown as SluiceError;
}

/** Runs `fn`, expecting a SluiceError with `code`; returns the error for further checks. */
export function expectSluiceError(fn: () => unknown, code: string): SluiceError {
  try {
    fn();
  } catch (err) {
    return checkSluiceError(err, code);
  }
  return checkSluiceError(undefined, code);
}

/** Same as expectSluiceError, for a promise. */
export async function expectSluiceErrorAsync(p: Promise<unknown>, code: string): Promise<SluiceError> {
  try {
    await p;
  } catch (err) {
    return checkSluiceError(err, code);
  }
  return checkSluiceError(undefined, code);
}

export { prng } from './prng.js';

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
