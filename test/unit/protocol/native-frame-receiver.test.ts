/**
 * FrameReceiver: the client's frame assembly for a socket reading into given
 * memory (net.Socket `onread`). Frames come out whole whatever the read
 * boundaries, and a payload handed out never changes when later reads reuse
 * the receiver's memory.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { FrameReceiver, frameHeaderBytes } from '../../../src/protocol/native/frame.js';

function frameOf(payload: Buffer): Buffer {
  const head = Buffer.alloc(frameHeaderBytes);
  head.writeInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

/** Feeds `stream` to `r` as a socket would: each read at most `sizes[i]` bytes into r.nextBuffer(). */
function feed(r: FrameReceiver, stream: Buffer, sizes: number[]): void {
  let pos = 0;
  for (let i = 0; pos < stream.length; i++) {
    const into = r.nextBuffer();
    const n = Math.min(into.length, stream.length - pos, sizes[i % sizes.length] as number);
    stream.copy(into, 0, pos, pos + n);
    pos += n;
    r.filled(n);
  }
}

function payloads(): Buffer[] {
  const out: Buffer[] = [];
  for (const size of [0, 1, 3, 4, 100, 5_000, 70_000, 200_000, 7, 65_531, 65_532, 65_536, 1 << 20]) {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = (i * 31 + size) & 0xff;
    out.push(b);
  }
  return out;
}

describe('FrameReceiver', () => {
  it('hands out every frame whole and unchanged, whatever the read sizes', () => {
    const sent = payloads();
    const stream = Buffer.concat(sent.map(frameOf));
    for (const sizes of [[1], [2, 3], [4], [5], [4096], [65_536], [1 << 22], [7, 70_000, 13, 1_000_000]]) {
      const got: Buffer[] = [];
      const copies: Buffer[] = [];
      const r = new FrameReceiver(
        1 << 22,
        (p) => {
          got.push(p);
          copies.push(Buffer.from(p));
        },
        () => {
          throw new Error('oversize');
        },
      );
      feed(r, stream, sizes);
      expect(got.length).toBe(sent.length);
      got.forEach((p, i) => {
        // as handed out, and as it is after every later read (no memory handed out is reused)
        expect(copies[i]?.equals(sent[i] as Buffer)).toBe(true);
        expect(p.equals(sent[i] as Buffer)).toBe(true);
      });
    }
  });

  it('hands out every frame whole from pushed chunks (a TLS socket), whatever the chunk sizes', () => {
    const sent = payloads();
    const stream = Buffer.concat(sent.map(frameOf));
    for (const sizes of [[1], [2, 3], [4], [5], [16_384], [65_536], [70_000], [1 << 22], [7, 70_000, 13, 1_000_000]]) {
      const got: Buffer[] = [];
      const copies: Buffer[] = [];
      const r = new FrameReceiver(
        1 << 22,
        (p) => {
          got.push(p);
          copies.push(Buffer.from(p));
        },
        () => {
          throw new Error('oversize');
        },
      );
      for (let pos = 0, i = 0; pos < stream.length; i++) {
        const n = Math.min(stream.length - pos, sizes[i % sizes.length] as number);
        // a chunk in memory its owner reuses once push returns (as a TLS socket's may be)
        const chunk = Buffer.from(stream.subarray(pos, pos + n));
        r.push(chunk);
        chunk.fill(0xee);
        pos += n;
      }
      expect(got.length).toBe(sent.length);
      got.forEach((p, i) => {
        expect(copies[i]?.equals(sent[i] as Buffer)).toBe(true);
        expect(p.equals(sent[i] as Buffer)).toBe(true);
      });
    }
  });

  it('stops at a pushed frame longer than the limit', () => {
    const claims: number[] = [];
    const frames: Buffer[] = [];
    const r = new FrameReceiver(
      1000,
      (p) => frames.push(p),
      (c) => claims.push(c),
    );
    r.push(Buffer.concat([frameOf(Buffer.alloc(10)), frameOf(Buffer.alloc(1001)), frameOf(Buffer.alloc(5))]));
    r.push(frameOf(Buffer.alloc(5)));
    expect(frames.length).toBe(1);
    expect(claims).toEqual([1001]);
  });

  it('reports a frame longer than the limit and stops', () => {
    const claims: number[] = [];
    const frames: Buffer[] = [];
    const r = new FrameReceiver(
      1000,
      (p) => frames.push(p),
      (c) => claims.push(c),
    );
    feed(
      r,
      Buffer.concat([frameOf(Buffer.alloc(10)), frameOf(Buffer.alloc(1001)), frameOf(Buffer.alloc(5))]),
      [65_536],
    );
    expect(frames.length).toBe(1);
    expect(claims).toEqual([1001]);
  });

  it('assembles the frames of a real socket reading into its memory (onread)', async () => {
    const sent = payloads();
    const server = net.createServer((s) => {
      s.end(Buffer.concat(sent.map(frameOf)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const got: Buffer[] = [];
      const r = new FrameReceiver(
        1 << 22,
        (p) => got.push(p),
        () => undefined,
      );
      await new Promise<void>((resolve, reject) => {
        const socket = net.createConnection({
          host: '127.0.0.1',
          port,
          onread: {
            buffer: () => r.nextBuffer(),
            callback: (n: number) => {
              r.filled(n);
              return true;
            },
          },
        });
        socket.on('error', reject);
        socket.on('close', () => resolve());
      });
      expect(got.length).toBe(sent.length);
      for (const [i, p] of got.entries()) expect(p.equals(sent[i] as Buffer)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
