/**
 * A plaintext listener reads frames into their own memory (the accepted
 * socket's handle taken over by a socket with `onread`, request-receiver.ts):
 * over real loopback sockets, frames cut anywhere are answered in order, a
 * connection blocked on the request memory pool stops reading from its socket
 * and goes on when memory is released, an oversized frame closes the
 * connection, and a connection closed mid-frame gives its reservation back.
 * No handler runs: requests of an unknown API are answered by the codec.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerContext, HandlerTable } from '../../../src/handlers/context.js';
import { decodeResponse, encodeRequest, FrameReceiver } from '../../../src/protocol/native/frame.js';
import { ConnectionQuotas } from '../../../src/server/connection-quotas.js';
import { nativeCodec } from '../../../src/server/native-codec.js';
import { RequestMemoryPool } from '../../../src/server/request-memory-pool.js';
import { type ListenerLimits, ProtocolServer } from '../../../src/server/server.js';
import { silentLogger } from '../../../src/shared/logger.js';

const mib = 1024 * 1024;

function limitsOf(pool: RequestMemoryPool): ListenerLimits {
  return {
    maxFrameBytes: 4 * mib,
    frameReadTimeoutMs: 600_000,
    idleMs: 600_000,
    failedAuthenticationDelayMs: 0,
    pool,
    quotas: new ConnectionQuotas(100, 100),
    closed: { frame_timeout: 0, idle: 0, invalid_frame: 0, tls_handshake: 0, unauthenticated: 0 },
  };
}

/** A request of an API no broker speaks (the codec answers it), padded to about `padBytes`. */
function request(correlationId: number, padBytes: number): Buffer {
  return encodeRequest(
    { apiKey: 999, apiVersion: 0, correlationId, clientId: 'plain' },
    { pad: Buffer.alloc(padBytes, correlationId) },
  );
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const servers: ProtocolServer<unknown>[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
});

async function start(limits: ListenerLimits): Promise<{ port: number }> {
  const server = new ProtocolServer(
    nativeCodec(),
    {} as HandlerTable,
    {} as HandlerContext,
    limits,
    silentLogger,
  ) as ProtocolServer<unknown>;
  servers.push(server);
  return server.listen('127.0.0.1', 0);
}

async function connect(port: number): Promise<{ socket: net.Socket; answers: number[]; closed: () => boolean }> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  sockets.push(socket);
  const answers: number[] = [];
  let closed = false;
  const reader = new FrameReceiver(
    16 * mib,
    (payload) => answers.push(decodeResponse(payload).correlationId),
    () => undefined,
  );
  socket.on('data', (chunk) => reader.push(chunk));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, answers, closed: () => closed };
}

/** Writes `bytes` in the given piece sizes (the rest in one), each on its own turn of the event loop. */
async function writeInPieces(socket: net.Socket, bytes: Buffer, pieces: number[]): Promise<void> {
  let at = 0;
  for (const size of [...pieces, bytes.length]) {
    if (at >= bytes.length) break;
    const piece = bytes.subarray(at, Math.min(bytes.length, at + size));
    at += piece.length;
    await new Promise<void>((resolve) => socket.write(piece, () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('plaintext listener reading into frame memory', () => {
  it('answers frames cut anywhere, small and larger than the read buffer, in order', async () => {
    const pool = new RequestMemoryPool(64 * mib);
    const { port } = await start(limitsOf(pool));
    const { socket, answers } = await connect(port);
    const bytes = Buffer.concat([request(1, 10), request(2, 300 * 1024), request(3, 0), request(4, 70 * 1024)]);
    // a head cut in three, a body cut after one byte, then pieces across frame ends
    await writeInPieces(socket, bytes, [2, 1, 3, 1, 40, 1000, 64 * 1024, 7, 100 * 1024, 200 * 1024, 5]);
    await until(() => answers.length === 4);
    expect(answers).toEqual([1, 2, 3, 4]);
    await until(() => pool.usedBytes === 0);
    expect(pool.strayBytes).toBe(0);
  });

  it('stops reading a connection whose frame waits for pool memory, and answers it once memory is released', async () => {
    const pool = new RequestMemoryPool(8 * mib);
    const { port } = await start(limitsOf(pool));
    const held = pool.largeFramesBytesMax - mib; // leaves less than the 3 MiB frame needs
    expect(pool.tryReserve(held)).toBe(true);
    const { socket, answers } = await connect(port);
    socket.write(Buffer.concat([request(1, 3 * mib), request(2, 10)]));
    await until(() => pool.waiting === 1);
    // more time to read, if it did: what it holds stays about one read
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pool.strayBytes).toBeLessThanOrEqual(128 * 1024);
    expect(answers).toEqual([]);
    pool.release(held);
    await until(() => answers.length === 2);
    expect(answers).toEqual([1, 2]);
    await until(() => pool.usedBytes === 0);
    expect(pool.strayBytes).toBe(0);
  });

  it('closes a connection that announces a frame over socket.request.max.bytes', async () => {
    const pool = new RequestMemoryPool(64 * mib);
    const limits = limitsOf(pool);
    const { port } = await start(limits);
    const { socket, closed } = await connect(port);
    const head = Buffer.alloc(4);
    head.writeInt32BE(4 * mib + 1, 0);
    socket.write(head);
    await until(closed);
    expect(limits.closed.invalid_frame).toBe(1);
    expect(pool.usedBytes).toBe(0);
    await until(() => limits.quotas.open === 0);
  });

  it('gives back the reservation and the bytes of a connection closed mid-frame', async () => {
    const pool = new RequestMemoryPool(64 * mib);
    const limits = limitsOf(pool);
    const { port } = await start(limits);
    const { socket } = await connect(port);
    const bytes = request(1, 2 * mib);
    socket.write(bytes.subarray(0, 100 * 1024));
    await until(() => pool.usedBytes === bytes.length - 4);
    socket.destroy();
    await until(() => pool.usedBytes === 0 && limits.quotas.open === 0);
    expect(pool.strayBytes).toBe(0);
    expect(pool.waiting).toBe(0);
  });
});
