import { describe, expect, it } from 'vitest';
import { RequestMemoryPool } from '../../../src/server/request-memory-pool.js';
import { RequestReceiver } from '../../../src/server/request-receiver.js';

const mib = 1024 * 1024;

function frame(payload: Buffer, announced = payload.length): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(announced, 0);
  return Buffer.concat([head, payload]);
}

function harness(pool: RequestMemoryPool, maxFrameBytes = 16 * mib) {
  const frames: { payload: Buffer; reserved: number }[] = [];
  const oversize: number[] = [];
  let unblocked = 0;
  const reader = new RequestReceiver(
    pool,
    maxFrameBytes,
    (payload, reserved) => frames.push({ payload: Buffer.from(payload), reserved }),
    (claimed) => oversize.push(claimed),
    () => unblocked++,
  );
  return { reader, frames, oversize, unblocked: () => unblocked };
}

/** RequestReceiver fed as a TLS socket feeds it: chunks of the socket's own, handed to push(). */
describe('RequestReceiver.push', () => {
  it('splits frames across and within chunks, reserving each frame until it is released', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const { reader, frames } = harness(pool);
    const bytes = Buffer.concat([frame(Buffer.from('one')), frame(Buffer.from('second')), frame(Buffer.alloc(0))]);
    // byte by byte: headers and payloads split everywhere
    for (let i = 0; i < bytes.length; i++) reader.push(bytes.subarray(i, i + 1));
    expect(frames.map((f) => f.payload.toString())).toEqual(['one', 'second', '']);
    expect(frames.map((f) => f.reserved)).toEqual([3, 6, 0]);
    expect(pool.usedBytes).toBe(9);
    expect(reader.frameStartedAt).toBeUndefined();
    for (const f of frames) pool.release(f.reserved);
    expect(pool.usedBytes).toBe(0);
    expect(pool.strayBytes).toBe(0);
  });

  it('hands on every frame of a stream cut into chunks anywhere, whole frames in a chunk as views of it', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const { reader, frames } = harness(pool);
    const payloads = Array.from({ length: 300 }, (_, i) => Buffer.alloc((i * 37) % 1500, i));
    const bytes = Buffer.concat(payloads.map((p) => frame(p)));
    // chunk sizes cycling through small, mid-frame and many-frame cuts
    const sizes = [1, 3, 4, 5, 700, 16 * 1024, 1499, 2, 9000];
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = sizes[i % sizes.length] as number;
      reader.push(bytes.subarray(at, at + n));
      at += n;
    }
    // cut at frame boundaries too: a frame finished in the read buffer, then whole frames in one chunk
    for (const [i, p] of payloads.entries()) {
      const bytesOf = frame(p);
      if (i % 3 === 0) {
        reader.push(bytesOf.subarray(0, 2));
        reader.push(bytesOf.subarray(2));
      } else {
        reader.push(Buffer.concat([bytesOf, frame(Buffer.from(`extra ${i}`))]));
      }
    }
    const expected = [...payloads];
    for (const [i, p] of payloads.entries()) expected.push(...(i % 3 === 0 ? [p] : [p, Buffer.from(`extra ${i}`)]));
    expect(frames.map((f) => f.payload)).toEqual(expected);
    for (const f of frames) pool.release(f.reserved);
    expect(pool.usedBytes).toBe(0);
    expect(pool.strayBytes).toBe(0);
    expect(reader.frameStartedAt).toBeUndefined();
  });

  it('reserves a frame from its header and holds only the bytes that arrived', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const { reader, frames } = harness(pool);
    const head = Buffer.alloc(4);
    head.writeInt32BE(3 * mib, 0);
    reader.push(head);
    expect(pool.usedBytes).toBe(3 * mib); // reserved ...
    expect(reader.frameStartedAt).toBeTypeOf('number');
    reader.push(Buffer.alloc(mib));
    expect(frames).toHaveLength(0);
    reader.push(Buffer.alloc(2 * mib, 7));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.payload.length).toBe(3 * mib);
  });

  it('blocks when the pool cannot hold the next frame, and goes on when memory is released', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const held = harness(pool);
    const first = frame(Buffer.alloc(7 * mib - 4)); // large frames' whole share
    held.reader.push(first);
    expect(held.frames).toHaveLength(1);

    const { reader, frames, unblocked } = harness(pool);
    const waiting = frame(Buffer.alloc(2 * mib, 1));
    reader.push(waiting.subarray(0, 64 * 1024));
    expect(reader.blocked).toBe(true);
    expect(pool.usedBytes).toBe(7 * mib - 4);
    expect(pool.strayBytes).toBe(64 * 1024); // what arrived, counted apart
    expect(pool.waiting).toBe(1);

    pool.release(held.frames[0]?.reserved ?? 0);
    expect(unblocked()).toBe(1);
    expect(reader.blocked).toBe(false);
    expect(pool.usedBytes).toBe(2 * mib);
    expect(pool.strayBytes).toBe(0); // covered by the reservation now
    reader.push(waiting.subarray(64 * 1024));
    expect(frames[0]?.payload.equals(Buffer.alloc(2 * mib, 1))).toBe(true);
  });

  it('reports a frame longer than socket.request.max.bytes or negative, and holds nothing after', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const big = harness(pool, mib);
    big.reader.push(frame(Buffer.alloc(10), mib + 1).subarray(0, 14));
    expect(big.oversize).toEqual([mib + 1]);
    const negative = harness(pool);
    negative.reader.push(Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2]));
    expect(negative.oversize).toEqual([-2]);
    // a frame the pool could never admit is refused the same way, instead of waiting forever
    const unadmittable = harness(pool, 2 ** 31 - 1);
    unadmittable.reader.push(frame(Buffer.alloc(0), 8 * mib));
    expect(unadmittable.oversize).toEqual([8 * mib]);
    expect(pool.usedBytes).toBe(0);
    expect(pool.strayBytes).toBe(0);
  });

  it('stop() gives back the partial frame and stray bytes, and leaves the wait queue', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const partial = harness(pool);
    partial.reader.push(frame(Buffer.alloc(6 * mib)).subarray(0, mib));
    expect(pool.usedBytes).toBe(6 * mib);
    const blocked = harness(pool);
    blocked.reader.push(frame(Buffer.alloc(2 * mib)).subarray(0, 1000));
    expect(blocked.reader.blocked).toBe(true);
    blocked.reader.stop();
    expect(pool.waiting).toBe(0);
    expect(pool.strayBytes).toBe(0);
    partial.reader.stop();
    partial.reader.stop();
    expect(pool.usedBytes).toBe(0);
    expect(partial.reader.frameStartedAt).toBeUndefined();
  });

  it('allocates nothing from an announced length before it is reserved: a blocked frame costs only the bytes sent', () => {
    const pool = new RequestMemoryPool(256 * mib);
    const held = harness(pool, 2 ** 31 - 1);
    held.reader.push(frame(Buffer.alloc(0), 150 * mib).subarray(0, 4)); // reserved, not yet sent
    expect(pool.usedBytes).toBe(150 * mib);
    const { reader } = harness(pool, 2 ** 31 - 1);
    const before = process.memoryUsage().arrayBuffers;
    const head = Buffer.alloc(4);
    head.writeInt32BE(100 * mib, 0);
    reader.push(head);
    reader.push(Buffer.alloc(1024));
    expect(reader.blocked).toBe(true);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * mib);
    reader.stop();
    held.reader.stop();
    expect(pool.usedBytes).toBe(0);
  });
});
