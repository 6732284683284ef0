/**
 * Connection against a tiny in-test TCP server that speaks the native frame
 * format (a protocol test: the server knows nothing of topics or logs).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection, wasSent } from '../../../src/client/connection.js';
import { isRetriableError } from '../../../src/client/errors.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { decodeRequest, encodeResponse, FrameReceiver } from '../../../src/protocol/native/frame.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { expectSluiceErrorAsync } from '../../helpers/wire-bytes.js';

interface Received {
  apiKey: number;
  correlationId: number;
  clientId: string;
  body: Record<string, unknown>;
  socket: net.Socket;
}

interface TinyServer {
  port: number;
  received: Received[];
  sockets: net.Socket[];
  /** Called per request; return a body to answer at once, undefined to stay silent. */
  handler: (r: Received) => unknown;
  waitFor: (n: number) => Promise<void>;
  close: () => Promise<void>;
}

const servers: TinyServer[] = [];
const connections: Connection[] = [];

async function tinyServer(
  handler: (r: Received) => unknown = (r) => ({ errorCode: 0, echo: r.body }),
): Promise<TinyServer> {
  const received: Received[] = [];
  const sockets: net.Socket[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const state = { handler };
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const reader = new FrameReceiver(
      1 << 20,
      (payload) => {
        const { header, body } = decodeRequest(payload);
        const r: Received = { ...header, body: body as Record<string, unknown>, socket };
        received.push(r);
        for (const w of waiters.filter((x) => received.length >= x.n)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
        const answer = t.handler(r);
        if (answer !== undefined) socket.write(encodeResponse(r.correlationId, answer));
      },
      () => socket.destroy(),
    );
    socket.on('data', (c) => reader.push(c));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const t: TinyServer = {
    port: (server.address() as net.AddressInfo).port,
    received,
    sockets,
    get handler() {
      return state.handler;
    },
    set handler(h) {
      state.handler = h;
    },
    waitFor: (n) =>
      received.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(t);
  return t;
}

function connect(port: number, extra: Partial<ConstructorParameters<typeof Connection>[0]> = {}): Connection {
  const c = new Connection({ host: '127.0.0.1', port, clientId: 'unit', ...extra });
  connections.push(c);
  return c;
}

afterEach(async () => {
  for (const c of connections.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('Connection', () => {
  it('round-trips a request: envelope fields, body, Buffers and 64-bit numbers', async () => {
    const s = await tinyServer();
    const c = connect(s.port);
    await c.connect();
    const body = { topics: ['a'], blob: Buffer.from([1, 2, 3]), big: 2 ** 40 + 7 };
    // the transport under request(): any body, the answer as decoded
    const res = (await c.send(ApiKey.Metadata, body)) as { errorCode: number; echo: typeof body };
    expect(res.errorCode).toBe(0);
    expect(res.echo.topics).toEqual(['a']);
    expect(Buffer.isBuffer(res.echo.blob)).toBe(true);
    expect([...res.echo.blob]).toEqual([1, 2, 3]);
    expect(res.echo.big).toBe(2 ** 40 + 7);
    expect(s.received[0]).toMatchObject({ apiKey: ApiKey.Metadata, clientId: 'unit' });
  });

  it('connects lazily on the first request and uses increasing correlation ids', async () => {
    const s = await tinyServer();
    const c = connect(s.port);
    await Promise.all([1, 2, 3].map((i) => c.send(ApiKey.Metadata, { i })));
    const ids = s.received.map((r) => r.correlationId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(3);
  });

  it('keeps at most maxInFlight requests on the wire; the rest wait, then all resolve in order', async () => {
    const held: Received[] = [];
    const s = await tinyServer((r) => {
      held.push(r);
      return undefined;
    });
    const c = connect(s.port, { maxInFlight: 2 });
    const results = [0, 1, 2, 3, 4].map((i) => c.send(ApiKey.Metadata, { i }) as Promise<{ i: number }>);
    await s.waitFor(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.received).toHaveLength(2);
    expect(c.inFlight).toBe(2);
    // answer one at a time, in order; each answer lets one more request out
    for (let n = 0; n < 5; n++) {
      await s.waitFor(n + 1);
      const r = held[n] as Received;
      r.socket.write(encodeResponse(r.correlationId, { errorCode: 0, i: r.body.i }));
      expect((await results[n])?.i).toBe(n);
    }
    expect(s.received.map((r) => r.body.i)).toEqual([0, 1, 2, 3, 4]);
  });

  it('a request without response (acks 0) resolves once written', async () => {
    const s = await tinyServer(() => undefined);
    const c = connect(s.port);
    const res = await c.send(ApiKey.Produce, { acks: 0 }, { expectResponse: false });
    expect(res).toBeUndefined();
    await s.waitFor(1);
    expect(s.received[0]?.body).toMatchObject({ acks: 0 });
    expect(c.inFlight).toBe(0);
  });

  it('a timed-out request fails with a retriable Timeout and closes the connection', async () => {
    const s = await tinyServer(() => undefined);
    const closed: Error[] = [];
    const c = connect(s.port, { requestTimeoutMs: 100, onClose: (e) => closed.push(e) });
    const err = await expectSluiceErrorAsync(c.request(ApiKey.Metadata, {}), ErrorCode.Timeout);
    expect(isRetriableError(err)).toBe(true);
    expect(wasSent(err)).toBe(true);
    expect(c.isClosed).toBe(true);
    expect(closed).toHaveLength(1);
  });

  it('a broken connection fails pending requests with retriable BrokerUnreachable, marked as sent', async () => {
    const s = await tinyServer(() => undefined);
    const closed: Error[] = [];
    const c = connect(s.port, { onClose: (e) => closed.push(e) });
    const pending = c.request(ApiKey.Metadata, {});
    await s.waitFor(1);
    await new Promise((r) => setTimeout(r, 20));
    for (const sock of s.sockets) sock.destroy();
    const err = await expectSluiceErrorAsync(pending, ErrorCode.BrokerUnreachable);
    expect(isRetriableError(err)).toBe(true);
    expect(wasSent(err)).toBe(true);
    expect(closed).toHaveLength(1);
    // a closed connection refuses new requests (a new Connection is the way back)
    const again = await expectSluiceErrorAsync(c.request(ApiKey.Metadata, {}), ErrorCode.BrokerUnreachable);
    expect(wasSent(again)).toBe(false);
  });

  it('refused connections fail with retriable BrokerUnreachable', async () => {
    const s = await tinyServer();
    const port = s.port;
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    const c = connect(port, { connectTimeoutMs: 2000 });
    const err = await expectSluiceErrorAsync(c.connect(), ErrorCode.BrokerUnreachable);
    expect(isRetriableError(err)).toBe(true);
  });

  it('a response out of request order is a protocol error that closes the connection', async () => {
    const held: Received[] = [];
    const s = await tinyServer((r) => {
      held.push(r);
      return undefined;
    });
    const c = connect(s.port);
    const a = c.send(ApiKey.Metadata, { i: 0 });
    const b = c.send(ApiKey.Metadata, { i: 1 });
    await s.waitFor(2);
    const second = held[1] as Received;
    second.socket.write(encodeResponse(second.correlationId, { errorCode: 0 }));
    await expectSluiceErrorAsync(a, ErrorCode.InvalidRequest);
    await expectSluiceErrorAsync(b, ErrorCode.InvalidRequest);
    expect(c.isClosed).toBe(true);
  });

  it('an oversized response frame closes the connection', async () => {
    const s = await tinyServer((r) => ({ errorCode: 0, pad: Buffer.alloc(4096), i: r.body.i }));
    const c = connect(s.port, { maxFrameBytes: 1024 });
    await expectSluiceErrorAsync(c.request(ApiKey.Metadata, {}), ErrorCode.InvalidRequest);
    expect(c.isClosed).toBe(true);
  });

  it('close() fails pending requests with ClientClosed', async () => {
    const s = await tinyServer(() => undefined);
    const c = connect(s.port);
    const pending = c.request(ApiKey.Metadata, {});
    await s.waitFor(1);
    c.close();
    await expectSluiceErrorAsync(pending, ErrorCode.ClientClosed);
  });
});
