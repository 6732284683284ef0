/**
 * Byte-level mutations of one size-prefixed frame, for either listener (both
 * frame with a big-endian int32 length): bits flipped, bytes cut or added,
 * and length prefixes that lie (huge, negative, short, long).
 */
import type { Random } from './random.js';

export const frameMutationKinds = [
  'bit-flip',
  'byte-set',
  'truncate',
  'truncate-unannounced',
  'extend',
  'length-huge',
  'length-negative',
  'length-short',
] as const;
export type FrameMutationKind = (typeof frameMutationKinds)[number];

/** A frame: the int32 length of `payload`, then `payload`. */
export function sizePrefixed(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}

/** A frame of random bytes: a true length prefix, or none at all (the first 4 bytes are the claim). */
export function randomFrame(random: Random): Buffer {
  const body = random.bytes(random.pick([0, 1, 3, 4, 7, 16, 64, random.int(2048)]));
  return random.chance(0.5) ? sizePrefixed(body) : body;
}

/** Sets `count` (1-8) random bytes of `payload` at or after `from` to random values or single flipped bits. */
function flip(payload: Buffer, random: Random, from: number, whole: boolean): Buffer {
  const out = Buffer.from(payload);
  if (out.length <= from) return out;
  for (let n = random.between(1, 8); n > 0; n--) {
    const at = random.between(from, out.length - 1);
    out[at] = whole ? random.int(256) : (out[at] as number) ^ (1 << random.int(8));
  }
  return out;
}

/**
 * `payload` (a valid request without its length prefix) framed with one
 * mutation; `protectHeader` bytes at the start are spared by the body
 * mutations so most of them reach a handler rather than the header decoder.
 */
export function mutateFrame(
  payload: Buffer,
  random: Random,
  protectHeader: number,
  maxFrameBytes: number,
): { bytes: Buffer; kind: FrameMutationKind } {
  const kind = random.pick(frameMutationKinds);
  const from = random.chance(0.8) ? Math.min(protectHeader, payload.length) : 0;
  switch (kind) {
    case 'bit-flip':
      return { bytes: sizePrefixed(flip(payload, random, from, false)), kind };
    case 'byte-set':
      return { bytes: sizePrefixed(flip(payload, random, from, true)), kind };
    case 'truncate':
      return { bytes: sizePrefixed(payload.subarray(0, random.between(0, payload.length))), kind };
    case 'truncate-unannounced': {
      // the prefix promises the whole payload; fewer bytes follow, then the connection ends
      const full = sizePrefixed(payload);
      return { bytes: full.subarray(0, random.between(0, full.length - 1)), kind };
    }
    case 'extend':
      return { bytes: sizePrefixed(Buffer.concat([payload, random.bytes(random.between(1, 64))])), kind };
    case 'length-huge': {
      const claim = random.pick([
        0x7fffffff,
        maxFrameBytes + 1,
        maxFrameBytes,
        0x10000000,
        payload.length + 1 + random.int(1 << 20),
      ]);
      const size = Buffer.alloc(4);
      size.writeInt32BE(Math.min(claim, 0x7fffffff), 0);
      return { bytes: Buffer.concat([size, payload]), kind };
    }
    case 'length-negative': {
      const size = Buffer.alloc(4);
      size.writeInt32BE(random.pick([-1, -2, -0x80000000, -payload.length]), 0);
      return { bytes: Buffer.concat([size, payload]), kind };
    }
    case 'length-short': {
      // the rest of the payload is read as the next frame
      const size = Buffer.alloc(4);
      size.writeInt32BE(random.between(0, Math.max(0, payload.length - 1)), 0);
      return { bytes: Buffer.concat([size, payload]), kind };
    }
  }
}
