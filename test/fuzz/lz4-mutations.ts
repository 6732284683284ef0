/**
 * Bad LZ4 frames for the fuzzer: a valid frame (Sluice's writer, or a
 * hand-laid one with checksums and a content size) with one lie in it —
 * truncated, a flipped byte, a block size or a literal/match length that
 * lies, an offset out of reach, a content size that lies, a descriptor
 * field out of range, or a bomb (a few KB that inflate to many MB). Where a
 * lie sits behind a checksum, the checksum is recomputed so the lie reaches
 * the check behind it.
 */
import { lz4EncodeFrame } from '../../src/wire/lz4.js';
import { xxhash32 } from '../../src/wire/xxhash32.js';
import type { Random } from './random.js';

export const lz4MutationKinds = [
  'truncated',
  'flipped-byte',
  'block-size',
  'token-lengths',
  'offset',
  'content-size',
  'descriptor',
  'bomb',
  'trailing-bytes',
] as const;
export type Lz4MutationKind = (typeof lz4MutationKinds)[number];

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
};

/** Magic, descriptor and its header checksum. */
function header(flg: number, bd: number, contentSize?: number): Buffer {
  const d = Buffer.alloc(contentSize === undefined ? 2 : 10);
  d[0] = flg;
  d[1] = bd;
  if (contentSize !== undefined) d.writeBigUInt64LE(BigInt(contentSize), 2);
  return Buffer.concat([u32(0x184d2204), d, Buffer.from([(xxhash32(d) >>> 8) & 0xff])]);
}

/** Records-like text: repetitive enough that the writer makes real matches. */
export function lz4Payload(random: Random): Buffer {
  const lines: string[] = [];
  const n = random.between(1, 60);
  for (let i = 0; i < n; i++)
    lines.push(`{"id":${random.int(1000)},"name":"user-${random.int(20)}","v":"${'x'.repeat(random.int(80))}"}`);
  const text = Buffer.from(lines.join('\n'));
  return random.chance(0.2) ? Buffer.concat([text, random.bytes(random.int(300))]) : text;
}

/** A valid frame of `payload`: Sluice's writer, or one with block and content checksums and a content size. */
export function validLz4Frame(random: Random, payload: Buffer): Buffer {
  const plain = lz4EncodeFrame(payload);
  if (random.chance(0.5)) return plain;
  // the same blocks behind a descriptor with every optional field, checksums computed
  const blocks: Buffer[] = [];
  let pos = 7;
  for (;;) {
    const word = plain.readUInt32LE(pos);
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const data = plain.subarray(pos + 4, pos + 4 + size);
    blocks.push(u32(word), data, u32(xxhash32(data)));
    pos += 4 + size;
  }
  return Buffer.concat([header(0x7c, 0x40, payload.length), ...blocks, u32(0), u32(xxhash32(payload))]);
}

/** A frame of 4 MiB blocks each inflating from ~16 KiB: one literal, a match at offset 1, five last literals. */
let bombBlock: Buffer | undefined;
export function lz4Bomb(blocks: number): Buffer {
  const block = bombBlock ?? makeBombBlock();
  bombBlock = block;
  const parts = [header(0x60, 0x70)];
  for (let i = 0; i < blocks; i++) parts.push(u32(block.length), block);
  parts.push(u32(0));
  return Buffer.concat(parts);
}

function makeBombBlock(): Buffer {
  let rest = 4 * 1024 * 1024 - 6 - 19;
  const lengthBytes: number[] = [];
  while (rest >= 255) {
    lengthBytes.push(255);
    rest -= 255;
  }
  lengthBytes.push(rest);
  return Buffer.from([0x1f, 0x61, 1, 0, ...lengthBytes, 0x50, 1, 2, 3, 4, 5]);
}

/** Where the first block's data starts in `frame` (after the descriptor), or -1. */
function firstBlockAt(frame: Buffer): number {
  if (frame.length < 7) return -1;
  const flg = frame[4] as number;
  return 7 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
}

/** `frame` (left unchanged) with one lie of a random kind. */
export function mutateLz4Frame(frame: Buffer, random: Random): { bytes: Buffer; kind: Lz4MutationKind } {
  const kind = random.pick(lz4MutationKinds);
  const out = Buffer.from(frame);
  const blockAt = firstBlockAt(out);
  const lies = [0, 1, 15, 255, 0x7fff, 0xffff, 65_536, 65_537, 0x7fffffff, 0x80000000, 0xffffffff];
  switch (kind) {
    case 'truncated':
      return { bytes: out.subarray(0, random.int(out.length)), kind };
    case 'flipped-byte':
      if (out.length > 0) {
        const at = random.int(out.length);
        out[at] = (out[at] as number) ^ (1 << random.int(8));
      }
      return { bytes: out, kind };
    case 'block-size':
      if (blockAt + 4 <= out.length)
        out.writeUInt32LE(random.pick([...lies, out.readUInt32LE(blockAt) + random.between(-3, 3)]) >>> 0, blockAt);
      return { bytes: out, kind };
    case 'token-lengths': {
      // a token and the bytes after it made to claim long literals or matches
      const start = blockAt + 4;
      if (start < out.length) {
        const at = random.between(start, out.length - 1);
        out[at] = random.pick([0xff, 0xf0, 0x0f, 0x00]);
        if (at + 1 < out.length) out[at + 1] = random.pick([0xff, 0x00, 0xfe]);
      }
      return { bytes: out, kind };
    }
    case 'offset': {
      // a literal, then a match reaching before the output (or offset 0), then last literals
      const reach = random.pick([0, 2, 3, 0xffff]);
      const block = Buffer.from([0x10, 0x61, reach & 0xff, reach >>> 8, 0x50, 1, 2, 3, 4, 5]);
      return { bytes: Buffer.concat([header(0x60, 0x40), u32(block.length), block, u32(0)]), kind };
    }
    case 'content-size': {
      const claim = random.pick([0, 1, 2 ** 31, 2 ** 40, 2 ** 53 - 1, 65_535]);
      const block = Buffer.from([0x50, 1, 2, 3, 4, 5]);
      return { bytes: Buffer.concat([header(0x68, 0x40, claim), u32(block.length), block, u32(0)]), kind };
    }
    case 'descriptor': {
      const flg = random.pick([0x00, 0x20, 0x80, 0xc0, 0x62, 0x61, 0x7f, 0xff]);
      const bd = random.pick([0x00, 0x10, 0x30, 0x40, 0x41, 0x80, 0xf0, 0xff]);
      const rest = blockAt >= 0 ? out.subarray(blockAt) : Buffer.alloc(0);
      return { bytes: Buffer.concat([header(flg, bd), rest]), kind };
    }
    case 'bomb':
      return { bytes: lz4Bomb(random.between(1, 4)), kind };
    case 'trailing-bytes':
      return { bytes: Buffer.concat([out, random.bytes(random.between(1, 40))]), kind };
  }
}
