/**
 * xxHash32 (Yann Collet's XXH32), the checksum of the LZ4 frame format:
 * header checksum, optional block checksums and the content checksum.
 *
 * Written here from the algorithm's description rather than taken from a
 * package: it is 40 lines of 32-bit integer arithmetic (Math.imul), it must
 * be synchronous (the record-batch codecs are), and the native packages that
 * offer it would be one more install for a function this small. It is proved
 * against the reference implementation's known values and against frames
 * the `lz4` tool writes with content checksums (test/unit/wire/lz4.test.ts).
 */

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

/** XXH32 of bytes[start, end) with `seed`, as an unsigned 32-bit number. */
export function xxhash32(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  const b = bytes;
  let p = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    while (p <= limit) {
      v1 = round(
        v1,
        (b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24),
      );
      v2 = round(
        v2,
        (b[p + 4] as number) |
          ((b[p + 5] as number) << 8) |
          ((b[p + 6] as number) << 16) |
          ((b[p + 7] as number) << 24),
      );
      v3 = round(
        v3,
        (b[p + 8] as number) |
          ((b[p + 9] as number) << 8) |
          ((b[p + 10] as number) << 16) |
          ((b[p + 11] as number) << 24),
      );
      v4 = round(
        v4,
        (b[p + 12] as number) |
          ((b[p + 13] as number) << 8) |
          ((b[p + 14] as number) << 16) |
          ((b[p + 15] as number) << 24),
      );
      p += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + (end - start)) | 0;
  while (p + 4 <= end) {
    const lane =
      (b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24);
    h = Math.imul(rotl((h + Math.imul(lane, P3)) | 0, 17), P4);
    p += 4;
  }
  while (p < end) {
    h = Math.imul(rotl((h + Math.imul(b[p] as number, P5)) | 0, 11), P1);
    p++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}
