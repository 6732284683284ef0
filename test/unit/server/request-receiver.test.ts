/**
 * RequestReceiver (a plaintext connection's frames read into memory it
 * gives the socket) under the request memory pool. The "socket" here behaves
 * as Node's does with `onread`: each read goes into the buffer the previous
 * nextBuffer() returned (asked for again only after a read), and nothing is
 * read while the receiver is blocked.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestMemoryPool } from '../../../src/server/request-memory-pool.js';
import { RequestReceiver } from '../../../src/server/request-receiver.js';

const mib = 1024 * 1024;

function frame(payload: Buffer, announced = payload.length): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(announced, 0);
  return Buffer.concat([head, payload]);
}

/** A receiver and a socket feeding it: `deliver` reads bytes as a socket would, `maxRead` at a time. */
function harness(pool: RequestMemoryPool, options: { maxFrameBytes?: number; readBytes?: number } = {}) {
  /** The payloads as handed on (not copied: they must never change afterwards). */
  const frames: { payload: Buffer; reserved: number }[] = [];
  const oversize: number[] = [];
  let unblocked = 0;
  const receiver = new RequestReceiver(
    pool,
    options.maxFrameBytes ?? 16 * mib,
    (payload, reserved) => frames.push({ payload, reserved }),
    (claimed) => oversize.push(claimed),
    () => unblocked++,
    options.readBytes,
  );
  let target = receiver.nextBuffer();
  /** Reads `bytes` in reads of at most `maxRead`; stops (returns what is left) when the receiver blocks. */
  const deliver = (bytes: Buffer, maxRead = Number.MAX_SAFE_INTEGER): Buffer => {
    let at = 0;
    while (at < bytes.length && !receiver.blocked) {
      if (target.length === 0) throw new Error('the socket was given no room to read into');
      const n = Math.min(target.length, maxRead, bytes.length - at);
      bytes.copy(target, 0, at, at + n);
      at += n;
      receiver.filled(n);
      target = receiver.nextBuffer();
    }
    return bytes.subarray(at);
  };
  return { receiver, deliver, frames, oversize, unblocked: () => unblocked };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('RequestReceiver', () => {
  // small, empty, larger than the read buffer, exactly its size, and ones that fit its rest or not
  const payloads = [3, 0, 100, 20, 60, 1, 200, 64, 7].map((n) => randomBytes(n));
  const stream = Buffer.concat(payloads.map((p) => frame(p)));

  it('splits frames cut at every byte boundary, whatever the reads, and never changes a frame handed on', () => {
    for (const maxRead of [1, 5, 64, Number.MAX_SAFE_INTEGER]) {
      for (let cut = 0; cut <= stream.length; cut++) {
        const pool = new RequestMemoryPool(8 * mib);
        const { receiver, deliver, frames } = harness(pool, { readBytes: 64 });
        expect(deliver(stream.subarray(0, cut), maxRead).length).toBe(0);
        expect(deliver(stream.subarray(cut), maxRead).length).toBe(0);
        expect(frames.map((f) => f.reserved)).toEqual(payloads.map((p) => p.length));
        // compared only now: every read after a frame was handed on went elsewhere
        for (const [i, f] of frames.entries()) expect(f.payload.equals(payloads[i] as Buffer)).toBe(true);
        expect(receiver.frameStartedAt).toBeUndefined();
        expect(pool.strayBytes).toBe(0);
        expect(pool.usedBytes).toBe(payloads.reduce((sum, p) => sum + p.length, 0));
      }
    }
  });

  it('reads the rest of a large frame straight into its own memory once it is reserved', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const { receiver, deliver, frames } = harness(pool);
    const payload = randomBytes(3 * mib);
    deliver(frame(payload).subarray(0, 1000));
    expect(pool.usedBytes).toBe(3 * mib);
    expect(receiver.frameStartedAt).toBeTypeOf('number');
    // the socket is now given the frame's own memory, up to its end
    expect(receiver.nextBuffer().length).toBe(3 * mib - 996);
    deliver(frame(payload).subarray(1000));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.payload.equals(payload)).toBe(true);
    expect(receiver.frameStartedAt).toBeUndefined();
  });

  it('blocks when the pool cannot hold the next frame, allocates nothing of its length, and goes on when memory is released', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const held = harness(pool);
    held.deliver(frame(Buffer.alloc(7 * mib - 4))); // large frames' whole share
    expect(held.frames).toHaveLength(1);

    const payload = randomBytes(2 * mib);
    const next = frame(Buffer.from('after'));
    const bytes = Buffer.concat([frame(payload), next]);
    const allocations: number[] = [];
    const allocUnsafe = Buffer.allocUnsafe.bind(Buffer);
    vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
      allocations.push(size);
      return allocUnsafe(size);
    });
    const { receiver, deliver, frames, unblocked } = harness(pool, { readBytes: 64 * 1024 });
    // the head and the start of the body in one read (a new connection's first read buffer): it
    // blocks; the socket reads nothing more
    const rest = deliver(bytes, 64 * 1024);
    const arrived = bytes.length - rest.length;
    expect(arrived).toBe(4096);
    expect(receiver.blocked).toBe(true);
    expect(pool.usedBytes).toBe(7 * mib - 4);
    expect(pool.strayBytes).toBe(arrived); // what arrived, counted apart
    expect(pool.waiting).toBe(1);
    expect(Math.max(...allocations)).toBeLessThan(2 * mib); // nothing of the announced length yet
    // the socket's next read goes where it was told before it blocked: never an empty buffer
    expect(receiver.nextBuffer().length).toBeGreaterThan(0);

    pool.release(held.frames[0]?.reserved ?? 0);
    expect(unblocked()).toBe(1);
    expect(receiver.blocked).toBe(false);
    expect(pool.usedBytes).toBe(2 * mib);
    expect(pool.strayBytes).toBe(0); // covered by the reservation now
    expect(Math.max(...allocations)).toBe(2 * mib); // allocated once reserved
    expect(deliver(rest, 100 * 1024).length).toBe(0);
    expect(frames.map((f) => f.payload.length)).toEqual([2 * mib, 5]);
    expect(frames[0]?.payload.equals(payload)).toBe(true);
    expect(frames[1]?.payload.toString()).toBe('after');
    expect(pool.strayBytes).toBe(0);
  });

  it('resumes a blocked frame whose bytes filled the read buffer, at every cut', () => {
    const payload = randomBytes(300);
    const bytes = frame(payload);
    for (let cut = 4; cut < 80; cut++) {
      const pool = new RequestMemoryPool(1000);
      const hog = harness(pool);
      hog.deliver(frame(Buffer.alloc(800)));
      const { receiver, deliver, frames } = harness(pool, { readBytes: 64 });
      const rest = deliver(bytes.subarray(0, cut), 64);
      expect(receiver.blocked).toBe(true);
      pool.release(800);
      expect(receiver.blocked).toBe(false);
      expect(deliver(Buffer.concat([rest, bytes.subarray(cut)]), 7).length).toBe(0);
      expect(frames).toHaveLength(1);
      expect(frames[0]?.payload.equals(payload)).toBe(true);
      expect(pool.strayBytes).toBe(0);
      expect(pool.usedBytes).toBe(300);
    }
  });

  it('reports a frame longer than socket.request.max.bytes, negative or beyond the pool, and holds nothing after', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const big = harness(pool, { maxFrameBytes: mib });
    big.deliver(frame(Buffer.alloc(10), mib + 1).subarray(0, 14));
    expect(big.oversize).toEqual([mib + 1]);
    expect(big.receiver.blocked).toBe(false);
    const negative = harness(pool);
    negative.deliver(Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2]));
    expect(negative.oversize).toEqual([-2]);
    const unadmittable = harness(pool, { maxFrameBytes: 2 ** 31 - 1 });
    unadmittable.deliver(frame(Buffer.alloc(0), 8 * mib));
    expect(unadmittable.oversize).toEqual([8 * mib]);
    expect(pool.usedBytes).toBe(0);
    expect(pool.strayBytes).toBe(0);
    // a stopped receiver still gives its socket somewhere to read, and ignores it
    expect(big.receiver.nextBuffer().length).toBeGreaterThan(0);
    big.receiver.filled(10);
    expect(big.frames).toHaveLength(0);
  });

  it('stop() (the connection closed mid-frame) gives back the reservation and stray bytes, and leaves the wait queue', () => {
    const pool = new RequestMemoryPool(8 * mib);
    const partial = harness(pool);
    partial.deliver(frame(Buffer.alloc(6 * mib)).subarray(0, mib));
    expect(pool.usedBytes).toBe(6 * mib);
    const small = harness(pool);
    small.deliver(frame(Buffer.alloc(100)).subarray(0, 50));
    expect(pool.usedBytes).toBe(6 * mib + 100);
    const blocked = harness(pool);
    blocked.deliver(frame(Buffer.alloc(2 * mib)).subarray(0, 1000));
    expect(blocked.receiver.blocked).toBe(true);
    expect(pool.strayBytes).toBe(1000);
    blocked.receiver.stop();
    expect(pool.waiting).toBe(0);
    expect(pool.strayBytes).toBe(0);
    small.receiver.stop();
    partial.receiver.stop();
    partial.receiver.stop();
    expect(pool.usedBytes).toBe(0);
    expect(partial.receiver.frameStartedAt).toBeUndefined();
  });
});
