import { describe, expect, it } from 'vitest';
import { FrameReceiver } from '../../../src/client/frame-receiver.js';

function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

/** Feeds `stream` as socket reads do: each read fills at most the buffer next() gives, and at most `cut(i)` bytes. */
function feed(r: FrameReceiver, stream: Buffer, cut: (i: number) => number): void {
  for (let pos = 0, i = 0; pos < stream.length; i++) {
    const into = r.next();
    const n = Math.min(into.length, stream.length - pos, Math.max(1, cut(i)));
    stream.copy(into, 0, pos, pos + n);
    r.received(n);
    pos += n;
  }
}

describe('FrameReceiver (plaintext socket reads into frames)', () => {
  const payloads = [
    Buffer.alloc(0),
    Buffer.from('small'),
    Buffer.alloc(70_000, 7), // spans the 64 KiB scratch: read in place
    Buffer.from('after'),
    Buffer.alloc(3 * 1024 * 1024 + 3, 9),
    Buffer.alloc(65_532, 5), // header + payload exactly one scratch buffer
    Buffer.from('x'),
  ];
  payloads[4]?.writeUInt32BE(0xdeadbeef, 1000);
  const stream = Buffer.concat(payloads.map(frame));

  for (const [name, cut] of [
    ['reads as large as the buffers', () => Number.MAX_SAFE_INTEGER],
    ['1-byte reads', () => 1],
    ['3-byte reads (headers split)', () => 3],
    ['odd read sizes', (i: number) => ((i * 7919) % 100_003) + 1],
  ] as const) {
    it(`hands every frame whole and in order: ${name}`, () => {
      const got: Buffer[] = [];
      const r = new FrameReceiver(
        1 << 26,
        (p) => got.push(Buffer.from(p)),
        () => expect.unreachable(),
      );
      feed(r, stream, cut);
      expect(got.length).toBe(payloads.length);
      got.forEach((p, i) => expect(p.equals(payloads[i] as Buffer), `frame ${i}`).toBe(true));
      expect(r.inFrame).toBe(false);
    });
  }

  it('keeps a delivered payload intact while later reads reuse its buffer (payloads are never views of scratch)', () => {
    const got: Buffer[] = [];
    const r = new FrameReceiver(
      1 << 20,
      (p) => got.push(p),
      () => expect.unreachable(),
    );
    const small = Array.from({ length: 50 }, (_, i) => Buffer.alloc(100, i));
    feed(r, Buffer.concat(small.map(frame)), (i) => 1000 + i);
    expect(got.map((p) => p[0])).toEqual(small.map((_, i) => i));
    got.forEach((p, i) => expect(p.equals(small[i] as Buffer)).toBe(true));
  });

  it('reports a frame longer than the limit once and stops', () => {
    const claims: number[] = [];
    const got: Buffer[] = [];
    const r = new FrameReceiver(
      1000,
      (p) => got.push(p),
      (c) => claims.push(c),
    );
    feed(r, Buffer.concat([frame(Buffer.from('ok')), frame(Buffer.alloc(1001)), frame(Buffer.from('no'))]), () => 10);
    expect(got.map(String)).toEqual(['ok']);
    expect(claims).toEqual([1001]);
  });

  it('reports a negative length as oversize', () => {
    const claims: number[] = [];
    const r = new FrameReceiver(
      1000,
      () => expect.unreachable(),
      (c) => claims.push(c),
    );
    feed(r, Buffer.from('ffffffff00', 'hex'), () => 5);
    expect(claims).toEqual([-1]);
  });
});
